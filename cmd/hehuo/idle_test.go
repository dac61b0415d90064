package main

import (
	"context"
	"database/sql"
	"fmt"
	"testing"
	"time"

	"hehuo/internal/cache/cachetest"
	"hehuo/internal/config"
	"hehuo/internal/db/dbtest"
	"hehuo/internal/demo"
	"hehuo/internal/dtsim/dtsimtest"
)

// An idle server — sealer, notice dispatcher, minute jobs and the stream bot
// wired as `hehuo demo` runs them — must leave its database alone: the
// sealer's own commit used to wake it again, about 1,400 empty transactions
// a second.
func TestIdleServerCommitsAlmostNothing(t *testing.T) {
	d := dbtest.New(t)
	sim := dtsimtest.Start(t)
	cfg := config.Default()
	cfg.Demo = true
	cfg.HTTP.Addr = "127.0.0.1:0"
	cfg.Database.URL = dbtest.URL(t, d)
	cfg.Redis.URL = cachetest.URL()
	cfg.Redis.Prefix = fmt.Sprintf("hehuotest:idle:%d:", time.Now().UnixNano())
	cfg.DingTalk = sim.DingTalkConfig()
	cfg.Log.Level = "error"
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	a, err := open(ctx, cfg, false)
	if err != nil {
		t.Fatal(err)
	}
	defer a.close()
	if _, err := demo.Load(ctx, demo.Services{DB: a.db, Org: a.deps.Org, Auth: a.deps.Auth, Projects: a.deps.Projects}); err != nil {
		t.Fatal(err)
	}
	var name string
	if err := d.Get(&name, `SELECT current_database()`); err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- a.run(runCtx, nil) }()
	defer func() { stop(); <-done }()

	// Reading from another database keeps the measurement out of the count.
	admin, err := sql.Open("postgres", dbtest.AdminURL())
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	commits := func() int64 {
		// Backends flush their counters at most a second late; the
		// snapshot is cleared so that each read sees the latest.
		var n int64
		if _, err := admin.ExecContext(ctx, `SELECT pg_stat_clear_snapshot()`); err != nil {
			t.Fatal(err)
		}
		if err := admin.QueryRowContext(ctx, `SELECT xact_commit FROM pg_stat_database WHERE datname = $1`, name).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	// Start-up (the first run of each job, the bot's connection, the first
	// seal of the demo data) settles first.
	time.Sleep(3 * time.Second)
	before := commits()
	time.Sleep(5 * time.Second)
	after := commits()
	if n := after - before; n >= 10 {
		t.Fatalf("an idle server committed %d transactions in 5 s, want fewer than 10", n)
	}
	t.Logf("%d transactions in 5 s", after-before)
}
