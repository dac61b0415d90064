package microapp_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"hehuo/internal/audit"
	"hehuo/internal/civil"
	"hehuo/internal/dtsim"
	"hehuo/internal/establishment"
	"hehuo/internal/holding/holdingtest"
	"hehuo/internal/ledger"
	"hehuo/internal/workcal"
)

// payDo is e.do with an Idempotency-Key header.
func (e *env) payDo(token, key, method, path string, body any) response {
	e.t.Helper()
	j, _ := json.Marshal(body)
	req, _ := http.NewRequest(method, e.http.URL+path, bytes.NewReader(j))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Error(err)
		return response{}
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	out := response{Status: res.StatusCode, Raw: raw, Header: res.Header}
	json.Unmarshal(raw, &out.Body)
	return out
}

// paySetup is RULES R4's world: project A with funding date 2024-03-01 at
// 4.35%, an approved round allocating A–D 500,000 / 300,000 / 297,143 /
// 222,857, and an accountant granted on project A.
type paySetup struct {
	w       world
	admin   string
	acct    string
	acctID  int64
	other   string // an accountant without a grant on project A
	roundID int64
	users   []int64
	tokens  []string
	path    string
}

func newPaySetup(t *testing.T, e *env) *paySetup {
	t.Helper()
	s := &paySetup{admin: e.admin()}
	s.w = e.mustWorld(s.admin)
	e.sim.AddUser(dtsim.User{UserID: "dt_缴款会计", Name: "缴款会计"})
	acctID, acct := e.mustUser("缴款会计", "accountant")
	_, s.other = e.mustUser("外地会计", "accountant")
	s.acct, s.acctID = acct, acctID
	e.must(200, e.do(s.admin, "PUT", "/api/v1/org-units/"+itoa(s.w.cityA)+"/grants",
		map[string]any{"grants": []map[string]any{{"role": "accountant", "user_ids": []int64{acctID}}}}))
	if _, err := e.deps.Establishment.PutTerms(context.Background(), audit.System, s.w.projA, establishment.TermsInput{
		PeakCapital: "220000000", TierRatios: establishment.TierRatios{Holding: "0", Property: "0.0331", City: "0.006", Other: "0"},
		FundingDate: civil.Date{Year: 2024, Month: 3, Day: 1}, FinancingRate: "0.0435",
	}); err != nil {
		t.Fatalf("terms: %v", err)
	}
	alloc := map[int64]string{}
	for i, a := range []string{"500000", "300000", "297143", "222857"} {
		name := fmt.Sprintf("合伙人%c", 'A'+i)
		e.sim.AddUser(dtsim.User{UserID: "dt_" + name, Name: name})
		uid, tok := e.mustUser(name)
		s.users, s.tokens = append(s.users, uid), append(s.tokens, tok)
		alloc[holdingtest.Partner(t, e.db, uid)] = a
	}
	s.roundID = holdingtest.Round(t, e.db, s.w.projA, "approved", alloc)
	s.path = "/api/v1/rounds/" + itoa(s.roundID) + "/payments"
	return s
}

func (s *paySetup) pay(e *env, key string, i int, amount, on string) response {
	return e.payDo(s.acct, key, "POST", s.path, map[string]any{"user_id": s.users[i], "amount": amount, "paid_on": on})
}

func itemOf(t *testing.T, r response, userID int64) map[string]any {
	t.Helper()
	for _, it := range r.Body["items"].([]any) {
		m := it.(map[string]any)
		if num(m["user_id"]) == userID {
			return m
		}
	}
	t.Fatalf("no item for user %d: %s", userID, r.Raw)
	return nil
}

