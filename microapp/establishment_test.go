package microapp_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"hehuo/internal/dtsim"
	"hehuo/internal/workflow"
)

// estWorld is a world with a city accountant granted city A (projects A and
// A1) and another granted city B only.
type estWorld struct {
	world
	admin, acct, other, partner, auditor string
}

func (e *env) mustEstWorld() estWorld {
	e.t.Helper()
	w := estWorld{admin: e.admin()}
	w.world = e.mustWorld(w.admin)
	var acctID, otherID int64
	acctID, w.acct = e.mustUser("环沪会计", "accountant")
	otherID, w.other = e.mustUser("昆明会计", "accountant")
	_, w.partner = e.mustUser("合伙人甲")
	_, w.auditor = e.mustUser("审计乙", "auditor")
	for city, id := range map[int64]int64{w.cityA: acctID, w.cityB: otherID} {
		e.must(200, e.do(w.admin, "PUT", "/api/v1/org-units/"+itoa(city)+"/grants",
			map[string]any{"grants": []map[string]any{{"role": "accountant", "user_ids": []int64{id}}}}))
	}
	return w
}

// r1Terms is RULES R1's example as a request body.
func r1Terms(version int) map[string]any {
	return map[string]any{
		"peak_capital":         "220000000.00",
		"tier_ratios":          map[string]string{"holding": "0", "property": "0.0331", "city": "0.006", "other": "0"},
		"funding_date":         "2024-03-01",
		"group_cap_ratio":      "0.10",
		"per_person_cap_ratio": "0.01",
		"collection_account":   map[string]string{"bank": "工商银行常州分行", "account_name": "常州锦艺合伙企业", "account_number": "1105020309000012345"},
		"version":              version,
	}
}

func with(body map[string]any, key string, v any) map[string]any {
	out := map[string]any{}
	for k, x := range body {
		out[k] = x
	}
	out[key] = v
	return out
}

func TestEstablishmentTermsRoundTripWithR1Pools(t *testing.T) {
	e := newEnv(t)
	w := e.mustEstWorld()
	path := "/api/v1/projects/" + itoa(w.projA) + "/establishment"

	empty := e.must(200, e.do(w.acct, "GET", path, nil)).Body
	if empty["version"].(float64) != 0 || empty["peak_capital"] != nil || empty["total"] != "0.00" {
		t.Fatalf("empty terms = %v", empty)
	}
	put := e.must(200, e.do(w.acct, "PUT", path, r1Terms(0))).Body
	got := e.must(200, e.do(w.auditor, "GET", path, nil)).Body
	for _, b := range []map[string]any{put, got} {
		pools := b["pools"].(map[string]any)
		line := fmt.Sprintf("%v %v %v %v %v %v %v", pools["holding"], pools["property"], pools["city"], pools["other"],
			b["total"], b["ratio"], b["per_person_cap"])
		if line != "0.00 7282000.00 1320000.00 0.00 8602000.00 0.0391 2200000.00" {
			t.Errorf("sizing = %s", line)
		}
		acct := b["collection_account"].(map[string]any)
		if b["version"].(float64) != 1 || b["peak_locked"] != false || b["funding_frozen"] != false ||
			acct["account_number"] != "1105020309000012345" || b["tier_ratios"].(map[string]any)["property"] != "0.0331" {
			t.Errorf("terms = %v", b)
		}
		trace := b["trace"].([]any)
		step := trace[1].(map[string]any)
		if step["figure"] != "pool.property" || step["value"] != "7282000.00" || step["rounding"] == "" {
			t.Errorf("trace step = %v", step)
		}
	}

	// Stale version, wrong role, other people's project, auditor: refused, nothing changed.
	before := fingerprint(t, e.db)
	if r := e.do(w.acct, "PUT", path, r1Terms(0)); r.Status != 409 || r.errCode() != "stale_version" {
		t.Errorf("stale: %d %s", r.Status, r.Raw)
	}
	if r := e.do(w.partner, "PUT", path, r1Terms(1)); r.Status != 403 {
		t.Errorf("partner: %d %s", r.Status, r.Raw)
	}
	if r := e.do(w.admin, "PUT", path, r1Terms(1)); r.Status != 403 {
		t.Errorf("sysadmin: %d %s", r.Status, r.Raw)
	}
	if r := e.do(w.auditor, "PUT", path, r1Terms(1)); r.Status != 403 {
		t.Errorf("auditor: %d %s", r.Status, r.Raw)
	}
	for _, m := range []string{"GET", "PUT"} {
		if r := e.do(w.other, m, path, r1Terms(1)); r.Status != 404 {
			t.Errorf("ungranted accountant %s: %d %s", m, r.Status, r.Raw)
		}
	}
	for _, tab := range []string{"establishment", "shareholding", "shareholding/versions", "milestones", "profit-indicators", "basic-info"} {
		if r := e.do(w.admin, "GET", "/api/v1/projects/999999/"+tab, nil); r.Status != 404 {
			t.Errorf("missing project %s: %d %s", tab, r.Status, r.Raw)
		}
	}
	if fingerprint(t, e.db) != before {
		t.Fatal("refused requests changed the database")
	}
}

