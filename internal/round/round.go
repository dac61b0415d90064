// Package round owns subscription rounds (合伙方案/轮次): partner lists,
// subscriptions, allocation, review.
package round

import (
	"hehuo/internal/config"
	"hehuo/internal/db"
	"hehuo/internal/establishment"
	"hehuo/internal/workflow"
)

// Service owns rounds.
type Service struct {
	db  *db.DB
	wf  *workflow.Service
	est *establishment.Service
	cfg config.Config
}

// NewService returns the round service.
func NewService(d *db.DB, wf *workflow.Service, est *establishment.Service, cfg config.Config) *Service {
	return &Service{db: d, wf: wf, est: est, cfg: cfg}
}
