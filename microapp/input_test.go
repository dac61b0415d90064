package microapp_test

import (
	"testing"
)

// Issue 9, finding 2: a NUL byte in any text field is a 400 invalid_text
// naming the field (it used to reach Postgres and answer 500), and nothing
// changes.
func TestNULInTextFieldsIs400(t *testing.T) {
	e := newEnv(t)
	w := e.mustEstWorld()
	_, partner := e.mustUser("合伙人NUL")
	proj := "/api/v1/projects/" + itoa(w.projA)
	before := fingerprint(t, e.db)
	for _, c := range []struct {
		token, method, path string
		body                map[string]any
		field               string
	}{
		{w.admin, "POST", "/api/v1/org-units", map[string]any{"name": "城\x00市", "kind": "city", "parent_id": w.property}, "name"},
		{w.admin, "PATCH", "/api/v1/org-units/" + itoa(w.cityA), map[string]any{"name": "城\x00市", "version": 1}, "name"},
		{w.admin, "POST", "/api/v1/projects", map[string]any{"name": "项\x00目", "city_company_id": w.cityA}, "name"},
		{w.admin, "POST", "/api/v1/projects", map[string]any{"name": "项目", "operator": "\x00", "city_company_id": w.cityA}, "operator"},
		{w.admin, "PATCH", proj, map[string]any{"name": "项\x00目", "version": 1}, "name"},
		{w.admin, "POST", "/api/v1/users", map[string]any{"name": "张\x00三"}, "name"},
		{w.admin, "POST", "/api/v1/users", map[string]any{"name": "张三", "mobile": "138\x00"}, "mobile"},
		{w.admin, "POST", "/api/v1/batches", map[string]any{"name": "批\x00次"}, "name"},
		{w.admin, "POST", "/api/v1/financing-rates", map[string]any{"rate": "0.0435", "effective_from": "2026-01-01", "note": "说\x00明"}, "note"},
		{w.acct, "PUT", proj + "/basic-info", map[string]any{"address": "常州\x00", "version": 0}, "address"},
		{w.acct, "PUT", proj + "/basic-info", map[string]any{"note": "概况\x00", "version": 0}, "note"},
		{partner, "PUT", "/api/v1/me/payout-account", map[string]any{"bank": "工商\x00银行", "branch": "常州分行", "holder": "合伙人NUL", "account_number": "6222020000000000"}, "bank"},
		{partner, "PUT", "/api/v1/me/payout-account", map[string]any{"bank": "工商银行", "branch": "常州\x00分行", "holder": "合伙人NUL", "account_number": "6222020000000000"}, "branch"},
		{w.admin, "PUT", "/api/v1/notify/templates/payment_notice", map[string]any{"name": "缴款\x00通知", "title": "t", "body": "b", "version": 1}, "name"},
		{w.admin, "POST", "/api/v1/dingtalk/robots", map[string]any{"name": "机器人\x1b"}, "name"},
	} {
		r := e.do(c.token, c.method, c.path, c.body)
		if r.Status != 400 || r.errCode() != "invalid_text" {
			t.Errorf("%s %s %v: %d %s, want 400 invalid_text", c.method, c.path, c.body, r.Status, r.Raw)
			continue
		}
		if f, _ := r.Body["error"].(map[string]any)["field"].(string); f != c.field {
			t.Errorf("%s %s: field %q, want %q", c.method, c.path, f, c.field)
		}
	}
	if fingerprint(t, e.db) != before {
		t.Fatal("refused text changed the database")
	}
	// Line breaks stay allowed in multi-line notes.
	e.must(200, e.do(w.acct, "PUT", proj+"/basic-info", map[string]any{"note": "第一行\r\n第二行", "version": 0}))
	if got := e.must(200, e.do(w.acct, "GET", proj+"/basic-info", nil)).Body["note"]; got != "第一行\n第二行" {
		t.Fatalf("note = %q", got)
	}
}

