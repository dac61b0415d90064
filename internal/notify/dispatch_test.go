package notify_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"hehuo/internal/audit"
	"hehuo/internal/cache/cachetest"
	"hehuo/internal/config"
	"hehuo/internal/db"
	"hehuo/internal/db/dbtest"
	"hehuo/internal/dingtalk"
	"hehuo/internal/dtsim"
	"hehuo/internal/dtsim/dtsimtest"
	"hehuo/internal/notify"
)

const asyncSendPath = "/topapi/message/corpconversation/asyncsend_v2"

func quietLog() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.Level(100)}))
}

// testConfig is the configuration of a Hehuo talking to sim (or to nothing).
func testConfig(t testing.TB, d *db.DB, sim *dtsimtest.Server) config.Config {
	cfg := config.Default()
	cfg.HTTP.PublicURL = "http://hehuo.test"
	cfg.Database.URL = dbtest.URL(t, d)
	cfg.SecretKey = strings.Repeat("ab", 32) // robot secrets are sealed with it
	if sim != nil {
		cfg.DingTalk = sim.DingTalkConfig()
	}
	return cfg
}

// newService returns the notify service over the real client, pointed at sim.
func newService(t testing.TB, d *db.DB, sim *dtsimtest.Server) *notify.Service {
	t.Helper()
	cfg := testConfig(t, d, sim)
	client := dingtalk.New(cfg.DingTalk, cachetest.New(t), dingtalk.WithRateLimit(0),
		dingtalk.WithBackoff(5*time.Millisecond, 3), dingtalk.WithLogger(quietLog()))
	return notify.NewService(d, client, cfg, quietLog())
}

// newDispatcher returns a dispatcher with test timings: no waiting between
// attempts, results read at once.
func newDispatcher(s *notify.Service, opts ...notify.DispatchOption) *notify.Dispatcher {
	base := []notify.DispatchOption{notify.WithBackoff(time.Millisecond, 5*time.Millisecond),
		notify.WithResultDelay(0), notify.WithMaxAttempts(50), notify.WithWorkers(4)}
	return notify.NewDispatcher(s, append(base, opts...)...)
}

func addUsers(sim *dtsimtest.Server, ids []string) {
	for _, id := range ids {
		sim.AddUser(dtsim.User{UserID: id, Name: "员工" + id})
	}
}

// keyOf finds the test_message notice's key in a notice's msg ("发送于 KEY，").
var keyRe = regexp.MustCompile(`发送于 ([^，]+)，`)

func keyOf(t testing.TB, msg json.RawMessage) string {
	m := keyRe.FindStringSubmatch(string(msg))
	if m == nil {
		t.Fatalf("notice without a key: %s", msg)
	}
	return m[1]
}

// inbox counts, per user and notice key, the notices delivered and the ones
// DingTalk dropped (same content the same day).
type inbox struct {
	delivered map[string]int // user|key
	dropped   int
	total     int
}

func readInbox(t testing.TB, sim *dtsimtest.Server) inbox {
	in := inbox{delivered: map[string]int{}}
	for _, n := range sim.Notices("") {
		in.total++
		if n.Dropped {
			if n.Reason != "143106" {
				t.Fatalf("notice to %s dropped for %s, want only 143106 (same content)", n.UserID, n.Reason)
			}
			in.dropped++
			continue
		}
		in.delivered[n.UserID+"|"+keyOf(t, n.Msg)]++
	}
	return in
}

// expectExactlyOnce checks that every recipient got every notice once.
func (in inbox) expectExactlyOnce(t testing.TB, want map[string][]string) {
	t.Helper()
	n := 0
	for key, rs := range want {
		for _, r := range rs {
			n++
			if got := in.delivered[r+"|"+key]; got != 1 {
				t.Fatalf("%s got notice %s %d times, want exactly once", r, key, got)
			}
		}
	}
	if len(in.delivered) != n {
		t.Fatalf("delivered (user, notice) pairs: got %d, want %d", len(in.delivered), n)
	}
}

