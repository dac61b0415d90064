package microapp_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"hehuo/internal/audit"
)

func TestProjectCreateUpdateAndStaleVersion(t *testing.T) {
	e := newEnv(t)
	admin := e.admin()
	w := e.mustWorld(admin)
	batch := e.must(201, e.do(admin, "POST", "/api/v1/batches", map[string]any{"name": "2019年10月"}))
	created := e.must(201, e.do(admin, "POST", "/api/v1/projects", map[string]any{
		"code": "JY-100", "name": "马鞍山-林语春风", "city_company_id": w.cityA, "land_acquired_on": "2019-03-15",
		"batch_id": batch.Body["id"], "is_open": true, "joint_operation": false, "operator": "锦艺方", "acquisition_method": "招拍挂",
	}))
	p := created.Body
	if p["version"].(float64) != 1 || p["city_company_name"] != "环沪城市公司" || p["batch_name"] != "2019年10月" || p["land_acquired_on"] != "2019-03-15" {
		t.Fatalf("created = %s", created.Raw)
	}
	path := "/api/v1/projects/" + itoa(int64(p["id"].(float64)))
	upd := e.must(200, e.do(admin, "PATCH", path, map[string]any{"is_settled": true, "operator": "锦艺操盘", "version": 1}))
	if upd.Body["version"].(float64) != 2 || upd.Body["is_settled"] != true || upd.Body["operator"] != "锦艺操盘" || upd.Body["name"] != "马鞍山-林语春风" {
		t.Fatalf("updated = %s", upd.Raw)
	}
	// Someone else's edit based on version 1 is stale.
	before := fingerprint(t, e.db)
	if r := e.do(admin, "PATCH", path, map[string]any{"name": "覆盖", "version": 1}); r.Status != 409 || r.errCode() != "stale_version" {
		t.Fatalf("stale: %d %s", r.Status, r.Raw)
	}
	if fingerprint(t, e.db) != before {
		t.Fatal("a stale update changed the database")
	}
	// Search by name, batch and region.
	for q, want := range map[string]int{"林语": 1, "2019年10月": 1, "环沪": 2, "昆明": 1, "不存在": 0} {
		got := ids(e.must(200, e.do(admin, "GET", "/api/v1/projects?q="+q, nil)))
		if len(got) != want {
			t.Errorf("q=%s: %d projects, want %d", q, len(got), want)
		}
	}
	// The change is in the audit log with before and after, and the request id.
	audit.Seal(context.Background(), e.db)
	log := e.must(200, e.do(admin, "GET", "/api/v1/audit-log?entity=project&action=project.update", nil))
	items := log.Body["items"].([]any)
	if len(items) != 1 {
		t.Fatalf("audit entries = %s", log.Raw)
	}
	entry := items[0].(map[string]any)
	if entry["actor_name"] != "系统管理员" || entry["request_id"] == "" || entry["hash"] == nil ||
		entry["before"].(map[string]any)["is_settled"] != false || entry["after"].(map[string]any)["is_settled"] != true {
		t.Fatalf("audit entry = %v", entry)
	}
	verify := e.must(200, e.do(admin, "GET", "/api/v1/audit-log/verify", nil))
	if verify.Body["ok"] != true {
		t.Fatalf("verify = %s", verify.Raw)
	}
}

