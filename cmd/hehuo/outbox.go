package main

import (
	"context"
	"errors"
	"flag"
	"time"

	"hehuo/internal/config"
	"hehuo/internal/dingtalk"
	"hehuo/internal/notify"
)

// outboxCmd runs `hehuo outbox dispatch`: the notice outbox dispatcher alone,
// until interrupted. Any number may run beside the servers; they share the
// outbox without sending anything twice.
func outboxCmd(ctx context.Context, cfg config.Config, args []string) error {
	if len(args) < 1 || args[0] != "dispatch" {
		return errors.New("usage: hehuo outbox dispatch [-lease 2m] [-interval 1s] [-workers N] [-rate 20]")
	}
	fs := flag.NewFlagSet("outbox dispatch", flag.ContinueOnError)
	lease := fs.Duration("lease", 2*time.Minute, "how long a notice or a batch in flight may go without news before another dispatcher takes it over as in doubt")
	interval := fs.Duration("interval", cfg.Notify.Interval, "how often an idle dispatcher looks for due notices")
	workers := fs.Int("workers", cfg.Notify.Workers, "DingTalk calls at once")
	rate := fs.Int("rate", 20, "DingTalk calls a second per API, across every instance sharing Redis (a standard org is allowed 20)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	a, err := open(ctx, cfg, false)
	if err != nil {
		return err
	}
	defer a.close()
	if a.cfg.DingTalk.AppKey == "" || a.cfg.DingTalk.AgentID == "" {
		return errors.New("hehuo outbox dispatch: no DingTalk app configured (set HEHUO_DINGTALK_APP_KEY, HEHUO_DINGTALK_APP_SECRET, HEHUO_DINGTALK_AGENT_ID, or save them in 钉钉设置)")
	}
	// a.cfg holds the DingTalk settings saved in the console over the file's.
	client := dingtalk.New(a.cfg.DingTalk, a.cache, dingtalk.WithLogger(a.log), dingtalk.WithRateLimit(*rate))
	svc := notify.NewService(a.db, client, a.cfg, a.log)
	d := notify.NewDispatcher(svc, notify.WithLease(*lease), notify.WithInterval(*interval), notify.WithWorkers(*workers),
		notify.WithMaxAttempts(a.cfg.Notify.MaxAttempts))
	return d.Run(ctx)
}