func drainUntil(t testing.TB, d *notify.Dispatcher, done func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !done() {
		if time.Now().After(deadline) {
			t.Fatal("outbox not drained within 60 s")
		}
		if _, err := d.DrainOnce(context.Background()); err != nil {
			t.Fatalf("drain: %v", err)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func outboxStatus(t testing.TB, d *db.DB, id int64) string {
	var s string
	if err := d.Get(&s, `SELECT status FROM notify_outbox WHERE id = $1`, id); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestNoticeTo250UsersIsThreeCalls(t *testing.T) {
	d := dbtest.New(t)
	sim := dtsimtest.Start(t)
	recipients := users(250)
	addUsers(sim, recipients[:249]) // user0250 is not in the organisation
	s := newService(t, d, sim)
	id, _ := enqueue(t, d, testNotice("n250", recipients))
	disp := newDispatcher(s)
	ctx := context.Background()
	sent, err := disp.DrainOnce(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if sent != 250 {
		t.Fatalf("sent: got %d, want 250", sent)
	}
	if calls := sim.Stats()[asyncSendPath]; calls != 3 {
		t.Fatalf("asyncsend_v2 calls: got %d, want 3", calls)
	}
	readInbox(t, sim).expectExactlyOnce(t, map[string][]string{"n250": recipients[:249]})
	if st := outboxStatus(t, d, id); st != notify.StatusSent {
		t.Fatalf("status: got %s, want sent", st)
	}
	if n := count(t, d, `SELECT count(DISTINCT task_id) FROM notify_deliveries WHERE outbox_id = $1 AND status = 'sent'`, id); n != 3 {
		t.Fatalf("task ids recorded: got %d, want 3", n)
	}
	// A second drain finds nothing to do.
	if sent, err := disp.DrainOnce(ctx); err != nil || sent != 0 {
		t.Fatalf("second drain: sent %d, %v; want 0", sent, err)
	}

	// Results: one user opened it, one is not in the organisation.
	var task int64
	if err := d.Get(&task, `SELECT task_id FROM notify_deliveries WHERE outbox_id = $1 AND recipient = 'user0001'`, id); err != nil {
		t.Fatal(err)
	}
	sim.MarkRead(task, "user0001")
	n, err := disp.CheckResults(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n != 250 {
		t.Fatalf("results recorded: got %d, want 250", n)
	}
	det, err := s.Get(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	results := map[string]int{}
	for _, x := range det.Deliveries {
		results[x.Result]++
		if x.Recipient == "user0001" && x.Result != "read" || x.Recipient == "user0250" && x.Result != "invalid" {
			t.Fatalf("result of %s: got %q", x.Recipient, x.Result)
		}
	}
	if results["unread"] != 248 {
		t.Fatalf("results: got %v, want 248 unread", results)
	}
	if n, err := disp.CheckResults(ctx); err != nil || n != 0 {
		t.Fatalf("second result pass: %d, %v; want 0", n, err)
	}
}

func TestNotBeforeWaitsUntilDue(t *testing.T) {
	d := dbtest.New(t)
	sim := dtsimtest.Start(t)
	addUsers(sim, users(2))
	s := newService(t, d, sim)
	n := testNotice("later", users(2))
	n.NotBefore = time.Now().Add(time.Hour)
	id, _ := enqueue(t, d, n)
	disp := newDispatcher(s)
	if sent, err := disp.DrainOnce(context.Background()); err != nil || sent != 0 {
		t.Fatalf("drain before due: sent %d, %v; want 0", sent, err)
	}
	if got := len(sim.Notices("")); got != 0 {
		t.Fatalf("notices before due: got %d, want 0", got)
	}
	if _, err := d.Exec(`UPDATE notify_outbox SET not_before = now() - interval '1 second' WHERE id = $1`, id); err != nil {
		t.Fatal(err)
	}
	if sent, err := disp.DrainOnce(context.Background()); err != nil || sent != 2 {
		t.Fatalf("drain when due: sent %d, %v; want 2", sent, err)
	}
}

func TestThrottlingDeliversAllOnce(t *testing.T) {
	d := dbtest.New(t)
	sim := dtsimtest.Start(t)
	all := users(40)
	addUsers(sim, all)
	s := newService(t, d, sim)
	want := map[string][]string{}
	for i := range 150 {
		key := fmt.Sprintf("t%03d", i)
		rs := []string{all[i%40], all[(i+7)%40], all[(i+19)%40]}
		want[key] = rs
		enqueue(t, d, testNotice(key, rs))
	}
	sim.SetFaults(dtsim.Faults{ThrottleRate: 0.2})
	// No client retries: every throttled answer reaches the dispatcher.
	cfg := testConfig(t, d, sim)
	client := dingtalk.New(cfg.DingTalk, cachetest.New(t), dingtalk.WithRateLimit(0), dingtalk.WithBackoff(time.Millisecond, 0), dingtalk.WithLogger(quietLog()))
	s = notify.NewService(d, client, cfg, quietLog())
	disp := newDispatcher(s)
	drainUntil(t, disp, func() bool {
		return count(t, d, `SELECT count(*) FROM notify_outbox WHERE status <> 'sent'`) == 0
	})
	in := readInbox(t, sim)
	in.expectExactlyOnce(t, want)
	if in.dropped != 0 {
		t.Fatalf("dropped notices: got %d, want 0 (a throttled call delivers nothing, so nothing is resent)", in.dropped)
	}
	retried := count(t, d, `SELECT count(*) FROM notify_outbox WHERE attempts > 0`)
	if retried == 0 {
		t.Fatal("no notice was retried: the throttling did not happen")
	}
	t.Logf("150 notices under 20%% throttling: %d needed retries, %d asyncsend calls", retried, sim.Stats()[asyncSendPath])
}

func TestDeadLetterAfterMaxAttempts(t *testing.T) {
	d := dbtest.New(t)
	sim := dtsimtest.Start(t)
	addUsers(sim, users(3))
	s := newService(t, d, sim)
	id, _ := enqueue(t, d, testNotice("dead", users(3)))
	sim.SetFaults(dtsim.Faults{ErrorRate: 1})
	disp := newDispatcher(s, notify.WithMaxAttempts(3))
	drainUntil(t, disp, func() bool { return outboxStatus(t, d, id) == notify.StatusDead })
	det, err := s.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if det.Attempts != 3 || !strings.Contains(det.LastError, "系统繁忙") || det.Dead != 3 {
		t.Fatalf("dead letter: got attempts %d, dead %d, error %q; want 3, 3, DingTalk busy", det.Attempts, det.Dead, det.LastError)
	}
	if len(sim.Notices("")) != 0 {
		t.Fatal("a notice reached a phone although every call failed")
	}
	// Once DingTalk recovers, an operator's retry sends it.
	sim.SetFaults(dtsim.Faults{})
	if err := s.Retry(context.Background(), audit.System, id); err != nil {
		t.Fatal(err)
	}
	if sent, err := disp.DrainOnce(context.Background()); err != nil || sent != 3 {
		t.Fatalf("drain after retry: sent %d, %v; want 3", sent, err)
	}
	readInbox(t, sim).expectExactlyOnce(t, map[string][]string{"dead": users(3)})
}

func TestPermanentErrorIsDeadAtOnce(t *testing.T) {
	d := dbtest.New(t)
	sim := dtsimtest.Start(t)
	s := newService(t, d, sim)
	// Too long for DingTalk's 2048-byte message: refused before any call.
	n := testNotice("too-long", []string{"u1"})
	n.Data["operator"] = strings.Repeat("长", 1000)
	id, _ := enqueue(t, d, n)
	disp := newDispatcher(s)
	if _, err := disp.DrainOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	det, err := s.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if det.Status != notify.StatusDead || det.Attempts != 1 || det.Dead != 1 || det.LastError == "" {
		t.Fatalf("got status %s attempts %d dead %d error %q; want dead after 1 attempt", det.Status, det.Attempts, det.Dead, det.LastError)
	}
	if calls := sim.Stats()[asyncSendPath]; calls != 0 {
		t.Fatalf("asyncsend calls: got %d, want 0", calls)
	}
}

// TestInDoubtBatchResentOnce plays a dispatcher that died right after
// DingTalk accepted a batch and before it recorded the batch as sent.
func TestInDoubtBatchResentOnce(t *testing.T) {
	d := dbtest.New(t)
	sim := dtsimtest.Start(t)
	recipients := users(150)
	addUsers(sim, recipients)
	s := newService(t, d, sim)
	ctx := context.Background()
	id, _ := enqueue(t, d, testNotice("doubt", recipients))

	// The dead dispatcher: rendered the notice, marked the first 100 sending,
	// called DingTalk, and died; its lease has run out.
	msg, err := s.Render(ctx, "test_message", map[string]any{"sent_at": "doubt", "operator": "测试"})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(msg)
	if _, err := d.Exec(`UPDATE notify_outbox SET status = 'sending', claim_token = 'dead', lease_until = now() - interval '1 second', rendered = $2 WHERE id = $1`, id, string(b)); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Exec(`UPDATE notify_deliveries SET status = 'sending', sending_since = now() - interval '1 minute' WHERE outbox_id = $1 AND recipient <= 'user0100'`, id); err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(t, d, sim)
	direct := dingtalk.New(cfg.DingTalk, cachetest.New(t), dingtalk.WithRateLimit(0))
	if _, err := direct.SendWorkNotice(ctx, recipients[:100], msg); err != nil {
		t.Fatal(err)
	}

	disp := newDispatcher(s, notify.WithLease(10*time.Second))
	sent, err := disp.DrainOnce(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if sent != 150 || disp.ResentInDoubt() != 100 {
		t.Fatalf("sent %d, resent in doubt %d; want 150, 100", sent, disp.ResentInDoubt())
	}
	in := readInbox(t, sim)
	in.expectExactlyOnce(t, map[string][]string{"doubt": recipients})
	if in.dropped != 100 {
		t.Fatalf("resends DingTalk dropped as duplicates: got %d, want 100", in.dropped)
	}
	det, err := s.Get(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if det.Status != notify.StatusSent || det.ResentInDoubt != 100 {
		t.Fatalf("got status %s, resent_in_doubt %d; want sent, 100", det.Status, det.ResentInDoubt)
	}
}

// TestYoungSendingIsLeftAlone: deliveries another dispatcher marked sending
// within the lease may be in flight, so a takeover does not resend them yet.
func TestYoungSendingIsLeftAlone(t *testing.T) {
	d := dbtest.New(t)
	sim := dtsimtest.Start(t)
	addUsers(sim, users(3))
	s := newService(t, d, sim)
	id, _ := enqueue(t, d, testNotice("young", users(3)))
	if _, err := d.Exec(`UPDATE notify_outbox SET status = 'sending', claim_token = 'other', lease_until = now() - interval '1 second' WHERE id = $1`, id); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Exec(`UPDATE notify_deliveries SET status = 'sending', sending_since = now() WHERE outbox_id = $1 AND recipient = 'user0001'`, id); err != nil {
		t.Fatal(err)
	}
	disp := newDispatcher(s, notify.WithLease(time.Hour))
	sent, err := disp.DrainOnce(context.Background())
	if err != nil || sent != 2 {
		t.Fatalf("sent %d, %v; want 2", sent, err)
	}
	if st := outboxStatus(t, d, id); st != notify.StatusRetry {
		t.Fatalf("status: got %s, want retry until the lease runs out", st)
	}
	if disp.ResentInDoubt() != 0 {
		t.Fatalf("resent in doubt: got %d, want 0", disp.ResentInDoubt())
	}
}

// TestRunWakesOnEnqueue: a running dispatcher sends a new notice at once,
// woken by Postgres NOTIFY at commit, not by its (here hour-long) interval.
func TestRunWakesOnEnqueue(t *testing.T) {
	d := dbtest.New(t)
	sim := dtsimtest.Start(t)
	addUsers(sim, users(2))
	s := newService(t, d, sim)
	disp := newDispatcher(s, notify.WithInterval(time.Hour))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- disp.Run(ctx) }()
	time.Sleep(300 * time.Millisecond) // Run has drained the empty outbox and sleeps
	enqueue(t, d, testNotice("wake", users(2)))
	began := time.Now()
	deadline := time.Now().Add(10 * time.Second)
	for len(sim.Notices("")) < 2 {
		if time.Now().After(deadline) {
			t.Fatal("the running dispatcher did not send the new notice within 10 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Logf("sent %v after the commit", time.Since(began).Round(time.Millisecond))
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	readInbox(t, sim).expectExactlyOnce(t, map[string][]string{"wake": users(2)})
}

// TestConcurrentDispatchersShareTheOutbox: three dispatchers (as in three
// instances) drain one outbox at once; SKIP LOCKED claims give each row to
// one of them, so nothing is sent twice.
func TestConcurrentDispatchersShareTheOutbox(t *testing.T) {
	d := dbtest.New(t)
	sim := dtsimtest.Start(t)
	all := users(1000)
	addUsers(sim, all)
	want := map[string][]string{"big": all}
	enqueue(t, d, testNotice("big", all))
	for i := range 300 {
		key := fmt.Sprintf("c%03d", i)
		want[key] = []string{all[i], all[i+300], all[i+600]}
		enqueue(t, d, testNotice(key, want[key]))
	}
	var disps []*notify.Dispatcher
	for range 3 {
		disps = append(disps, newDispatcher(newService(t, d, sim)))
	}
	total := make(chan int, len(disps))
	for _, disp := range disps {
		go func() {
			n, err := disp.DrainOnce(context.Background())
			if err != nil {
				t.Error(err)
			}
			total <- n
		}()
	}
	sum := 0
	for range disps {
		sum += <-total
	}
	if sum != 1900 {
		t.Fatalf("sent: got %d, want 1900", sum)
	}
	in := readInbox(t, sim)
	in.expectExactlyOnce(t, want)
	if in.dropped != 0 || in.total != 1900 {
		t.Fatalf("notices at DingTalk: got %d (%d dropped), want 1900 (0)", in.total, in.dropped)
	}
	if calls := sim.Stats()[asyncSendPath]; calls != 310 {
		t.Fatalf("asyncsend calls: got %d, want 310", calls)
	}
	for i, disp := range disps {
		if disp.Calls() == 0 {
			t.Logf("dispatcher %d made no call (the others were faster)", i)
		}
	}
}

// TestConcurrentEnqueueOfOneKey: twenty transactions enqueue the same
// notice at once; exactly one creates it and all get its id.
func TestConcurrentEnqueueOfOneKey(t *testing.T) {
	d := dbtest.New(t)
	ids := make(chan int64, 20)
	created := make(chan bool, 20)
	for range 20 {
		go func() {
			id, c := enqueue(t, d, testNotice("race", users(3)))
			ids <- id
			created <- c
		}()
	}
	var first int64
	n := 0
	for range 20 {
		id := <-ids
		if first == 0 {
			first = id
		}
		if id != first {
			t.Fatalf("ids differ: %d and %d", id, first)
		}
		if <-created {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("created: got %d, want exactly 1", n)
	}
	if c := count(t, d, `SELECT count(*) FROM notify_deliveries`); c != 3 {
		t.Fatalf("deliveries: got %d, want 3", c)
	}
}

// TestBadCredentialsWaitForTheOperator: the app secret is wrong, which is
// no fault of the notice: it waits for a retry instead of going dead, and
// is sent once the configuration is fixed.
func TestBadCredentialsWaitForTheOperator(t *testing.T) {
	d := dbtest.New(t)
	sim := dtsimtest.Start(t)
	addUsers(sim, users(2))
	cfg := testConfig(t, d, sim)
	good := cfg
	cfg.DingTalk.AppSecret = "not-the-secret"
	c := cachetest.New(t)
	bad := notify.NewService(d, dingtalk.New(cfg.DingTalk, c, dingtalk.WithRateLimit(0), dingtalk.WithLogger(quietLog())), cfg, quietLog())
	id, _ := enqueue(t, d, testNotice("creds", users(2)))
	if sent, err := newDispatcher(bad, notify.WithBackoff(time.Hour, time.Hour)).DrainOnce(context.Background()); err != nil || sent != 0 {
		t.Fatalf("drain with a wrong secret: sent %d, %v; want 0", sent, err)
	}
	det, err := bad.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if det.Status != notify.StatusRetry || det.Attempts != 1 || det.Pending != 2 || !strings.Contains(det.LastError, "invalidClientIdOrSecret") {
		t.Fatalf("got %s, attempts %d, pending %d, %q; want retry, 1, 2, invalidClientIdOrSecret", det.Status, det.Attempts, det.Pending, det.LastError)
	}
	fixed := notify.NewService(d, dingtalk.New(good.DingTalk, c, dingtalk.WithRateLimit(0), dingtalk.WithLogger(quietLog())), good, quietLog())
	if _, err := d.Exec(`UPDATE notify_outbox SET next_attempt_at = now() WHERE id = $1`, id); err != nil {
		t.Fatal(err)
	}
	if sent, err := newDispatcher(fixed).DrainOnce(context.Background()); err != nil || sent != 2 {
		t.Fatalf("drain once fixed: sent %d, %v; want 2", sent, err)
	}
}