func TestEstablishmentCapsAreErrorsWithChineseMessages(t *testing.T) {
	e := newEnv(t)
	w := e.mustEstWorld()
	path := "/api/v1/projects/" + itoa(w.projA) + "/establishment"
	e.must(200, e.do(w.acct, "PUT", path, r1Terms(0)))
	before := fingerprint(t, e.db)
	cases := []struct {
		name   string
		body   map[string]any
		status int
		code   string
		words  string
	}{
		{"Σ ratios above the group cap", with(r1Terms(1), "tier_ratios", map[string]string{"holding": "0.05", "property": "0.0331", "city": "0.006", "other": "0.02"}),
			422, "group_cap_exceeded", "超过集团合伙上限 10%"},
		{"a lower group cap", with(r1Terms(1), "group_cap_ratio", "0.03"), 422, "group_cap_exceeded", "各层级比例合计 3.91%"},
		{"negative ratio", with(r1Terms(1), "tier_ratios", map[string]string{"holding": "-0.01", "property": "0.0331", "city": "0.006", "other": "0"}),
			422, "tier_ratio_negative", "控股集团比例不能为负数"},
		{"no peak capital", with(r1Terms(1), "peak_capital", ""), 422, "peak_capital_required", "请填写资金峰值"},
		{"peak capital as a number", with(r1Terms(1), "peak_capital", 220000000), 400, "field_type_invalid", ""},
		{"ratio as percent text", with(r1Terms(1), "tier_ratios", map[string]string{"city": "0.6%"}), 400, "ratio_invalid", "城市公司比例"},
	}
	for _, c := range cases {
		r := e.do(w.acct, "PUT", path, c.body)
		msg, _ := r.Body["error"].(map[string]any)["message"].(string)
		if r.Status != c.status || r.errCode() != c.code || !strings.Contains(msg, c.words) {
			t.Errorf("%s: %d %s", c.name, r.Status, r.Raw)
		}
	}
	if fingerprint(t, e.db) != before {
		t.Fatal("refused terms changed the database")
	}
}

