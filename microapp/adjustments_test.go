package microapp_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"hehuo/internal/civil"
	"hehuo/internal/holding/holdingtest"
	"hehuo/internal/ledger"
)

// mustAdjustmentFixture stores an agreed peak change of the project and a
// draft adjustment of it, so that /adjustments/{id} paths have a real id.
func (e *env) mustAdjustmentFixture(projectID int64) int64 {
	e.t.Helper()
	var pc, id int64
	if err := e.db.Get(&pc, `INSERT INTO peak_changes (project_id, old_peak_capital, new_peak_capital, status, created_by_name)
		VALUES ($1, 2, 1, 'agreed', '测试') RETURNING id`, projectID); err != nil {
		e.t.Fatal(err)
	}
	if err := e.db.Get(&id, `INSERT INTO adjustments (project_id, peak_change_id, old_peak_capital, new_peak_capital, created_by_name)
		VALUES ($1, $2, 2, 1, '测试') RETURNING id`, projectID, pc); err != nil {
		e.t.Fatal(err)
	}
	return id
}

// fillAdjustmentPath puts a real adjustment id into /adjustments/:id paths.
func fillAdjustmentPath(p string, adjustmentID int64) string {
	const prefix = "/api/v1/adjustments/:id"
	if len(p) >= len(prefix) && p[:len(prefix)] == prefix {
		return "/api/v1/adjustments/" + itoa(adjustmentID) + p[len(prefix):]
	}
	return p
}

