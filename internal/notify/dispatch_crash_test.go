package notify_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"hehuo/internal/cache/cachetest"
	"hehuo/internal/db/dbtest"
	"hehuo/internal/dtsim"
	"hehuo/internal/dtsim/dtsimtest"
	"hehuo/internal/notify"
)

// buildHehuo builds the hehuo binary into a temporary directory.
func buildHehuo(t *testing.T) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..")
	bin := filepath.Join(t.TempDir(), "hehuo")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/hehuo")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/hehuo: %v\n%s", err, out)
	}
	return bin
}

// TestDispatcherProcessKilled queues 1,000 notices (5 of 50 users each, so
// 5,000 deliveries), runs `hehuo outbox dispatch` as a process, SIGKILLs it
// twice part-way and lets a third run finish. Every recipient must have
// every notice exactly once among the notices DingTalk delivered; what the
// kills left in doubt is resent once and dropped by DingTalk as identical
// content, at most one batch per kill (one worker).
func TestDispatcherProcessKilled(t *testing.T) {
	// -short leaves it out on a laptop; CI runs it whatever the flags.
	if testing.Short() && os.Getenv("CI") == "" {
		t.Skip("builds and kills the hehuo binary")
	}
	bin := buildHehuo(t)
	d := dbtest.New(t)
	sim, holds := startHeldSim(t, 10*time.Second)
	all := users(50)
	addUsers(sim, all)
	c := cachetest.New(t)

	const notices, perNotice = 1000, 5
	want := map[string][]string{}
	err := d.InTx(context.Background(), func(tx *sqlx.Tx) error {
		for i := range notices {
			key := fmt.Sprintf("k%04d", i)
			rs := []string{all[i%50], all[(i+11)%50], all[(i+23)%50], all[(i+37)%50], all[(i+41)%50]}
			want[key] = rs
			if _, _, err := notify.Enqueue(context.Background(), tx, testNotice(key, rs)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	dt := sim.DingTalkConfig()
	env := append(os.Environ(),
		"HEHUO_DATABASE_URL="+dbtest.URL(t, d),
		"HEHUO_REDIS_URL="+cachetest.URL(),
		"HEHUO_REDIS_PREFIX="+c.Prefix(),
		"HEHUO_DINGTALK_API_BASE="+dt.APIBase,
		"HEHUO_DINGTALK_OAPI_BASE="+dt.OAPIBase,
		"HEHUO_DINGTALK_LOGIN_BASE="+dt.LoginBase,
		"HEHUO_DINGTALK_CORP_ID="+dt.CorpID,
		"HEHUO_DINGTALK_APP_KEY="+dt.AppKey,
		"HEHUO_DINGTALK_APP_SECRET="+dt.AppSecret,
		"HEHUO_DINGTALK_AGENT_ID="+dt.AgentID,
		"HEHUO_PUBLIC_URL=http://hehuo.test",
		"HEHUO_LOG_LEVEL=error",
	)
	var logs bytes.Buffer
	start := func() *exec.Cmd {
		cmd := exec.Command(bin, "outbox", "dispatch", "-lease", "3s", "-interval", "50ms", "-workers", "1", "-rate", "0")
		cmd.Env = env
		cmd.Stdout, cmd.Stderr = &logs, &logs
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd
	}
	sent := func() int {
		return count(t, d, `SELECT count(*) FROM notify_deliveries WHERE status = 'sent'`)
	}
	waitFor := func(cmd *exec.Cmd, what string, cond func() bool) {
		deadline := time.Now().Add(90 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				cmd.Process.Kill()
				cmd.Wait()
				t.Fatalf("%s: not reached in 90 s (sent %d)\n%s", what, sent(), logs.String())
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	total := notices * perNotice
	kills := 0
	began := time.Now()
	sending := func() int {
		return count(t, d, `SELECT count(*) FROM notify_deliveries WHERE status = 'sending'`)
	}
	// Kill 1 lands while the call waits in DingTalk before it acts (the
	// batch is not delivered); kill 2 after DingTalk delivered the batch and
	// before its answer arrived. Both leave one batch marked sending.
	for i, at := range []int{total / 4, total * 3 / 5} {
		cmd := start()
		// The previous kill's batch is resent (its lease ran out) before the
		// next kill, so that no kill lands on a resend.
		waitFor(cmd, fmt.Sprintf("%d sent, earlier doubts resolved", at), func() bool {
			return sent() >= at && sending() == 0 &&
				count(t, d, `SELECT coalesce(sum(resent_in_doubt), 0) FROM notify_outbox`) == i*perNotice
		})
		if i == 0 {
			holds.call.Store(true)
		} else {
			holds.answer.Store(true)
		}
		waitFor(cmd, "a batch in flight", func() bool { return sending() > 0 })
		time.Sleep(200 * time.Millisecond) // the call is now inside DingTalk
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		cmd.Wait()
		holds.call.Store(false)
		holds.answer.Store(false)
		kills++
		n := sent()
		if n >= total {
			t.Fatalf("kill %d came after everything was sent (%d)", kills, n)
		}
		t.Logf("kill %d after %v: SIGKILL with %d of %d deliveries sent, %d marked sending", kills, time.Since(began).Round(time.Millisecond), n, total,
			count(t, d, `SELECT count(*) FROM notify_deliveries WHERE status = 'sending'`))
	}
	cmd := start()
	waitFor(cmd, "all sent", func() bool {
		return count(t, d, `SELECT count(*) FROM notify_outbox WHERE status <> 'sent'`) == 0
	})
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("dispatcher after SIGTERM: %v\n%s", err, logs.String())
	}

	t.Logf("all sent after %v", time.Since(began).Round(time.Millisecond))
	in := readInbox(t, sim)
	in.expectExactlyOnce(t, want)
	resent := count(t, d, `SELECT coalesce(sum(resent_in_doubt), 0) FROM notify_outbox`)
	if resent != kills*perNotice {
		t.Fatalf("resent in doubt: got %d, want one batch (%d) per kill", resent, perNotice)
	}
	// Only kill 2's batch had reached phones: its resend is what DingTalk dropped.
	if in.dropped != perNotice {
		t.Fatalf("DingTalk dropped %d duplicates, want %d (kill 2's batch)", in.dropped, perNotice)
	}
	if n := count(t, d, `SELECT count(*) FROM notify_deliveries WHERE status <> 'sent'`); n != 0 {
		t.Fatalf("deliveries not sent: %d", n)
	}
	t.Logf("%d notices, %d deliveries, %d kills: %d deliveries resent in doubt, %d of them dropped by DingTalk as duplicates, %d asyncsend calls",
		notices, total, kills, resent, in.dropped, sim.Stats()[asyncSendPath])
}

// holds switches a held simulator: call holds a work-notice call before
// DingTalk acts on it, answer holds the answer after DingTalk acted.
type holds struct{ call, answer atomic.Bool }

// startHeldSim runs a simulator behind holds of the given length, so a test
// can make a kill or a shutdown land while a call is inside DingTalk.
func startHeldSim(t *testing.T, length time.Duration) (*dtsimtest.Server, *holds) {
	h := &holds{}
	wait := func(r *http.Request) bool {
		select {
		case <-time.After(length):
			return true
		case <-r.Context().Done():
			return false
		}
	}
	raw := dtsim.New(dtsim.Config{App: dtsim.DemoApp()})
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h.call.Load() && r.URL.Path == asyncSendPath {
			// Read the body first: the server notices a dropped client
			// only once the body is consumed.
			body, _ := io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(body))
			if !wait(r) {
				return // the caller died: DingTalk never acts on the call
			}
		}
		rec := httptest.NewRecorder()
		raw.Handler().ServeHTTP(rec, r)
		if h.answer.Load() && r.URL.Path == asyncSendPath && !wait(r) {
			return
		}
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		w.Write(rec.Body.Bytes())
	}))
	t.Cleanup(func() { raw.Close(); hs.CloseClientConnections(); hs.Close() })
	return &dtsimtest.Server{Sim: raw, URL: hs.URL}, h
}

// TestShutdownFinishesCallsInFlight: stopping a dispatcher while DingTalk
// holds its call lets the call finish and records it, leaving nothing in
// doubt; what was not begun stays due for the next dispatcher.
func TestShutdownFinishesCallsInFlight(t *testing.T) {
	d := dbtest.New(t)
	sim, h := startHeldSim(t, 700*time.Millisecond)
	recipients := users(300)
	addUsers(sim, recipients)
	s := newService(t, d, sim)
	id, _ := enqueue(t, d, testNotice("stop", recipients))
	h.answer.Store(true)
	disp := newDispatcher(s, notify.WithWorkers(1), notify.WithLease(10*time.Second))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- disp.Run(ctx) }()
	deadline := time.Now().Add(10 * time.Second)
	for len(sim.Notices("")) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no call reached DingTalk")
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel() // while DingTalk holds the first batch's answer
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	det, err := s.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if det.Sent != 100 || det.Sending != 0 || det.Pending != 200 || det.Status != notify.StatusRetry || det.Attempts != 0 {
		t.Fatalf("after shutdown: sent %d sending %d pending %d, %s after %d attempts; want 100, 0, 200, retry after 0",
			det.Sent, det.Sending, det.Pending, det.Status, det.Attempts)
	}
	// The next dispatcher sends the rest at once, and nothing twice.
	h.answer.Store(false)
	if sent, err := newDispatcher(s).DrainOnce(context.Background()); err != nil || sent != 200 {
		t.Fatalf("next dispatcher: sent %d, %v; want 200", sent, err)
	}
	in := readInbox(t, sim)
	in.expectExactlyOnce(t, map[string][]string{"stop": recipients})
	if in.dropped != 0 {
		t.Fatalf("dropped: got %d, want 0", in.dropped)
	}
}
