package microapp_test

import (
	"context"
	"strings"
	"testing"

	"github.com/shopspring/decimal"

	"hehuo/internal/holding/holdingtest"
	"hehuo/internal/ledger"
	"hehuo/internal/partner"
	"hehuo/internal/position"
)

// r9World is R4's world plus a fifth partner 戊 who paid 100,000 in a
// second round on 2024-06-01 (B = −1,096.44): one partner per exit type.
func (e *env) r9World() (flowWorld, []distPartner) {
	t := e.t
	t.Helper()
	f, ps := e.r4World()
	u := e.partnerUser("r9_e", "戊", "")
	p := distPartner{userid: "r9_e", name: "戊", user: u, partner: holdingtest.Partner(t, e.db, u)}
	round := itoa(holdingtest.Round(t, e.db, f.projA, "approved", map[int64]string{p.partner: "100000"}))
	e.must(201, e.payDo(f.acct, "r9-e", "POST", "/api/v1/rounds/"+round+"/payments",
		map[string]any{"user_id": u, "amount": "100000", "paid_on": "2024-06-01"}))
	return f, append(ps, p)
}

func (e *env) quote(token string, user int64, typ, date string) map[string]any {
	e.t.Helper()
	return e.must(201, e.do(token, "POST", "/api/v1/exit-quotes", map[string]any{"user_id": user, "exit_type": typ, "exit_date": date})).Body
}

func (e *env) principalBalance(projectID, partnerID int64) string {
	e.t.Helper()
	bal, err := ledger.Balance(context.Background(), e.db, ledger.Principal(projectID, partnerID))
	if err != nil {
		e.t.Fatal(err)
	}
	return bal.Neg().StringFixed(2)
}

