package microapp_test

import (
	"context"
	"strings"
	"testing"

	"hehuo/internal/audit"
	"hehuo/internal/holding/holdingtest"
)

// fillDisclosurePath puts real ids into the P&L update and the partner's
// disclosure paths.
func fillDisclosurePath(p string, updateID, projectID, documentID int64) string {
	switch {
	case strings.HasPrefix(p, "/api/v1/profit-updates/:id"):
		p = strings.Replace(p, ":id", itoa(updateID), 1)
	case strings.HasPrefix(p, "/api/v1/me/disclosures/:id"):
		p = strings.Replace(strings.Replace(p, ":id", itoa(projectID), 1), ":doc", itoa(documentID), 1)
	}
	return p
}

// mustDisclosureFixture gives projectID a disclosed P&L update whose
// disclosure (process processID, with its attachments) was sent, and user
// holderID a stake in the project, so that the partner's disclosure paths
// answer 200 for them.
func (e *env) mustDisclosureFixture(projectID, processID, holderID int64) int64 {
	e.t.Helper()
	var id int64
	if err := e.db.Get(&id, `INSERT INTO profit_updates (project_id, period_on, title, net_profit, status, process_id, created_by_name)
		VALUES ($1, '2026-09-30', '2026年第三季度', 1000000, 'disclosed', $2, '夹具') RETURNING id`, projectID, processID); err != nil {
		e.t.Fatal(err)
	}
	e.db.MustExec(`INSERT INTO profit_update_versions (profit_update_id, version, data, saved_by_name) VALUES ($1, 1, '{}', '夹具')`, id)
	var send int64
	if err := e.db.Get(&send, `INSERT INTO disclosure_sends (sent_by_name) VALUES ('夹具') RETURNING id`); err != nil {
		e.t.Fatal(err)
	}
	e.db.MustExec(`INSERT INTO disclosures (project_id, profit_update_id, process_id, status, send_id, sent_at)
		VALUES ($1, $2, $3, 'sent', $4, now())`, projectID, id, processID, send)
	holdingtest.Round(e.t, e.db, projectID, "approved", map[int64]string{holdingtest.Partner(e.t, e.db, holderID): "100000"})
	return id
}

// disclosureWorld is city A's two projects (常州项目, 靖江项目) with 立项
// indicators on 常州项目; partner 甲 holds both, 乙 常州项目 only, 丙
// neither (丙 holds 昆明-城市之光 of city B, whose disclosure is not agreed).
type disclosureWorld struct {
	flowWorld
	biz              string // a business admin with a DingTalk account
	bizUserID        string
	jia, yi, bing    string // their sessions
	jiaDT, yiDT, bDT string
}

func (e *env) disclosureWorld() disclosureWorld {
	t := e.t
	t.Helper()
	f := e.flowWorld()
	w := disclosureWorld{flowWorld: f, jiaDT: "dis_jia", yiDT: "dis_yi", bDT: "dis_bing", bizUserID: "dt_披露业务管理员"}
	_, w.biz = e.processUser("披露业务管理员", "bizadmin")
	users := map[string]int64{}
	for _, p := range []struct{ userid, name string }{{w.jiaDT, "甲"}, {w.yiDT, "乙"}, {w.bDT, "丙"}} {
		users[p.userid] = e.partnerUser(p.userid, p.name, "")
	}
	part := func(u string) int64 { return holdingtest.Partner(t, e.db, users[u]) }
	holdingtest.Round(t, e.db, f.projA, "approved", map[int64]string{part(w.jiaDT): "300000", part(w.yiDT): "200000"})
	holdingtest.Round(t, e.db, f.projA1, "approved", map[int64]string{part(w.jiaDT): "100000"})
	holdingtest.Round(t, e.db, f.projB, "approved", map[int64]string{part(w.bDT): "100000"})
	w.jia, w.yi, w.bing = e.signInByAuthCode(w.jiaDT), e.signInByAuthCode(w.yiDT), e.signInByAuthCode(w.bDT)
	e.must(200, e.do(f.acct, "PUT", "/api/v1/projects/"+f.proj+"/profit-indicators", map[string]any{
		"sales_revenue": "500000000.00", "net_profit": "40000000.00", "net_margin": "0.08", "irr": "0.15", "payback_months": 30, "version": 0}))
	e.must(200, e.do(f.acct, "PUT", "/api/v1/projects/"+f.proj+"/basic-info", map[string]any{"saleable_value": "1150000000.00", "version": 0}))
	return w
}

