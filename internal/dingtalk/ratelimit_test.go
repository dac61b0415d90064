package dingtalk

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"hehuo/internal/cache/cachetest"
	"hehuo/internal/config"
	"hehuo/internal/dtsim"
	"hehuo/internal/dtsim/dtsimtest"
)

var quietLog = slog.New(slog.NewTextHandler(io.Discard, nil))

func TestSecondLimiterHoldsAcrossInstances(t *testing.T) {
	const limit, calls = 8, 24
	c := cachetest.New(t)
	a := New(offlineConfig(), c, WithRateLimit(limit))
	b := New(offlineConfig(), c, WithRateLimit(limit))
	ctx := context.Background()
	var mu sync.Mutex
	perWindow := map[int64]int{}
	var wg sync.WaitGroup
	for i := range calls {
		cl := a
		if i%2 == 1 {
			cl = b
		}
		wg.Go(func() {
			start, err := cl.admit(ctx, "s:/topapi/v2/user/get", time.Second, limit)
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			perWindow[start.Unix()]++
			mu.Unlock()
		})
	}
	wg.Wait()
	total := 0
	for sec, n := range perWindow {
		if n > limit {
			t.Errorf("second %d let %d calls through, limit %d", sec, n, limit)
		}
		total += n
	}
	if total != calls || len(perWindow) < calls/limit {
		t.Errorf("%d calls over %d seconds, want %d over at least %d", total, len(perWindow), calls, calls/limit)
	}
}

// offlineConfig is a configuration for tests that never reach DingTalk.
func offlineConfig() (cfg config.DingTalk) {
	cfg.AppKey = "limiter-test"
	return cfg
}

func TestSecondLimiterSlowsRealCalls(t *testing.T) {
	srv := dtsimtest.Start(t)
	srv.AddUser(dtsim.User{UserID: "u1", Name: "甲"})
	c := cachetest.New(t)
	a := New(srv.DingTalkConfig(), c, WithRateLimit(10), WithLogger(quietLog))
	b := New(srv.DingTalkConfig(), c, WithRateLimit(10), WithLogger(quietLog))
	ctx := context.Background()
	if _, err := a.AccessToken(ctx); err != nil {
		t.Fatal(err)
	}
	begin := time.Now()
	var wg sync.WaitGroup
	for i := range 30 {
		cl := a
		if i%2 == 1 {
			cl = b
		}
		wg.Go(func() {
			if _, err := cl.User(ctx, "u1"); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	// 30 calls at 10 a second take three windows, so more than one second.
	if d := time.Since(begin); d < time.Second {
		t.Errorf("30 calls at 10/s took %v, want more than 1 s", d)
	}
}

func TestRobotLimiterSlides(t *testing.T) {
	srv := dtsimtest.Start(t)
	srv.AddRobot(dtsim.Robot{Name: "群", AccessToken: "rb", Conversation: "cid"})
	c := cachetest.New(t)
	const limit, win = 3, 1500 * time.Millisecond
	var clients []*Client
	for range 2 {
		cl := New(srv.DingTalkConfig(), c, WithRobotRateLimit(limit), WithLogger(quietLog))
		cl.robotWindow = win // the real one is a minute
		clients = append(clients, cl)
	}
	wh := Webhook{URL: srv.URL + "/robot/send?access_token=rb"}
	var wg sync.WaitGroup
	for i := range 7 {
		wg.Go(func() {
			if err := clients[i%2].SendWebhook(context.Background(), wh, Text("到账")); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	msgs := srv.RobotMessages()
	if len(msgs) != 7 {
		t.Fatalf("robot messages = %d, want 7", len(msgs))
	}
	// Any limit+1 consecutive messages must span more than the window.
	for i := limit; i < len(msgs); i++ {
		if d := msgs[i].At.Sub(msgs[i-limit].At); d < win-50*time.Millisecond {
			t.Errorf("messages %d and %d are %v apart, want at least %v", i-limit, i, d, win)
		}
	}
}
