package microapp_test

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"hehuo/internal/shareholder"
	"hehuo/microapp"
)

// The numbers of the shareholders of these tests, in clear: none may appear
// in a response, the audit log or the server's log.
const (
	shPersonID = "11010519491231002X"
	shAccount  = "6222021602019876543"
)

func shCreditCode(t *testing.T) string {
	c, ok := shareholder.CreditCheckChar("91370900MA3C5LXX1")
	if !ok {
		t.Fatal("credit code")
	}
	return "91370900MA3C5LXX1" + string(c)
}

// withShareholderKeyLogs serves e again with HEHUO_SECRET_KEY set, logging
// at debug level into the buffer it returns.
func (e *env) withShareholderKeyLogs() *syncBuffer {
	e.t.Helper()
	logs := &syncBuffer{}
	cfg := e.deps.Config
	cfg.SecretKey = testSecretKey
	deps := e.deps
	deps.Config = cfg
	deps.Log = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	deps.Shareholders = shareholder.NewService(e.db, cfg, deps.Log)
	s := microapp.New(deps)
	hs := httptest.NewServer(s.Handler())
	e.t.Cleanup(hs.Close)
	e.deps, e.server, e.http = deps, s, hs
	return logs
}

// mustShareholderRegistrationFixture is a draft registration of project, for
// /shareholder-registrations/:id paths.
func (e *env) mustShareholderRegistrationFixture(projectID int64) int64 {
	e.t.Helper()
	var id int64
	if err := e.db.Get(&id, `WITH s AS (INSERT INTO minority_shareholders (name, kind, id_number_enc, id_number_last4)
		VALUES ('矩阵股东', 'person', 'v1:x', '0000') RETURNING id)
		INSERT INTO shareholder_registrations (project_id, shareholder_id, stake, contributed, contributed_on)
		SELECT $1, s.id, 0.1, 0, '2024-03-01' FROM s RETURNING id`, projectID); err != nil {
		e.t.Fatal(err)
	}
	return id
}

// fillShareholderPath puts real ids into /shareholder-registrations/:id and
// /shareholders/:id paths.
func fillShareholderPath(p string, registrationID int64) string {
	const prefix = "/api/v1/shareholder-registrations/:id"
	if strings.HasPrefix(p, prefix) {
		return "/api/v1/shareholder-registrations/" + itoa(registrationID) + p[len(prefix):]
	}
	return p
}

func regPath(id any, suffix string) string {
	return "/api/v1/shareholder-registrations/" + itoa(num(id)) + suffix
}

