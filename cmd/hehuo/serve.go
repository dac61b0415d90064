package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"time"

	"hehuo/bot"
	"hehuo/internal/audit"
	"hehuo/internal/auth"
	"hehuo/internal/cache"
	"hehuo/internal/civil"
	"hehuo/internal/config"
	"hehuo/internal/db"
	"hehuo/internal/demo"
	"hehuo/internal/dtsim"
	"hehuo/internal/notify"
	"hehuo/internal/secret"
	"hehuo/internal/wire"
	"hehuo/microapp"
)

// app is the wired process: connections, services, the HTTP server, the
// notice dispatcher and the stream-mode bot.
type app struct {
	cfg    config.Config
	log    *slog.Logger
	db     *db.DB
	cache  *cache.Cache
	deps   microapp.Deps
	server *microapp.Server
	bot    *bot.Bot
	sim    *dtsim.Sim // demo only
}

func newLogger(cfg config.Config) *slog.Logger {
	var level slog.Level
	level.UnmarshalText([]byte(cfg.Log.Level))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.Log.Format == "json" {
		return slog.New(slog.NewJSONHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, opts))
}

// open connects to Postgres and Redis, refusing to run on an outdated schema
// unless migrate is set, and builds the services.
func open(ctx context.Context, cfg config.Config, migrate bool) (*app, error) {
	log := newLogger(cfg)
	d, err := db.Open(ctx, cfg.Database.URL, cfg.Database.MaxOpenConns)
	if err != nil {
		return nil, err
	}
	if migrate {
		if _, err := db.MigrateUp(ctx, d); err != nil {
			d.Close()
			return nil, err
		}
	}
	st, err := db.MigrateStatus(ctx, d)
	if err != nil {
		d.Close()
		return nil, err
	}
	for _, s := range st {
		if !s.Applied {
			d.Close()
			return nil, fmt.Errorf("the database schema is behind this binary (migration %05d pending): run `hehuo migrate up` or `hehuo serve -migrate`", s.Version)
		}
	}
	c, err := cache.Open(ctx, cfg.Redis.URL, cfg.Redis.Prefix)
	if err != nil {
		d.Close()
		return nil, err
	}
	// Settings saved in the console (钉钉设置) lie over the file and the
	// environment; the demo's simulator is the one exception.
	if cfg.DingTalk.Simulator == "" {
		eff, err := notify.EffectiveDingTalk(ctx, d, cfg)
		if err != nil {
			c.Close()
			d.Close()
			return nil, err
		}
		cfg.DingTalk = eff
	}
	a := &app{cfg: cfg, log: log, db: d, cache: c}
	ws := wire.New(cfg, d, c, log)
	// Robot webhooks stored in clear before migration 00016 are sealed now
	// that the key is at hand; without a key they keep working in clear.
	if n, err := ws.Notify.SealWebhooks(ctx); err != nil {
		log.Error("robot webhooks stay unsealed", "err", err)
	} else if n > 0 {
		log.Info("sealed robot webhooks", "count", n)
	}
	a.deps = microapp.FromServices(cfg, d, c, log, version, ws)
	a.server = microapp.New(a.deps)
	if cfg.DingTalk.Stream && cfg.DingTalk.AppKey != "" {
		a.bot = bot.New(cfg.DingTalk, bot.Deps{
			DB: d, Org: ws.Org, Auth: ws.Auth, Projects: ws.Projects,
			Holdings: ws.Holdings, Reports: ws.Reports, Inbox: ws.Inbox, Log: log, PublicURL: cfg.HTTP.PublicURL,
		})
	}
	return a, nil
}

func (a *app) close() {
	a.cache.Close()
	a.db.Close()
}

// bootstrapPasswords returns the passwords of admin and hhadmin: from the
// environment, or generated in demo mode. Outside demo mode both must be set.
func bootstrapPasswords(cfg config.Config) (admin, bizadmin string, generated bool, err error) {
	admin, bizadmin = cfg.Auth.AdminPassword, cfg.Auth.BizadminPasswd
	if admin != "" && bizadmin != "" {
		return admin, bizadmin, false, nil
	}
	if !cfg.Demo {
		return "", "", false, errors.New("HEHUO_ADMIN_PASSWORD and HEHUO_BIZADMIN_PASSWORD must be set (at least 8 characters each) to start; `hehuo demo` generates them for a local demo")
	}
	if admin == "" {
		admin = auth.GeneratePassword()
	}
	if bizadmin == "" {
		bizadmin = auth.GeneratePassword()
	}
	return admin, bizadmin, true, nil
}