// Must show: RULES R5 through the API. The peak of R1's project goes from
// 220,000,000 to 200,000,000 through the peak_change process in DingTalk
// (the new peak and a new shareholding version take effect); the
// adjustment re-splits R3's city tier to 454,546 / 272,727 / 270,130 /
// 202,597 with refunds 45,454 / 27,273 / 27,013 and, for D who paid only
// 200,000 of 222,857, a top-up of 2,597; Σ delta = pool delta = −120,000.
// Submitted, reviewed, agreed in DingTalk, the partners are notified; the
// settlements post to the ledger, refunds only to a confirmed payout
// account, never more than due, and a retried key answers once.
func TestAdjustmentR5ThroughTheAPI(t *testing.T) {
	e := newEnv(t).withPayoutKey()
	e.startBot()
	f := e.flowWorld()
	e.termsAndPeak(f)
	proj := f.proj

	names := []struct{ userid, name string }{{"adj_a", "甲"}, {"adj_b", "乙"}, {"adj_c", "丙"}, {"adj_d", "丁"}}
	olds := []string{"500000", "300000", "297143", "222857"}
	paid := []string{"500000", "300000", "297143", "200000"}
	users := make([]int64, 4)
	partners := make([]int64, 4)
	alloc := map[int64]string{}
	for i, n := range names {
		users[i] = e.partnerUser(n.userid, n.name, "")
		partners[i] = holdingtest.Partner(t, e.db, users[i])
		alloc[partners[i]] = olds[i]
	}
	holdingtest.Round(t, e.db, f.projA, "approved", alloc)
	for i := range partners {
		holdingtest.Pay(t, e.db, f.projA, partners[i], paid[i])
	}

	// Bad inputs change nothing.
	e.refused(400, "new_peak_capital_invalid", e.do(f.acct, "POST", "/api/v1/projects/"+proj+"/peak-changes",
		map[string]any{"new_peak_capital": "-1", "shareholders": []any{}}))
	e.refused(422, "peak_unchanged", e.do(f.acct, "POST", "/api/v1/projects/"+proj+"/peak-changes",
		map[string]any{"new_peak_capital": "220000000", "shareholders": []map[string]string{{"name": "锦艺集团", "kind": "group", "stake": "1"}}}))
	holders := []map[string]string{{"name": "锦艺集团", "kind": "group", "stake": "0.9"}, {"name": "常州合伙企业", "kind": "partnership", "stake": "0.1"}}
	pc := e.must(201, e.do(f.acct, "POST", "/api/v1/projects/"+proj+"/peak-changes",
		map[string]any{"new_peak_capital": "200000000", "shareholders": holders, "reason": "规划调整"})).Body
	e.refused(409, "peak_change_open", e.do(f.acct, "POST", "/api/v1/projects/"+proj+"/peak-changes",
		map[string]any{"new_peak_capital": "210000000", "shareholders": holders}))
	// No adjustment before the change is agreed.
	e.refused(422, "peak_change_not_agreed", e.do(f.acct, "POST", "/api/v1/projects/"+proj+"/adjustments", map[string]any{}))

	// The peak_change process: launched, agreed in DingTalk, in effect.
	proc := e.must(201, e.do(f.acct, "POST", "/api/v1/projects/"+proj+"/processes",
		map[string]any{"kind": "peak_change", "subject_id": num(pc["id"]), "form": map[string]string{"情况说明": "峰值调整"}})).Body
	e.decide(f.acct, num(proc["id"]), str(proc["instance_id"]), "agree")
	terms := e.must(200, e.do(f.acct, "GET", "/api/v1/projects/"+proj+"/establishment", nil)).Body
	if !dec(t, terms["peak_capital"]).Equal(decimal.NewFromInt(200000000)) {
		t.Fatalf("peak after the change: %v", terms["peak_capital"])
	}
	sh := e.must(200, e.do(f.acct, "GET", "/api/v1/projects/"+proj+"/shareholding", nil)).Body
	if len(sh["shareholders"].([]any)) != 2 {
		t.Fatalf("shareholding after the change: %v", sh)
	}

	// R5 to the yuan.
	adj := e.must(201, e.do(f.acct, "POST", "/api/v1/projects/"+proj+"/adjustments", map[string]any{})).Body
	adjID := itoa(num(adj["id"]))
	want := map[int64][4]string{ // new, delta, top_up, refund
		users[0]: {"454546", "-45454", "0", "45454"},
		users[1]: {"272727", "-27273", "0", "27273"},
		users[2]: {"270130", "-27013", "0", "27013"},
		users[3]: {"202597", "-20260", "2597", "0"},
	}
	sum := decimal.Zero
	lines := adj["lines"].([]any)
	if len(lines) != 4 {
		t.Fatalf("lines: %v", lines)
	}
	for _, l := range lines {
		line := l.(map[string]any)
		w := want[num(line["user_id"])]
		if !dec(t, line["new_principal"]).Equal(decimal.RequireFromString(w[0])) || !dec(t, line["delta"]).Equal(decimal.RequireFromString(w[1])) ||
			!dec(t, line["top_up"]).Equal(decimal.RequireFromString(w[2])) || !dec(t, line["refund"]).Equal(decimal.RequireFromString(w[3])) ||
			line["partner_id"] == nil || line["old_principal"] == nil {
			t.Errorf("line %v, want %v", line, w)
		}
		sum = sum.Add(dec(t, line["delta"]))
	}
	if !sum.Equal(decimal.NewFromInt(-120000)) || !dec(t, adj["pool_delta"]).Equal(sum) {
		t.Fatalf("Σ delta %s, pool delta %v", sum, adj["pool_delta"])
	}
	// Σ top-ups − Σ refunds = Σ new − Σ paid = pool delta − what D had not paid.
	if !dec(t, adj["top_ups"]).Sub(dec(t, adj["refunds"])).Equal(decimal.NewFromInt(-120000 + 22857)) {
		t.Fatalf("top-ups %v refunds %v", adj["top_ups"], adj["refunds"])
	}
	if adj["trace"] == nil || len(adj["trace"].([]any)) != 6 {
		t.Fatalf("trace: %v", adj["trace"])
	}
	e.refused(409, "adjustment_exists", e.do(f.acct, "POST", "/api/v1/projects/"+proj+"/adjustments",
		map[string]any{"peak_change_id": num(pc["id"])}))

	// Submit (stale version refused), review by the business admin, the
	// adjustment process agreed in DingTalk.
	e.refused(409, "stale_version", e.do(f.acct, "POST", "/api/v1/adjustments/"+adjID+"/submit", map[string]any{"version": 99}))
	e.refused(409, "adjustment_not_reviewed", e.do(f.acct, "POST", "/api/v1/projects/"+proj+"/processes",
		map[string]any{"kind": "adjustment", "subject_id": num(adj["id"]), "form": map[string]string{"情况说明": "立项调整"}}))
	sub := e.must(200, e.do(f.acct, "POST", "/api/v1/adjustments/"+adjID+"/submit", map[string]any{"version": adj["version"]})).Body
	if r := e.do(f.acct, "POST", "/api/v1/adjustments/"+adjID+"/review", map[string]any{"approve": true, "version": sub["version"]}); r.Status != 403 {
		t.Fatalf("accountant reviewing: %d", r.Status)
	}
	e.must(200, e.do(f.biz, "POST", "/api/v1/adjustments/"+adjID+"/review", map[string]any{"approve": true, "version": sub["version"]}))
	// Nothing is settled before the adjustment is agreed.
	e.refused(409, "adjustment_not_agreed", e.payDo(f.acct, "early", "POST", "/api/v1/adjustments/"+adjID+"/settlements",
		map[string]any{"user_id": users[3], "amount": "2597", "settled_on": "2026-01-05"}))
	ap := e.must(201, e.do(f.acct, "POST", "/api/v1/projects/"+proj+"/processes",
		map[string]any{"kind": "adjustment", "subject_id": num(adj["id"]), "form": map[string]string{"情况说明": "立项调整"}})).Body
	e.decide(f.acct, num(ap["id"]), str(ap["instance_id"]), "agree")
	if got := e.must(200, e.do(f.acct, "GET", "/api/v1/adjustments/"+adjID, nil)).Body; str(got["status"]) != "agreed" || str(got["status_label"]) != "已生效" {
		t.Fatalf("adjustment after the process: %v", got["status"])
	}
	e.drain()
	for _, n := range names {
		if ns := e.sim.Notices(n.userid); len(ns) != 1 {
			t.Errorf("%s's notices: %+v, want the 变更缴款通知", n.userid, ns)
		}
	}

	// Settlements: D's top-up; more than due refused; A's refund refused
	// without a confirmed payout account, then paid once for a retried key.
	settle := func(key string, user int64, amount string) response {
		return e.payDo(f.acct, key, "POST", "/api/v1/adjustments/"+adjID+"/settlements",
			map[string]any{"user_id": user, "amount": amount, "settled_on": "2026-01-05"})
	}
	e.refused(422, "settlement_over", settle("d-over", users[3], "2597.01"))
	d1 := e.must(201, settle("d-1", users[3], "2597")).Body
	// Mistyped: reversed with a reason (twice → 409), then confirmed again.
	rev := "/api/v1/adjustments/" + adjID + "/settlements/" + itoa(num(d1["id"])) + "/reversal"
	e.refused(400, "required", e.do(f.acct, "POST", rev, map[string]any{"reason": " "}))
	if got := e.must(200, e.do(f.acct, "POST", rev, map[string]any{"reason": "金额录错"})).Body; got["reversed"] != true {
		t.Fatalf("reversal: %v", got)
	}
	e.refused(409, "settlement_reversed", e.do(f.acct, "POST", rev, map[string]any{"reason": "金额录错"}))
	e.must(201, settle("d-2", users[3], "2597"))
	e.refused(422, "payout_account_unconfirmed", settle("a-1", users[0], "45454"))
	a := e.signInByAuthCode("adj_a")
	// 我的跟投 shows the principal in force: the new split.
	hs := e.must(200, e.do(a, "GET", "/api/v1/me/holdings", nil)).Body["items"].([]any)
	if len(hs) != 1 || !dec(t, hs[0].(map[string]any)["principal"]).Equal(decimal.NewFromInt(454546)) {
		t.Fatalf("A's holdings after the adjustment: %v", hs)
	}
	acc := e.must(200, e.do(a, "PUT", "/api/v1/me/payout-account",
		map[string]any{"bank": "招商银行", "branch": "常州分行", "holder": "甲", "number": "6214830212345678", "version": 0})).Body
	e.must(200, e.do(a, "POST", "/api/v1/me/payout-account/confirm", map[string]any{"version": acc["version"]}))
	first := e.must(201, settle("a-1", users[0], "45454")).Body
	again := e.must(201, settle("a-1", users[0], "45454")).Body
	if num(first["id"]) != num(again["id"]) || str(first["direction"]) != "refund" {
		t.Fatalf("retried key: %v then %v", first, again)
	}
	e.refused(422, "settlement_over", settle("a-2", users[0], "0.01"))
	ctx := context.Background()
	for i, want := range []string{"-454546", "-300000", "-297143", "-202597"} {
		bal, err := ledger.Balance(ctx, e.db, ledger.Principal(f.projA, partners[i]))
		if err != nil || !bal.Equal(decimal.RequireFromString(want)) {
			t.Errorf("principal of %s: %s %v, want %s", names[i].name, bal, err, want)
		}
	}
	if l := e.must(200, e.do(f.acct, "GET", "/api/v1/adjustments/"+adjID+"/settlements", nil)).Body["items"].([]any); len(l) != 3 {
		t.Fatalf("settlements: %v", l)
	}
	// The partner sees their refund, settled, in the personal center.
	mine := e.must(200, e.do(a, "GET", "/api/v1/me/adjustments", nil)).Body["items"].([]any)
	if len(mine) != 1 || !dec(t, mine[0].(map[string]any)["refund"]).Equal(decimal.NewFromInt(45454)) ||
		!dec(t, mine[0].(map[string]any)["settled"]).Equal(decimal.NewFromInt(45454)) {
		t.Fatalf("my adjustments: %v", mine)
	}
	// An accountant without a grant on the project sees no adjustment.
	otherID, other := e.mustUser("外地会计", "accountant")
	e.must(200, e.do(f.admin, "PUT", "/api/v1/org-units/"+itoa(f.cityB)+"/grants",
		map[string]any{"grants": []map[string]any{{"role": "accountant", "user_ids": []int64{otherID}}}}))
	e.refused(404, "adjustment_not_found", e.do(other, "GET", "/api/v1/adjustments/"+adjID, nil))
	if r := e.payDo(other, "x-2", "POST", "/api/v1/adjustments/"+adjID+"/settlements",
		map[string]any{"user_id": users[1], "amount": "1", "settled_on": "2026-01-05"}); r.Status != 404 {
		t.Fatalf("ungranted accountant settling: %d %s", r.Status, r.Raw)
	}
}

