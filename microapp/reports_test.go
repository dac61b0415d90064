package microapp_test

import (
	"bytes"
	"slices"
	"testing"

	"github.com/xuri/excelize/v2"
)

func workTrackingIDs(r response) []int64 {
	var out []int64
	for _, it := range r.Body["items"].([]any) {
		out = append(out, int64(it.(map[string]any)["project_id"].(float64)))
	}
	return out
}

// 工作跟踪表 over HTTP: the caller's scope only (an ungranted project is 404),
// the batch filter, bad filters refused, partners kept out, and the xlsx.
func TestWorkTrackingReportScopeAndExport(t *testing.T) {
	e := newEnv(t)
	admin := e.admin()
	w := e.mustWorld(admin)
	acctID, acct := e.mustUser("城市会计乙", "accountant")
	_, auditor := e.mustUser("审计丙", "auditor")
	_, partner := e.mustUser("合伙人甲")
	e.must(200, e.do(admin, "PUT", "/api/v1/org-units/"+itoa(w.cityB)+"/grants",
		map[string]any{"grants": []map[string]any{{"role": "accountant", "user_ids": []int64{acctID}}}}))

	all := e.must(200, e.do(auditor, "GET", "/api/v1/reports/work-tracking", nil))
	if got := workTrackingIDs(all); len(got) != 3 {
		t.Fatalf("auditor sees %v", got)
	}
	first := all.Body["items"].([]any)[0].(map[string]any)
	step := first["steps"].([]any)[0].(map[string]any)
	if first["city_company"] == "" || step["step"] != "project_opened" || step["status"] != "done" || step["by"] == "" {
		t.Fatalf("first item = %v", first)
	}
	if got := workTrackingIDs(e.must(200, e.do(acct, "GET", "/api/v1/reports/work-tracking", nil))); !slices.Equal(got, []int64{w.projB}) {
		t.Fatalf("accountant of city B sees %v", got)
	}
	if r := e.do(acct, "GET", "/api/v1/reports/work-tracking?project_id="+itoa(w.projA), nil); r.Status != 404 {
		t.Fatalf("ungranted project: %d %s", r.Status, r.Raw)
	}
	if r := e.do(acct, "GET", "/api/v1/reports/work-tracking.xlsx?project_id="+itoa(w.projA), nil); r.Status != 404 {
		t.Fatalf("ungranted project xlsx: %d", r.Status)
	}
	if r := e.do(admin, "GET", "/api/v1/reports/work-tracking?project_id=abc", nil); r.Status != 400 || r.errCode() != "invalid_parameter" {
		t.Fatalf("bad filter: %d %s", r.Status, r.Raw)
	}
	if r := e.do(partner, "GET", "/api/v1/reports/work-tracking", nil); r.Status != 403 {
		t.Fatalf("partner: %d", r.Status)
	}
	one := e.must(200, e.do(admin, "GET", "/api/v1/reports/work-tracking?project_id="+itoa(w.projA), nil))
	if got := workTrackingIDs(one); !slices.Equal(got, []int64{w.projA}) {
		t.Fatalf("one project: %v", got)
	}

	x := e.must(200, e.do(auditor, "GET", "/api/v1/reports/work-tracking.xlsx", nil))
	if ct := x.Header.Get("Content-Type"); ct != "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" {
		t.Fatalf("content type %q", ct)
	}
	f, err := excelize.OpenReader(bytes.NewReader(x.Raw))
	if err != nil {
		t.Fatal(err)
	}
	rows, _ := f.GetRows("工作跟踪表")
	if len(rows) != 4 || rows[0][0] != "项目" || rows[0][4] != "立项资料" {
		t.Fatalf("rows = %q", rows)
	}
}
