package microapp_test

import (
	"bytes"
	"slices"
	"testing"

	"github.com/xuri/excelize/v2"

	"hehuo/internal/holding/holdingtest"
	"hehuo/internal/opening/openingtest"
)

// 分配汇总表 over HTTP: project A holds the seed's 34 opening balances, an
// approved principal batch with the seed's E column (two lines paid, their
// principal returned on the ledger) and a manual first profit batch with
// the seed's F column; project B one payment. The JSON to the fen, the
// group total, the caller's scope, and the xlsx read back.
func TestDistributionSummaryReportOverHTTP(t *testing.T) {
	e := newEnv(t)
	admin := e.admin()
	w := e.mustWorld(admin)
	acctID, acct := e.mustUser("城市会计乙", "accountant")
	e.must(200, e.do(admin, "PUT", "/api/v1/org-units/"+itoa(w.cityB)+"/grants",
		map[string]any{"grants": []map[string]any{{"role": "accountant", "user_ids": []int64{acctID}}}}))
	_, partnerTok := e.mustUser("合伙人甲")

	im := openingtest.Import(t, e.db, w.projA)
	// The principal batch at 100%: E = A + B per line (C empty), the seed's D column.
	var principal, profit int64
	e.db.Get(&principal, `INSERT INTO distribution_batches (project_id, kind, seq, status, distribution_date, return_ratio, created_by_name)
		VALUES ($1, 'principal', 1, 'approved', '2020-06-19', 1, 'test') RETURNING id`, w.projA)
	for i, r := range im.Rows {
		e.db.MustExec(`INSERT INTO distribution_lines (batch_id, partner_id, user_id, payee_partner_id, seq, a, b, d, e)
			VALUES ($1, $2, $3, $2, $4, $5, $6, $5::numeric + $6::numeric, $5::numeric + $6::numeric)`,
			principal, im.Partners[i], im.UserIDs[i], i+1, r.Paid, r.Interest)
	}
	// Two lines paid out (安景和 436,609.50; 柏若川 177,366.50), their principal returned on the ledger.
	e.db.MustExec(`UPDATE distribution_lines SET paid_on = '2020-06-20', paid_amount = e WHERE batch_id = $1 AND seq IN (1, 2)`, principal)
	holdingtest.ReturnPrincipal(t, e.db, w.projA, im.Partners[0], "746428.00")
	holdingtest.ReturnPrincipal(t, e.db, w.projA, im.Partners[1], "288940.00")
	// The first profit batch, entered by hand: the seed's F column (柏若川, 冯予安, 高念慈).
	e.db.Get(&profit, `INSERT INTO distribution_batches (project_id, kind, seq, status, distribution_date, created_by_name)
		VALUES ($1, 'profit', 1, 'saved', '2020-01-01', 'test') RETURNING id`, w.projA)
	for i, f := range map[int]string{1: "111573.50", 8: "10199.50", 9: "10207.42"} {
		e.db.MustExec(`INSERT INTO distribution_lines (batch_id, partner_id, user_id, payee_partner_id, seq, f, manual, manual_by_name)
			VALUES ($1, $2, $3, $2, $4, $5, true, '会计')`, profit, im.Partners[i], im.UserIDs[i], i+1, f)
	}
	holdingtest.PayProfit(t, e.db, w.projA, im.Partners[1], "111573.50")
	// Project B: one payment of 1,000.50.
	uid, _ := e.mustUser("昆明合伙人")
	holdingtest.Pay(t, e.db, w.projB, holdingtest.Partner(t, e.db, uid), "1000.50")

	r := e.must(200, e.do(admin, "GET", "/api/v1/reports/distribution-summary?project_id="+itoa(w.projA), nil))
	items := r.Body["items"].([]any)
	if len(items) != 1 {
		t.Fatalf("items = %v", items)
	}
	a := items[0].(map[string]any)
	if a["principal_paid"] != "8570917.00" || a["principal_returned"] != "1035368.00" || a["profit_distributed"] != "111573.50" ||
		a["profit_paid"] != "111573.50" || a["e"] != "7450937.95" || a["f"] != "131980.42" || a["paid"] != "613976.00" {
		t.Fatalf("project A = %v", a)
	}
	ds := a["distributions"].([]any)
	p0, p1 := ds[0].(map[string]any), ds[1].(map[string]any)
	if len(ds) != 2 || p0["title"] != "本金分配" || p0["distribution_date"] != "2020-06-19" || p0["status_label"] != "已审批待支付" ||
		p0["e"] != "7450937.95" || p0["f"] != "0.00" || p0["paid"] != "613976.00" || p0["lines"] != float64(34) ||
		p1["title"] != "第1次利润分配(手工)" || p1["status"] != "saved" || p1["f"] != "131980.42" || p1["paid"] != "0.00" {
		t.Fatalf("distributions = %v", ds)
	}

	// Group-wide: every project, the total row over them.
	all := e.must(200, e.do(admin, "GET", "/api/v1/reports/distribution-summary", nil))
	total := all.Body["total"].(map[string]any)
	if len(all.Body["items"].([]any)) != 3 || total["principal_paid"] != "8571917.50" || total["principal_returned"] != "1035368.00" ||
		total["e"] != "7450937.95" || total["f"] != "131980.42" || total["paid"] != "613976.00" {
		t.Fatalf("total = %v", total)
	}
	// Scope: city B's accountant sees only project B; project A is 404; a partner is refused.
	mine := e.must(200, e.do(acct, "GET", "/api/v1/reports/distribution-summary", nil))
	var got []int64
	for _, it := range mine.Body["items"].([]any) {
		got = append(got, int64(it.(map[string]any)["project_id"].(float64)))
	}
	if !slices.Equal(got, []int64{w.projB}) || mine.Body["total"].(map[string]any)["principal_paid"] != "1000.50" {
		t.Fatalf("accountant sees %v %v", got, mine.Body["total"])
	}
	for _, path := range []string{"/api/v1/reports/distribution-summary", "/api/v1/reports/distribution-summary.xlsx"} {
		if r := e.do(acct, "GET", path+"?project_id="+itoa(w.projA), nil); r.Status != 404 {
			t.Fatalf("%s ungranted: %d %s", path, r.Status, r.Raw)
		}
		if r := e.do(partnerTok, "GET", path, nil); r.Status != 403 {
			t.Fatalf("%s partner: %d", path, r.Status)
		}
	}

	x := e.must(200, e.do(admin, "GET", "/api/v1/reports/distribution-summary.xlsx", nil))
	f, err := excelize.OpenReader(bytes.NewReader(x.Raw))
	if err != nil {
		t.Fatal(err)
	}
	rows, _ := f.GetRows("分配汇总表")
	// Header, three project rows, two batch rows, the total.
	if len(rows) != 7 || rows[0][10] != "本金分配(含其它)" {
		t.Fatalf("sheet = %q", rows)
	}
	var batchRows [][]string
	for _, row := range rows[1:6] {
		if row[3] != "项目合计" {
			batchRows = append(batchRows, row)
		} else if row[0] == "常州项目" && (row[6] != "8,570,917.00" || row[7] != "1,035,368.00" || row[10] != "7,450,937.95" || row[11] != "131,980.42") {
			t.Fatalf("project A row = %q", row)
		}
	}
	if len(batchRows) != 2 || batchRows[0][3] != "本金分配" || batchRows[0][4] != "2020-06-19" || batchRows[0][12] != "613,976.00" ||
		batchRows[1][3] != "第1次利润分配(手工)" || batchRows[1][11] != "131,980.42" {
		t.Fatalf("batch rows = %q", batchRows)
	}
	if last := rows[6]; last[0] != "合计" || last[6] != "8,571,917.50" || last[10] != "7,450,937.95" || last[11] != "131,980.42" || last[12] != "613,976.00" {
		t.Fatalf("total row = %q", last)
	}
}
