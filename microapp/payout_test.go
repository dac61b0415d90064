package microapp_test

import (
	"bytes"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"hehuo/internal/payout"
	"hehuo/microapp"
)

// withPayoutKey serves e again with HEHUO_SECRET_KEY set for payout accounts.
func (e *env) withPayoutKey() *env {
	e.t.Helper()
	e.withPayoutKeyLogs()
	return e
}

// withPayoutKeyLogs is withPayoutKey logging at debug level into the buffer
// it returns (to check the number is never logged).
func (e *env) withPayoutKeyLogs() *syncBuffer {
	e.t.Helper()
	logs := &syncBuffer{}
	cfg := e.deps.Config
	cfg.SecretKey = testSecretKey
	deps := e.deps
	deps.Config = cfg
	deps.Log = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	deps.Payout = payout.NewService(e.db, cfg, deps.Log)
	s := microapp.New(deps)
	hs := httptest.NewServer(s.Handler())
	e.t.Cleanup(hs.Close)
	e.deps, e.server, e.http = deps, s, hs
	return logs
}

// syncBuffer is a bytes.Buffer safe for the server's goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

const payoutNumber = "6214830212345678"

// The partner enters an account in H5, gets the confirmation notice in
// DingTalk, confirms it; a change needs confirming again. The number is
// masked in every reply and in the audit log, and sealed in the database.
func TestPayoutAccountEnterConfirmChange(t *testing.T) {
	e := newEnv(t)
	logs := e.withPayoutKeyLogs()
	admin := e.admin()
	e.partnerUser("dt_payee", "王五", "")
	me := e.signInByAuthCode("dt_payee")

	got := e.must(200, e.do(me, "GET", "/api/v1/me/payout-account", nil))
	if got.Body["status"] != "none" {
		t.Fatalf("before entering: %s", got.Raw)
	}
	in := map[string]any{"bank": "招商银行", "branch": "南京分行", "holder": "王五", "number": "6214 8302 1234 5678", "version": 0}
	saved := e.must(200, e.do(me, "PUT", "/api/v1/me/payout-account", in))
	if saved.Body["status"] != "unconfirmed" || saved.Body["number_masked"] != "**** **** **** 5678" {
		t.Fatalf("saved: %s", saved.Raw)
	}
	// Saving again with the old version is stale.
	if r := e.do(me, "PUT", "/api/v1/me/payout-account", in); r.Status != 409 {
		t.Fatalf("stale save: %d %s", r.Status, r.Raw)
	}
	e.drain()
	ns := e.sim.Notices("dt_payee")
	if len(ns) != 1 || !strings.Contains(string(ns[0].Msg), "5678") || strings.Contains(string(ns[0].Msg), payoutNumber) {
		t.Fatalf("confirmation notice: %+v", ns)
	}
	conf := e.must(200, e.do(me, "POST", "/api/v1/me/payout-account/confirm", map[string]any{"version": saved.Body["version"]}))
	if conf.Body["status"] != "confirmed" {
		t.Fatalf("confirm: %s", conf.Raw)
	}
	// A change of branch: unconfirmed again, a second notice.
	in["branch"], in["version"] = "南京新街口支行", conf.Body["version"]
	changed := e.must(200, e.do(me, "PUT", "/api/v1/me/payout-account", in))
	if changed.Body["status"] != "unconfirmed" {
		t.Fatalf("changed: %s", changed.Raw)
	}
	e.drain()
	if n := len(e.sim.Notices("dt_payee")); n != 2 {
		t.Fatalf("notices after the change = %d", n)
	}

	// Never the number: not in any reply, the audit log (API and table) or the row.
	audit := e.must(200, e.do(admin, "GET", "/api/v1/audit-log?entity=payout_account", nil))
	for _, raw := range [][]byte{got.Raw, saved.Raw, conf.Raw, changed.Raw, audit.Raw} {
		if strings.Contains(string(raw), payoutNumber) || strings.Contains(string(raw), "6214 8302") {
			t.Fatalf("number in a reply: %s", raw)
		}
	}
	if !strings.Contains(string(audit.Raw), "payout_account") {
		t.Fatalf("no audit entry: %s", audit.Raw)
	}
	var dump string
	if err := e.db.Get(&dump, `SELECT string_agg(p::text, ' ') FROM payout_accounts p`); err != nil {
		t.Fatal(err)
	}
	var auditDump string
	if err := e.db.Get(&auditDump, `SELECT string_agg(a::text, ' ') FROM audit_log a`); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(dump, payoutNumber) || strings.Contains(auditDump, payoutNumber) {
		t.Fatal("number stored in clear")
	}
	if l := logs.String(); !strings.Contains(l, "/api/v1/me/payout-account") || strings.Contains(l, payoutNumber) {
		t.Fatalf("the log has no request line or has the number:\n%s", l)
	}
}