func TestFinancingRateTableAndOverrideInTheTrace(t *testing.T) {
	e := newEnv(t)
	w := e.mustEstWorld()
	if r := e.do(w.acct, "POST", "/api/v1/financing-rates", map[string]any{"effective_from": "2024-01-01", "rate": "0.0435"}); r.Status != 403 {
		t.Fatalf("accountant adds a rate: %d", r.Status)
	}
	r1 := e.must(201, e.do(w.admin, "POST", "/api/v1/financing-rates", map[string]any{"effective_from": "2024-01-01", "rate": "0.0435"})).Body
	e.must(201, e.do(w.admin, "POST", "/api/v1/financing-rates", map[string]any{"effective_from": "2024-06-01", "rate": "0.04", "note": "下调"}))
	if r := e.do(w.admin, "POST", "/api/v1/financing-rates", map[string]any{"effective_from": "2024-06-01", "rate": "0.05"}); r.Status != 409 {
		t.Fatalf("second rate on a date: %d %s", r.Status, r.Raw)
	}
	if r := e.do(w.admin, "POST", "/api/v1/financing-rates", map[string]any{"effective_from": "2024-07-01", "rate": "4.35"}); r.Status != 400 {
		t.Fatalf("rate of 435%%: %d %s", r.Status, r.Raw)
	}
	list := e.must(200, e.do(w.acct, "GET", "/api/v1/financing-rates", nil)).Body["items"].([]any)
	if len(list) != 2 || list[0].(map[string]any)["rate"] != "0.04" {
		t.Fatalf("rates = %v", list)
	}

	path := "/api/v1/projects/" + itoa(w.projA) + "/establishment"
	b := e.must(200, e.do(w.acct, "PUT", path, r1Terms(0))).Body
	if b["financing_rate"] != "0.0435" || b["rate_in_force"] != "0.0435" || b["rate_overridden"] != false || b["rate_in_force_from"] != "2024-01-01" {
		t.Fatalf("rate in force: %v", b)
	}
	b = e.must(200, e.do(w.acct, "PUT", path, with(r1Terms(1), "financing_rate", "0.05"))).Body
	trace := b["trace"].([]any)
	step := trace[len(trace)-1].(map[string]any)
	if b["financing_rate"] != "0.05" || b["rate_in_force"] != "0.0435" || b["rate_overridden"] != true ||
		step["figure"] != "financing_rate" || step["inputs"].(map[string]any)["rate_in_force"] != "4.35%" || !strings.Contains(step["note"].(string), "手工调整") {
		t.Fatalf("override: %v", b)
	}

	// Editing and deleting a rate: versioned.
	id := itoa(int64(r1["id"].(float64)))
	if r := e.do(w.admin, "PUT", "/api/v1/financing-rates/"+id, map[string]any{"effective_from": "2024-01-01", "rate": "0.045", "version": 2}); r.Status != 409 {
		t.Fatalf("stale rate edit: %d", r.Status)
	}
	e.must(200, e.do(w.admin, "PUT", "/api/v1/financing-rates/"+id, map[string]any{"effective_from": "2024-01-01", "rate": "0.045", "version": 1}))
	if b := e.must(200, e.do(w.acct, "GET", path, nil)).Body; b["rate_in_force"] != "0.045" || b["financing_rate"] != "0.05" {
		t.Fatalf("after the table changed: %v", b)
	}
	e.must(204, e.do(w.admin, "DELETE", "/api/v1/financing-rates/"+id+"?version=2", nil))
}

