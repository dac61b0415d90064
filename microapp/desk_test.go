package microapp_test

import (
	"strings"
	"testing"

	"hehuo/internal/dtsim"
	"hehuo/internal/holding/holdingtest"
)

func noticesWith(e *env, userid, text string) int {
	n := 0
	for _, x := range e.sim.Notices(userid) {
		if !x.Dropped && strings.Contains(string(x.Msg), text) {
			n++
		}
	}
	return n
}

func names(r response) []string {
	var out []string
	for _, it := range r.Body["items"].([]any) {
		out = append(out, it.(map[string]any)["name"].(string))
	}
	return out
}

// The payment desk lists who a notice would reach before it is sent — the
// payment notice every allocated partner, a reminder only those not fully
// paid — and the business admin may send the 缴款通知 (seed step 6.4.5) as
// the granted accountant does. Wrong role 403, other project 404, bad input 400.
func TestPaymentDeskRecipientsAndBizadminSends(t *testing.T) {
	e := newEnv(t)
	s := newPaySetup(t, e)
	rp := "/api/v1/rounds/" + itoa(s.roundID) + "/notices/recipients"
	np := "/api/v1/rounds/" + itoa(s.roundID) + "/notices/payment"
	got := e.must(200, e.do(s.acct, "GET", rp+"?notice=payment", nil))
	if n := names(got); strings.Join(n, ",") != "合伙人A,合伙人B,合伙人C,合伙人D" || num(got.Body["reachable"]) != 4 || got.Body["sent"] != nil {
		t.Fatalf("payment recipients: %s", got.Raw)
	}
	e.refused(400, "notice_invalid", e.do(s.acct, "GET", rp+"?notice=robot", nil))
	e.refused(404, "round_not_found", e.do(s.other, "GET", rp+"?notice=payment", nil))
	if r := e.do(s.tokens[0], "GET", rp+"?notice=payment", nil); r.Status != 403 {
		t.Fatalf("a partner listing recipients: %d", r.Status)
	}

	_, auditor := e.mustUser("审计", "auditor")
	before := fingerprint(t, e.db)
	if r := e.do(s.tokens[0], "POST", np, map[string]any{"test": false}); r.Status != 403 {
		t.Fatalf("a partner sending the payment notice: %d", r.Status)
	}
	if r := e.do(auditor, "POST", np, map[string]any{"test": false}); r.Status != 403 {
		t.Fatalf("an auditor sending the payment notice: %d", r.Status)
	}
	e.refused(404, "round_not_found", e.do(s.other, "POST", np, map[string]any{"test": false}))
	e.refused(400, "field_type_invalid", e.do(s.acct, "POST", np, map[string]any{"test": "yes"}))
	if after := fingerprint(t, e.db); after != before {
		t.Fatal("a refused send changed the database")
	}

	// The business admin sends the test, then the real notice.
	e.sim.AddUser(dtsim.User{UserID: "dt_业务管理员", Name: "业务管理员"})
	_, biz := e.mustUser("业务管理员", "bizadmin")
	e.must(200, e.do(biz, "POST", np, map[string]any{"test": true}))
	r := e.must(200, e.do(biz, "POST", np, map[string]any{"test": false}))
	if num(r.Body["recipients"]) != 4 {
		t.Fatalf("bizadmin's notice: %s", r.Raw)
	}
	e.roundDrain()
	if len(e.sim.Notices("dt_业务管理员")) != 1 || len(e.sim.Notices("dt_合伙人C")) != 1 {
		t.Fatalf("notices: bizadmin %d, partner C %d", len(e.sim.Notices("dt_业务管理员")), len(e.sim.Notices("dt_合伙人C")))
	}
	if sent := e.must(200, e.do(s.acct, "GET", rp+"?notice=payment", nil)).Body["sent"]; sent == nil {
		t.Fatal("recipients do not say the notice went out")
	}

	// A pays in full, B in part: a reminder would reach B, C and D.
	e.must(201, s.pay(e, "desk-a", 0, "500000", "2024-03-01"))
	e.must(201, s.pay(e, "desk-b", 1, "1000", "2024-03-20"))
	got = e.must(200, e.do(s.acct, "GET", rp+"?notice=dunning", nil))
	if n := names(got); strings.Join(n, ",") != "合伙人B,合伙人C,合伙人D" {
		t.Fatalf("dunning recipients: %s", got.Raw)
	}
	if it := got.Body["items"].([]any)[0].(map[string]any); it["outstanding"] != "299000.00" || it["reachable"] != true {
		t.Fatalf("B as a dunning recipient: %v", it)
	}
	if r := e.must(200, e.do(s.acct, "POST", "/api/v1/rounds/"+itoa(s.roundID)+"/notices/dunning", nil)); num(r.Body["recipients"]) != 3 {
		t.Fatalf("dunning sent to %s, listed 3", r.Raw)
	}
}