// Bad input changes nothing: another person's name, malformed numbers, a
// confirmation before any account, and an auditor (read-only) writing.
func TestPayoutAccountRefusals(t *testing.T) {
	e := newEnv(t)
	logs := e.withPayoutKeyLogs()
	e.partnerUser("dt_payer2", "赵六", "")
	me := e.signInByAuthCode("dt_payer2")
	_, auditor := e.mustUser("审计员", "auditor")
	before := fingerprint(t, e.db)
	for _, c := range []struct {
		body       map[string]any
		status     int
		code       string
		notMessage string
	}{
		{map[string]any{"bank": "招商银行", "branch": "南京分行", "holder": "钱七", "number": payoutNumber}, 400, "payout_holder_mismatch", ""},
		{map[string]any{"bank": "招商银行", "branch": "南京分行", "holder": "赵六", "number": "62148302123"}, 400, "payout_number_invalid", "62148302123"},
		{map[string]any{"bank": "招商银行", "branch": "南京分行", "holder": "赵六", "number": "6214830212345678x"}, 400, "payout_number_invalid", "6214830212345678"},
		{map[string]any{"bank": "", "branch": "南京分行", "holder": "赵六", "number": payoutNumber}, 400, "required", ""},
		{map[string]any{"bank": "招商银行", "branch": "南京分行", "holder": "赵六", "number": payoutNumber, "version": 3}, 409, "", ""},
	} {
		r := e.do(me, "PUT", "/api/v1/me/payout-account", c.body)
		if r.Status != c.status || (c.code != "" && r.errCode() != c.code) {
			t.Errorf("%v: %d %s, want %d %s", c.body, r.Status, r.Raw, c.status, c.code)
		}
		if c.notMessage != "" && strings.Contains(string(r.Raw), c.notMessage) {
			t.Errorf("the error repeats the number: %s", r.Raw)
		}
	}
	if r := e.do(me, "POST", "/api/v1/me/payout-account/confirm", map[string]any{"version": 1}); r.Status != 404 {
		t.Errorf("confirm without an account: %d %s", r.Status, r.Raw)
	}
	if r := e.do(auditor, "PUT", "/api/v1/me/payout-account", map[string]any{"bank": "招商银行", "branch": "南京分行", "holder": "审计员", "number": payoutNumber}); r.Status != 403 {
		t.Errorf("auditor writes: %d %s", r.Status, r.Raw)
	}
	if after := fingerprint(t, e.db); after != before {
		t.Fatal("refused requests changed the database")
	}
	if !strings.Contains(string(e.must(200, e.do(me, "GET", "/api/v1/openapi.json", nil)).Raw), "/api/v1/me/payout-account/confirm") {
		t.Fatal("the confirm route is not documented")
	}
	if l := logs.String(); strings.Contains(l, "6214830212345678") || strings.Contains(l, "62148302123") {
		t.Fatalf("the log has a number:\n%s", l)
	}
}
