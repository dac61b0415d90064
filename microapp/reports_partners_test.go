package microapp_test

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/jmoiron/sqlx"
	"github.com/xuri/excelize/v2"

	"hehuo/internal/audit"
	"hehuo/internal/civil"
	"hehuo/internal/establishment"
	"hehuo/internal/holding/holdingtest"
	"hehuo/internal/partner"
	"hehuo/internal/payment"
)

// partnersWorld: project A (city A) with 甲 paid through 缴款确认 late (R4
// interest), part of it returned and profit paid, and 丙 allocated but
// unpaid; project A1 (city A1, below A) with 乙 paid, repaid in full and
// flagged 退 and 离; project B (city B) with 甲 paid.
type partnersWorld struct {
	world
	admin, acctA, acctB, partnerTok string
	jia, yi, bing                   int64 // partners
	interest                        string
}

func (e *env) partnersWorld() partnersWorld {
	t := e.t
	ctx := context.Background()
	pw := partnersWorld{admin: e.admin()}
	pw.world = e.mustWorld(pw.admin)
	acctA, acctA1 := e.mustUser("环沪会计", "accountant")
	acctB, acctB1 := e.mustUser("昆明会计", "accountant")
	pw.acctA, pw.acctB = acctA1, acctB1
	e.must(200, e.do(pw.admin, "PUT", "/api/v1/org-units/"+itoa(pw.cityA)+"/grants",
		map[string]any{"grants": []map[string]any{{"role": "accountant", "user_ids": []int64{acctA}}}}))
	e.must(200, e.do(pw.admin, "PUT", "/api/v1/org-units/"+itoa(pw.cityB)+"/grants",
		map[string]any{"grants": []map[string]any{{"role": "accountant", "user_ids": []int64{acctB}}}}))
	if _, err := e.deps.Establishment.PutTerms(ctx, audit.System, pw.projA, establishment.TermsInput{
		PeakCapital: "220000000", TierRatios: establishment.TierRatios{Holding: "0", Property: "0.0331", City: "0.006", Other: "0"},
		FundingDate: civil.Date{Year: 2024, Month: 3, Day: 1}, FinancingRate: "0.0435",
	}); err != nil {
		t.Fatal(err)
	}
	jiaUser, _ := e.mustUser("合伙人甲")
	yiUser, _ := e.mustUser("合伙人乙")
	bingUser, tok := e.mustUser("合伙人丙")
	pw.partnerTok = tok
	pw.jia, pw.yi, pw.bing = holdingtest.Partner(t, e.db, jiaUser), holdingtest.Partner(t, e.db, yiUser), holdingtest.Partner(t, e.db, bingUser)

	roundA := holdingtest.Round(t, e.db, pw.projA, "approved", map[int64]string{pw.jia: "300000", pw.bing: "100000"})
	if _, err := e.deps.Payments.Confirm(ctx, audit.System, roundA, "partners-jia", payment.Input{UserID: jiaUser, Amount: "300000",
		PaidOn: civil.Date{Year: 2024, Month: 3, Day: 20}}); err != nil {
		t.Fatal(err)
	}
	holdingtest.ReturnPrincipal(t, e.db, pw.projA, pw.jia, "50000.00")
	holdingtest.PayProfit(t, e.db, pw.projA, pw.jia, "12345.67")

	holdingtest.Round(t, e.db, pw.projA1, "approved", map[int64]string{pw.yi: "200000"})
	holdingtest.Pay(t, e.db, pw.projA1, pw.yi, "200000.00")
	holdingtest.ReturnPrincipal(t, e.db, pw.projA1, pw.yi, "200000.00")
	if err := e.db.InTx(ctx, func(tx *sqlx.Tx) error {
		return partner.MarkFlags(ctx, tx, pw.yi, true, true, civil.Date{Year: 2026, Month: 6, Day: 30})
	}); err != nil {
		t.Fatal(err)
	}

	holdingtest.Round(t, e.db, pw.projB, "approved", map[int64]string{pw.jia: "150000"})
	holdingtest.Pay(t, e.db, pw.projB, pw.jia, "150000.00")

	// 甲's capital interest as 缴款确认 shows it: 300,000 × 4.35% × 19 / 365.
	list := e.must(200, e.do(pw.admin, "GET", "/api/v1/rounds/"+itoa(roundA)+"/payments", nil))
	for _, it := range list.Body["items"].([]any) {
		if m := it.(map[string]any); m["name"] == "合伙人甲" {
			pw.interest = str(m["capital_interest"])
		}
	}
	return pw
}