// demoPasswords returns the passwords of admin and hhadmin for `hehuo demo`:
// from the environment when set, else the ones generated at the first start
// of this demo database and kept in it (sealed), so that what the first
// start printed stays valid across restarts.
func demoPasswords(ctx context.Context, cfg config.Config, a *app) (admin, bizadmin string, err error) {
	box, _, err := secret.FromConfig(cfg.SecretKey, true)
	if err != nil {
		return "", "", err
	}
	admin, bizadmin = cfg.Auth.AdminPassword, cfg.Auth.BizadminPasswd
	if admin == "" {
		if admin, err = demo.Password(ctx, a.db, box, auth.AdminUsername, auth.GeneratePassword); err != nil {
			return "", "", err
		}
	}
	if bizadmin == "" {
		if bizadmin, err = demo.Password(ctx, a.db, box, auth.BizadminUsername, auth.GeneratePassword); err != nil {
			return "", "", err
		}
	}
	return admin, bizadmin, nil
}

func serve(ctx context.Context, cfg config.Config, args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	migrate := fs.Bool("migrate", false, "apply pending migrations before serving")
	if err := fs.Parse(args); err != nil {
		return err
	}
	adminPw, bizPw, generated, err := bootstrapPasswords(cfg)
	if err != nil {
		return err
	}
	a, err := open(ctx, cfg, *migrate)
	if err != nil {
		return err
	}
	defer a.close()
	if err := auth.EnsureBootstrap(ctx, a.db, adminPw, bizPw); err != nil {
		return err
	}
	if generated {
		fmt.Printf("demo passwords: admin / %s    hhadmin / %s\n", adminPw, bizPw)
	}
	return a.run(ctx, nil)
}

func demoCmd(ctx context.Context, cfg config.Config) error {
	var err error
	var sim *dtsim.Sim
	simURL := ""
	if cfg.DingTalk.Simulator != "" {
		if sim, simURL, err = startDemoSim(ctx, &cfg); err != nil {
			return err
		}
	}
	a, err := open(ctx, cfg, true)
	if err != nil {
		return err
	}
	defer a.close()
	adminPw, bizPw, err := demoPasswords(ctx, cfg, a)
	if err != nil {
		return err
	}
	if err := auth.EnsureBootstrap(ctx, a.db, adminPw, bizPw); err != nil {
		return err
	}
	sum, err := demo.Load(ctx, demo.Services{DB: a.db, Org: a.deps.Org, Auth: a.deps.Auth, Projects: a.deps.Projects})
	if err != nil {
		return err
	}
	if sum.Loaded {
		if err := demoValues(ctx, a); err != nil {
			return err
		}
	}
	if sim != nil {
		if err := restoreDemoSim(ctx, a, sim); err != nil {
			a.log.Warn("demo: the simulator's saved state could not be restored; starting afresh", "err", err)
		}
		if err := seedDemoSim(ctx, a, sim, simURL); err != nil {
			return err
		}
		// Saved until the demo stops, and once more before the database closes.
		simCtx, stopSim := context.WithCancel(ctx)
		saved := make(chan struct{})
		go func() { keepDemoSim(simCtx, a, sim); close(saved) }()
		defer func() { stopSim(); <-saved }()
	}
	return a.run(ctx, func(url string) {
		loaded := "already present"
		if sum.Loaded {
			loaded = "loaded"
		}
		inSubscription, inDistribution, inHolding := "", "", ""
		if sum.Loaded && sim != nil {
			// The stream bot is connecting meanwhile; the simulator holds the
			// approval event until it has.
			name, err := demoSubscription(ctx, a, sim)
			if err != nil {
				a.log.Error("demo: the project in subscription could not be set up", "err", err)
			}
			inSubscription = name
			if inDistribution, err = demoDistribution(ctx, a, sim); err != nil {
				a.log.Error("demo: the project mid-distribution could not be set up", "err", err)
			}
			if err := demoShareholders(ctx, a); err != nil {
				a.log.Error("demo: the minority shareholders could not be set up", "err", err)
			}
			if inHolding, err = demoDisclosure(ctx, a, sim); err != nil {
				a.log.Error("demo: the project in the holding period could not be set up", "err", err)
			}
			if _, err := demoAgreements(ctx, a, sim); err != nil {
				a.log.Error("demo: the agreements could not be set up", "err", err)
			}
			if err := demoExit(ctx, a, sim); err != nil {
				a.log.Error("demo: the exited partner could not be set up", "err", err)
			}
			if err := demoMinority(ctx, a); err != nil {
				a.log.Error("demo: the paid shareholder distribution could not be set up", "err", err)
			}
		}
		fmt.Printf(`
  Hehuo (合伙) demo is running — demo data %s: %d projects, %d partners

  PC console   %s/
  H5 app       %s/m/
  API          %s/api/v1/openapi.json
  Health       %s/readyz   Metrics %s/metrics

  Sign in:     admin   / %s   (系统管理员)
               hhadmin / %s   (业务管理员)
`, loaded, sum.Projects, sum.Partners, url, url, url, url, url, adminPw, bizPw)
		if sim != nil {
			fmt.Printf(`
  DingTalk simulator %s/
               inboxes, group robots, approvals, a chat with the bot, and a
               "phone" that opens the H5 app signed in as any demo user
`, simURL)
		}
		if inSubscription != "" {
			fmt.Printf("\n  In subscription: %s — 8 demo partners invited (demo_partner_01 … 08); open the\n"+
				"               simulator's 手机 as one of them to subscribe, or its 工作通知 to see the notice\n", inSubscription)
		}
		if inDistribution != "" {
			fmt.Printf("\n  Mid-distribution: %s — opening balances of 12 partners (demo_partner_09 … 20), the actual\n"+
				"               peak agreed, 本金分配 agreed and paid out, 第1次利润分配 awaiting hhadmin's review\n", inDistribution)
		}
		if inHolding != "" {
			fmt.Printf("\n  Holding period: %s — two 盈亏动态 periods disclosed, the second awaiting hhadmin's\n"+
				"               合并发送通知 (披露 → 披露审核); agreements in the H5 app's 个人中心 → 协议下载; one\n"+
				"               retired partner's exit in 流程 → 退出流程; 小股东 with a paid 股东分配\n", inHolding)
		}
		fmt.Print("\n  Accountants (sign in from the simulator's phone, or by DingTalk QR on the console):\n")
		for _, acc := range sum.Accountants {
			fmt.Printf("               %s  %s  (%s)\n", acc.DingTalkUserID, acc.Name, acc.Scope)
		}
		fmt.Printf("  Partners:    %d demo partners, demo_partner_01 … (DingTalk userids)\n", sum.Partners)
		fmt.Print("\n  Ctrl-C stops the server.\n\n")
	})
}

