package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"hehuo/internal/audit"
	"hehuo/internal/auth"
	"hehuo/internal/cache/cachetest"
	"hehuo/internal/civil"
	"hehuo/internal/config"
	"hehuo/internal/db"
	"hehuo/internal/db/dbtest"
	"hehuo/internal/dtsim"
	"hehuo/internal/dtsim/dtsimtest"
	"hehuo/internal/establishment"
	"hehuo/internal/holding/holdingtest"
	"hehuo/internal/notify"
	"hehuo/internal/org"
	"hehuo/internal/wire"
)

// The shape of TestTwoInstancesOneKilled's load: multiPartners partners of
// one approved round each pay multiPays partial payments, so that
// multiPartners × multiPays confirmations go through the two instances.
const (
	multiPartners = 200
	multiPays     = 10
	multiWorkers  = 8
	// The first multiHold confirmations flow freely; the rest wait until
	// the first half's approvals and notices are settled. A is killed once
	// multiKillAt confirmations are answered, with requests in flight. The
	// confirmations from multiHold2 on wait for the reminder sent after the
	// kill, so that nobody has paid in full when it is sent (each partner's
	// last payment is among the last multiPartners keys).
	multiHold   = 1100
	multiKillAt = 1000
	multiHold2  = 1600
	// multiSecretKey seals the group robot's secret (a test key, as public as the demo's).
	multiSecretKey = "6d756c74692d696e7374616e63652d746573742d6b65792d3332627974657321"
)

