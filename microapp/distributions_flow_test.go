package microapp_test

import (
	"context"
	"testing"

	"hehuo/internal/holding/holdingtest"
	"hehuo/internal/ledger"
	"hehuo/internal/position"
)

// r4World is RULES R4's world through the API: 常州项目 with R1's terms
// (funding date 2024-03-01, 4.35%) and its peak agreed in DingTalk, an
// approved round allocating A–D 500,000 / 300,000 / 297,143 / 222,857, paid
// on R4's dates (B = 0.00 / −679.32 / −1,593.58 / −796.79), every partner
// with a confirmed payout account.
func (e *env) r4World() (flowWorld, []distPartner) {
	t := e.t
	t.Helper()
	f := e.flowWorld()
	e.termsAndPeak(f)
	ps := []distPartner{{userid: "r4_a", name: "甲"}, {userid: "r4_b", name: "乙"}, {userid: "r4_c", name: "丙"}, {userid: "r4_d", name: "丁"}}
	amounts := []string{"500000", "300000", "297143", "222857"}
	dates := []string{"2024-03-01", "2024-03-20", "2024-04-15", "2024-03-31"}
	alloc := map[int64]string{}
	for i := range ps {
		ps[i].user = e.partnerUser(ps[i].userid, ps[i].name, "")
		ps[i].partner = holdingtest.Partner(t, e.db, ps[i].user)
		alloc[ps[i].partner] = amounts[i]
		e.confirmPayout(ps[i].user, ps[i].name)
	}
	round := itoa(holdingtest.Round(t, e.db, f.projA, "approved", alloc))
	for i := range ps {
		e.must(201, e.payDo(f.acct, "r4-"+ps[i].userid, "POST", "/api/v1/rounds/"+round+"/payments",
			map[string]any{"user_id": ps[i].user, "amount": amounts[i], "paid_on": dates[i]}))
	}
	e.reconciles("R4's payments")
	return f, ps
}

// wantLines checks a batch's lines of ps, field by field, to the fen.
func wantLines(t *testing.T, what string, b map[string]any, ps []distPartner, want map[string][]string) {
	t.Helper()
	ls := lines(b)
	if len(ls) != len(ps) {
		t.Fatalf("%s: %d lines, want %d: %v", what, len(ls), len(ps), b["lines"])
	}
	for i, p := range ps {
		l := ls[p.partner]
		if l == nil {
			t.Fatalf("%s: no line for %s", what, p.name)
		}
		w := map[string]string{}
		for field, col := range want {
			w[field] = col[i]
		}
		wantAmounts(t, what+" "+p.name, l, w)
	}
}

// principalHeld is what each partner's principal account holds (paid in
// and not yet returned), from the ledger.
func (e *env) principalHeld(projectID int64, ps []distPartner) []string {
	e.t.Helper()
	out := make([]string, len(ps))
	for i, p := range ps {
		bal, err := ledger.Balance(context.Background(), e.db, ledger.Principal(projectID, p.partner))
		if err != nil {
			e.t.Fatal(err)
		}
		out[i] = bal.Neg().StringFixed(2)
	}
	return out
}