// Register → 申请审核 → 审核通过 through the routes, with every refusal of the
// issue: each 4xx with an English code and a Chinese message and nothing
// written; the clear numbers never in a response, the audit log or the log.
func TestShareholderRegistryAndRegistrations(t *testing.T) {
	e := newEnv(t)
	logs := e.withShareholderKeyLogs()
	admin := e.admin()
	w := e.mustWorld(admin)
	biz := e.signIn("hhadmin", bizadminPassword)
	acctID, acct := e.mustUser("城市会计", "accountant")
	otherID, other := e.mustUser("昆明会计", "accountant")
	_, auditor := e.mustUser("审计", "auditor")
	_, partner := e.mustUser("合伙人")
	e.must(200, e.do(admin, "PUT", "/api/v1/org-units/"+itoa(w.cityA)+"/grants",
		map[string]any{"grants": []map[string]any{{"role": "accountant", "user_ids": []int64{acctID}}}}))
	e.must(200, e.do(admin, "PUT", "/api/v1/org-units/"+itoa(w.cityB)+"/grants",
		map[string]any{"grants": []map[string]any{{"role": "accountant", "user_ids": []int64{otherID}}}}))
	var bodies []string
	keep := func(r response) response { bodies = append(bodies, string(r.Raw)); return r }

	// The registry.
	cc := shCreditCode(t)
	co := keep(e.must(201, e.do(acct, "POST", "/api/v1/shareholders", map[string]any{"name": "泰安城投", "kind": "company",
		"id_number": cc, "contact": "王经理", "bank": "工商银行泰安分行", "account_number": shAccount}))).Body
	if co["id_number_masked"] != "****"+cc[14:] || co["account_masked"] != "****6543" || co["kind_label"] != "企业" {
		t.Fatalf("created: %v", co)
	}
	pe := keep(e.must(201, e.do(acct, "POST", "/api/v1/shareholders", map[string]any{"name": "张三", "kind": "person",
		"id_number": shPersonID}))).Body
	keep(e.must(200, e.do(auditor, "GET", "/api/v1/shareholders", nil)))
	upd := keep(e.must(200, e.do(biz, "PATCH", "/api/v1/shareholders/"+itoa(num(pe["id"])), map[string]any{"name": "张三",
		"kind": "person", "contact": "13900000000", "bank": "招商银行", "account_number": "6214830212345678", "version": pe["version"]}))).Body
	if upd["account_masked"] != "****5678" || upd["id_number_masked"] != "****002X" {
		t.Fatalf("updated: %v", upd)
	}
	e.refusedUnchanged("stale shareholder", 409, "stale_version", func() response {
		return e.do(biz, "PATCH", "/api/v1/shareholders/"+itoa(num(pe["id"])), map[string]any{"name": "张三", "kind": "person", "version": pe["version"]})
	})
	wrong := cc[:17] + map[bool]string{true: "1", false: "2"}[cc[17] != '1']
	for _, c := range []struct {
		body map[string]any
		code string
	}{
		{map[string]any{"name": "甲公司", "kind": "company", "id_number": wrong}, "credit_code_invalid"},
		{map[string]any{"name": "李四", "kind": "person", "id_number": "110105194912310021"}, "id_number_invalid"},
		{map[string]any{"name": "李四", "kind": "person", "id_number": "110105194902300020"}, "id_number_invalid"},
		{map[string]any{"name": "李四", "kind": "person", "id_number": shPersonID}, "shareholder_duplicate"},
	} {
		status := 400
		if c.code == "shareholder_duplicate" {
			status = 409
		}
		keep(e.refusedUnchanged("registry "+c.code, status, c.code, func() response { return e.do(acct, "POST", "/api/v1/shareholders", c.body) }))
	}
	e.refusedUnchanged("partner registry", 403, "forbidden", func() response { return e.do(partner, "GET", "/api/v1/shareholders", nil) })
	e.refusedUnchanged("auditor writes", 403, "forbidden", func() response {
		return e.do(auditor, "POST", "/api/v1/shareholders", map[string]any{"name": "乙", "kind": "person", "id_number": shPersonID})
	})

	// Excel: a bad cell names its row and column; nothing written.
	rows := [][]any{header(shareholder.ImportColumns), {"丙公司", "企业", wrong, "", "", ""}}
	r := keep(e.refusedUnchanged("bad cell", 422, "import_invalid", func() response {
		return e.upload(acct, "/api/v1/shareholders/import", xlsxOf(t, rows))
	}))
	if !strings.Contains(string(r.Raw), "第2行「证件号码」") {
		t.Fatalf("bad cell not named: %s", r.Raw)
	}
	tmpl := e.do(acct, "GET", "/api/v1/shareholders/import/template", nil)
	if tmpl.Status != 200 || readSheet(t, tmpl.Raw)[0][2] != "证件号码" {
		t.Fatalf("template: %d", tmpl.Status)
	}

	// 股东登记.
	proj := "/api/v1/projects/" + itoa(w.projA) + "/shareholder-registrations"
	reg := func(sh map[string]any, stake string) map[string]any {
		r := keep(e.must(201, e.do(acct, "POST", proj, map[string]any{"shareholder_id": sh["id"], "stake": stake,
			"contributed": "1500000.00", "contributed_on": "2024-03-01"}))).Body
		return keep(e.must(200, e.do(acct, "POST", regPath(r["id"], "/submit"), map[string]any{"version": r["version"]}))).Body
	}
	for _, c := range []struct {
		body map[string]any
		code string
	}{
		{map[string]any{"shareholder_id": co["id"], "stake": "-0.1", "contributed": "1", "contributed_on": "2024-03-01"}, "stake_invalid"},
		{map[string]any{"shareholder_id": co["id"], "stake": "0.1234567", "contributed": "1", "contributed_on": "2024-03-01"}, "stake_invalid"},
		{map[string]any{"shareholder_id": co["id"], "stake": "0.1", "contributed": "100.123", "contributed_on": "2024-03-01"}, "amount_too_precise"},
		{map[string]any{"shareholder_id": co["id"], "stake": "0.1", "contributed": "-1", "contributed_on": "2024-03-01"}, "amount_negative"},
		{map[string]any{"shareholder_id": co["id"], "stake": "0.1", "contributed": "1", "contributed_on": "1900-01-01"}, "date_out_of_range"},
	} {
		keep(e.refusedUnchanged("registration "+c.code, 400, c.code, func() response { return e.do(acct, "POST", proj, c.body) }))
	}
	e.refusedUnchanged("other city's accountant", 404, "project_not_found", func() response {
		return e.do(other, "POST", proj, map[string]any{"shareholder_id": co["id"], "stake": "0.1", "contributed": "1", "contributed_on": "2024-03-01"})
	})
	e.refusedUnchanged("partner registrations", 403, "forbidden", func() response { return e.do(partner, "GET", proj, nil) })

	ra := reg(co, "0.6")
	if ra["status"] != "submitted" || ra["status_label"] != "待审核" {
		t.Fatalf("submitted: %v", ra)
	}
	e.refusedUnchanged("other city's accountant reads", 404, "registration_not_found", func() response { return e.do(other, "GET", regPath(ra["id"], ""), nil) })
	e.refusedUnchanged("accountant reviews", 403, "forbidden", func() response {
		return e.do(acct, "POST", regPath(ra["id"], "/review"), map[string]any{"approve": true, "version": ra["version"]})
	})
	e.refusedUnchanged("return without a reason", 400, "reason_required", func() response {
		return e.do(biz, "POST", regPath(ra["id"], "/review"), map[string]any{"approve": false, "reason": "", "version": ra["version"]})
	})
	ra = keep(e.must(200, e.do(biz, "POST", regPath(ra["id"], "/review"), map[string]any{"approve": true, "reason": "", "version": ra["version"]}))).Body
	if ra["status_label"] != "已通过" {
		t.Fatalf("approved: %v", ra)
	}
	// The business admin's own submission is not theirs to review.
	own := keep(e.must(201, e.do(biz, "POST", proj, map[string]any{"shareholder_id": pe["id"], "stake": "0.45",
		"contributed": "0", "contributed_on": "2024-03-01"}))).Body
	own = keep(e.must(200, e.do(biz, "POST", regPath(own["id"], "/submit"), map[string]any{"version": own["version"]}))).Body
	e.refusedUnchanged("own submission", 403, "own_submission", func() response {
		return e.do(biz, "POST", regPath(own["id"], "/review"), map[string]any{"approve": true, "version": own["version"]})
	})
	// Another business admin: above 100% is refused, naming the total.
	_, biz2 := e.mustUser("业务管理员二", "bizadmin")
	r = e.refusedUnchanged("above 100%", 422, "stake_total_exceeded", func() response {
		return e.do(biz2, "POST", regPath(own["id"], "/review"), map[string]any{"approve": true, "version": own["version"]})
	})
	if !strings.Contains(string(r.Raw), "合计 105.00%") {
		t.Fatalf("total not named: %s", r.Raw)
	}
	list := keep(e.must(200, e.do(auditor, "GET", proj, nil))).Body
	if list["approved_total"] != "0.600000" || len(list["items"].([]any)) != 2 {
		t.Fatalf("list: %s", keep(e.do(auditor, "GET", proj, nil)).Raw)
	}

	// The clear numbers are nowhere: responses, audit log, server log.
	clear := []string{shPersonID, shAccount, "6214830212345678", cc}
	var audits []string
	if err := e.db.Select(&audits, `SELECT concat(before::text, after::text) FROM audit_log`); err != nil {
		t.Fatal(err)
	}
	for _, n := range clear {
		for _, b := range bodies {
			if strings.Contains(b, n) {
				t.Errorf("a response holds %s: %s", n, b)
			}
		}
		for _, a := range audits {
			if strings.Contains(a, n) {
				t.Errorf("the audit log holds %s: %s", n, a)
			}
		}
		if strings.Contains(logs.String(), n) {
			t.Errorf("the log holds %s", n)
		}
	}
	var sealed int
	if err := e.db.Get(&sealed, `SELECT count(*) FROM minority_shareholders WHERE id_number_enc LIKE 'v1:%' AND id_number_enc NOT LIKE $1`,
		"%"+shPersonID+"%"); err != nil || sealed != 2 {
		t.Fatalf("sealed: %d %v", sealed, err)
	}
	_ = context.Background()

	// 股权合作: a cooperator row links to the registered shareholder; a
	// partnership row cannot.
	share := func(kind string) map[string]any {
		return map[string]any{"effective_on": "2024-03-01", "version": 0, "shareholders": []map[string]any{
			{"name": "锦艺置业", "kind": "group", "stake": "0.4"},
			{"name": "泰安城投", "kind": kind, "stake": "0.6", "minority_shareholder_id": co["id"]}}}
	}
	sharePath := "/api/v1/projects/" + itoa(w.projA) + "/shareholding"
	e.refusedUnchanged("partnership linked", 400, "minority_link_kind", func() response { return e.do(acct, "PUT", sharePath, share("partnership")) })
	v := e.must(200, e.do(acct, "PUT", sharePath, share("cooperator"))).Body
	holders := v["shareholders"].([]any)
	if num(holders[1].(map[string]any)["minority_shareholder_id"]) != num(co["id"]) || holders[0].(map[string]any)["minority_shareholder_id"] != nil {
		t.Fatalf("linked: %v", holders)
	}

	// A good sheet imports every row.
	rows = [][]any{header(shareholder.ImportColumns), {"丁公司", "企业", shCreditCodeOf(t, "91110000MA01ABCD1"), "", "", ""},
		{"戊", "个人", "110105198001010032", "", "", ""}}
	if got := e.must(200, e.upload(biz, "/api/v1/shareholders/import", xlsxOf(t, rows))).Body; num(got["imported"]) != 2 {
		t.Fatalf("imported: %v", got)
	}
}

func shCreditCodeOf(t *testing.T, stem string) string {
	c, ok := shareholder.CreditCheckChar(stem)
	if !ok {
		t.Fatal("credit code stem")
	}
	return stem + string(c)
}