// RULES R4's example through the API, to the fen: A–D pay in full on their
// dates (C in two parts) and the list shows paid, outstanding 0 and capital
// interest 0.00 / −679.32 / −1,593.58 / −796.79, each with its trace.
func TestPaymentsR4ExampleOverHTTP(t *testing.T) {
	e := newEnv(t)
	s := newPaySetup(t, e)
	e.must(201, s.pay(e, "r4-a", 0, "500000", "2024-03-01"))
	e.must(201, s.pay(e, "r4-b", 1, "300000", "2024-03-20"))
	e.must(201, s.pay(e, "r4-c1", 2, "200000", "2024-04-15"))
	e.must(201, s.pay(e, "r4-c2", 2, "97143", "2024-04-15"))
	e.must(201, s.pay(e, "r4-d", 3, "222857", "2024-03-31"))

	got := e.must(200, e.do(s.acct, "GET", s.path, nil))
	want := []struct{ paid, interest string }{
		{"500000.00", "0.00"}, {"300000.00", "-679.32"}, {"297143.00", "-1593.58"}, {"222857.00", "-796.79"}}
	for i, w := range want {
		it := itemOf(t, got, s.users[i])
		if it["paid"] != w.paid || it["outstanding"] != "0.00" || it["capital_interest"] != w.interest || it["allocated"] != w.paid {
			t.Errorf("partner %d: %v, want paid %s interest %s", i, it, w.paid, w.interest)
		}
		if tr, _ := it["trace"].([]any); len(tr) == 0 {
			t.Errorf("partner %d: no trace", i)
		}
		if it["partner_id"] == nil {
			t.Errorf("partner %d: no partner_id", i)
		}
	}
	// Paid equals the ledger: the bank holds the sum of the receipts.
	bank, err := ledger.Balance(context.Background(), e.db, ledger.Bank(s.w.projA))
	if err != nil || bank.StringFixed(2) != "1320000.00" || got.Body["paid"] != "1320000.00" {
		t.Fatalf("bank %s (%v), paid %v; want 1320000.00", bank, err, got.Body["paid"])
	}
	// The auditor reads it; an accountant without the grant does not see the round.
	_, auditor := e.mustUser("审计", "auditor")
	e.must(200, e.do(auditor, "GET", s.path, nil))
	e.refused(404, "round_not_found", e.do(s.other, "GET", s.path, nil))
}

// Same Idempotency-Key twice → one transaction and the same answer; the
// key with another request is 409; no key is 400.
func TestPaymentIdempotency(t *testing.T) {
	e := newEnv(t)
	s := newPaySetup(t, e)
	first := e.must(201, s.pay(e, "idem-1", 1, "100000.50", "2024-03-20"))
	again := e.must(201, s.pay(e, "idem-1", 1, "100000.50", "2024-03-20"))
	if string(first.Raw) != string(again.Raw) {
		t.Fatalf("replay differs:\n%s\n%s", first.Raw, again.Raw)
	}
	e.refused(409, "idempotency_key_reused", s.pay(e, "idem-1", 1, "100000.51", "2024-03-20"))
	e.refused(400, "idempotency_key_required", s.pay(e, "", 1, "1", "2024-03-20"))
	var n int
	if err := e.db.Get(&n, `SELECT count(*) FROM ledger_transactions WHERE kind = 'payment'`); err != nil || n != 1 {
		t.Fatalf("%d payment transactions (%v), want 1", n, err)
	}
	got := e.must(200, e.do(s.acct, "GET", s.path, nil))
	if it := itemOf(t, got, s.users[1]); it["paid"] != "100000.50" || it["outstanding"] != "199999.50" {
		t.Fatalf("after a replay: %v", it)
	}
}

// Bad inputs change nothing: overpayment, a non-partner, zero, a date in
// the future, a round not yet approved, an ungranted accountant, a partner.
func TestPaymentRefusals(t *testing.T) {
	e := newEnv(t)
	s := newPaySetup(t, e)
	e.must(201, s.pay(e, "ok-1", 3, "200000", "2024-03-31"))
	over := s.pay(e, "over", 3, "22857.01", "2024-03-31")
	e.refused(422, "payment_overpaid", over)
	// Amounts in messages read like the screens': separated, two decimals.
	if msg := over.Body["error"].(map[string]any)["message"].(string); !strings.Contains(msg, "认购 222,857.00，已缴 200,000.00，待缴 22,857.00") {
		t.Fatalf("overpayment message %q: amounts not formatted like the screens", msg)
	}
	e.refused(400, "amount_not_positive", s.pay(e, "zero", 3, "0", "2024-03-31"))
	e.refused(400, "paid_on_future", s.pay(e, "future", 3, "1", "2100-01-01"))
	strangerID, stranger := e.mustUser("路人")
	r := e.payDo(s.acct, "stranger", "POST", s.path, map[string]any{"user_id": strangerID, "amount": "1", "paid_on": "2024-03-31"})
	e.refused(400, "payment_not_partner", r)
	e.refused(404, "round_not_found", e.payDo(s.other, "other", "POST", s.path, map[string]any{"user_id": s.users[0], "amount": "1", "paid_on": "2024-03-31"}))
	if r := e.payDo(stranger, "partner", "POST", s.path, map[string]any{"user_id": s.users[0], "amount": "1", "paid_on": "2024-03-31"}); r.Status != 403 {
		t.Fatalf("a partner confirming: %d %s", r.Status, r.Raw)
	}
	pid := holdingtest.Partner(t, e.db, s.users[0])
	pending := holdingtest.Round(t, e.db, s.w.projA, "submitted", map[int64]string{pid: "1000"})
	e.refused(422, "round_not_approved", e.payDo(s.acct, "pending", "POST", "/api/v1/rounds/"+itoa(pending)+"/payments",
		map[string]any{"user_id": s.users[0], "amount": "1", "paid_on": "2024-03-31"}))
	var n int
	if err := e.db.Get(&n, `SELECT count(*) FROM payments`); err != nil || n != 1 {
		t.Fatalf("%d payments (%v), want 1", n, err)
	}
}

