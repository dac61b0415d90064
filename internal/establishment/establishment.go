// Package establishment owns a project's establishment (立项): shareholding,
// terms, milestones and profit indicators.
package establishment

import (
	"hehuo/internal/db"
	"hehuo/internal/workflow"
)

// Service owns establishment data.
type Service struct {
	db *db.DB
	wf *workflow.Service
}

// NewService returns the establishment service.
func NewService(d *db.DB, wf *workflow.Service) *Service { return &Service{db: d, wf: wf} }
