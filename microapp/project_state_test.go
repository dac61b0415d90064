package microapp_test

import (
	"testing"

	"hehuo/internal/holding/holdingtest"
)

// 开放 and 清算 mean something: a project that is not open, and one that is
// settled, refuse every kind of business write (rounds, invitations,
// subscriptions, allocation, payments and their notices, peak changes,
// adjustments and settlements, process launches, establishment saves) with
// 422 and change nothing; reads still work and the tree marks them.
func TestClosedAndSettledProjectsRefuseEveryWrite(t *testing.T) {
	e := newEnv(t)
	s := newRoundSetup(t, e)
	s.invite(t, e)
	biz := e.signIn("hhadmin", bizadminPassword)
	proj := itoa(s.w.projA)
	rid := itoa(s.roundID)
	inv := itoa(s.invitations[0])

	// While open: an approved round with a paid partner, and an adjustment.
	partnerID := holdingtest.Partner(t, e.db, s.partners[0])
	approved := itoa(holdingtest.Round(t, e.db, s.w.projA, "approved", map[int64]string{partnerID: "100000"}))
	pay := e.must(201, e.payDo(s.acct, "pay-open", "POST", "/api/v1/rounds/"+approved+"/payments",
		map[string]any{"user_id": s.partners[0], "amount": "1000", "paid_on": "2026-01-05"})).Body
	adj := itoa(e.mustAdjustmentFixture(s.w.projA))
	holders := []map[string]string{{"name": "锦艺集团", "kind": "group", "stake": "1"}}

	writes := []struct {
		what, token, key, method, path string
		body                           any
	}{
		{"新建轮次", s.acct, "", "POST", "/api/v1/projects/" + proj + "/rounds", map[string]any{"kind": "supplementary"}},
		{"添加合伙人", s.acct, "", "POST", "/api/v1/rounds/" + rid + "/invitations", map[string]any{
			"user_id": s.partners[0], "tier": "city", "min_amount": "100000", "max_amount": "200000", "deadline": s.deadline.String()}},
		{"修改邀请", s.acct, "", "PUT", "/api/v1/rounds/" + rid + "/invitations/" + inv, map[string]any{
			"user_id": s.partners[0], "tier": "city", "mandatory": true, "min_amount": "500000", "max_amount": "900000", "deadline": s.deadline.String()}},
		{"删除邀请", s.acct, "", "DELETE", "/api/v1/rounds/" + rid + "/invitations/" + inv, nil},
		{"认购通知", s.acct, "", "POST", "/api/v1/rounds/" + rid + "/notices/subscription", map[string]any{"test": false}},
		{"认购", s.tokens[0], "", "PUT", "/api/v1/me/invitations/" + inv + "/subscription",
			map[string]any{"amount": "500000", "risk_acknowledged": true}},
		{"代录认购", s.acct, "", "PUT", "/api/v1/rounds/" + rid + "/invitations/" + inv + "/subscription",
			map[string]any{"amount": "500000", "reason": "电话确认"}},
		{"截止认购", s.acct, "", "POST", "/api/v1/rounds/" + rid + "/close", nil},
		{"测算", s.acct, "", "POST", "/api/v1/rounds/" + rid + "/allocation", nil},
		{"修改分配", s.acct, "", "PATCH", "/api/v1/rounds/" + rid + "/allocation/lines/" + itoa(partnerID),
			map[string]any{"allocated": "100000", "reason": "调整"}},
		{"送审", s.acct, "", "POST", "/api/v1/rounds/" + rid + "/submit", nil},
		{"审核", biz, "", "POST", "/api/v1/rounds/" + rid + "/review", map[string]any{"decision": "approve"}},
		{"缴款通知", s.acct, "", "POST", "/api/v1/rounds/" + approved + "/notices/payment", map[string]any{"test": false}},
		{"催缴通知", s.acct, "", "POST", "/api/v1/rounds/" + approved + "/notices/dunning", nil},
		{"缴款确认", s.acct, "pay-closed", "POST", "/api/v1/rounds/" + approved + "/payments",
			map[string]any{"user_id": s.partners[0], "amount": "1000", "paid_on": "2026-01-06"}},
		{"缴款冲销", s.acct, "", "POST", "/api/v1/payments/" + itoa(num(pay["id"])) + "/reversal",
			map[string]any{"reason": "录错", "version": pay["version"]}},
		{"峰值变更", s.acct, "", "POST", "/api/v1/projects/" + proj + "/peak-changes",
			map[string]any{"new_peak_capital": "1000000", "shareholders": holders}},
		{"立项调整", s.acct, "", "POST", "/api/v1/projects/" + proj + "/adjustments", map[string]any{}},
		{"调整提交", s.acct, "", "POST", "/api/v1/adjustments/" + adj + "/submit", map[string]any{"version": 1}},
		{"调整审核", biz, "", "POST", "/api/v1/adjustments/" + adj + "/review", map[string]any{"approve": true, "version": 1}},
		{"变更缴款确认", s.acct, "settle-closed", "POST", "/api/v1/adjustments/" + adj + "/settlements",
			map[string]any{"user_id": s.partners[0], "amount": "1", "settled_on": "2026-01-05"}},
		{"变更缴款冲销", s.acct, "", "POST", "/api/v1/adjustments/" + adj + "/settlements/1/reversal", map[string]any{"reason": "录错"}},
		{"发起流程", s.acct, "", "POST", "/api/v1/projects/" + proj + "/processes",
			map[string]any{"kind": "peak_capital", "subject_id": 0, "form": map[string]string{"情况说明": "资金峰值"}}},
		{"立项信息", s.acct, "", "PUT", "/api/v1/projects/" + proj + "/establishment", map[string]any{
			"peak_capital": "220000000.00", "tier_ratios": map[string]string{"holding": "0", "property": "0.0331", "city": "0.006", "other": "0"},
			"funding_date": "2024-03-01", "financing_rate": "0.0435", "group_cap_ratio": "0.10", "per_person_cap_ratio": "0.01", "version": 0}},
		{"股权合作", s.acct, "", "PUT", "/api/v1/projects/" + proj + "/shareholding",
			map[string]any{"effective_on": "2026-01-01", "shareholders": holders, "version": 0}},
		{"基础信息", s.acct, "", "PUT", "/api/v1/projects/" + proj + "/basic-info", map[string]any{"address": "常州", "version": 0}},
		{"关键节点", s.acct, "", "PUT", "/api/v1/projects/" + proj + "/milestones", map[string]any{"milestones": []any{}, "version": 0}},
		{"盈利指标", s.acct, "", "PUT", "/api/v1/projects/" + proj + "/profit-indicators", map[string]any{"version": 0}},
		{"实际资金峰值确认", s.acct, "", "POST", "/api/v1/projects/" + proj + "/actual-peaks",
			map[string]any{"actual_peak_capital": "215000000", "reason": "按实际投入"}},
	}

	setFlags := func(open, settled bool) {
		t.Helper()
		p := e.must(200, e.do(s.admin, "GET", "/api/v1/projects/"+proj, nil)).Body
		e.must(200, e.do(s.admin, "PATCH", "/api/v1/projects/"+proj,
			map[string]any{"is_open": open, "is_settled": settled, "version": p["version"]}))
	}

	for _, c := range []struct {
		open, settled bool
		code, message string
	}{
		{false, false, "project_not_open", "项目未开放，不能办理该业务"},
		{true, true, "project_settled", "项目已清算，只能查看"},
	} {
		setFlags(c.open, c.settled)
		before := fingerprint(t, e.db)
		for _, w := range writes {
			var r response
			if w.key != "" {
				r = e.payDo(w.token, w.key, w.method, w.path, w.body)
			} else {
				r = e.do(w.token, w.method, w.path, w.body)
			}
			errBody, _ := r.Body["error"].(map[string]any)
			msg, _ := errBody["message"].(string)
			if r.Status != 422 || r.errCode() != c.code || msg != c.message {
				t.Errorf("%s on a %s project: %d %s, want 422 %s", w.what, c.code, r.Status, r.Raw, c.code)
			}
		}
		if after := fingerprint(t, e.db); after != before {
			t.Fatalf("refused writes on a %s project changed the database", c.code)
		}
		// Reads still work.
		for _, path := range []string{"/api/v1/projects/" + proj + "/rounds", "/api/v1/rounds/" + rid,
			"/api/v1/rounds/" + approved + "/payments", "/api/v1/projects/" + proj + "/establishment",
			"/api/v1/projects/" + proj + "/peak-changes", "/api/v1/adjustments/" + adj, "/api/v1/projects/" + proj + "/actual-peaks"} {
			e.must(200, e.do(s.acct, "GET", path, nil))
		}
		// The tree marks the project.
		leaf := treeLeaf(t, e, s.acct, s.w.projA)
		if leaf["is_open"] != c.open || leaf["is_settled"] != c.settled {
			t.Fatalf("tree leaf of a %s project: %v", c.code, leaf)
		}
	}

	// Open again and not settled, the same write goes through.
	setFlags(true, false)
	e.must(201, e.do(s.acct, "POST", "/api/v1/rounds/"+rid+"/invitations", map[string]any{
		"user_id": e.partnerUser("dt_E", "戊", ""), "tier": "city", "min_amount": "100000", "max_amount": "200000", "deadline": s.deadline.String()}))
}