// 20 concurrent confirmations of 20,000 for D (222,857) → at most 11 land,
// the rest are refused as overpayment, and the ledger reconciles (cleanup).
func TestConcurrentPaymentsNeverExceedTheAllocation(t *testing.T) {
	e := newEnv(t)
	s := newPaySetup(t, e)
	var wg sync.WaitGroup
	statuses := make([]int, 20)
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses[i] = s.pay(e, fmt.Sprintf("conc-%d", i), 3, "20000", "2024-03-31").Status
		}()
	}
	wg.Wait()
	ok := 0
	for _, st := range statuses {
		switch st {
		case 201:
			ok++
		case 422:
		default:
			t.Errorf("status %d", st)
		}
	}
	if ok != 11 {
		t.Errorf("%d confirmations landed, want 11 (11 × 20,000 ≤ 222,857 < 12 × 20,000)", ok)
	}
	got := e.must(200, e.do(s.acct, "GET", s.path, nil))
	if it := itemOf(t, got, s.users[3]); it["paid"] != "220000.00" || it["outstanding"] != "2857.00" {
		t.Fatalf("after the race: %v", it)
	}
}

// A reversal posts the negation: paid and interest drop, the partner may
// pay again; a second reversal and a stale version are 409.
func TestPaymentReversal(t *testing.T) {
	e := newEnv(t)
	s := newPaySetup(t, e)
	p := e.must(201, s.pay(e, "rev-1", 1, "300000", "2024-03-20"))
	rp := "/api/v1/payments/" + itoa(num(p.Body["id"])) + "/reversal"
	e.refused(400, "required", e.do(s.acct, "POST", rp, map[string]any{"reason": "", "version": 1}))
	e.refused(409, "stale_version", e.do(s.acct, "POST", rp, map[string]any{"reason": "金额录错", "version": 2}))
	e.refused(404, "payment_not_found", e.do(s.other, "POST", rp, map[string]any{"reason": "金额录错", "version": 1}))
	r := e.must(200, e.do(s.acct, "POST", rp, map[string]any{"reason": "金额录错", "version": 1}))
	if r.Body["reversed"] != true || r.Body["reversal_reason"] != "金额录错" {
		t.Fatalf("reversal: %s", r.Raw)
	}
	e.refused(409, "payment_already_reversed", e.do(s.acct, "POST", rp, map[string]any{"reason": "再冲", "version": 2}))
	got := e.must(200, e.do(s.acct, "GET", s.path, nil))
	if it := itemOf(t, got, s.users[1]); it["paid"] != "0.00" || it["capital_interest"] != "0.00" {
		t.Fatalf("after reversal: %v", it)
	}
	e.must(201, s.pay(e, "rev-2", 1, "300000", "2024-03-20"))
	got = e.must(200, e.do(s.acct, "GET", s.path, nil))
	if it := itemOf(t, got, s.users[1]); it["paid"] != "300000.00" || it["capital_interest"] != "-679.32" {
		t.Fatalf("paid again: %v", it)
	}
}

func dunned(e *env, name string) int {
	n := 0
	for _, x := range e.sim.Notices("dt_" + name) {
		if !x.Dropped && strings.Contains(string(x.Msg), "催缴") {
			n++
		}
	}
	return n
}