// TestTwoInstancesOneKilled is issue 9's last must-show: two `hehuo serve`
// processes on one database and one Redis, both with a stream connection to
// the DingTalk simulator, under a bounded load of 2,000 payment
// confirmations (200 partners × 10 partial payments, each with its own
// Idempotency-Key, alternately through A and B, 8 workers). Part-way A is
// killed with SIGKILL and every key that was sent to A — answered or not — is
// replayed through B. Meanwhile four 项目资金峰值 approvals are launched
// through both instances and decided in the simulator before and after the
// kill (one event redelivered as DingTalk may), and the round's payment
// notice (before the kill) and a reminder (after it) go to the 200 partners.
//
// It checks that every key was paid exactly once, to the fen, with one ledger
// transaction; that every approval was agreed once, with one inbox row, one
// audit entry and one robot alert; that every partner got each notice exactly
// once; and that `hehuo ledger reconcile` and `hehuo audit verify` pass.
//
// Bounds: every wait has a deadline; the whole test took 80–120 s on 2 cores
// at a load average of 20–25, 20–35 s of it building the binary. Notices and
// approvals are settled before the kill, because a notice a killed
// dispatcher had claimed is taken over only after the outbox lease (2
// minutes) — that path is TestDispatcherProcessKilled's in internal/notify. It never skips: without Postgres, Redis or the Go
// toolchain it fails. Run it alone with
//
//	go test -count=1 -run TestTwoInstancesOneKilled -v ./cmd/hehuo/
func TestTwoInstancesOneKilled(t *testing.T) {
	began := time.Now()
	bin := buildBinary(t)
	t.Logf("binary built in %s", time.Since(began).Round(time.Millisecond))
	d := dbtest.New(t)
	c := cachetest.New(t)
	sim := dtsimtest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	cfg := config.Default()
	cfg.DingTalk = sim.DingTalkConfig()
	cfg.SecretKey = multiSecretKey
	svc := wire.New(cfg, d, c, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err := auth.EnsureBootstrap(ctx, d, "multi-admin-pass", "multi-biz-pass"); err != nil {
		t.Fatal(err)
	}
	w := buildMultiWorld(t, d, svc, sim.Sim, sim.URL)
	t.Logf("world built in %s", time.Since(began).Round(time.Millisecond))

	dt := sim.DingTalkConfig()
	env := []string{
		"HEHUO_DATABASE_URL=" + dbtest.URL(t, d),
		"HEHUO_REDIS_URL=" + cachetest.URL(),
		"HEHUO_REDIS_PREFIX=" + c.Prefix(),
		"HEHUO_DINGTALK_API_BASE=" + dt.APIBase,
		"HEHUO_DINGTALK_OAPI_BASE=" + dt.OAPIBase,
		"HEHUO_DINGTALK_LOGIN_BASE=" + dt.LoginBase,
		"HEHUO_DINGTALK_CORP_ID=" + dt.CorpID,
		"HEHUO_DINGTALK_APP_KEY=" + dt.AppKey,
		"HEHUO_DINGTALK_APP_SECRET=" + dt.AppSecret,
		"HEHUO_DINGTALK_AGENT_ID=" + dt.AgentID,
		"HEHUO_SECRET_KEY=" + multiSecretKey,
		"HEHUO_ADMIN_PASSWORD=multi-admin-pass",
		"HEHUO_BIZADMIN_PASSWORD=multi-biz-pass",
		"HEHUO_LOG_LEVEL=warn",
	}
	a := startInstance(t, bin, "A", env)
	b := startInstance(t, bin, "B", env)
	a.waitReady(t)
	b.waitReady(t)
	wait, stop := context.WithTimeout(ctx, 20*time.Second)
	if err := sim.WaitConnected(wait, 2); err != nil {
		t.Fatalf("both instances' stream connections: %v (open: %d)", err, sim.Connections())
	}
	stop()
	t.Logf("two instances up at %s", time.Since(began).Round(time.Millisecond))

	// Before the load: the payment notice through A; approvals launched through both.
	rid := itoa(w.roundID)
	var notice struct {
		Recipients int `json:"recipients"`
	}
	a.mustJSON(t, w.acct, "POST", "/api/v1/rounds/"+rid+"/notices/payment", map[string]any{"test": false}, 200, &notice)
	if notice.Recipients != multiPartners {
		t.Fatalf("payment notice to %d partners, want %d", notice.Recipients, multiPartners)
	}
	procs := make([]*multiProcess, len(w.approvals))
	for i, ap := range w.approvals {
		procs[i] = &multiProcess{project: ap.id, name: ap.name}
	}
	procs[0].launch(t, a, w.acct)
	procs[1].launch(t, b, w.acct)
	procs[2].launch(t, a, w.acct)

	// The load: a fixed list of keys, alternately to A and B, held at
	// multiHold until the first half's approvals and notices are settled.
	type result struct {
		status int
		id     int64
	}
	keys := make([]string, multiPartners*multiPays)
	amounts := make([]string, len(keys))
	users := make([]int64, len(keys))
	for j := range multiPays {
		for i := range multiPartners {
			k := j*multiPartners + i
			keys[k] = fmt.Sprintf("multi-%04d", k)
			// Nine payments of 1,000.00 … 1,000.08 and one of 999.64: 10,000 to the fen.
			amounts[k] = fmt.Sprintf("1000.%02d", j)
			if j == multiPays-1 {
				amounts[k] = "999.64"
			}
			users[k] = w.partners[i]
		}
	}
	results := make([]result, len(keys)) // each index written by one worker only
	jobs := make(chan int)
	gate, gate2 := make(chan struct{}), make(chan struct{})
	var completed, cutOff atomic.Int64
	var wg sync.WaitGroup
	paidOn := civil.Today(time.Now()).String()
	for range multiWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range jobs {
				inst := b
				if k%2 == 0 {
					inst = a
				}
				before := !inst.dead.Load()
				results[k].status, results[k].id = inst.pay(rid, w.acct, keys[k], users[k], amounts[k], paidOn)
				if before && results[k].status == 0 {
					cutOff.Add(1) // in flight when A was killed
				}
				completed.Add(1)
			}
		}()
	}
	go func() {
		defer close(jobs)
		for k := range keys {
			for _, g := range []struct {
				at int
				ch chan struct{}
			}{{multiHold, gate}, {multiHold2, gate2}} {
				if k != g.at {
					continue
				}
				select {
				case <-g.ch:
				case <-ctx.Done():
					return
				}
			}
			select {
			case jobs <- k:
			case <-ctx.Done():
				return
			}
		}
	}()
	loadDone := make(chan struct{})
	go func() { wg.Wait(); close(loadDone) }()

	waitUntil(t, ctx, 60*time.Second, "the first confirmations", func() bool { return completed.Load() >= multiKillAt/2 })
	procs[0].decide(t, sim.Sim)
	procs[1].decide(t, sim.Sim)
	for _, p := range procs[:2] {
		p.waitAgreed(t, ctx, d)
	}
	// Everything enqueued so far is delivered before the kill.
	waitOutboxSettled(t, ctx, d)
	t.Logf("first half's approvals and notices settled at %s", time.Since(began).Round(time.Millisecond))
	close(gate)
	waitUntil(t, ctx, 60*time.Second, "the load to reach the kill", func() bool { return completed.Load() >= multiKillAt })
	a.kill(t)
	atKill := completed.Load()
	t.Logf("A killed at %s after %d confirmations", time.Since(began).Round(time.Millisecond), atKill)

	// After the kill, through B only: a redelivered event, an approval
	// launched through A decided now, one launched through B, a reminder.
	if err := sim.Redeliver(procs[0].event); err != nil {
		t.Fatal(err)
	}
	procs[2].decide(t, sim.Sim)
	procs[3].launch(t, b, w.acct)
	procs[3].decide(t, sim.Sim)
	var dun struct {
		Recipients int `json:"recipients"`
	}
	b.mustJSON(t, w.acct, "POST", "/api/v1/rounds/"+rid+"/notices/dunning", nil, 200, &dun)
	close(gate2)

	select {
	case <-loadDone:
	case <-time.After(90 * time.Second):
		t.Fatalf("the load did not finish in 90 s (%d of %d)", completed.Load(), len(keys))
	}
	if atKill >= int64(len(keys)) {
		t.Fatalf("A was killed after the load had finished (%d)", atKill)
	}

	t.Logf("load done at %s", time.Since(began).Round(time.Millisecond))

	// Every key sent to A is replayed through B, by the same workers: an
	// answered one must give back A's payment, an unanswered one is paid (or
	// found paid) now.
	var unanswered atomic.Int64
	var replayErrs sync.Map
	replay := make(chan int)
	for range multiWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range replay {
				st, id := b.pay(rid, w.acct, keys[k], users[k], amounts[k], paidOn)
				switch {
				case results[k].status != 0 && results[k].status != http.StatusCreated:
					replayErrs.Store(keys[k], fmt.Sprintf("A answered %d", results[k].status))
				case st != http.StatusCreated:
					replayErrs.Store(keys[k], fmt.Sprintf("status %d", st))
				case results[k].status == http.StatusCreated && results[k].id != id:
					replayErrs.Store(keys[k], fmt.Sprintf("payment %d, A answered %d", id, results[k].id))
				}
				if results[k].status != http.StatusCreated {
					unanswered.Add(1)
				}
				results[k] = result{st, id}
			}
		}()
	}
	for k := 0; k < len(keys); k += 2 {
		replay <- k
	}
	close(replay)
	wg.Wait()
	replayErrs.Range(func(k, v any) bool {
		t.Errorf("replay of %s through B: %s", k, v)
		return true
	})
	for k := 1; k < len(keys); k += 2 {
		if results[k].status != http.StatusCreated {
			t.Fatalf("%s through B: status %d", keys[k], results[k].status)
		}
	}
	if unanswered.Load() == 0 {
		t.Fatal("no request to A went unanswered: the kill did not land mid-way")
	}
	t.Logf("replayed %d keys of A through B, %d of them unanswered by A (%d cut off in flight), at %s", len(keys)/2,
		unanswered.Load(), cutOff.Load(), time.Since(began).Round(time.Millisecond))

	// Every approval agreed once; every notice delivered.
	for _, p := range procs {
		p.waitAgreed(t, ctx, d)
	}
	waitOutboxSettled(t, ctx, d)
	t.Logf("approvals and notices settled at %s", time.Since(began).Round(time.Millisecond))

	// Payments: one per key, one ledger transaction each, amounts to the fen.
	var rows []struct {
		Key    string          `db:"idempotency_key"`
		Amount decimal.Decimal `db:"amount"`
		Txns   int             `db:"txns"`
	}
	if err := d.SelectContext(ctx, &rows, `SELECT p.idempotency_key, p.amount,
			(SELECT count(*) FROM ledger_transactions l WHERE l.idempotency_key = 'payment:' || p.idempotency_key) AS txns
		FROM payments p WHERE p.round_id = $1`, w.roundID); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{}
	for k := range keys {
		want[keys[k]] = amounts[k]
	}
	if len(rows) != len(keys) {
		t.Errorf("%d payments, want %d", len(rows), len(keys))
	}
	for _, r := range rows {
		if want[r.Key] == "" || r.Amount.StringFixed(2) != want[r.Key] || r.Txns != 1 {
			t.Errorf("payment %s: amount %s, %d ledger transactions; want %s and 1", r.Key, r.Amount.StringFixed(2), r.Txns, want[r.Key])
		}
	}
	var total decimal.Decimal
	if err := d.GetContext(ctx, &total, `SELECT coalesce(sum(p.amount), 0) FROM payments p WHERE p.round_id = $1`, w.roundID); err != nil {
		t.Fatal(err)
	}
	if got := total.StringFixed(2); got != "2000000.00" {
		t.Errorf("paid %s in all, want 2000000.00 (200 × 10,000)", got)
	}
	var fullyPaid int
	if err := d.GetContext(ctx, &fullyPaid, `SELECT count(*) FROM allocation_lines l
		WHERE l.round_id = $1 AND l.allocated = (SELECT sum(amount) FROM payments p WHERE p.round_id = l.round_id AND p.partner_id = l.partner_id)`,
		w.roundID); err != nil {
		t.Fatal(err)
	}
	if fullyPaid != multiPartners {
		t.Errorf("%d partners paid their allocation to the fen, want %d", fullyPaid, multiPartners)
	}

	// Approval events: one inbox row per instance event, handled; one
	// audit entry and one robot alert per process; the event acked in the
	// simulator (the redelivered one twice delivered, still once handled).
	events := map[string]dtsim.Event{}
	for _, ev := range sim.Events() {
		events[ev.ID] = ev
	}
	for _, p := range procs {
		var inbox, handled, agreedEntries, locks int
		if err := d.QueryRowxContext(ctx, `SELECT count(*), count(handled_at) FROM dingtalk_events
			WHERE event_type = 'bpms_instance_change' AND payload->>'type' = 'finish' AND payload->>'processInstanceId' = $1`, p.instance).Scan(&inbox, &handled); err != nil {
			t.Fatal(err)
		}
		if err := d.GetContext(ctx, &agreedEntries, `SELECT count(*) FROM audit_log WHERE action = 'process.agreed' AND entity = 'process' AND entity_id = $1`,
			itoa(p.id)); err != nil {
			t.Fatal(err)
		}
		if err := d.GetContext(ctx, &locks, `SELECT count(*) FROM audit_log WHERE action = 'establishment.peak.lock' AND project_id = $1`, p.project); err != nil {
			t.Fatal(err)
		}
		alerts := 0
		for _, m := range sim.RobotMessages() {
			if m.Conversation == multiConv && strings.Contains(string(m.Msg), p.name) && strings.Contains(string(m.Msg), "审批结果") {
				alerts++
			}
		}
		ev := events[p.event]
		if inbox != 1 || handled != 1 || agreedEntries != 1 || locks != 1 || alerts != 1 || !ev.Acked {
			t.Errorf("approval of %s: %d inbox rows (%d handled), %d process.agreed entries, %d peak locks, %d robot alerts, acked %v; want one of each",
				p.name, inbox, handled, agreedEntries, locks, alerts, ev.Acked)
		}
	}
	if ev := events[procs[0].event]; ev.Deliveries < 2 {
		t.Errorf("the redelivered event was delivered %d times", ev.Deliveries)
	}

	// Notices: each partner has the payment notice and the reminder once.
	if dun.Recipients != multiPartners {
		t.Errorf("the reminder went to %d partners, want %d (nobody had paid in full yet)", dun.Recipients, multiPartners)
	}
	for i := range multiPartners {
		userid := partnerUserID(i)
		var paymentNotices, reminders, dropped int
		for _, n := range sim.Notices(userid) {
			switch {
			case n.Dropped:
				// DingTalk drops a second send of the same content; with
				// nothing left in doubt by the kill there must be none.
				dropped++
			case strings.Contains(string(n.Msg), "催缴通知"):
				reminders++
			case strings.Contains(string(n.Msg), "缴款通知"):
				paymentNotices++
			}
		}
		if paymentNotices != 1 || reminders != 1 || dropped != 0 {
			t.Errorf("%s got %d payment notices and %d reminders (%d sends dropped as repeated), want one each and none dropped",
				userid, paymentNotices, reminders, dropped)
		}
	}

	// The binary's own checks over the shared database.
	t.Logf("checks of the database done at %s", time.Since(began).Round(time.Millisecond))
	for _, args := range [][]string{{"ledger", "reconcile"}, {"audit", "verify"}} {
		cmd := exec.CommandContext(ctx, bin, args...)
		cmd.Env = append(minimalEnv(), env...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("hehuo %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	t.Logf("done in %s", time.Since(began).Round(time.Millisecond))
}

// multiConv is the city company's group chat, where approval alerts go.
const multiConv = "多实例会计群"

// multiWorld is what the test's two instances work on.
type multiWorld struct {
	acct      string  // the city accountant's session token (bearer)
	roundID   int64   // the approved round of the payments
	partners  []int64 // the round's partners' user ids, in order
	approvals []struct {
		id   int64
		name string
	} // projects whose 项目资金峰值 is approved during the test
}

func partnerUserID(i int) string { return fmt.Sprintf("multi_p%03d", i) }

// buildMultiWorld makes, through the services and the SQL fixture that
// internal/payment's tests use for an approved round: a city company with a
// group robot, its accountant (signed in once: a session in the shared
// Redis), a project with an approved round allocating 10,000 to each of
// multiPartners partners known to DingTalk, and four projects with terms
// ready for 项目资金峰值 approval.
func buildMultiWorld(t *testing.T, d *db.DB, svc *wire.Services, sim *dtsim.Sim, simURL string) multiWorld {
	t.Helper()
	ctx := context.Background()
	var w multiWorld
	city := holdingtest.CityCompany(t, d, "多实例城市公司")
	proj := holdingtest.Project(t, d, city, "多实例缴款项目")

	sim.AddRobot(dtsim.Robot{Name: "多实例机器人", AccessToken: "multirobottoken0123456789", Secret: "SECmulti0123456789abcdef", Conversation: multiConv})
	webhook := simURL + "/robot/send?access_token=multirobottoken0123456789"
	name, secret := multiConv, "SECmulti0123456789abcdef"
	if _, err := svc.Notify.CreateRobot(ctx, audit.System, notify.RobotInput{OrgUnitID: &city, Name: &name, WebhookURL: &webhook, Secret: &secret}); err != nil {
		t.Fatalf("group robot: %v", err)
	}

	sim.AddUser(dtsim.User{UserID: "multi_acct", Name: "多实例会计"})
	acct, err := svc.Org.CreateUser(ctx, audit.System, org.UserInput{Name: "多实例会计", DingTalkUserID: "multi_acct", Roles: []string{org.RoleAccountant}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Auth.SetGrants(ctx, audit.System, auth.Target{OrgUnitID: &city},
		[]auth.Grant{{Role: org.RoleAccountant, UserIDs: []int64{acct.ID}}}); err != nil {
		t.Fatal(err)
	}
	if w.acct, _, err = svc.Auth.SignInUser(ctx, acct.ID); err != nil {
		t.Fatal(err)
	}

	ids := make([]string, multiPartners)
	for i := range ids {
		ids[i] = partnerUserID(i)
		sim.AddUser(dtsim.User{UserID: ids[i], Name: fmt.Sprintf("多实例合伙人%03d", i)})
	}
	if err := d.SelectContext(ctx, &w.partners, `
		WITH u AS (INSERT INTO users (name, job_number, dingtalk_userid)
			SELECT '多实例合伙人' || lpad(g::text, 3, '0'), 'MJ' || g, 'multi_p' || lpad(g::text, 3, '0')
			FROM generate_series(0, $1 - 1) g RETURNING id, name),
		p AS (INSERT INTO partners (kind, user_id, name) SELECT 'employee', id, name FROM u RETURNING user_id)
		SELECT user_id FROM p ORDER BY user_id`, multiPartners); err != nil {
		t.Fatal(err)
	}
	if err := d.GetContext(ctx, &w.roundID, `
		WITH r AS (INSERT INTO rounds (project_id, kind, seq, status) VALUES ($1, 'initial', 1, 'approved') RETURNING id),
		a AS (INSERT INTO allocations (round_id, subscription_seq, preview, peak_capital, pool_holding, pool_property, pool_city, pool_other, computed_by)
			SELECT id, 0, false, 0, 0, 0, 0, 0, '测试' FROM r RETURNING round_id),
		l AS (INSERT INTO allocation_lines (round_id, partner_id, tier, mandatory, min_amount, max_amount, requested, calculated, allocated)
			SELECT a.round_id, p.id, 'city', false, 0, 10000, 10000, 10000, 10000
			FROM a, partners p JOIN users u ON u.id = p.user_id WHERE u.dingtalk_userid LIKE 'multi\_p%')
		SELECT round_id FROM a`, proj); err != nil {
		t.Fatal(err)
	}

	terms := establishment.TermsInput{
		PeakCapital: "220000000", TierRatios: establishment.TierRatios{Holding: "0", Property: "0.0331", City: "0.006", Other: "0"},
		FundingDate: civil.Date{Year: 2024, Month: 3, Day: 1}, FinancingRate: "0.0435", GroupCapRatio: "0.10", PerPersonCapRatio: "0.01",
		CollectionAccount: establishment.CollectionAccount{Bank: "工商银行", AccountName: "多实例合伙企业", AccountNumber: "1105020309000054321"},
	}
	if _, err := svc.Establishment.PutTerms(ctx, audit.System, proj, terms); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"甲审批项目", "乙审批项目", "丙审批项目", "丁审批项目"} {
		id := holdingtest.Project(t, d, city, name)
		if _, err := svc.Establishment.PutTerms(ctx, audit.System, id, terms); err != nil {
			t.Fatal(err)
		}
		w.approvals = append(w.approvals, struct {
			id   int64
			name string
		}{id, name})
	}
	return w
}

// multiProcess is one 项目资金峰值 approval of the test.
type multiProcess struct {
	project  int64
	name     string
	id       int64
	instance string
	event    string // the bpms_instance_change event of its decision
}

func (p *multiProcess) launch(t *testing.T, via *instance, token string) {
	t.Helper()
	var out struct {
		ID         int64  `json:"id"`
		InstanceID string `json:"instance_id"`
		Status     string `json:"status"`
	}
	via.mustJSON(t, token, "POST", "/api/v1/projects/"+itoa(p.project)+"/processes",
		map[string]any{"kind": "peak_capital", "subject_id": 0, "form": map[string]string{"情况说明": p.name + "资金峰值确认"}}, 201, &out)
	if out.Status != "running" || out.InstanceID == "" {
		t.Fatalf("launch through %s for %s: %+v", via.name, p.name, out)
	}
	p.id, p.instance = out.ID, out.InstanceID
}

func (p *multiProcess) decide(t *testing.T, sim *dtsim.Sim) {
	t.Helper()
	ev, err := sim.Decide(p.instance, "agree")
	if err != nil {
		t.Fatal(err)
	}
	p.event = ev
}

func (p *multiProcess) waitAgreed(t *testing.T, ctx context.Context, d *db.DB) {
	t.Helper()
	waitUntil(t, ctx, 30*time.Second, p.name+"'s approval agreed", func() bool {
		var status string
		d.GetContext(ctx, &status, `SELECT status FROM processes WHERE id = $1`, p.id)
		return status == "agreed"
	})
}

// waitOutboxSettled waits until no notice is pending, being sent or due for
// a retry, and none has failed.
func waitOutboxSettled(t *testing.T, ctx context.Context, d *db.DB) {
	t.Helper()
	waitUntil(t, ctx, 30*time.Second, "the outbox to settle", func() bool {
		var open int
		d.GetContext(ctx, &open, `SELECT (SELECT count(*) FROM notify_outbox WHERE status <> 'sent')
			+ (SELECT count(*) FROM notify_deliveries WHERE status <> 'sent')`)
		return open == 0
	})
}

// waitUntil polls cond every 20 ms for up to limit.
func waitUntil(t *testing.T, ctx context.Context, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) || ctx.Err() != nil {
			t.Fatalf("timed out after %s waiting for %s", limit, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// buildBinary builds this package's binary into a temporary directory.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "hehuo")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/hehuo: %v\n%s", err, out)
	}
	return bin
}

// minimalEnv is the test's environment without HEHUO_ settings, so that
// the caller's own configuration cannot leak into the instances.
func minimalEnv() []string {
	var out []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "HEHUO_") {
			out = append(out, kv)
		}
	}
	return out
}

// instance is one `hehuo serve` process of the test.
type instance struct {
	name   string
	url    string
	cmd    *exec.Cmd
	log    string
	client *http.Client
	dead   atomic.Bool
}

// startInstance runs `hehuo serve` on a free loopback port with env; it is
// killed when the test ends, and its log is shown if the test failed.
func startInstance(t *testing.T, bin, name string, env []string) *instance {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	in := &instance{name: name, url: "http://" + addr, log: filepath.Join(t.TempDir(), name+".log"),
		client: &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: multiWorkers * 2}}}
	logf, err := os.Create(in.log)
	if err != nil {
		t.Fatal(err)
	}
	in.cmd = exec.Command(bin, "serve")
	in.cmd.Env = append(minimalEnv(), append(env, "HEHUO_HTTP_ADDR="+addr, "HEHUO_PUBLIC_URL="+in.url)...)
	in.cmd.Stdout, in.cmd.Stderr = logf, logf
	if err := in.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if !in.dead.Load() {
			in.cmd.Process.Signal(syscall.SIGTERM)
			done := make(chan struct{})
			go func() { in.cmd.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				in.cmd.Process.Kill()
				<-done
			}
		}
		logf.Close()
		if t.Failed() {
			b, _ := os.ReadFile(in.log)
			t.Logf("instance %s log:\n%s", name, b)
		}
	})
	return in
}

