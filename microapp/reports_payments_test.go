package microapp_test

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/shopspring/decimal"
	"github.com/xuri/excelize/v2"

	"hehuo/internal/audit"
	"hehuo/internal/civil"
	"hehuo/internal/establishment"
	"hehuo/internal/holding/holdingtest"
	"hehuo/internal/payment"
)

// 立项及缴款汇总表 over HTTP: the R4 world paid through 缴款确认, the report's
// figures equal to GET /rounds/{id}/payments (and so the ledger), the
// caller's scope only, partners kept out, and both workbooks.
func TestEstablishmentPaymentsReportOverHTTP(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	admin := e.admin()
	w := e.mustWorld(admin)
	acctID, acct := e.mustUser("城市会计乙", "accountant")
	_, partnerTok := e.mustUser("合伙人甲")
	e.must(200, e.do(admin, "PUT", "/api/v1/org-units/"+itoa(w.cityB)+"/grants",
		map[string]any{"grants": []map[string]any{{"role": "accountant", "user_ids": []int64{acctID}}}}))
	if _, err := e.deps.Establishment.PutTerms(ctx, audit.System, w.projA, establishment.TermsInput{
		PeakCapital: "220000000", TierRatios: establishment.TierRatios{Holding: "0", Property: "0.0331", City: "0.006", Other: "0"},
		FundingDate: civil.Date{Year: 2024, Month: 3, Day: 1}, FinancingRate: "0.0435",
	}); err != nil {
		t.Fatal(err)
	}
	alloc := map[int64]string{}
	var users []int64
	for i, a := range []string{"500000", "300000", "297143", "222857"} {
		uid, _ := e.mustUser(fmt.Sprintf("缴款人%c", 'A'+i))
		users = append(users, uid)
		alloc[holdingtest.Partner(t, e.db, uid)] = a
	}
	round := holdingtest.Round(t, e.db, w.projA, "approved", alloc)
	// R4's payments, C only in part: the interest of what was paid.
	for i, c := range []struct{ amount, on string }{
		{"500000", "2024-03-01"}, {"300000", "2024-03-20"}, {"100000", "2024-04-15"}, {"222857", "2024-03-31"},
	} {
		on, _ := civil.Parse(c.on)
		if _, err := e.deps.Payments.Confirm(ctx, audit.System, round, fmt.Sprint("rep-", i), payment.Input{UserID: users[i], Amount: c.amount, PaidOn: on}); err != nil {
			t.Fatal(err)
		}
	}
	list := e.must(200, e.do(admin, "GET", "/api/v1/rounds/"+itoa(round)+"/payments", nil))
	wantInterest := decimal.Zero
	for _, it := range list.Body["items"].([]any) {
		wantInterest = wantInterest.Add(dec(t, it.(map[string]any)["capital_interest"]))
	}

	r := e.must(200, e.do(admin, "GET", "/api/v1/reports/establishment-payments?project_id="+itoa(w.projA), nil))
	items := r.Body["items"].([]any)
	if len(items) != 1 {
		t.Fatalf("items = %v", items)
	}
	row := items[0].(map[string]any)
	if row["allocated"] != list.Body["allocated"] || row["paid"] != list.Body["paid"] || row["unpaid"] != list.Body["outstanding"] ||
		row["paid"] != "1122857.00" || row["paid_ratio"] != "0.8506" || row["pool_city"] != "0.00" || row["interest"] != wantInterest.StringFixed(2) || wantInterest.IsZero() {
		t.Fatalf("row = %v\nlist = %v (interest %s)", row, list.Body, wantInterest)
	}

	// Scope: city B's accountant sees only project B, project A is 404; a partner is refused.
	mine := e.must(200, e.do(acct, "GET", "/api/v1/reports/establishment-payments", nil))
	var got []int64
	for _, it := range mine.Body["items"].([]any) {
		got = append(got, int64(it.(map[string]any)["project_id"].(float64)))
	}
	if !slices.Equal(got, []int64{w.projB}) {
		t.Fatalf("accountant sees %v", got)
	}
	for _, path := range []string{"/api/v1/reports/establishment-payments", "/api/v1/reports/establishment-payments.xlsx", "/api/v1/tools/payments-export.xlsx"} {
		if r := e.do(acct, "GET", path+"?project_id="+itoa(w.projA), nil); r.Status != 404 {
			t.Fatalf("%s ungranted: %d %s", path, r.Status, r.Raw)
		}
		if r := e.do(partnerTok, "GET", path, nil); r.Status != 403 {
			t.Fatalf("%s partner: %d", path, r.Status)
		}
		if r := e.do(admin, "GET", path+"?batch_id=x", nil); r.Status != 400 || r.errCode() != "invalid_parameter" {
			t.Fatalf("%s bad filter: %d %s", path, r.Status, r.Raw)
		}
	}

	x := e.must(200, e.do(admin, "GET", "/api/v1/reports/establishment-payments.xlsx", nil))
	f, err := excelize.OpenReader(bytes.NewReader(x.Raw))
	if err != nil {
		t.Fatal(err)
	}
	rows, _ := f.GetRows("立项及缴款汇总表")
	if len(rows) != 5 || rows[0][10] != "未缴款" || rows[4][0] != "合计" || rows[4][9] != "1,122,857.00" {
		t.Fatalf("summary sheet = %q", rows)
	}
	x = e.must(200, e.do(admin, "GET", "/api/v1/tools/payments-export.xlsx?project_id="+itoa(w.projA), nil))
	if f, err = excelize.OpenReader(bytes.NewReader(x.Raw)); err != nil {
		t.Fatal(err)
	}
	rows, _ = f.GetRows("缴款信息")
	if len(rows) != 5 || rows[3][3] != "缴款人C" || rows[3][8] != "197,143.00" || rows[3][9] != "部分缴款" {
		t.Fatalf("export sheet = %q", rows)
	}
}