// Payment notices: a test goes only to the caller; the real send reaches
// every allocated partner once with the due date 20 working days out; a
// reminder reaches only the partners not fully paid, once a day, and the
// cadence job run twice sends nothing twice. The partner's H5 data shows
// the amount, the due date, the collection account and each receipt.
func TestPaymentNoticesAndDunningReachOnlyTheUnpaid(t *testing.T) {
	e := newEnv(t)
	s := newPaySetup(t, e)
	np := "/api/v1/rounds/" + itoa(s.roundID) + "/notices/payment"
	dp := "/api/v1/rounds/" + itoa(s.roundID) + "/notices/dunning"
	e.refused(422, "payment_notices_not_sent", e.do(s.acct, "POST", dp, nil))

	r := e.must(200, e.do(s.acct, "POST", np, map[string]any{"test": true}))
	e.roundDrain()
	if len(e.sim.Notices("dt_缴款会计")) != 1 || len(e.sim.Notices("dt_合伙人A")) != 0 {
		t.Fatalf("a test notice went beyond the caller: %s", r.Raw)
	}
	e.refused(404, "round_not_found", e.do(s.other, "POST", np, map[string]any{"test": false}))
	r = e.must(200, e.do(s.acct, "POST", np, map[string]any{"test": false}))
	want, err := workcal.AddWorkingDays(context.Background(), e.db, civil.Today(time.Now()), 20)
	if err != nil || r.Body["due_date"] != want.String() || num(r.Body["recipients"]) != 4 {
		t.Fatalf("notice: %s, want due %s to 4", r.Raw, want)
	}
	e.refused(409, "payment_notices_already_sent", e.do(s.acct, "POST", np, map[string]any{"test": false}))
	e.roundDrain()
	for i := range 4 {
		if n := len(e.sim.Notices(fmt.Sprintf("dt_合伙人%c", 'A'+i))); n != 1 {
			t.Errorf("partner %d got %d notices, want 1", i, n)
		}
	}

	// A pays in full, B in part: a reminder reaches B, C and D only.
	e.must(201, s.pay(e, "dun-a", 0, "500000", "2024-03-01"))
	e.must(201, s.pay(e, "dun-b", 1, "1000", "2024-03-20"))
	r = e.must(200, e.do(s.acct, "POST", dp, nil))
	if num(r.Body["recipients"]) != 3 {
		t.Fatalf("dunning: %s, want 3 recipients", r.Raw)
	}
	e.refused(409, "dunning_already_sent", e.do(s.acct, "POST", dp, nil))
	e.roundDrain()
	e.roundDrain() // a second dispatcher pass (as after a restart) sends nothing again
	if dunned(e, "合伙人A") != 0 || dunned(e, "合伙人B") != 1 || dunned(e, "合伙人C") != 1 || dunned(e, "合伙人D") != 1 {
		t.Fatalf("dunned A %d B %d C %d D %d, want 0 1 1 1", dunned(e, "合伙人A"), dunned(e, "合伙人B"), dunned(e, "合伙人C"), dunned(e, "合伙人D"))
	}

	// The cadence: C pays in full; on the due date the job reminds B and D, once.
	e.must(201, s.pay(e, "dun-c", 2, "297143", "2024-04-15"))
	for range 2 {
		if _, err := e.deps.Payments.RunDueDunning(context.Background(), want); err != nil {
			t.Fatal(err)
		}
	}
	e.roundDrain()
	if dunned(e, "合伙人A") != 0 || dunned(e, "合伙人B") != 2 || dunned(e, "合伙人C") != 1 || dunned(e, "合伙人D") != 2 {
		t.Fatalf("after the cadence: A %d B %d C %d D %d, want 0 2 1 2", dunned(e, "合伙人A"), dunned(e, "合伙人B"), dunned(e, "合伙人C"), dunned(e, "合伙人D"))
	}

	// A week after the due date the city company's robot is told who is overdue (names, no amounts), once.
	var none int
	e.db.Get(&none, `SELECT count(*) FROM notify_outbox WHERE template = 'payments_overdue'`)
	if none != 0 {
		t.Fatalf("an overdue alert on the due date itself")
	}
	for range 2 {
		if _, err := e.deps.Payments.RunDueDunning(context.Background(), want.AddDays(7)); err != nil {
			t.Fatal(err)
		}
	}
	var alerts []string
	if err := e.db.Select(&alerts, `SELECT data->>'overdue_names' FROM notify_outbox WHERE template = 'payments_overdue'`); err != nil || len(alerts) != 1 ||
		alerts[0] != "合伙人B、合伙人D" {
		t.Fatalf("overdue alerts %v (%v), want one naming B and D", alerts, err)
	}

	// The partner's own page: amount, due date, collection account, receipts; nobody else's.
	mine := e.must(200, e.do(s.tokens[1], "GET", "/api/v1/me/payments", nil))
	items := mine.Body["items"].([]any)
	if len(items) != 1 {
		t.Fatalf("my payments: %s", mine.Raw)
	}
	m := items[0].(map[string]any)
	if m["allocated"] != "300000.00" || m["paid"] != "1000.00" || m["outstanding"] != "299000.00" || m["due_date"] != want.String() ||
		m["collection_account"] == nil || len(m["receipts"].([]any)) != 1 {
		t.Fatalf("my payments: %s", mine.Raw)
	}
	_, stranger := e.mustUser("路人乙")
	if got := e.must(200, e.do(stranger, "GET", "/api/v1/me/payments", nil)); len(got.Body["items"].([]any)) != 0 {
		t.Fatalf("a stranger sees: %s", got.Raw)
	}
}

