package microapp_test

import (
	"strings"
	"testing"
	"unicode"

	"hehuo/internal/holding/holdingtest"
)

// agreedTopUp stores an agreed adjustment of project A in which partner B
// (allocated 300,000, paid 100,000) owes a top-up of 172,727, as the
// adjustment's process would leave it; → the adjustment's id.
func (s *paySetup) agreedTopUp(t *testing.T, e *env) int64 {
	t.Helper()
	e.must(201, s.pay(e, "before-adjustment", 1, "100000", "2024-03-20"))
	pid := holdingtest.Partner(t, e.db, s.users[1])
	var id int64
	if err := e.db.Get(&id, `
		WITH pc AS (INSERT INTO peak_changes (project_id, old_peak_capital, new_peak_capital, created_by_name)
			VALUES ($1, 220000000, 200000000, '测试') RETURNING id),
		a AS (INSERT INTO adjustments (project_id, peak_change_id, old_peak_capital, new_peak_capital, status, created_by_name)
			SELECT $1, id, 220000000, 200000000, 'agreed', '测试' FROM pc RETURNING id),
		l AS (INSERT INTO adjustment_lines (adjustment_id, partner_id, user_id, tier, old_principal, new_principal, delta, paid, top_up, refund)
			SELECT id, $2, $3, 'city', 300000, 272727, -27273, 100000, 172727, 0 FROM a)
		SELECT id FROM a`, s.w.projA, pid, s.users[1]); err != nil {
		t.Fatal(err)
	}
	return id
}

func hasHan(s string) bool {
	for _, r := range s {
		if unicode.Is(unicode.Han, r) {
			return true
		}
	}
	return false
}

// Must show: a settlement (变更缴款确认) is idempotent exactly like a payment.
// The same key with the same body → one ledger transaction and the same
// answer; the same key with another body → 409; no key → 400 with a Chinese
// message (the server never invents one). Refusals change nothing.
func TestSettlementReplay(t *testing.T) {
	e := newEnv(t)
	s := newPaySetup(t, e)
	adj := s.agreedTopUp(t, e)
	path := "/api/v1/adjustments/" + itoa(adj) + "/settlements"
	body := func(amount, on string) map[string]any {
		return map[string]any{"user_id": s.users[1], "amount": amount, "settled_on": on}
	}
	first := e.must(201, e.payDo(s.acct, "settle-1", "POST", path, body("50000", "2024-05-06")))
	again := e.must(201, e.payDo(s.acct, "settle-1", "POST", path, body("50000", "2024-05-06")))
	if string(first.Raw) != string(again.Raw) {
		t.Fatalf("replay differs:\n%s\n%s", first.Raw, again.Raw)
	}
	before := fingerprint(t, e.db)
	e.refused(409, "idempotency_key_reused", e.payDo(s.acct, "settle-1", "POST", path, body("50000.01", "2024-05-06")))
	e.refused(409, "idempotency_key_reused", e.payDo(s.acct, "settle-1", "POST", path, body("50000", "2024-05-07")))
	noKey := e.payDo(s.acct, "", "POST", path, body("1", "2024-05-06"))
	e.refused(400, "idempotency_key_required", noKey)
	if msg, _ := noKey.Body["error"].(map[string]any)["message"].(string); !hasHan(msg) {
		t.Fatalf("no key: the message %q is not Chinese", msg)
	}
	e.refused(400, "idempotency_key_required", e.payDo(s.acct, strings.Repeat("k", 151), "POST", path, body("1", "2024-05-06")))
	if after := fingerprint(t, e.db); after != before {
		t.Fatal("a refused settlement changed the database")
	}
	var n int
	if err := e.db.Get(&n, `SELECT count(*) FROM ledger_transactions WHERE kind = 'adjustment_top_up'`); err != nil || n != 1 {
		t.Fatalf("%d top-up transactions (%v), want 1", n, err)
	}
	if l := e.must(200, e.do(s.acct, "GET", path, nil)).Body["items"].([]any); len(l) != 1 {
		t.Fatalf("settlements: %v", l)
	}
	// The same key on a payment and on a settlement are different movements:
	// each area prefixes the client's key.
	e.must(201, s.pay(e, "settle-1", 0, "1000", "2024-03-01"))
}
