// Package report builds the console's reports (报表) in JSON and xlsx.
package report

import "hehuo/internal/db"

// Service builds reports.
type Service struct{ db *db.DB }

// NewService returns the report service.
func NewService(d *db.DB) *Service { return &Service{db: d} }