func TestShareholdingVersionsOverHTTP(t *testing.T) {
	e := newEnv(t)
	w := e.mustEstWorld()
	path := "/api/v1/projects/" + itoa(w.projA) + "/shareholding"
	holders := func(stakes ...string) []map[string]string {
		names := []string{"锦艺置业", "合作方甲", "常州锦艺合伙企业"}
		kinds := []string{"group", "cooperator", "partnership"}
		var out []map[string]string
		for i, s := range stakes {
			out = append(out, map[string]string{"name": names[i], "kind": kinds[i], "stake": s})
		}
		return out
	}
	before := fingerprint(t, e.db)
	r := e.do(w.acct, "PUT", path, map[string]any{"effective_on": "2019-10-21", "shareholders": holders("0.51", "0.39", "0.09"), "version": 0})
	if r.Status != 422 || r.errCode() != "stakes_not_whole" || !strings.Contains(string(r.Raw), "持股比例合计须为100%，现为99%") {
		t.Fatalf("Σ 99%%: %d %s", r.Status, r.Raw)
	}
	if fingerprint(t, e.db) != before {
		t.Fatal("refused shareholding changed the database")
	}
	v1 := e.must(200, e.do(w.acct, "PUT", path, map[string]any{"effective_on": "2019-10-21", "shareholders": holders("0.51", "0.39", "0.1"), "version": 0})).Body
	if v1["version"].(float64) != 1 || v1["created_by_name"] != "环沪会计" || len(v1["shareholders"].([]any)) != 3 {
		t.Fatalf("v1 = %v", v1)
	}
	if r := e.do(w.acct, "PUT", path, map[string]any{"effective_on": "2020-05-27", "shareholders": holders("1"), "version": 0}); r.Status != 409 {
		t.Fatalf("stale: %d", r.Status)
	}
	e.must(200, e.do(w.acct, "PUT", path, map[string]any{"effective_on": "2020-05-27", "reason": "峰值变更", "shareholders": holders("0.6", "0.4"), "version": 1}))
	cur := e.must(200, e.do(w.acct, "GET", path, nil)).Body
	vs := e.must(200, e.do(w.acct, "GET", path+"/versions", nil)).Body["items"].([]any)
	if cur["version"].(float64) != 2 || len(vs) != 2 || vs[1].(map[string]any)["effective_on"] != "2019-10-21" {
		t.Fatalf("current %v versions %v", cur, vs)
	}
	if r := e.do(w.other, "GET", path+"/versions", nil); r.Status != 404 {
		t.Fatalf("ungranted versions: %d", r.Status)
	}
}

// The peak_capital process launched from Hehuo and agreed in DingTalk locks
// the peak capital and the tier ratios; the funding date stays editable.
func TestPeakLockedAfterPeakCapitalAgreed(t *testing.T) {
	e := newEnv(t)
	w := e.mustEstWorld()
	path := "/api/v1/projects/" + itoa(w.projA) + "/establishment"
	e.must(200, e.do(w.acct, "PUT", path, r1Terms(0)))
	// The accountant launches in DingTalk as themselves.
	e.sim.AddUser(dtsim.User{UserID: "dt_环沪会计", Name: "环沪会计"})
	launched := e.must(201, e.do(w.acct, "POST", "/api/v1/projects/"+itoa(w.projA)+"/processes", map[string]any{
		"kind": "peak_capital", "subject_id": 0, "form": map[string]string{"情况说明": "资金峰值确认"},
	})).Body
	inst, _ := launched["instance_id"].(string)
	if inst == "" {
		t.Fatalf("launch = %v", launched)
	}
	if r := e.do(w.acct, "PUT", path, with(r1Terms(1), "peak_capital", "200000000.00")); r.Status != 409 || r.errCode() != "peak_in_approval" {
		t.Fatalf("peak change in approval: %d %s", r.Status, r.Raw)
	}
	ev, err := e.sim.Decide(inst, "agree")
	if err != nil {
		t.Fatal(err)
	}
	// Deliver the approval event the way the stream bot does.
	payload := fmt.Sprintf(`{"processInstanceId":%q,"type":"finish","result":"agree"}`, inst)
	if _, err := e.wire.Inbox.Accept(context.Background(), ev, workflow.EventInstanceChange, e.sim.DingTalkConfig().CorpID, []byte(payload)); err != nil {
		t.Fatal(err)
	}
	b := e.must(200, e.do(w.acct, "GET", path, nil)).Body
	if b["peak_locked"] != true {
		t.Fatalf("after agreement: %v", b)
	}
	before := fingerprint(t, e.db)
	for _, body := range []map[string]any{
		with(r1Terms(1), "peak_capital", "200000000.00"),
		with(r1Terms(1), "tier_ratios", map[string]string{"holding": "0", "property": "0.0331", "city": "0.007", "other": "0"}),
	} {
		if r := e.do(w.acct, "PUT", path, body); r.Status != 409 || r.errCode() != "peak_locked" {
			t.Errorf("locked change: %d %s", r.Status, r.Raw)
		}
	}
	if fingerprint(t, e.db) != before {
		t.Fatal("refused changes of locked terms changed the database")
	}
	e.must(200, e.do(w.acct, "PUT", path, with(r1Terms(1), "funding_date", "2024-04-01")))
}