// agreedDisclosure adds a period to the project and has its disclosure
// process, with an attachment, agreed in DingTalk.
func (e *env) agreedDisclosure(w disclosureWorld, projectID int64, body map[string]any) map[string]any {
	e.t.Helper()
	proj := "/api/v1/projects/" + itoa(projectID)
	u := e.must(201, e.do(w.acct, "POST", proj+"/profit-updates", body)).Body
	att, err := e.deps.Attachments.Upload(context.Background(), audit.System, projectID, "项目动态利润测算.pdf", strings.NewReader("%PDF-1.4\n%%EOF\n"))
	if err != nil {
		e.t.Fatal(err)
	}
	proc := e.must(201, e.do(w.acct, "POST", proj+"/processes", map[string]any{"kind": "disclosure", "subject_id": num(u["id"]),
		"form": map[string]string{"情况说明": "季度经营披露"}, "attachment_ids": []int64{att.ID}})).Body
	got := e.must(200, e.do(w.acct, "GET", "/api/v1/profit-updates/"+itoa(num(u["id"])), nil)).Body
	if str(got["status"]) != "in_approval" {
		e.t.Fatalf("period in its disclosure process: %v", got["status"])
	}
	e.decide(w.acct, num(proc["id"]), str(proc["instance_id"]), "agree")
	return e.must(200, e.do(w.acct, "GET", "/api/v1/profit-updates/"+itoa(num(u["id"])), nil)).Body
}

// noticeNames returns the messages userid received in the simulator.
func (e *env) noticeTexts(userid string) []string {
	var out []string
	for _, n := range e.sim.Notices(userid) {
		out = append(out, string(n.Msg))
	}
	return out
}

