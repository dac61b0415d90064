package workflow

import (
	"log/slog"
	"sync"

	"hehuo/internal/config"
	"hehuo/internal/db"
	"hehuo/internal/dingtalk"
)

// Service is the process center (流程/项目流程): OA approvals launched from
// Hehuo and their business effects.
type Service struct {
	db    *db.DB
	dt    *dingtalk.Client
	inbox *Inbox
	cfg   config.Config
	log   *slog.Logger

	mu      sync.RWMutex
	effects map[Kind]Effect
}

// NewService returns the process center; it registers its approval-event
// handler on inbox.
func NewService(d *db.DB, dt *dingtalk.Client, inbox *Inbox, cfg config.Config, log *slog.Logger) *Service {
	return &Service{db: d, dt: dt, inbox: inbox, cfg: cfg, log: log}
}