// The work calendar over HTTP: staff read it, only the sysadmin edits it.
func TestWorkCalendarOverHTTP(t *testing.T) {
	e := newEnv(t)
	s := newPaySetup(t, e)
	got := e.must(200, e.do(s.acct, "GET", "/api/v1/work-calendar?year=2026", nil))
	if n := len(got.Body["items"].([]any)); n < 30 {
		t.Fatalf("2026 has %d exceptions: %s", n, got.Raw)
	}
	if r := e.do(s.acct, "PUT", "/api/v1/work-calendar/2026-12-31", map[string]any{"kind": "holiday"}); r.Status != 403 {
		t.Fatalf("an accountant edited the calendar: %d", r.Status)
	}
	e.must(200, e.do(s.admin, "PUT", "/api/v1/work-calendar/2026-12-31", map[string]any{"kind": "holiday", "name": "年终"}))
	e.refused(400, "invalid_date", e.do(s.admin, "PUT", "/api/v1/work-calendar/2026-13-01", map[string]any{"kind": "holiday"}))
	ok, err := workcal.IsWorkingDay(context.Background(), e.db, civil.Date{Year: 2026, Month: 12, Day: 31})
	if err != nil || ok {
		t.Fatalf("2026-12-31 still a working day (%v)", err)
	}
	// The year view the console draws: every day, named as due dates count it.
	got = e.must(200, e.do(s.acct, "GET", "/api/v1/work-calendar?year=2026", nil))
	days := got.Body["days"].([]any)
	last := days[len(days)-1].(map[string]any)
	if len(days) != 365 || last["day"] != "2026-12-31" || last["working"] != false || last["label"] != "休息日" ||
		last["kind"] != "holiday" || last["kind_label"] != "节假日" || last["name"] != "年终" {
		t.Fatalf("%d days, the last %v", len(days), last)
	}
	if kinds := got.Body["kinds"].([]any); len(kinds) != 3 || kinds[0].(map[string]any)["label"] != "节假日（休息）" {
		t.Fatalf("kinds %v", kinds)
	}
}