// Must show: RULES R6 and R7 through the API, to the fen. R4's partners:
// calculated at 100%, the principal batch is R6's example (D = 500,000.00 /
// 299,320.68 / 295,549.42 / 222,060.21); the ratio changed to 80% sends it
// back to draft, and it is calculated, saved, reviewed and agreed at 80%.
// A first profit batch of X = 100,000.00 is R7's example (37,878.79 /
// 22,727.27 / 22,510.83 / 16,883.11: split by principal as allocated,
// before the return). The second principal batch returns the rest with
// B = 0 (deducted once), and the principal returned totals the principal
// paid: every principal account is back to zero.
func TestDistributionR6R7ThroughTheAPI(t *testing.T) {
	e := newEnv(t).withPayoutKey()
	e.startBot()
	f, ps := e.r4World()
	e.agreedActualPeak(f, "220000000")

	b := e.newBatch(f, map[string]any{"kind": "principal", "distribution_date": "2025-06-30", "record_date": "2025-06-30", "return_ratio": "1"})
	if str(b["status"]) != "draft" || num(b["seq"]) != 1 || str(b["kind"]) != "principal" {
		t.Fatalf("new principal batch: %v", b)
	}
	b = e.must(200, e.do(f.acct, "POST", batchPath(b["id"], "/calculate"), map[string]any{"version": b["version"]})).Body
	wantLines(t, "R6 at 100%", b, ps, map[string][]string{
		"a": {"500000.00", "300000.00", "297143.00", "222857.00"},
		"b": {"0.00", "-679.32", "-1593.58", "-796.79"},
		"c": {"0.00", "0.00", "0.00", "0.00"},
		"d": {"500000.00", "299320.68", "295549.42", "222060.21"},
		"e": {"500000.00", "299320.68", "295549.42", "222060.21"},
	})
	for _, l := range lines(b) {
		if tr, _ := l["trace"].([]any); len(tr) == 0 {
			t.Errorf("line %v without its trace", l["name"])
		}
	}
	wantAmounts(t, "R6 合计", b["totals"].(map[string]any), map[string]string{"a": "1320000.00", "b": "-3069.69", "d": "1316930.31"})

	// 80%: the edit sends the batch back to draft; calculated again.
	b = e.must(200, e.do(f.acct, "PATCH", batchPath(b["id"], ""), map[string]any{"return_ratio": "0.8", "version": b["version"]})).Body
	if str(b["status"]) != "draft" {
		t.Fatalf("after the ratio changed: %s", b["status"])
	}
	b = e.calculated(f, b)
	eighty := map[string][]string{
		"a": {"500000.00", "300000.00", "297143.00", "222857.00"},
		"b": {"0.00", "-679.32", "-1593.58", "-796.79"},
		"d": {"400000.00", "239320.68", "236120.82", "177488.81"},
		"e": {"400000.00", "239320.68", "236120.82", "177488.81"},
	}
	wantLines(t, "R6 at 80%", b, ps, eighty)
	b = e.approved(f, b)
	wantLines(t, "R6 at 80%, approved", b, ps, eighty)
	e.reconciles("the 80% principal batch")
	if got, want := e.principalHeld(f.projA, ps), []string{"100000.00", "60000.00", "59428.60", "44571.40"}; !equalStrings(got, want) {
		t.Fatalf("principal held after 80%%: %v, want %v", got, want)
	}

	// R7: X = 100,000.00 entered directly.
	p := e.newBatch(f, map[string]any{"kind": "profit", "distribution_date": "2025-09-30", "record_date": "2025-09-30", "amount": "100000.00"})
	if num(p["seq"]) != 1 {
		t.Fatalf("first profit batch seq %v", p["seq"])
	}
	p = e.calculated(f, p)
	r7 := map[string][]string{"f": {"37878.79", "22727.27", "22510.83", "16883.11"}}
	wantLines(t, "R7", p, ps, r7)
	wantAmounts(t, "R7 合计", p["totals"].(map[string]any), map[string]string{"f": "100000.00"})
	p = e.approved(f, p)
	wantLines(t, "R7, approved", p, ps, r7)
	e.reconciles("the first profit batch")

	// The rest of the principal: B was deducted once, so it is 0 now.
	r := e.newBatch(f, map[string]any{"kind": "principal", "distribution_date": "2025-12-31", "record_date": "2025-12-31", "return_ratio": "1"})
	r = e.calculated(f, r)
	rest := map[string][]string{
		"a": {"100000.00", "60000.00", "59428.60", "44571.40"},
		"b": {"0.00", "0.00", "0.00", "0.00"},
		"d": {"100000.00", "60000.00", "59428.60", "44571.40"},
	}
	wantLines(t, "the rest of the principal", r, ps, rest)
	r = e.approved(f, r)
	e.reconciles("the second principal batch")
	if got := e.principalHeld(f.projA, ps); !equalStrings(got, []string{"0.00", "0.00", "0.00", "0.00"}) {
		t.Fatalf("principal held after the rest: %v", got)
	}
	// Returned principal totals the paid principal, partner by partner, as
	// every screen reads it (internal/position).
	pos := position.NewService(e.db, e.deps.Establishment)
	for i, p := range ps {
		got, err := pos.Of(context.Background(), nil, f.projA, p.partner, false)
		if err != nil || !got.Returned.Equal(got.Paid) || !got.Paid.Equal(dec(t, eighty["a"][i])) {
			t.Errorf("%s: returned %s of paid %s (%v)", p.name, got.Returned, got.Paid, err)
		}
	}
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