// treeLeaf finds project id in the caller's project tree.
func treeLeaf(t *testing.T, e *env, token string, id int64) map[string]any {
	t.Helper()
	var find func(units []any) map[string]any
	find = func(units []any) map[string]any {
		for _, u := range units {
			unit := u.(map[string]any)
			for _, p := range unit["projects"].([]any) {
				if leaf := p.(map[string]any); num(leaf["id"]) == id {
					return leaf
				}
			}
			if leaf := find(unit["children"].([]any)); leaf != nil {
				return leaf
			}
		}
		return nil
	}
	leaf := find(e.must(200, e.do(token, "GET", "/api/v1/project-tree", nil)).Body["items"].([]any))
	if leaf == nil {
		t.Fatalf("project %d not in the tree", id)
	}
	return leaf
}

// A project outside the caller's scope says why (无权查看该项目), still 404
// project_not_found as for one that does not exist; a subject of such a
// project (a round) keeps its own code with the same words.
func TestProjectOutsideScopeSaysNoRight(t *testing.T) {
	e := newEnv(t)
	s := newRoundSetup(t, e)
	otherID, other := e.mustUser("外地会计", "accountant")
	e.must(200, e.do(s.admin, "PUT", "/api/v1/org-units/"+itoa(s.w.cityB)+"/grants",
		map[string]any{"grants": []map[string]any{{"role": "accountant", "user_ids": []int64{otherID}}}}))
	for _, c := range []struct{ path, code string }{
		{"/api/v1/projects/" + itoa(s.w.projA), "project_not_found"},
		{"/api/v1/projects/" + itoa(s.w.projA) + "/establishment", "project_not_found"},
		{"/api/v1/rounds/" + itoa(s.roundID), "round_not_found"},
		{"/api/v1/reports/work-tracking?project_id=" + itoa(s.w.projA), "project_not_found"},
	} {
		r := e.do(other, "GET", c.path, nil)
		errBody, _ := r.Body["error"].(map[string]any)
		if r.Status != 404 || r.errCode() != c.code || errBody["message"] != "无权查看该项目" {
			t.Errorf("%s outside the scope: %d %s, want 404 %s 无权查看该项目", c.path, r.Status, r.Raw, c.code)
		}
	}
	// Their own project still reads; a project that does not exist, for the
	// sysadmin who sees every project, is still 项目不存在.
	e.must(200, e.do(other, "GET", "/api/v1/projects/"+itoa(s.w.projB), nil))
	r := e.do(s.admin, "GET", "/api/v1/projects/999999", nil)
	if errBody, _ := r.Body["error"].(map[string]any); r.Status != 404 || errBody["message"] != "项目不存在" {
		t.Fatalf("missing project for the sysadmin: %d %s", r.Status, r.Raw)
	}
}
