// Package wire builds Hehuo's service graph once, for the server, the
// commands and the tests, so that every caller gets the same services wired
// the same way.
package wire

import (
	"log/slog"

	"hehuo/internal/adjustment"
	"hehuo/internal/agreement"
	"hehuo/internal/attachment"
	"hehuo/internal/auth"
	"hehuo/internal/cache"
	"hehuo/internal/config"
	"hehuo/internal/db"
	"hehuo/internal/dingtalk"
	"hehuo/internal/disclosure"
	"hehuo/internal/distribution"
	"hehuo/internal/establishment"
	"hehuo/internal/exit"
	"hehuo/internal/holding"
	"hehuo/internal/notify"
	"hehuo/internal/opening"
	"hehuo/internal/org"
	"hehuo/internal/payment"
	"hehuo/internal/payout"
	"hehuo/internal/position"
	"hehuo/internal/project"
	"hehuo/internal/report"
	"hehuo/internal/round"
	"hehuo/internal/shareholder"
	"hehuo/internal/shareholderdist"
	"hehuo/internal/workcal"
	"hehuo/internal/workflow"
)

// Services is every service of one process.
type Services struct {
	Auth          *auth.Service
	Org           *org.Service
	Projects      *project.Service
	DingTalk      *dingtalk.Client
	Notify        *notify.Service
	Inbox         *workflow.Inbox
	Workflow      *workflow.Service
	Attachments   *attachment.Service
	Establishment *establishment.Service
	Rounds        *round.Service
	Positions     *position.Service
	Holdings      *holding.Service
	Reports       *report.Service
	Payments      *payment.Service
	WorkCalendar  *workcal.Service
	Payout        *payout.Service
	Adjustments   *adjustment.Service
	Distributions *distribution.Service
	Shareholders  *shareholder.Service
	Disclosures   *disclosure.Service
	Exits         *exit.Service
	Opening       *opening.Service
	Agreements    *agreement.Service
	// ShareholderDists are the shareholder distributions (股东分配, issue 13).
	ShareholderDists *shareholderdist.Service
}

// New builds the services over d and c for cfg. cfg.DingTalk is used as
// given: callers lay saved settings over it first (notify.EffectiveDingTalk).
func New(cfg config.Config, d *db.DB, c *cache.Cache, log *slog.Logger) *Services {
	s := &Services{
		Auth: auth.NewService(d, c, auth.Options{SessionTTL: cfg.Auth.SessionTTL, MaxFailures: cfg.Auth.MaxFailures, LockDuration: cfg.Auth.LockDuration,
			BackoffAfter: cfg.Auth.BackoffAfter, BackoffWindow: cfg.Auth.BackoffWindow, BackoffMax: cfg.Auth.BackoffMax,
			PasswordLimit: auth.Limit(cfg.Auth.PasswordLimit), DingTalkLimit: auth.Limit(cfg.Auth.DingTalkLimit)}),
		Org:      org.NewService(d),
		Projects: project.NewService(d),
		DingTalk: dingtalk.New(cfg.DingTalk, c, dingtalk.WithLogger(log)),
		Inbox:    workflow.NewInbox(d),
	}
	s.Notify = notify.NewService(d, s.DingTalk, cfg, log)
	s.Attachments = attachment.NewService(d)
	s.Workflow = workflow.NewService(d, s.DingTalk, s.Inbox, cfg, log)
	s.Establishment = establishment.NewService(d, s.Workflow)
	s.Rounds = round.NewService(d, s.Workflow, s.Establishment, cfg)
	// One read model of money positions (DESIGN §3); holdings show the principal in force.
	s.Positions = position.NewService(d, s.Establishment)
	s.Holdings = holding.NewService(d, s.Positions)
	s.Reports = report.NewService(d)
	s.Payments = payment.NewService(d, s.Establishment)
	s.WorkCalendar = workcal.NewService(d)
	s.Payout = payout.NewService(d, cfg, log)
	s.Adjustments = adjustment.NewService(d, s.Establishment, s.Workflow)
	s.Distributions = distribution.NewService(d, s.Establishment, s.Workflow)
	s.Shareholders = shareholder.NewService(d, cfg, log)
	s.Disclosures = disclosure.NewService(d, s.Establishment, s.Workflow)
	s.Exits = exit.NewService(d, s.Establishment, s.Workflow)
	s.Opening = opening.NewService(d)
	// Agreements observe round and adjustment approvals (docs/agreements.md).
	s.Agreements = agreement.NewService(d, s.Establishment, s.Rounds, s.Workflow, cfg)
	s.ShareholderDists = shareholderdist.NewService(d, cfg)
	return s
}