// A refused peak change changes nothing and may be launched again.
func TestPeakChangeRefusedThenRelaunched(t *testing.T) {
	e := newEnv(t)
	e.startBot()
	f := e.flowWorld()
	e.termsAndPeak(f)
	holders := []map[string]string{{"name": "锦艺集团", "kind": "group", "stake": "1"}}
	pc := e.must(201, e.do(f.acct, "POST", "/api/v1/projects/"+f.proj+"/peak-changes",
		map[string]any{"new_peak_capital": "250000000", "shareholders": holders})).Body
	launch := func() map[string]any {
		return e.must(201, e.do(f.acct, "POST", "/api/v1/projects/"+f.proj+"/processes",
			map[string]any{"kind": "peak_change", "subject_id": num(pc["id"]), "form": map[string]string{"情况说明": "峰值调整"}})).Body
	}
	p := launch()
	e.decide(f.acct, num(p["id"]), str(p["instance_id"]), "refuse")
	terms := e.must(200, e.do(f.acct, "GET", "/api/v1/projects/"+f.proj+"/establishment", nil)).Body
	if !dec(t, terms["peak_capital"]).Equal(decimal.NewFromInt(220000000)) {
		t.Fatalf("peak after a refused change: %v", terms["peak_capital"])
	}
	list := e.must(200, e.do(f.acct, "GET", "/api/v1/projects/"+f.proj+"/peak-changes", nil)).Body["items"].([]any)
	if len(list) != 1 || str(list[0].(map[string]any)["status"]) != "draft" || str(list[0].(map[string]any)["status_label"]) != "待发起" {
		t.Fatalf("peak changes after refusal: %v", list)
	}
	// Refused, the change no longer holds 股权合作: it may be saved by hand.
	e.must(200, e.do(f.acct, "PUT", "/api/v1/projects/"+f.proj+"/shareholding",
		map[string]any{"effective_on": "2024-01-01", "shareholders": holders, "version": 0}))
	// The sysadmin resets (重置) the refused instance; the change goes again.
	e.must(200, e.do(f.admin, "POST", "/api/v1/processes/"+itoa(num(p["id"]))+"/reset", map[string]any{}))
	p = launch()
	e.decide(f.acct, num(p["id"]), str(p["instance_id"]), "agree")
	terms = e.must(200, e.do(f.acct, "GET", "/api/v1/projects/"+f.proj+"/establishment", nil)).Body
	if !dec(t, terms["peak_capital"]).Equal(decimal.NewFromInt(250000000)) {
		t.Fatalf("peak after the agreed change: %v", terms["peak_capital"])
	}
}