// partnerRows keys a report page's rows by partner id and project id.
func partnerRows(t *testing.T, r response) map[[2]int64]map[string]any {
	t.Helper()
	out := map[[2]int64]map[string]any{}
	for _, it := range r.Body["items"].([]any) {
		m := it.(map[string]any)
		out[[2]int64{num(m["partner_id"]), num(m["project_id"])}] = m
	}
	return out
}

// 员工合伙信息查询表 over HTTP: every figure to the fen from
// internal/position, the statuses and flags, the filters (org unit with its
// sub-units, project, name), paging, scope, roles, bad input and the xlsx.
func TestPartnersReportOverHTTP(t *testing.T) {
	e := newEnv(t)
	pw := e.partnersWorld()
	if pw.interest != "-679.32" {
		t.Fatalf("甲's capital interest on 缴款确认 = %q, want -679.32", pw.interest)
	}

	all := e.must(200, e.do(pw.admin, "GET", "/api/v1/reports/partners", nil))
	statesLabelled(t, "/api/v1/reports/partners", all.Body)
	if num(all.Body["total"]) != 4 || num(all.Body["page"]) != 1 || num(all.Body["page_size"]) != 50 {
		t.Fatalf("answer = %v", all.Body)
	}
	if sts := all.Body["statuses"].([]any); len(sts) != 4 || sts[1].(map[string]any)["label"] != "在投" {
		t.Fatalf("statuses = %v", sts)
	}
	rows := partnerRows(t, all)
	want := map[[2]int64]map[string]any{
		{pw.jia, pw.projA}: {"principal": "300000.00", "paid": "300000.00", "interest": "-679.32", "returned": "50000.00",
			"held": "250000.00", "profit": "12345.67", "status": "active", "status_label": "在投", "exited": false, "left": false,
			"project_name": "常州项目", "city_company": "环沪城市公司", "partner_name": "合伙人甲"},
		{pw.jia, pw.projB}: {"principal": "150000.00", "paid": "150000.00", "interest": "0.00", "returned": "0.00",
			"held": "150000.00", "profit": "0.00", "status": "active"},
		{pw.bing, pw.projA}: {"principal": "100000.00", "paid": "0.00", "interest": "0.00", "held": "0.00", "status": "unpaid", "status_label": "待缴款"},
		{pw.yi, pw.projA1}: {"principal": "200000.00", "paid": "200000.00", "returned": "200000.00", "held": "0.00",
			"status": "exited", "status_label": "已退出", "exited": true, "left": true, "exited_on": "2026-06-30"},
	}
	if len(rows) != len(want) {
		t.Fatalf("rows = %v", rows)
	}
	for k, fields := range want {
		got := rows[k]
		for f, v := range fields {
			if got[f] != v {
				t.Errorf("row %v: %s = %v, want %v", k, f, got[f], v)
			}
		}
	}

	keys := func(r response) [][2]int64 {
		var out [][2]int64
		for _, it := range r.Body["items"].([]any) {
			m := it.(map[string]any)
			out = append(out, [2]int64{num(m["partner_id"]), num(m["project_id"])})
		}
		return out
	}
	// Paging: two pages of two, the same rows in the same order as one page.
	p1 := e.must(200, e.do(pw.admin, "GET", "/api/v1/reports/partners?page_size=2", nil))
	p2 := e.must(200, e.do(pw.admin, "GET", "/api/v1/reports/partners?page_size=2&page=2", nil))
	p3 := e.must(200, e.do(pw.admin, "GET", "/api/v1/reports/partners?page_size=2&page=3", nil))
	if got := append(keys(p1), keys(p2)...); !slices.Equal(got, keys(all)) || num(p2.Body["total"]) != 4 ||
		len(p3.Body["items"].([]any)) != 0 || num(p3.Body["total"]) != 4 {
		t.Fatalf("pages %v + %v (then %v), want %v", keys(p1), keys(p2), p3.Body, keys(all))
	}

	// Filters: the org unit with its sub-units, one project, a name.
	for _, c := range []struct {
		query string
		want  [][2]int64
	}{
		{"org_unit_id=" + itoa(pw.cityA), [][2]int64{{pw.jia, pw.projA}, {pw.bing, pw.projA}, {pw.yi, pw.projA1}}},
		{"org_unit_id=" + itoa(pw.cityA1), [][2]int64{{pw.yi, pw.projA1}}},
		{"org_unit_id=" + itoa(pw.group), [][2]int64{{pw.jia, pw.projA}, {pw.jia, pw.projB}, {pw.bing, pw.projA}, {pw.yi, pw.projA1}}},
		{"project_id=" + itoa(pw.projB), [][2]int64{{pw.jia, pw.projB}}},
		{"name=" + "%E7%94%B2", [][2]int64{{pw.jia, pw.projA}, {pw.jia, pw.projB}}}, // 甲
		{"name=%E7%94%B2&org_unit_id=" + itoa(pw.cityB), [][2]int64{{pw.jia, pw.projB}}},
		{"name=nobody", nil},
	} {
		got := keys(e.must(200, e.do(pw.admin, "GET", "/api/v1/reports/partners?"+c.query, nil)))
		slices.SortFunc(got, cmpKey)
		slices.SortFunc(c.want, cmpKey)
		if !slices.Equal(got, c.want) {
			t.Errorf("%s: rows %v, want %v", c.query, got, c.want)
		}
	}

	// Scope: city B's accountant sees project B's row only, project A is 404;
	// city A's accountant sees A and A1 (below A), not B.
	if got := keys(e.must(200, e.do(pw.acctB, "GET", "/api/v1/reports/partners", nil))); !slices.Equal(got, [][2]int64{{pw.jia, pw.projB}}) {
		t.Fatalf("city B's accountant sees %v", got)
	}
	gotA := keys(e.must(200, e.do(pw.acctA, "GET", "/api/v1/reports/partners", nil)))
	if len(gotA) != 3 || slices.Contains(gotA, [2]int64{pw.jia, pw.projB}) {
		t.Fatalf("city A's accountant sees %v", gotA)
	}
	if got := keys(e.must(200, e.do(pw.acctB, "GET", "/api/v1/reports/partners?org_unit_id="+itoa(pw.cityA), nil))); len(got) != 0 {
		t.Fatalf("city B's accountant filtering city A sees %v", got)
	}
	for _, path := range []string{"/api/v1/reports/partners", "/api/v1/reports/partners.xlsx"} {
		if r := e.do(pw.acctB, "GET", path+"?project_id="+itoa(pw.projA), nil); r.Status != 404 {
			t.Fatalf("%s ungranted: %d %s", path, r.Status, r.Raw)
		}
		if r := e.do(pw.partnerTok, "GET", path, nil); r.Status != 403 {
			t.Fatalf("%s partner: %d", path, r.Status)
		}
		for _, q := range []string{"org_unit_id=abc", "project_id=-1", "name=" + strings.Repeat("%E7%94%B2", 41)} {
			if r := e.do(pw.admin, "GET", path+"?"+q, nil); r.Status != 400 || r.errCode() != "invalid_parameter" {
				t.Fatalf("%s?%s: %d %s", path, q, r.Status, r.Raw)
			}
		}
		if r := e.do(pw.admin, "GET", path+"?org_unit_id=987654", nil); r.Status != 404 {
			t.Fatalf("%s unknown org unit: %d %s", path, r.Status, r.Raw)
		}
	}
	for _, q := range []string{"page=0", "page=x", "page_size=-3"} {
		if r := e.do(pw.admin, "GET", "/api/v1/reports/partners?"+q, nil); r.Status != 400 || r.errCode() != "invalid_parameter" {
			t.Fatalf("?%s: %d %s", q, r.Status, r.Raw)
		}
	}

	// The workbook: every row (no paging), the same figures, a total row.
	x := e.must(200, e.do(pw.acctA, "GET", "/api/v1/reports/partners.xlsx?page_size=1", nil))
	f, err := excelize.OpenReader(bytes.NewReader(x.Raw))
	if err != nil {
		t.Fatal(err)
	}
	sheet, _ := f.GetRows("员工合伙信息查询表")
	if len(sheet) != 5 || sheet[0][5] != "认缴本金" || sheet[4][0] != "合计" || sheet[4][5] != "600,000.00" ||
		sheet[4][9] != "250,000.00" || sheet[4][10] != "12,345.67" || sheet[4][7] != "-679.32" {
		t.Fatalf("sheet = %q", sheet)
	}
	var yiLine []string
	for _, r := range sheet {
		if r[0] == "合伙人乙" {
			yiLine = r
		}
	}
	if len(yiLine) != 14 || yiLine[3] != "靖江项目" || yiLine[11] != "已退出" || yiLine[12] != "退" || yiLine[13] != "离" {
		t.Fatalf("乙's line = %q", yiLine)
	}
}

func cmpKey(a, b [2]int64) int {
	if a[0] != b[0] {
		return int(a[0] - b[0])
	}
	return int(a[1] - b[1])
}
