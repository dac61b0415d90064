// Package attachment stores files attached to processes and subjects.
package attachment

import "hehuo/internal/db"

// Service stores attachments.
type Service struct{ db *db.DB }

// NewService returns the attachment service.
func NewService(d *db.DB) *Service { return &Service{db: d} }