func (in *instance) waitReady(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		res, err := in.client.Get(in.url + "/readyz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(in.log)
			t.Fatalf("instance %s not ready in 20 s (%v)\n%s", in.name, err, b)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// kill ends the process with SIGKILL and reaps it.
func (in *instance) kill(t *testing.T) {
	t.Helper()
	in.dead.Store(true)
	if err := in.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	in.cmd.Wait()
}

// do sends a JSON request with a bearer token; status 0 means no answer.
func (in *instance) do(token, method, path string, body any) (int, []byte) {
	var rd io.Reader
	if body != nil {
		j, _ := json.Marshal(body)
		rd = bytes.NewReader(j)
	}
	req, _ := http.NewRequest(method, in.url+path, rd)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	return in.send(req)
}

func (in *instance) send(req *http.Request) (int, []byte) {
	res, err := in.client.Do(req)
	if err != nil {
		return 0, nil
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return 0, nil // the answer was cut off: not received
	}
	return res.StatusCode, raw
}

func (in *instance) mustJSON(t *testing.T, token, method, path string, body any, want int, out any) {
	t.Helper()
	st, raw := in.do(token, method, path, body)
	if st != want {
		t.Fatalf("%s %s through %s: status %d, want %d: %s", method, path, in.name, st, want, raw)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s %s: %v: %s", method, path, err, raw)
		}
	}
}

// pay confirms one payment with its Idempotency-Key; it returns the status
// (0: no answer) and the payment's id.
func (in *instance) pay(roundID, token, key string, userID int64, amount, paidOn string) (int, int64) {
	j, _ := json.Marshal(map[string]any{"user_id": userID, "amount": amount, "paid_on": paidOn})
	req, _ := http.NewRequest("POST", in.url+"/api/v1/rounds/"+roundID+"/payments", bytes.NewReader(j))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", key)
	st, raw := in.send(req)
	var p struct {
		ID int64 `json:"id"`
	}
	json.Unmarshal(raw, &p)
	return st, p.ID
}

func itoa(n int64) string { return fmt.Sprint(n) }