// Must show: two projects with agreed disclosures and a partner in both →
// ONE notice for that partner naming both projects; a partner in one gets
// one naming it; a partner in neither gets nothing; the test send goes to
// the caller only and marks nothing; a second send has nothing to send.
// The partner then reads the P&L history and downloads the documents of
// the projects they hold, and nothing else.
func TestDisclosureMergedNoticesPerPartner(t *testing.T) {
	e := newEnv(t)
	e.startBot()
	w := e.disclosureWorld()

	a := e.agreedDisclosure(w, w.projA, map[string]any{"period_on": "2026-09-30", "title": "2026年第三季度",
		"sales_revenue": "520000000.00", "net_profit": "38500000.50", "net_margin": "0.074", "irr": "0.1525", "payback_months": 32,
		"saleable_value": "1200000000.00", "collections": "455000000.10"})
	if str(a["status"]) != "disclosed" || str(a["status_label"]) != "已披露" {
		t.Fatalf("period after its disclosure was agreed: %v %v", a["status"], a["status_label"])
	}
	// 立项 vs 动态 per indicator, to the fen.
	cmp := map[string]map[string]any{}
	for _, c := range a["comparison"].([]any) {
		m := c.(map[string]any)
		cmp[str(m["field"])] = m
	}
	for field, want := range map[string][3]string{
		"sales_revenue":  {"500000000.00", "520000000.00", "20000000.00"},
		"net_profit":     {"40000000.00", "38500000.50", "-1499999.50"},
		"net_margin":     {"0.08", "0.074", "-0.006"},
		"irr":            {"0.15", "0.1525", "0.0025"},
		"payback_months": {"30", "32", "2"},
		"saleable_value": {"1150000000.00", "1200000000.00", "50000000.00"},
		"collections":    {"", "455000000.10", ""},
	} {
		c := cmp[field]
		if str(c["baseline"]) != want[0] || str(c["value"]) != want[1] || str(c["difference"]) != want[2] {
			t.Errorf("%s: 立项 %v 动态 %v 差异 %v, want %v", field, c["baseline"], c["value"], c["difference"], want)
		}
	}
	if c := cmp["total_investment"]; c["baseline"] != nil || c["value"] != nil || c["difference"] != nil {
		t.Errorf("total_investment entered nowhere: %v", c)
	}
	e.agreedDisclosure(w, w.projA1, map[string]any{"period_on": "2026-09-30", "net_profit": "1200000.00"})

	list := e.must(200, e.do(w.biz, "GET", "/api/v1/disclosures", nil)).Body["items"].([]any)
	if len(list) != 2 {
		t.Fatalf("披露审核: %v", list)
	}
	for _, d := range list {
		m := d.(map[string]any)
		if str(m["status"]) != "agreed" || str(m["status_label"]) != "待发送" {
			t.Fatalf("pending disclosure: %v", m)
		}
	}

	// Only the business admin sends.
	e.refusedUnchanged("accountant sending", 403, "forbidden", func() response {
		return e.do(w.acct, "POST", "/api/v1/disclosures/notices", map[string]any{"test": false})
	})
	e.refusedUnchanged("partner sending", 403, "forbidden", func() response {
		return e.do(w.jia, "POST", "/api/v1/disclosures/notices", map[string]any{"test": true})
	})

	// 测试发送（发给自己）: one merged notice to the caller, nothing marked.
	test := e.must(200, e.do(w.biz, "POST", "/api/v1/disclosures/notices", map[string]any{"test": true})).Body
	if test["recipient"] != w.bizUserID || num(test["notices"]) != 1 || num(test["disclosures"]) != 0 {
		t.Fatalf("test send: %v", test)
	}
	e.drain()
	if got := e.noticeTexts(w.bizUserID); len(got) != 1 || !strings.Contains(got[0], "常州项目") || !strings.Contains(got[0], "靖江项目") {
		t.Fatalf("the caller's test notice: %v", got)
	}
	for _, u := range []string{w.jiaDT, w.yiDT, w.bDT} {
		if got := e.noticeTexts(u); len(got) != 0 {
			t.Fatalf("%s got a test notice: %v", u, got)
		}
	}
	for _, d := range e.must(200, e.do(w.biz, "GET", "/api/v1/disclosures", nil)).Body["items"].([]any) {
		if str(d.(map[string]any)["status"]) != "agreed" {
			t.Fatalf("a test send marked a disclosure: %v", d)
		}
	}
	// Before the send, the partner sees nothing.
	if got := e.must(200, e.do(w.jia, "GET", "/api/v1/me/disclosures", nil)).Body["items"].([]any); len(got) != 0 {
		t.Fatalf("disclosures before the send: %v", got)
	}

	// 合并发送通知.
	sent := e.must(200, e.do(w.biz, "POST", "/api/v1/disclosures/notices", map[string]any{"test": false})).Body
	if num(sent["disclosures"]) != 2 || num(sent["partners"]) != 2 || num(sent["notices"]) != 2 {
		t.Fatalf("send: %v", sent)
	}
	e.drain()
	jia := e.noticeTexts(w.jiaDT)
	if len(jia) != 1 || !strings.Contains(jia[0], "常州项目") || !strings.Contains(jia[0], "靖江项目") || !strings.Contains(jia[0], "/m/disclosures") {
		t.Fatalf("甲 (both projects) got %v, want one notice naming both", jia)
	}
	yi := e.noticeTexts(w.yiDT)
	if len(yi) != 1 || !strings.Contains(yi[0], "常州项目") || strings.Contains(yi[0], "靖江项目") {
		t.Fatalf("乙 (常州项目 only) got %v", yi)
	}
	if got := e.noticeTexts(w.bDT); len(got) != 0 {
		t.Fatalf("丙 (neither) got %v", got)
	}
	for _, d := range e.must(200, e.do(w.biz, "GET", "/api/v1/disclosures", nil)).Body["items"].([]any) {
		m := d.(map[string]any)
		if str(m["status"]) != "sent" || m["sent_at"] == nil || len(m["notice_ids"].([]any)) == 0 {
			t.Fatalf("sent disclosure: %v", m)
		}
	}
	e.refusedUnchanged("nothing left to send", 422, "disclosures_none_pending", func() response {
		return e.do(w.biz, "POST", "/api/v1/disclosures/notices", map[string]any{"test": false})
	})

	// H5: 甲 sees both projects, the P&L history and the documents.
	mine := e.must(200, e.do(w.jia, "GET", "/api/v1/me/disclosures", nil)).Body["items"].([]any)
	if len(mine) != 2 {
		t.Fatalf("甲's disclosures: %v", mine)
	}
	page := e.must(200, e.do(w.jia, "GET", "/api/v1/me/disclosures/"+w.proj, nil)).Body
	periods, docs := page["periods"].([]any), page["documents"].([]any)
	if len(periods) != 1 || str(periods[0].(map[string]any)["net_profit"]) != "38500000.50" || len(docs) != 1 {
		t.Fatalf("甲's 常州项目 page: %v", page)
	}
	doc := itoa(num(docs[0].(map[string]any)["id"]))
	if r := e.do(w.jia, "GET", "/api/v1/me/disclosures/"+w.proj+"/documents/"+doc, nil); r.Status != 200 || !strings.HasPrefix(string(r.Raw), "%PDF") {
		t.Fatalf("document download: %d %.40s", r.Status, r.Raw)
	}
	// 乙 does not hold 靖江项目, 丙 holds neither: 404, as if nothing existed.
	e.refused(404, "disclosure_not_found", e.do(w.yi, "GET", "/api/v1/me/disclosures/"+itoa(w.projA1), nil))
	e.refused(404, "disclosure_not_found", e.do(w.bing, "GET", "/api/v1/me/disclosures/"+w.proj, nil))
	e.refused(404, "disclosure_not_found", e.do(w.bing, "GET", "/api/v1/me/disclosures/"+w.proj+"/documents/"+doc, nil))
	e.refused(404, "attachment_not_found", e.do(w.jia, "GET", "/api/v1/me/disclosures/"+itoa(w.projA1)+"/documents/"+doc, nil))
	if got := e.must(200, e.do(w.bing, "GET", "/api/v1/me/disclosures", nil)).Body["items"].([]any); len(got) != 0 {
		t.Fatalf("丙's disclosures: %v", got)
	}
	// A partner never reaches the staff routes.
	e.refused(403, "forbidden", e.do(w.jia, "GET", "/api/v1/projects/"+w.proj+"/profit-updates", nil))
}