func TestProjectBadInputsChangeNothing(t *testing.T) {
	e := newEnv(t)
	admin := e.admin()
	w := e.mustWorld(admin)
	before := fingerprint(t, e.db)
	tests := []struct {
		name   string
		body   any
		status int
		code   string
		field  string
	}{
		{"malformed JSON", `{"name": "x",`, 400, "malformed_json", ""},
		{"missing name", map[string]any{"city_company_id": w.cityA}, 400, "required", "name"},
		{"angle brackets", map[string]any{"name": "<b>项目</b>", "city_company_id": w.cityA}, 400, "angle_brackets", "name"},
		{"not a city company", map[string]any{"name": "新项目", "city_company_id": w.property}, 400, "city_company_invalid", "city_company_id"},
		{"bad date", map[string]any{"name": "新项目", "city_company_id": w.cityA, "land_acquired_on": "2019-13-01"}, 400, "invalid_date", "land_acquired_on"},
		{"land in year 1", map[string]any{"name": "新项目", "city_company_id": w.cityA, "land_acquired_on": "0001-01-01"}, 400, "date_out_of_range", "land_acquired_on"},
		{"land in 9999", map[string]any{"name": "新项目", "city_company_id": w.cityA, "land_acquired_on": "9999-12-31"}, 400, "date_out_of_range", "land_acquired_on"},
		{"land in year 0", map[string]any{"name": "新项目", "city_company_id": w.cityA, "land_acquired_on": "0000-01-01"}, 400, "date_out_of_range", "land_acquired_on"},
		{"NUL in the name", map[string]any{"name": "新\u0000项目", "city_company_id": w.cityA}, 400, "invalid_text", "name"},
		{"NUL in the code", map[string]any{"name": "新项目", "code": "P\u0000", "city_company_id": w.cityA}, 400, "invalid_text", "code"},
		{"newline in the name", map[string]any{"name": "新\n项目", "city_company_id": w.cityA}, 400, "invalid_text", "name"},
		{"duplicate name", map[string]any{"name": "常州项目", "city_company_id": w.cityA}, 409, "project_name_taken", "name"},
		{"missing batch", map[string]any{"name": "新项目", "city_company_id": w.cityA, "batch_id": 424242}, 400, "batch_not_found", "batch_id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do(admin, "POST", "/api/v1/projects", tt.body)
			if r.Status != tt.status || r.errCode() != tt.code {
				t.Fatalf("got %d %s, want %d %s", r.Status, r.Raw, tt.status, tt.code)
			}
			if f, _ := r.Body["error"].(map[string]any)["field"].(string); f != tt.field {
				t.Errorf("field = %q, want %q", f, tt.field)
			}
		})
	}
	if fingerprint(t, e.db) != before {
		t.Fatal("refused project inputs changed the database")
	}
}

func sheet(t *testing.T, rows [][]any) []byte {
	t.Helper()
	f := excelize.NewFile()
	for i, row := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		f.SetSheetRow("Sheet1", cell, &row)
	}
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

var importHeader = []any{"项目编码", "项目名称", "城市公司", "拿地时间", "批次", "开放", "合作操盘", "操盘方", "取得方式"}

func TestProjectImportAllOrNothing(t *testing.T) {
	e := newEnv(t)
	admin := e.admin()
	e.mustWorld(admin)

	bad := sheet(t, [][]any{
		importHeader,
		{"P-1", "泰安-锦艺誉峯", "环沪城市公司", "2019-03-21", "2019年3月", "是", "否", "锦艺操盘", "招拍挂"},
		{"P-2", "株洲-锦湘悦", "不存在的公司", "2019-05-05", "2018年11月", "是", "是", "自操盘", "收并购"},
		{"P-3", "常州项目", "环沪城市公司", "2019/10/23", "2019年10月", "也许", "否", "锦艺方", "招拍挂"},
	})
	before := fingerprint(t, e.db)
	r := e.upload(admin, "/api/v1/projects/import", bad)
	if r.Status != 400 || r.errCode() != "import_invalid" {
		t.Fatalf("bad sheet: %d %s", r.Status, r.Raw)
	}
	details := r.Body["error"].(map[string]any)["details"].([]any)
	want := map[string]bool{"3/城市公司": true, "4/项目名称": true, "4/拿地时间": true, "4/开放": true}
	for _, d := range details {
		m := d.(map[string]any)
		key := itoa(int64(m["row"].(float64))) + "/" + m["column"].(string)
		if !want[key] {
			t.Errorf("unexpected row error %v", m)
		}
		delete(want, key)
	}
	if len(want) != 0 {
		t.Errorf("row errors not reported: %v (got %s)", want, r.Raw)
	}
	if fingerprint(t, e.db) != before {
		t.Fatal("a refused import changed the database")
	}

	good := sheet(t, [][]any{
		importHeader,
		{"P-1", "泰安-锦艺誉峯", "环沪城市公司", "2019-03-21", "2019年3月", "是", "否", "锦艺操盘", "招拍挂"},
		{},
		{"P-2", "株洲-锦湘悦", "昆明城市公司", "2019-05-05", "2018年11月", "是", "是", "自操盘", "收并购"},
	})
	r = e.must(200, e.upload(admin, "/api/v1/projects/import", good))
	if r.Body["imported"].(float64) != 2 {
		t.Fatalf("imported = %s", r.Raw)
	}
	got := e.must(200, e.do(admin, "GET", "/api/v1/projects?q=株洲", nil))
	p := got.Body["items"].([]any)[0].(map[string]any)
	if p["batch_name"] != "2018年11月" || p["joint_operation"] != true || p["city_company_name"] != "昆明城市公司" {
		t.Fatalf("imported project = %v", p)
	}
	// Importing the same sheet again collides on every row.
	if r := e.upload(admin, "/api/v1/projects/import", good); r.Status != 400 {
		t.Fatalf("re-import: %d %s", r.Status, r.Raw)
	}
}

