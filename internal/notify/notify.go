// Package notify is the notice outbox: rows written in the business
// transaction, drained by a dispatcher to DingTalk (see docs/dingtalk.md).
package notify

import (
	"log/slog"

	"hehuo/internal/config"
	"hehuo/internal/db"
	"hehuo/internal/dingtalk"
)

// Service owns the outbox, the templates and the robot settings.
type Service struct {
	db     *db.DB
	client *dingtalk.Client
	cfg    config.Config
	log    *slog.Logger
}

// NewService returns the notify service.
func NewService(d *db.DB, client *dingtalk.Client, cfg config.Config, log *slog.Logger) *Service {
	if log == nil {
		log = slog.Default()
	}
	return &Service{db: d, client: client, cfg: cfg, log: log}
}