// P&L updates: each period versioned with its history, a stale version
// 409, bad inputs 4xx with nothing written, wrong role 403, another city's
// accountant 404, and a period locked once its disclosure is launched.
func TestProfitUpdatesVersionedAndGuarded(t *testing.T) {
	e := newEnv(t)
	e.startBot()
	w := e.disclosureWorld()
	proj := "/api/v1/projects/" + w.proj + "/profit-updates"

	u := e.must(201, e.do(w.acct, "POST", proj, map[string]any{"period_on": "2026-06-30", "title": "2026年上半年", "net_profit": "100.00"})).Body
	path := "/api/v1/profit-updates/" + itoa(num(u["id"]))
	if num(u["version"]) != 1 || len(u["history"].([]any)) != 1 {
		t.Fatalf("new period: %v", u)
	}
	u2 := e.must(200, e.do(w.acct, "PATCH", path, map[string]any{"period_on": "2026-06-30", "title": "2026年上半年",
		"net_profit": "120.00", "version": 1})).Body
	hist := u2["history"].([]any)
	if num(u2["version"]) != 2 || len(hist) != 2 || str(hist[1].(map[string]any)["data"].(map[string]any)["net_profit"]) != "100.00" {
		t.Fatalf("after an edit: version %v history %v", u2["version"], hist)
	}
	e.refusedUnchanged("stale version", 409, "stale_version", func() response {
		return e.do(w.acct, "PATCH", path, map[string]any{"period_on": "2026-06-30", "net_profit": "130.00", "version": 1})
	})
	e.refusedUnchanged("same period twice", 409, "profit_update_period_exists", func() response {
		return e.do(w.acct, "POST", proj, map[string]any{"period_on": "2026-06-30", "net_profit": "1.00"})
	})
	for _, c := range []struct {
		what   string
		body   map[string]any
		status int
		code   string
	}{
		{"no date", map[string]any{"net_profit": "1.00"}, 400, "period_on_required"},
		{"no indicator", map[string]any{"period_on": "2026-03-31"}, 400, "indicators_required"},
		{"negative sales", map[string]any{"period_on": "2026-03-31", "sales_revenue": "-1.00"}, 400, "amount_negative"},
		{"amount not a string", map[string]any{"period_on": "2026-03-31", "net_profit": 1}, 400, "amount_invalid"},
		{"three decimals", map[string]any{"period_on": "2026-03-31", "net_profit": "1.001"}, 400, "amount_too_precise"},
		{"ratio as percent", map[string]any{"period_on": "2026-03-31", "irr": "15%"}, 400, "ratio_invalid"},
		{"payback negative", map[string]any{"period_on": "2026-03-31", "payback_months": -1}, 400, "payback_months_invalid"},
		{"control character", map[string]any{"period_on": "2026-03-31", "title": "a\x00b", "net_profit": "1.00"}, 400, ""},
	} {
		before := fingerprint(t, e.db)
		r := e.do(w.acct, "POST", proj, c.body)
		if r.Status < 400 || r.Status >= 500 || (c.code != "" && (r.Status != c.status || r.errCode() != c.code)) {
			t.Errorf("%s: %d %s, want %d %s", c.what, r.Status, r.Raw, c.status, c.code)
		}
		if fingerprint(t, e.db) != before {
			t.Errorf("%s: a refused request changed the database", c.what)
		}
	}

	// Wrong role: the business admin and an auditor read, only the accountant writes.
	e.refusedUnchanged("bizadmin writing", 403, "forbidden", func() response {
		return e.do(w.biz, "POST", proj, map[string]any{"period_on": "2026-03-31", "net_profit": "1.00"})
	})
	e.must(200, e.do(w.biz, "GET", proj, nil))
	// Another city's accountant: the project and the period do not exist for them.
	otherID, other := e.mustUser("昆明会计", "accountant")
	e.must(200, e.do(w.admin, "PUT", "/api/v1/org-units/"+itoa(w.cityB)+"/grants",
		map[string]any{"grants": []map[string]any{{"role": "accountant", "user_ids": []int64{otherID}}}}))
	e.refusedUnchanged("other city's accountant adding", 404, "project_not_found", func() response {
		return e.do(other, "POST", proj, map[string]any{"period_on": "2026-03-31", "net_profit": "1.00"})
	})
	e.refusedUnchanged("other city's accountant editing", 404, "profit_update_not_found", func() response {
		return e.do(other, "PATCH", path, map[string]any{"period_on": "2026-06-30", "net_profit": "1.00", "version": 2})
	})
	e.refused(404, "project_not_found", e.do(other, "GET", proj, nil))
	e.refused(404, "profit_update_not_found", e.do(other, "GET", path, nil))

	// The disclosure process: only a period of this project, only once.
	e.refusedUnchanged("disclosure without a period", 400, "profit_update_required", func() response {
		return e.do(w.acct, "POST", "/api/v1/projects/"+w.proj+"/processes", map[string]any{"kind": "disclosure", "subject_id": 0})
	})
	b := e.must(201, e.do(other, "POST", "/api/v1/projects/"+itoa(w.projB)+"/profit-updates", map[string]any{"period_on": "2026-06-30", "net_profit": "1.00"})).Body
	e.refusedUnchanged("another project's period", 404, "profit_update_not_found", func() response {
		return e.do(w.acct, "POST", "/api/v1/projects/"+w.proj+"/processes", map[string]any{"kind": "disclosure", "subject_id": num(b["id"])})
	})
	preview := e.must(200, e.do(w.acct, "POST", "/api/v1/projects/"+w.proj+"/processes/preview", map[string]any{"kind": "disclosure", "subject_id": num(u["id"])})).Body
	if !strings.Contains(preview2(preview), "立项 40,000,000.00；动态 120.00；差异 -39,999,880.00") {
		t.Fatalf("the OA form of a disclosure: %v", preview)
	}
	e.must(201, e.do(w.acct, "POST", "/api/v1/projects/"+w.proj+"/processes", map[string]any{"kind": "disclosure", "subject_id": num(u["id"])}))
	e.refusedUnchanged("editing a period in approval", 422, "profit_update_locked", func() response {
		return e.do(w.acct, "PATCH", path, map[string]any{"period_on": "2026-06-30", "net_profit": "1.00", "version": 3})
	})
}

// preview2 renders a preview's fields as one string.
func preview2(p map[string]any) string {
	var b strings.Builder
	fs, _ := p["fields"].([]any)
	for _, f := range fs {
		m := f.(map[string]any)
		b.WriteString(str(m["name"]) + "=" + str(m["value"]) + "\n")
	}
	return b.String()
}