// statement builds a bank-statement sheet with the given rows.
func statement(t testing.TB, rows [][]any) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	f.SetSheetRow("Sheet1", "A1", &[]any{"流水号", "工号", "姓名", "金额", "到账日期"})
	for i, r := range rows {
		f.SetSheetRow("Sheet1", fmt.Sprintf("A%d", i+2), &r)
	}
	var b bytes.Buffer
	if err := f.Write(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// An import with one bad row applies nothing and names the row and column;
// the good statement applies every row and its R4 interest to the fen;
// importing it again skips every row (流水号 is the idempotency key).
func TestPaymentImportAllOrNothing(t *testing.T) {
	e := newEnv(t)
	s := newPaySetup(t, e)
	if _, err := e.db.Exec(`UPDATE users SET job_number = 'J' || id WHERE name LIKE '合伙人%'`); err != nil {
		t.Fatal(err)
	}
	job := func(i int) string { return "J" + itoa(s.users[i]) }
	ip := s.path + "/import"
	good := [][]any{
		{"S1", job(0), "合伙人A", "500000", "2024-03-01"},
		{"S2", job(1), "合伙人B", "300000.00", "2024-03-20"},
		{"S3", job(2), "合伙人C", "297143", "2024-04-15"},
		{"S4", job(3), "合伙人D", "222,857", "2024-03-31"},
	}
	bad := append([][]any{}, good...)
	bad[2] = []any{"S3", job(2), "合伙人C", "297143.001", "2024-04-15"}
	r := e.upload(s.acct, ip, statement(t, bad))
	e.refused(400, "import_invalid", r)
	details := r.Body["error"].(map[string]any)["details"].([]any)
	if d := details[0].(map[string]any); num(d["row"]) != 4 || d["column"] != "金额" || len(details) != 1 {
		t.Fatalf("details: %s", r.Raw)
	}
	over := append([][]any{}, good...)
	over = append(over, []any{"S5", job(3), "合伙人D", "0.01", "2024-03-31"})
	r = e.upload(s.acct, ip, statement(t, over))
	e.refused(400, "import_invalid", r)
	if d := r.Body["error"].(map[string]any)["details"].([]any)[0].(map[string]any); num(d["row"]) != 6 || d["column"] != "金额" {
		t.Fatalf("overpayment details: %s", r.Raw)
	}
	var n int
	if err := e.db.Get(&n, `SELECT count(*) FROM payments`); err != nil || n != 0 {
		t.Fatalf("a refused import left %d payments (%v)", n, err)
	}
	r = e.must(200, e.upload(s.acct, ip, statement(t, good)))
	if num(r.Body["imported"]) != 4 {
		t.Fatalf("import: %s", r.Raw)
	}
	r = e.must(200, e.upload(s.acct, ip, statement(t, good)))
	if num(r.Body["imported"]) != 0 || num(r.Body["replayed"]) != 4 {
		t.Fatalf("re-import: %s", r.Raw)
	}
	got := e.must(200, e.do(s.acct, "GET", s.path, nil))
	for i, w := range []string{"0.00", "-679.32", "-1593.58", "-796.79"} {
		if it := itemOf(t, got, s.users[i]); it["capital_interest"] != w || it["outstanding"] != "0.00" {
			t.Errorf("partner %d: %v, want interest %s", i, it, w)
		}
	}
	e.refused(404, "round_not_found", e.upload(s.other, ip, statement(t, good)))
	e.refused(400, "import_not_xlsx", e.upload(s.acct, ip, []byte("not a workbook")))
}

// One Idempotency-Key sent 10 times at once (a client retrying) → one
// payment, one ledger transaction, and every reply names it.
func TestConcurrentRetriesOfOneKeyPayOnce(t *testing.T) {
	e := newEnv(t)
	s := newPaySetup(t, e)
	var wg sync.WaitGroup
	ids := make([]int64, 10)
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := s.pay(e, "retry-1", 2, "297143", "2024-04-15")
			if r.Status == 201 {
				ids[i] = num(r.Body["id"])
			} else {
				t.Errorf("retry %d: %d %s", i, r.Status, r.Raw)
			}
		}()
	}
	wg.Wait()
	for _, id := range ids {
		if id != ids[0] {
			t.Fatalf("replies name different payments: %v", ids)
		}
	}
	var n int
	if err := e.db.Get(&n, `SELECT count(*) FROM ledger_transactions WHERE kind = 'payment'`); err != nil || n != 1 {
		t.Fatalf("%d payment transactions (%v), want 1", n, err)
	}
}

// After an agreed establishment adjustment (R5) re-split a partner's
// principal, the round's old allocation is no longer paid against: a round
// payment for that partner is 422 (the top-up is a settlement of the adjustment).
func TestRoundPaymentRefusedAfterAnAgreedAdjustment(t *testing.T) {
	e := newEnv(t)
	s := newPaySetup(t, e)
	e.must(201, s.pay(e, "adj-0", 1, "100000", "2024-03-20"))
	pid := holdingtest.Partner(t, e.db, s.users[1])
	if _, err := e.db.Exec(`
		WITH pc AS (INSERT INTO peak_changes (project_id, old_peak_capital, new_peak_capital, created_by_name)
			VALUES ($1, 220000000, 200000000, '测试') RETURNING id),
		a AS (INSERT INTO adjustments (project_id, peak_change_id, old_peak_capital, new_peak_capital, status, created_by_name)
			SELECT $1, id, 220000000, 200000000, 'agreed', '测试' FROM pc RETURNING id)
		INSERT INTO adjustment_lines (adjustment_id, partner_id, tier, old_principal, new_principal, delta, paid, top_up, refund)
		SELECT id, $2, 'city', 300000, 272727, -27273, 100000, 172727, 0 FROM a`, s.w.projA, pid); err != nil {
		t.Fatal(err)
	}
	e.refused(422, "payment_adjusted", s.pay(e, "adj-1", 1, "1000", "2024-03-20"))
	e.must(201, s.pay(e, "adj-2", 0, "1000", "2024-03-20")) // A is not in the adjustment
}