// 分配 → 分配账户: every partner of the project with their account status
// (label from the API, number masked); the confirmation notice reaches only
// the partners not confirmed, a test only the caller; the accountant enters
// an account on a partner's behalf with a reason (audited), which the
// partner must still confirm; never their own (403 own_line).
func TestPayoutDesk(t *testing.T) {
	e := newEnv(t).withPayoutKey()
	s := newPaySetup(t, e)
	base := "/api/v1/projects/" + itoa(s.w.projA) + "/payout-accounts"
	status := func() map[string]string {
		out := map[string]string{}
		for _, it := range e.must(200, e.do(s.acct, "GET", base, nil)).Body["items"].([]any) {
			m := it.(map[string]any)
			acc := m["account"].(map[string]any)
			out[m["name"].(string)] = acc["status_label"].(string) + "|" + acc["number_masked"].(string)
		}
		return out
	}
	if got := status(); len(got) != 4 || got["合伙人A"] != "未填写|" {
		t.Fatalf("before any account: %v", got)
	}
	// A enters an account and does not confirm; B enters and confirms.
	acc := func(i int, holder string) map[string]any {
		return map[string]any{"bank": "招商银行", "branch": "常州分行", "holder": holder, "number": "621483021234567" + itoa(int64(i)), "version": 0}
	}
	e.must(200, e.do(s.tokens[0], "PUT", "/api/v1/me/payout-account", acc(1, "合伙人A")))
	b := e.must(200, e.do(s.tokens[1], "PUT", "/api/v1/me/payout-account", acc(2, "合伙人B")))
	e.must(200, e.do(s.tokens[1], "POST", "/api/v1/me/payout-account/confirm", map[string]any{"version": b.Body["version"]}))
	if got := status(); got["合伙人A"] != "待确认|**** **** **** 5671" || got["合伙人B"] != "已确认|**** **** **** 5672" ||
		got["合伙人C"] != "未填写|" {
		t.Fatalf("after the phones: %v", got)
	}
	if raw := string(e.must(200, e.do(s.acct, "GET", base, nil)).Raw); strings.Contains(raw, "6214830212345671") {
		t.Fatal("the staff list shows a full number")
	}

	// Refusals change nothing.
	np := base + "/notices"
	_, auditor := e.mustUser("审计", "auditor")
	before := fingerprint(t, e.db)
	for _, tok := range []string{s.tokens[0], auditor} {
		if r := e.do(tok, "POST", np, map[string]any{"test": false}); r.Status != 403 {
			t.Fatalf("wrong role sending: %d", r.Status)
		}
	}
	e.refused(404, "project_not_found", e.do(s.other, "POST", np, map[string]any{"test": false}))
	e.refused(404, "project_not_found", e.do(s.other, "GET", base, nil))
	e.refused(400, "field_type_invalid", e.do(s.acct, "POST", np, map[string]any{"test": 1}))
	if after := fingerprint(t, e.db); after != before {
		t.Fatal("a refused send changed the database")
	}

	// The test goes to the caller only; the real notice to A, C and D, not B.
	const subject = "请确认分配账户：常州项目"
	e.must(200, e.do(s.acct, "POST", np, map[string]any{"test": true}))
	r := e.must(200, e.do(s.acct, "POST", np, map[string]any{"test": false}))
	if num(r.Body["recipients"]) != 3 {
		t.Fatalf("confirmation notice: %s", r.Raw)
	}
	e.refused(409, "payout_notice_already_sent", e.do(s.acct, "POST", np, map[string]any{"test": false}))
	e.roundDrain()
	for who, want := range map[string]int{"缴款会计": 1, "合伙人A": 1, "合伙人B": 0, "合伙人C": 1, "合伙人D": 1} {
		if n := noticesWith(e, "dt_"+who, subject); n != want {
			t.Errorf("%s got %d confirmation notices, want %d", who, n, want)
		}
	}

	// On behalf of C: bad input, wrong role, outsiders and one's own account refused.
	put := func(tok string, userID int64, body map[string]any) response {
		return e.do(tok, "PUT", base+"/"+itoa(userID), body)
	}
	behalf := acc(3, "合伙人C")
	behalf["reason"] = "合伙人在外地，电话确认后代填"
	_, biz := e.mustUser("业务管理员", "bizadmin")
	strangerID, _ := e.mustUser("路人")
	acctPartner := holdingtest.Partner(t, e.db, s.acctID)
	holdingtest.Round(t, e.db, s.w.projA, "approved", map[int64]string{acctPartner: "1000"})
	before = fingerprint(t, e.db)
	noReason := acc(3, "合伙人C")
	e.refused(400, "required", put(s.acct, s.users[2], noReason))
	wrongHolder := acc(3, "张三")
	wrongHolder["reason"] = "代填"
	e.refused(400, "payout_holder_mismatch", put(s.acct, s.users[2], wrongHolder))
	e.refused(404, "partner_not_in_project", put(s.acct, strangerID, behalf))
	e.refused(404, "project_not_found", put(s.other, s.users[2], behalf))
	for _, tok := range []string{biz, s.tokens[0], auditor} {
		if r := put(tok, s.users[2], behalf); r.Status != 403 {
			t.Fatalf("wrong role entering on behalf: %d %s", r.Status, r.Raw)
		}
	}
	own := acc(4, "缴款会计")
	own["reason"] = "给自己"
	e.refused(403, "own_line", put(s.acct, s.acctID, own))
	if after := fingerprint(t, e.db); after != before {
		t.Fatal("a refused entry changed the database")
	}
	got := e.must(200, put(s.acct, s.users[2], behalf)).Body
	if got["status"] != "unconfirmed" || got["number_masked"] != "**** **** **** 5673" {
		t.Fatalf("on behalf: %v", got)
	}
	var reason string
	if err := e.db.Get(&reason, `SELECT after->>'reason' FROM audit_log WHERE action = 'payout_account.save_on_behalf'`); err != nil || reason != behalf["reason"] {
		t.Fatalf("audit reason %q (%v)", reason, err)
	}
	// C confirms on the phone.
	c := e.must(200, e.do(s.tokens[2], "GET", "/api/v1/me/payout-account", nil)).Body
	e.must(200, e.do(s.tokens[2], "POST", "/api/v1/me/payout-account/confirm", map[string]any{"version": c["version"]}))
	if got := status(); got["合伙人C"] != "已确认|**** **** **** 5673" {
		t.Fatalf("after C confirmed: %v", got)
	}
}