// Issue 9, finding 2: ids and pages in query and path parameters are read by
// one parser — beyond int64, negative or not a number is a 400
// invalid_parameter (404 for a path id), never a 500 or a negative OFFSET.
func TestQueryAndPathParametersAre400Not500(t *testing.T) {
	e := newEnv(t)
	admin := e.admin()
	e.mustWorld(admin)
	const huge = "99999999999999999999"
	for _, path := range []string{
		"/api/v1/projects?batch_id=" + huge,
		"/api/v1/projects?city_company_id=" + huge,
		"/api/v1/projects?batch_id=-1",
		"/api/v1/projects?q=%00",
		"/api/v1/users?q=%00",
		"/api/v1/audit-log?actor_id=" + huge,
		"/api/v1/audit-log?project_id=" + huge,
		"/api/v1/audit-log?page=" + huge,
		"/api/v1/audit-log?page=9223372036854775807",
		"/api/v1/audit-log?page=0",
		"/api/v1/audit-log?page_size=-5",
		"/api/v1/audit-log?entity=%00",
		"/api/v1/audit-log?from=0001-01-01",
		"/api/v1/audit-log?to=2026-13-01",
		"/api/v1/notify/outbox?before=" + huge,
		"/api/v1/notify/outbox?project_id=" + huge,
		"/api/v1/notify/outbox?limit=1e5",
		"/api/v1/reports/work-tracking?project_id=" + huge,
		"/api/v1/reports/work-tracking?batch_id=" + huge,
		"/api/v1/reports/establishment-payments.xlsx?batch_id=" + huge,
		"/api/v1/tools/payments-export.xlsx?project_id=" + huge,
		"/api/v1/work-calendar?year=" + huge,
	} {
		if r := e.do(admin, "GET", path, nil); r.Status != 400 || r.errCode() != "invalid_parameter" && r.errCode() != "invalid_date" && r.errCode() != "date_out_of_range" {
			t.Errorf("GET %s: %d %s, want 400 invalid_parameter", path, r.Status, r.Raw)
		}
	}
	// Page sizes are capped, not refused.
	r := e.must(200, e.do(admin, "GET", "/api/v1/audit-log?page_size=100000&page=1000000", nil))
	if items, _ := r.Body["items"].([]any); len(items) != 0 {
		t.Fatalf("page 1000000 has %d items", len(items))
	}
	for _, path := range []string{
		"/api/v1/projects/" + huge,
		"/api/v1/projects/-1",
		"/api/v1/users/" + huge,
		"/api/v1/notify/templates/payment_notice%00",
		"/api/v1/notify/outbox/" + huge,
	} {
		if r := e.do(admin, "GET", path, nil); r.Status != 404 {
			t.Errorf("GET %s: %d %s, want 404", path, r.Status, r.Raw)
		}
	}
}

// Issue 9, finding 3: dates outside 2000-01-01 … 2100-12-31 are refused with
// the field named, in request bodies and in payments; a payment may not be
// dated more than a year before the round's notice or funding date.
func TestDatesOutsideTheWindowAre400(t *testing.T) {
	e := newEnv(t)
	s := newPaySetup(t, e)
	before := fingerprint(t, e.db)
	for _, on := range []string{"0001-01-01", "1900-01-01", "0000-01-01", "9999-12-31"} {
		r := s.pay(e, "old-"+on, 0, "1", on)
		if r.Status != 400 || r.errCode() != "date_out_of_range" {
			t.Errorf("paid on %s: %d %s", on, r.Status, r.Raw)
		}
	}
	// The terms' funding date is 2024-03-01: a payment a year and a day before is a typo.
	e.refused(400, "date_out_of_range", s.pay(e, "early", 0, "1", "2023-02-28"))
	terms := r1Terms(0)
	for _, d := range []string{"0001-01-01", "9999-12-31"} {
		r := e.do(s.acct, "PUT", "/api/v1/projects/"+itoa(s.w.projA)+"/establishment", with(terms, "funding_date", d))
		if r.Status != 400 || r.errCode() != "date_out_of_range" {
			t.Errorf("funding_date %s: %d %s", d, r.Status, r.Raw)
		}
		if f, _ := r.Body["error"].(map[string]any)["field"].(string); f != "funding_date" {
			t.Errorf("funding_date %s: field %q", d, f)
		}
	}
	for _, d := range []string{"0001-01-01", "9999-12-31"} {
		r := e.do(s.acct, "POST", "/api/v1/rounds/"+itoa(s.roundID)+"/invitations",
			map[string]any{"user_id": s.users[0], "tier": "city", "min_amount": "1", "max_amount": "2", "deadline": d})
		if r.Status != 400 || r.errCode() != "date_out_of_range" {
			t.Errorf("deadline %s: %d %s", d, r.Status, r.Raw)
		}
		if f, _ := r.Body["error"].(map[string]any)["field"].(string); f != "deadline" {
			t.Errorf("deadline %s: field %q", d, f)
		}
	}
	if fingerprint(t, e.db) != before {
		t.Fatal("refused dates changed the database")
	}
	e.must(201, s.pay(e, "in-reach", 0, "1", "2023-03-01"))
}

// Issue 9, finding 4: numbers arrive through the decimal parser — no
// exponent, no plus sign, no trailing point.
func TestNumbersRefuseExponentsAndSigns(t *testing.T) {
	e := newEnv(t)
	w := e.mustEstWorld()
	path := "/api/v1/projects/" + itoa(w.projA) + "/basic-info"
	before := fingerprint(t, e.db)
	for _, field := range []string{"land_area", "building_area", "saleable_area", "saleable_value", "group_equity_ratio"} {
		for _, v := range []string{"1e5", "1E2", "+100", "100.", ".5", "0x10", "99999999999999999999"} {
			r := e.do(w.acct, "PUT", path, map[string]any{field: v, "version": 0})
			if r.Status != 400 {
				t.Errorf("%s = %q: %d %s, want 400", field, v, r.Status, r.Raw)
			}
		}
	}
	for _, v := range []string{"1e-2", "+0.0435", "0.0435."} {
		if r := e.do(w.admin, "POST", "/api/v1/financing-rates", map[string]any{"rate": v, "effective_from": "2026-01-01"}); r.Status != 400 {
			t.Errorf("rate %q: %d %s", v, r.Status, r.Raw)
		}
	}
	if fingerprint(t, e.db) != before {
		t.Fatal("refused numbers changed the database")
	}
	e.must(200, e.do(w.acct, "PUT", path, map[string]any{"land_area": "52000.5", "group_equity_ratio": "0.51", "version": 0}))
}