func TestProjectImportRefusesMalformedFiles(t *testing.T) {
	e := newEnv(t)
	admin := e.admin()
	e.mustWorld(admin)
	tests := []struct {
		name    string
		content []byte
		code    string
	}{
		{"not an xlsx", []byte("项目编码,项目名称\nP-1,x\n"), "import_not_xlsx"},
		{"wrong headers", sheet(t, [][]any{{"名称", "城市"}, {"x", "y"}}), "import_invalid"},
		{"headers only", sheet(t, [][]any{importHeader}), "import_empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.upload(admin, "/api/v1/projects/import", tt.content)
			if r.Status != 400 || r.errCode() != tt.code {
				t.Fatalf("got %d %s, want 400 %s", r.Status, r.Raw, tt.code)
			}
		})
	}
	tmpl := e.do(admin, "GET", "/api/v1/projects/import/template", nil)
	f, err := excelize.OpenReader(bytes.NewReader(tmpl.Raw))
	if err != nil {
		t.Fatalf("template is not an xlsx: %v", err)
	}
	rows, _ := f.GetRows(f.GetSheetList()[0])
	if strings.Join(rows[0], ",") != "项目编码,项目名称,城市公司,拿地时间,批次,开放,合作操盘,操盘方,取得方式" {
		t.Fatalf("template headers = %v", rows[0])
	}
}

func TestOrgUnitsAndUsers(t *testing.T) {
	e := newEnv(t)
	admin := e.admin()
	w := e.mustWorld(admin)
	// A unit cannot move under its own descendant.
	unit := e.must(200, e.do(admin, "GET", "/api/v1/org-units", nil))
	if len(unit.Body["items"].([]any)) != 5 {
		t.Fatalf("units = %s", unit.Raw)
	}
	if r := e.do(admin, "PATCH", "/api/v1/org-units/"+itoa(w.cityA), map[string]any{"parent_id": w.cityA1, "version": 1}); r.Status != 422 || r.errCode() != "org_unit_cycle" {
		t.Fatalf("cycle: %d %s", r.Status, r.Raw)
	}
	if r := e.do(admin, "POST", "/api/v1/org-units", map[string]any{"name": "孤儿", "kind": "city"}); r.Status != 400 || r.errCode() != "parent_required" {
		t.Fatalf("root city: %d %s", r.Status, r.Raw)
	}
	if r := e.do(admin, "POST", "/api/v1/org-units", map[string]any{"name": "环沪城市公司", "kind": "city", "parent_id": w.property}); r.Status != 409 {
		t.Fatalf("duplicate sibling: %d %s", r.Status, r.Raw)
	}
	// Users: create with roles, search, refuse bad input.
	u := e.must(201, e.do(admin, "POST", "/api/v1/users", map[string]any{
		"name": "沈嘉禾", "dingtalk_userid": "u100", "mobile": "13900001111", "job_number": "A0001", "title": "经营会计",
		"grade": "P5", "org_unit_id": w.cityA, "roles": []string{"accountant"},
	}))
	if u.Body["roles"].([]any)[0] != "accountant" || u.Body["employment_status"] != "active" {
		t.Fatalf("user = %s", u.Raw)
	}
	if got := ids(e.must(200, e.do(admin, "GET", "/api/v1/users?q=13900001111", nil))); len(got) != 1 {
		t.Fatalf("search by mobile: %v", got)
	}
	for _, tt := range []struct {
		body map[string]any
		code string
	}{
		{map[string]any{"name": "甲", "mobile": "12345"}, "mobile_invalid"},
		{map[string]any{"name": "乙", "roles": []string{"partner"}}, "role_invalid"},
		{map[string]any{"name": "丙", "dingtalk_userid": "u100"}, "dingtalk_userid_taken"},
		{map[string]any{"name": "丁", "org_unit_id": 987654}, "org_unit_not_found"},
	} {
		if r := e.do(admin, "POST", "/api/v1/users", tt.body); r.errCode() != tt.code {
			t.Errorf("%v: %d %s, want %s", tt.body, r.Status, r.Raw, tt.code)
		}
	}
}