// 变更缴款通知 from the payment desk: recipients listed first (only partners
// with a top-up or refund left), a test to the caller, the real one once a
// day; not before the adjustment is agreed.
func TestAdjustmentNoticeFromTheDesk(t *testing.T) {
	e := newEnv(t)
	s := newPaySetup(t, e)
	adj := s.agreedTopUp(t, e)
	rp := "/api/v1/adjustments/" + itoa(adj) + "/notices/recipients"
	np := "/api/v1/adjustments/" + itoa(adj) + "/notices"
	got := e.must(200, e.do(s.acct, "GET", rp, nil))
	items := got.Body["items"].([]any)
	if len(items) != 1 {
		t.Fatalf("recipients: %s", got.Raw)
	}
	if it := items[0].(map[string]any); it["name"] != "合伙人B" || it["direction_label"] != "补缴" || it["left"] != "172727.00" {
		t.Fatalf("recipient: %v", it)
	}
	e.refused(404, "adjustment_not_found", e.do(s.other, "GET", rp, nil))
	e.refused(404, "adjustment_not_found", e.do(s.other, "POST", np, map[string]any{"test": false}))
	if r := e.do(s.tokens[1], "POST", np, map[string]any{"test": false}); r.Status != 403 {
		t.Fatalf("a partner sending: %d", r.Status)
	}
	e.refused(400, "field_type_invalid", e.do(s.acct, "POST", np, map[string]any{"test": "no"}))
	e.must(200, e.do(s.acct, "POST", np, map[string]any{"test": true}))
	r := e.must(200, e.do(s.acct, "POST", np, map[string]any{"test": false}))
	if num(r.Body["recipients"]) != 1 {
		t.Fatalf("sent: %s", r.Raw)
	}
	e.refused(409, "adjustment_notice_already_sent", e.do(s.acct, "POST", np, map[string]any{"test": false}))
	e.roundDrain()
	if noticesWith(e, "dt_缴款会计", "变更缴款通知") != 1 || noticesWith(e, "dt_合伙人B", "变更缴款通知") != 1 || noticesWith(e, "dt_合伙人A", "变更缴款通知") != 0 {
		t.Fatal("the 变更缴款通知 reached the wrong people")
	}
	draft := e.mustAdjustmentFixture(s.w.projA)
	e.refused(409, "adjustment_not_agreed", e.do(s.acct, "POST", "/api/v1/adjustments/"+itoa(draft)+"/notices", map[string]any{"test": false}))
}