// run serves HTTP and seals the audit log until ctx ends, then shuts down gracefully.
func (a *app) run(ctx context.Context, started func(url string)) error {
	ln, err := net.Listen("tcp", a.cfg.HTTP.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", a.cfg.HTTP.Addr, err)
	}
	srv := a.server.HTTPServer()
	sealer := audit.NewSealer(a.db, a.log)
	go sealer.Run(ctx)
	dispatcher := notify.NewDispatcher(a.deps.Notify, notify.WithInterval(a.cfg.Notify.Interval),
		notify.WithWorkers(a.cfg.Notify.Workers), notify.WithMaxAttempts(a.cfg.Notify.MaxAttempts))
	dispatched := make(chan struct{})
	go func() {
		defer close(dispatched)
		if err := dispatcher.Run(ctx); err != nil && ctx.Err() == nil {
			a.log.Error("notice dispatcher stopped", "err", err)
		}
	}()
	go a.every(ctx, time.Minute, "close rounds past their deadline", func(ctx context.Context) (int, error) {
		return a.deps.Rounds.CloseDue(ctx, time.Now())
	})
	go a.every(ctx, time.Minute, "resume approvals stuck in launching", func(ctx context.Context) (int, error) {
		return a.deps.Workflow.ResumeLaunching(ctx, 2*time.Minute)
	})
	// The day's receipts go to each city company's group after 18:00 Shanghai
	// time; the summary is keyed by city company and day, so checking every
	// ten minutes (and on several instances) sends it once.
	go a.every(ctx, 10*time.Minute, "daily receipts summary", func(ctx context.Context) (int, error) {
		now := time.Now().In(civil.Shanghai)
		if now.Hour() < 18 {
			return 0, nil
		}
		return a.deps.Reports.DailyReceipts(ctx, civil.Of(now))
	})
	go a.every(ctx, 10*time.Minute, "send the dunning reminders due", a.deps.Payments.DunningJob)
	if a.bot != nil {
		go func() {
			if err := a.bot.Run(ctx); err != nil && ctx.Err() == nil {
				a.log.Error("stream bot stopped", "err", err)
			}
		}()
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	url := "http://" + ln.Addr().String()
	a.log.Info("serving", "addr", ln.Addr().String(), "version", version)
	if started != nil {
		started(url)
	}
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		return err
	}
	audit.Seal(shutdown, a.db)
	// DingTalk calls under way finish and are recorded, so that a restart
	// leaves no batch in doubt.
	select {
	case <-dispatched:
	case <-shutdown.Done():
	}
	return nil
}

// every runs job now and then every interval until ctx ends. Jobs are
// state transitions, safe when several instances run them at once; n > 0 is
// logged as what the job did.
func (a *app) every(ctx context.Context, interval time.Duration, what string, job func(context.Context) (int, error)) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if n, err := job(ctx); err != nil && ctx.Err() == nil {
			a.log.Error(what, "err", err)
		} else if n > 0 {
			a.log.Info(what, "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