// Must show: RULES R9 to the fen for each exit type through the API. On
// 2025-03-01, at the financing cost rate 4.35%: 甲 resigns (P + I =
// 500,000.00), 乙 is dismissed (300,000 − 679.32), 丙 retires (H =
// 11,332.14 on 320 days), 丁 is transferred (H = 8,897.49 on 335 days), 戊
// dies (I = −1,096.44, H = 3,253.56 on 273 days). Each quote's exit process
// is agreed in DingTalk: every partner's principal account is 0, the
// platform company's holds the 1,420,000.00 transferred, the partners are
// flagged 退 (and 离, but 丁 who moved within the group), positions follow,
// and the ledger reconciles. Then the payout of 丙's exit, idempotent.
func TestExitR9ThroughTheAPI(t *testing.T) {
	e := newEnv(t).withPayoutKey()
	e.startBot()
	f, ps := e.r9World()
	ctx := context.Background()

	types := []string{"resignation", "dismissal", "retirement", "transfer", "death"}
	labels := []string{"离职", "辞退", "退休", "调动", "身故"}
	want := []map[string]string{
		{"p": "500000.00", "i": "0.00", "h": "0.00", "payout": "500000.00"},
		{"p": "300000.00", "i": "-679.32", "h": "0.00", "payout": "299320.68"},
		{"p": "297143.00", "i": "-1593.58", "h": "11332.14", "payout": "306881.56"},
		{"p": "222857.00", "i": "-796.79", "h": "8897.49", "payout": "230957.70"},
		{"p": "100000.00", "i": "-1096.44", "h": "3253.56", "payout": "102157.12"},
	}
	quotes := make([]map[string]any, len(ps))
	for i, p := range ps {
		q := e.quote(f.acct, p.user, types[i], "2025-03-01")
		ls, _ := q["lines"].([]any)
		if len(ls) != 1 || str(q["status"]) != "quoted" || str(q["status_label"]) == "" || str(q["exit_type_label"]) != labels[i] {
			t.Fatalf("%s's quote: %v", p.name, q)
		}
		l := ls[0].(map[string]any)
		if num(l["project_id"]) != f.projA || str(l["project_name"]) == "" || num(l["id"]) == 0 {
			t.Errorf("%s's line: %v", p.name, l)
		}
		wantAmounts(t, p.name+" "+types[i], l, want[i])
		if str(q["total"]) != want[i]["payout"] {
			t.Errorf("%s's total %v, want %s", p.name, q["total"], want[i]["payout"])
		}
		if tr, _ := l["trace"].([]any); len(tr) < 4 {
			t.Errorf("%s's line has no trace: %v", p.name, l["trace"])
		}
		quotes[i] = q
	}
	statesLabelled(t, "exits", e.must(200, e.do(f.acct, "GET", "/api/v1/exits", nil)).Body)

	// Each exit process, launched with its quote, agreed in DingTalk.
	for i, q := range quotes {
		proc := e.must(201, e.do(f.acct, "POST", "/api/v1/projects/"+f.proj+"/processes",
			map[string]any{"kind": "exit", "subject_id": num(q["id"]), "form": map[string]string{"情况说明": ps[i].name + "退出"}})).Body
		got := e.must(200, e.do(f.acct, "GET", "/api/v1/exits/"+itoa(num(q["id"])), nil)).Body
		if str(got["status"]) != "in_approval" {
			t.Fatalf("%s's exit after launch: %v", ps[i].name, got["status"])
		}
		// The same quote cannot go to approval twice.
		if r := e.do(f.acct, "POST", "/api/v1/projects/"+f.proj+"/processes",
			map[string]any{"kind": "exit", "subject_id": num(q["id"])}); r.Status < 400 {
			t.Fatalf("a second launch of one quote: %d %s", r.Status, r.Raw)
		}
		e.decide(f.acct, num(proc["id"]), str(proc["instance_id"]), "agree")
		got = e.must(200, e.do(f.acct, "GET", "/api/v1/exits/"+itoa(num(q["id"])), nil)).Body
		if str(got["status"]) != "agreed" || str(got["status_label"]) != "已承接" || str(got["taken_over_by"]) == "" {
			t.Fatalf("%s's exit after approval: %v", ps[i].name, got)
		}
		e.reconciles(ps[i].name + "'s takeover")
	}
	platform, err := partner.Platform(ctx, e.db)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range ps {
		if got := e.principalBalance(f.projA, p.partner); got != "0.00" {
			t.Errorf("%s's principal account after the exit: %s, want 0.00", p.name, got)
		}
		var exited, left bool
		if err := e.db.Get(&exited, `SELECT exited_on IS NOT NULL FROM partners WHERE id = $1`, p.partner); err != nil {
			t.Fatal(err)
		}
		if err := e.db.Get(&left, `SELECT left_on IS NOT NULL FROM partners WHERE id = $1`, p.partner); err != nil {
			t.Fatal(err)
		}
		if !exited || left != (types[i] != "transfer") {
			t.Errorf("%s (%s): 退 %v 离 %v", p.name, types[i], exited, left)
		}
	}
	if got := e.principalBalance(f.projA, platform); got != "1420000.00" {
		t.Errorf("the platform company's principal: %s, want 1420000.00", got)
	}
	pos, err := position.NewService(e.db, e.deps.Establishment).Positions(ctx, nil, position.Query{ProjectIDs: []int64{f.projA}, Interest: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pos {
		switch {
		case p.PartnerID == platform:
			if p.Paid.StringFixed(2) != "1420000.00" || p.Principal.StringFixed(2) != "1420000.00" || !p.Outstanding.IsZero() {
				t.Errorf("platform position: paid %s principal %s outstanding %s", p.Paid, p.Principal, p.Outstanding)
			}
		default:
			if !p.Principal.IsZero() || !p.Outstanding.IsZero() || !p.Held().IsZero() || !p.Returned.IsZero() || !p.Interest.IsZero() {
				t.Errorf("%s's position after the exit: principal %s outstanding %s held %s returned %s interest %s",
					p.PartnerName, p.Principal, p.Outstanding, p.Held(), p.Returned, p.Interest)
			}
		}
	}
	// 我的跟投 names what the platform company took over.
	held := false
	for _, h := range e.must(200, e.do(e.signInByAuthCode(ps[0].userid), "GET", "/api/v1/me/holdings", nil)).Body["items"].([]any) {
		m := h.(map[string]any)
		if num(m["project_id"]) != f.projA {
			continue
		}
		held = true
		if str(m["transferred"]) != "500000.00" || str(m["principal"]) != "0.00" {
			t.Errorf("%s's holding after the exit: %v", ps[0].name, m)
		}
	}
	if !held {
		t.Errorf("%s's 我的跟投 no longer lists the project exited", ps[0].name)
	}
	// The exited partners' tiers are the platform company's: an adjustment
	// (R5) re-splits its principal, and a distribution's tier table counts it.
	tiers, err := position.NewService(e.db, e.deps.Establishment).Tiers(ctx, e.db, f.projA)
	if err != nil {
		t.Fatal(err)
	}
	tierSum := decimal.Zero
	for _, tp := range tiers {
		if tp.PartnerID != platform || tp.UserID != nil {
			t.Errorf("tier %s after every exit: partner %d user %v, want the platform company's", tp.Tier, tp.PartnerID, tp.UserID)
		}
		tierSum = tierSum.Add(tp.Principal)
	}
	if tierSum.StringFixed(2) != "1420000.00" {
		t.Errorf("the platform company's tiers sum to %s, want 1420000.00", tierSum)
	}
	// A partner who has exited has nothing left to quote.
	e.refusedUnchanged("quote after the exit", 422, "exit_no_stake", func() response {
		return e.do(f.acct, "POST", "/api/v1/exit-quotes", map[string]any{"user_id": ps[0].user, "exit_type": "death", "exit_date": "2025-04-01"})
	})

	// 登记退出打款金额及打款日期 of 丙's exit, under an Idempotency-Key.
	exitPath := "/api/v1/exits/" + itoa(num(quotes[2]["id"])) + "/payout"
	e.refusedUnchanged("payout without a key", 400, "idempotency_key_required", func() response {
		return e.do(f.acct, "POST", exitPath, map[string]any{"paid_on": "2025-03-10", "amount": "306881.56"})
	})
	e.refusedUnchanged("payout of another amount", 422, "exit_payout_amount_mismatch", func() response {
		return e.payDo(f.acct, "exit-pay-0", "POST", exitPath, map[string]any{"paid_on": "2025-03-10", "amount": "306881.55"})
	})
	paid := e.must(200, e.payDo(f.acct, "exit-pay-1", "POST", exitPath, map[string]any{"paid_on": "2025-03-10", "amount": "306881.56"})).Body
	if str(paid["status"]) != "paid" || paid["replayed"] != false || str(paid["paid_amount"]) != "306881.56" {
		t.Fatalf("payout: %v", paid)
	}
	again := e.must(200, e.payDo(f.acct, "exit-pay-1", "POST", exitPath, map[string]any{"paid_on": "2025-03-10", "amount": "306881.56"})).Body
	if again["replayed"] != true || str(again["status"]) != "paid" {
		t.Fatalf("the same payout again: %v", again)
	}
	e.refusedUnchanged("same key, another body", 409, "idempotency_key_reused", func() response {
		return e.payDo(f.acct, "exit-pay-1", "POST", exitPath, map[string]any{"paid_on": "2025-03-11", "amount": "306881.56"})
	})
	e.refusedUnchanged("another key on a paid exit", 409, "exit_paid", func() response {
		return e.payDo(f.acct, "exit-pay-2", "POST", exitPath, map[string]any{"paid_on": "2025-03-10", "amount": "306881.56"})
	})
	var payouts int
	if err := e.db.Get(&payouts, `SELECT count(*) FROM ledger_transactions WHERE kind = 'exit_payout'`); err != nil {
		t.Fatal(err)
	}
	if payouts != 1 {
		t.Fatalf("%d exit payouts on the ledger, want 1", payouts)
	}
	if got, err := ledger.Balance(ctx, e.db, ledger.ExternalPartner(ps[2].partner)); err != nil || got.StringFixed(2) != "306881.56" {
		t.Fatalf("丙's external account: %v %v", got, err)
	}
	e.refusedUnchanged("payout of an exit not agreed", 422, "exit_not_agreed", func() response {
		q := quotes[0]
		e.db.MustExec(`UPDATE exits SET status = 'quoted' WHERE id = $1`, num(q["id"]))
		defer e.db.MustExec(`UPDATE exits SET status = 'agreed' WHERE id = $1`, num(q["id"]))
		return e.payDo(f.acct, "exit-pay-3", "POST", "/api/v1/exits/"+itoa(num(q["id"]))+"/payout",
			map[string]any{"paid_on": "2025-03-10", "amount": "500000.00"})
	})
	e.reconciles("the exit payout")

	// 退出员工合伙信息查询表: a row per exit, the payout on 丙's.
	rep := e.must(200, e.do(f.acct, "GET", "/api/v1/reports/exits", nil)).Body
	rows, _ := rep["items"].([]any)
	if len(rows) != 5 {
		t.Fatalf("report rows: %d, want 5: %v", len(rows), rep)
	}
	found := false
	for _, r := range rows {
		m := r.(map[string]any)
		if str(m["partner_name"]) == "丙" {
			found = true
			if str(m["paid_amount"]) != "306881.56" || str(m["paid_on"]) != "2025-03-10" || str(m["exit_type_label"]) != "退休" ||
				str(m["taken_over_by"]) == "" || str(m["status_label"]) != "已打款" || str(m["h"]) != "11332.14" {
				t.Errorf("丙's report row: %v", m)
			}
		}
	}
	if !found {
		t.Fatalf("no row of 丙: %v", rows)
	}
	for q, n := range map[string]int{"?project_id=" + f.proj: 5, "?name=丙": 1, "?status=paid": 1, "?status=agreed": 4} {
		got, _ := e.must(200, e.do(f.acct, "GET", "/api/v1/reports/exits"+q, nil)).Body["items"].([]any)
		if len(got) != n {
			t.Errorf("report %s: %d rows, want %d", q, len(got), n)
		}
	}
	x := e.do(f.acct, "GET", "/api/v1/reports/exits.xlsx", nil)
	if x.Status != 200 {
		t.Fatalf("xlsx: %d %s", x.Status, x.Raw)
	}
	sheet := readSheet(t, x.Raw)
	if len(sheet) != 6 || sheet[0][0] != "姓名" || !strings.Contains(strings.Join(sheet[0], ","), "承接方") {
		t.Fatalf("xlsx rows: %v", sheet)
	}
}

// Must show: the exit process cannot be launched without a quote (422
// exit_quote_required), and a quote for a partner with no stake, a date
// before a payment, an unknown type, a date outside the window, another
// city's accountant (404) are refused with nothing written.
func TestExitRefusals(t *testing.T) {
	e := newEnv(t).withPayoutKey()
	e.startBot()
	f, ps := e.r4World()
	proc := "/api/v1/projects/" + f.proj + "/processes"
	for _, subject := range []int64{0, 999999} {
		e.refusedUnchanged("exit without a quote", 422, "exit_quote_required", func() response {
			return e.do(f.acct, "POST", proc, map[string]any{"kind": "exit", "subject_id": subject})
		})
	}
	quote := func(user int64, typ, date string) func() response {
		return func() response {
			return e.do(f.acct, "POST", "/api/v1/exit-quotes", map[string]any{"user_id": user, "exit_type": typ, "exit_date": date})
		}
	}
	noStake := e.partnerUser("r9_none", "无份额", "")
	e.refusedUnchanged("unknown type", 400, "exit_type_invalid", quote(ps[0].user, "vacation", "2025-03-01"))
	e.refusedUnchanged("no stake", 422, "exit_no_stake", quote(noStake, "resignation", "2025-03-01"))
	e.refusedUnchanged("date before the last payment", 422, "exit_date_before_payment", quote(ps[2].user, "retirement", "2024-04-14"))
	e.refusedUnchanged("date out of window", 400, "date_out_of_range", quote(ps[0].user, "retirement", "1999-12-31"))
	e.refusedUnchanged("malformed date", 400, "invalid_date", quote(ps[0].user, "retirement", "2025-13-01"))
	otherID, other := e.mustUser("外地会计", "accountant")
	e.must(200, e.do(f.admin, "PUT", "/api/v1/org-units/"+itoa(f.cityB)+"/grants",
		map[string]any{"grants": []map[string]any{{"role": "accountant", "user_ids": []int64{otherID}}}}))
	e.refusedUnchanged("another city's accountant", 404, "project_not_found", func() response {
		return e.do(other, "POST", "/api/v1/exit-quotes", map[string]any{"user_id": ps[0].user, "exit_type": "death", "exit_date": "2025-03-01"})
	})
	partnerToken := e.signInByAuthCode(ps[1].userid)
	r := e.do(partnerToken, "POST", "/api/v1/exit-quotes", map[string]any{"user_id": ps[0].user, "exit_type": "death", "exit_date": "2025-03-01"})
	if r.Status != 403 {
		t.Fatalf("a partner quotes: %d %s", r.Status, r.Raw)
	}

	// A quote seen by the city's accountant only; a newer one supersedes it;
	// a superseded quote cannot be launched.
	q1 := e.quote(f.acct, ps[0].user, "resignation", "2025-03-01")
	e.must(404, e.do(other, "GET", "/api/v1/exits/"+itoa(num(q1["id"])), nil))
	if items, _ := e.must(200, e.do(other, "GET", "/api/v1/exits", nil)).Body["items"].([]any); len(items) != 0 {
		t.Fatalf("another city's accountant sees %d exits", len(items))
	}
	e.quote(f.acct, ps[0].user, "retirement", "2025-03-01")
	e.refusedUnchanged("superseded quote", 422, "exit_quote_superseded", func() response {
		return e.do(f.acct, "POST", proc, map[string]any{"kind": "exit", "subject_id": num(q1["id"])})
	})

	// The accountant, a partner too: the business admin may quote the
	// accountant's exit, the accountant may not send it to approval.
	var acctUser int64
	if err := e.db.Get(&acctUser, `SELECT id FROM users WHERE dingtalk_userid = 'acct_huanhu'`); err != nil {
		t.Fatal(err)
	}
	acctPartner := holdingtest.Partner(t, e.db, acctUser)
	holdingtest.Round(t, e.db, f.projA, "approved", map[int64]string{acctPartner: "1000"})
	holdingtest.Pay(t, e.db, f.projA, acctPartner, "1000")
	e.refusedUnchanged("the accountant quotes their own exit", 403, "own_line", quote(acctUser, "resignation", "2025-03-01"))
	own := e.must(201, e.do(f.biz, "POST", "/api/v1/exit-quotes", map[string]any{"user_id": acctUser, "exit_type": "resignation", "exit_date": "2025-03-01"})).Body
	e.refusedUnchanged("the accountant launches their own exit", 403, "own_line", func() response {
		return e.do(f.acct, "POST", proc, map[string]any{"kind": "exit", "subject_id": num(own["id"])})
	})

	// Self-service: 乙 asks to leave; the accountant sees it and quotes from it.
	req := e.must(201, e.do(partnerToken, "POST", "/api/v1/me/exit-requests", map[string]any{"reason": "退休", "desired_date": "2025-06-30"})).Body
	if str(req["status"]) != "submitted" || str(req["status_label"]) == "" {
		t.Fatalf("request: %v", req)
	}
	e.must(409, e.do(partnerToken, "POST", "/api/v1/me/exit-requests", map[string]any{"reason": "再次", "desired_date": "2025-06-30"}))
	list := e.must(200, e.do(f.acct, "GET", "/api/v1/exit-requests", nil)).Body
	if items, _ := list["items"].([]any); len(items) != 1 {
		t.Fatalf("requests: %v", list)
	}
	statesLabelled(t, "exit requests", list)
	if items, _ := e.must(200, e.do(other, "GET", "/api/v1/exit-requests", nil)).Body["items"].([]any); len(items) != 0 {
		t.Fatalf("another city's accountant sees %d requests", len(items))
	}
	e.refusedUnchanged("another city's accountant rejects", 404, "exit_request_not_found", func() response {
		return e.do(other, "POST", "/api/v1/exit-requests/"+itoa(num(req["id"]))+"/reject", nil)
	})
	q := e.must(201, e.do(f.acct, "POST", "/api/v1/exit-quotes", map[string]any{"user_id": ps[1].user, "exit_type": "retirement",
		"exit_date": "2025-06-30", "request_id": num(req["id"])})).Body
	myStatus := func() string {
		mine := e.must(200, e.do(partnerToken, "GET", "/api/v1/me/exit-requests", nil)).Body
		items, _ := mine["items"].([]any)
		if len(items) != 1 {
			t.Fatalf("my requests: %v", mine)
		}
		return str(items[0].(map[string]any)["status"])
	}
	if st := myStatus(); st != "quoted" {
		t.Fatalf("my request after the quote: %s", st)
	}
	// Launched, then refused in DingTalk: the quote is quoted again, the
	// request too, and no stake moved.
	launched := e.must(201, e.do(f.acct, "POST", proc, map[string]any{"kind": "exit", "subject_id": num(q["id"])})).Body
	if st := myStatus(); st != "launched" {
		t.Fatalf("my request while in approval: %s", st)
	}
	e.decide(f.acct, num(launched["id"]), str(launched["instance_id"]), "refuse")
	if got := e.must(200, e.do(f.acct, "GET", "/api/v1/exits/"+itoa(num(q["id"])), nil)).Body; str(got["status"]) != "quoted" {
		t.Fatalf("the quote after a refusal: %v", got["status"])
	}
	if st := myStatus(); st != "quoted" {
		t.Fatalf("my request after a refusal: %s", st)
	}
	if got := e.principalBalance(f.projA, ps[1].partner); got != "300000.00" {
		t.Fatalf("乙's principal after a refused exit: %s", got)
	}
	e.must(403, e.do(partnerToken, "GET", "/api/v1/exits", nil))
}

// mustExitFixture is an exit of partnerID (user userID) in projectID with
// one line of P = 1,000.00, in status, for the route walks.
func (e *env) mustExitFixture(projectID, partnerID, userID int64, status string) int64 {
	e.t.Helper()
	var id int64
	if err := e.db.Get(&id, `INSERT INTO exits (partner_id, user_id, exit_type, exit_date, holding_return, rate_source, status, total,
		created_by_name) VALUES ($1, $2, 'resignation', current_date, false, 'none', $3, 1000, '测试') RETURNING id`,
		partnerID, userID, status); err != nil {
		e.t.Fatal(err)
	}
	e.db.MustExec(`INSERT INTO exit_lines (exit_id, project_id, partner_id, p, i, h, payout) VALUES ($1, $2, $3, 1000, 0, 0, 1000)`,
		id, projectID, partnerID)
	return id
}

// mustQuotedExitFixture is a quoted exit of a new partner in projectID.
func (e *env) mustQuotedExitFixture(projectID int64) int64 {
	e.t.Helper()
	u, _ := e.mustUser("退出合伙人")
	return e.mustExitFixture(projectID, holdingtest.Partner(e.t, e.db, u), u, "quoted")
}

// fillExitPath puts a real exit id into /exits/:id paths.
func fillExitPath(p string, exitID int64) string {
	const prefix = "/api/v1/exits/:id"
	if strings.HasPrefix(p, prefix) {
		return "/api/v1/exits/" + itoa(exitID) + p[len(prefix):]
	}
	return p
}