func TestMilestonesIndicatorsAndKPIExport(t *testing.T) {
	e := newEnv(t)
	w := e.mustEstWorld()
	base := "/api/v1/projects/" + itoa(w.projA)
	e.must(200, e.do(w.acct, "PUT", base+"/establishment", r1Terms(0)))
	ms := e.must(200, e.do(w.acct, "PUT", base+"/milestones", map[string]any{"milestones": []map[string]string{
		{"node": "construction_start", "planned_on": "2019-12-01", "actual_on": "2019-12-20"},
		{"node": "sales_launch", "planned_on": "2020-05-01"},
	}, "version": 0})).Body
	if ms["version"].(float64) != 1 || len(ms["milestones"].([]any)) < 5 {
		t.Fatalf("milestones = %v", ms)
	}
	if r := e.do(w.acct, "PUT", base+"/milestones", map[string]any{"milestones": []map[string]string{{"node": "封顶"}}, "version": 1}); r.Status != 400 {
		t.Fatalf("unknown node: %d", r.Status)
	}
	ind := e.must(200, e.do(w.acct, "PUT", base+"/profit-indicators", map[string]any{
		"sales_revenue": "1500000000.00", "net_profit": "150000000.00", "group_net_profit": "135000000.00",
		"net_margin": "0.1", "irr": "0.1825", "payback_months": 30, "version": 0,
	})).Body
	if ind["net_profit"] != "150000000.00" || ind["irr"] != "0.1825" {
		t.Fatalf("indicators = %v", ind)
	}
	e.must(200, e.do(w.acct, "PUT", base+"/basic-info", map[string]any{"address": "常州市武进区", "land_area": "52000.5", "version": 0}))
	e.must(200, e.do(w.other, "PUT", "/api/v1/projects/"+itoa(w.projB)+"/establishment", with(r1Terms(0), "peak_capital", "100000000.00")))

	sheet := func(token string) [][]string {
		t.Helper()
		r := e.must(200, e.do(token, "GET", "/api/v1/tools/kpi-export.xlsx", nil))
		if !strings.Contains(r.Header.Get("Content-Type"), "spreadsheetml") {
			t.Fatalf("content type %s", r.Header.Get("Content-Type"))
		}
		x, err := excelize.OpenReader(bytes.NewReader(r.Raw))
		if err != nil {
			t.Fatal(err)
		}
		rows, err := x.GetRows("盈利KPI指标", excelize.Options{RawCellValue: true})
		if err != nil {
			t.Fatal(err)
		}
		return rows
	}
	// The accountant of city A sees its two projects; the admin all three.
	rows := sheet(w.acct)
	if len(rows) != 3 || rows[1][3] != "常州项目" || rows[2][3] != "靖江项目" {
		t.Fatalf("accountant's rows = %v", rows)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	a := rows[1]
	if a[col["资金峰值"]] != "220000000" || a[col["跟投总额"]] != "8602000" || a[col["合伙投资占比"]] != "0.0391" ||
		a[col["净利润"]] != "150000000" || a[col["全投资IRR"]] != "0.1825" || a[col["开工（实际）"]] != "2019-12-20" ||
		a[col["开盘（计划）"]] != "2020-05-01" || a[col["城市公司"]] != "环沪城市公司" {
		t.Errorf("row of 常州项目 = %v", a)
	}
	if len(rows[2]) > col["资金峰值"] && rows[2][col["资金峰值"]] != "" {
		t.Errorf("a project without terms shows a peak: %v", rows[2])
	}
	all := sheet(w.admin)
	if len(all) != 4 || all[3][3] != "昆明-城市之光" || all[3][col["跟投总额"]] != "3910000" {
		t.Errorf("admin's rows = %v", all)
	}
	if r := e.do(w.partner, "GET", "/api/v1/tools/kpi-export.xlsx", nil); r.Status != 403 {
		t.Errorf("partner export: %d", r.Status)
	}
}