// Seed 4.1.1: the peak change carries the new shareholders (股东, kind,
// stake); they are stored with it, not applied until the peak_change
// process is agreed, and applied then as a new version of 股权合作. Saving
// 股权合作 directly meanwhile is refused (409 peak_change_pending) and
// changes nothing; once agreed, it may be saved again.
func TestPeakChangeShareholdersTakeEffectWhenAgreed(t *testing.T) {
	e := newEnv(t)
	e.startBot()
	f := e.flowWorld()
	e.termsAndPeak(f)
	share := "/api/v1/projects/" + f.proj + "/shareholding"
	v1 := []map[string]string{{"name": "锦艺集团", "kind": "group", "stake": "0.8"}, {"name": "合作方甲", "kind": "cooperator", "stake": "0.2"}}
	e.must(200, e.do(f.acct, "PUT", share, map[string]any{"effective_on": "2024-01-01", "shareholders": v1, "version": 0}))

	v2 := []map[string]string{{"name": "锦艺集团", "kind": "group", "stake": "0.7"}, {"name": "合作方甲", "kind": "cooperator", "stake": "0.2"},
		{"name": "常州合伙企业", "kind": "partnership", "stake": "0.1"}}
	e.refused(422, "stakes_not_whole", e.do(f.acct, "POST", "/api/v1/projects/"+f.proj+"/peak-changes",
		map[string]any{"new_peak_capital": "200000000", "shareholders": v2[:2]}))
	pc := e.must(201, e.do(f.acct, "POST", "/api/v1/projects/"+f.proj+"/peak-changes",
		map[string]any{"new_peak_capital": "200000000", "shareholders": v2, "reason": "引入合伙企业"})).Body
	stored := e.must(200, e.do(f.acct, "GET", "/api/v1/projects/"+f.proj+"/peak-changes", nil)).Body["items"].([]any)
	if hs := stored[0].(map[string]any)["shareholders"].([]any); len(hs) != 3 || str(hs[2].(map[string]any)["kind"]) != "partnership" {
		t.Fatalf("shareholders stored with the peak change: %v", hs)
	}
	holdersNow := func() []any {
		t.Helper()
		return e.must(200, e.do(f.acct, "GET", share, nil)).Body["shareholders"].([]any)
	}
	refusedDirect := func(when string) {
		t.Helper()
		before := fingerprint(t, e.db)
		r := e.do(f.acct, "PUT", share, map[string]any{"effective_on": "2025-01-01", "shareholders": v2, "version": 1})
		e.refused(409, "peak_change_pending", r)
		if msg, _ := r.Body["error"].(map[string]any)["message"].(string); !strings.Contains(msg, "峰值变更") {
			t.Fatalf("%s: message %q", when, msg)
		}
		if fingerprint(t, e.db) != before {
			t.Fatalf("%s: a refused save changed the database", when)
		}
		if len(holdersNow()) != 2 {
			t.Fatalf("%s: the new shareholders took effect before the change was agreed", when)
		}
	}
	refusedDirect("drafted")

	p := e.must(201, e.do(f.acct, "POST", "/api/v1/projects/"+f.proj+"/processes",
		map[string]any{"kind": "peak_change", "subject_id": num(pc["id"]), "form": map[string]string{"情况说明": "峰值调整"}})).Body
	// The simulator announces the new instance with a start event through
	// the stream, and the bot's inbox records it in the background: wait
	// for it, so that the refused save is the only thing that could change
	// the database while it is fingerprinted.
	deadline := time.Now().Add(10 * time.Second)
	for {
		var handled int
		if err := e.db.Get(&handled, `SELECT count(*) FROM dingtalk_events WHERE handled_at IS NOT NULL AND payload::text LIKE '%' || $1 || '%'`,
			str(p["instance_id"])); err != nil {
			t.Fatal(err)
		}
		if handled > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the start event of the peak change's instance never reached the inbox")
		}
		time.Sleep(20 * time.Millisecond)
	}
	refusedDirect("in approval")

	e.decide(f.acct, num(p["id"]), str(p["instance_id"]), "agree")
	sh := e.must(200, e.do(f.acct, "GET", share, nil)).Body
	hs := sh["shareholders"].([]any)
	if num(sh["version"]) != 2 || len(hs) != 3 {
		t.Fatalf("shareholding after the agreed change: %v", sh)
	}
	for i, h := range hs {
		got := h.(map[string]any)
		if str(got["name"]) != v2[i]["name"] || str(got["kind"]) != v2[i]["kind"] || !dec(t, got["stake"]).Equal(decimal.RequireFromString(v2[i]["stake"])) {
			t.Errorf("shareholder %d: %v, want %v", i, got, v2[i])
		}
	}
	// Agreed, the change no longer holds 股权合作.
	e.must(200, e.do(f.acct, "PUT", share, map[string]any{"effective_on": civil.Today(time.Now()).String(), "shareholders": v1, "version": 2}))
}
