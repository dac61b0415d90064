package opening_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/xuri/excelize/v2"

	"hehuo/internal/apperr"
	"hehuo/internal/audit"
	"hehuo/internal/civil"
	"hehuo/internal/db"
	"hehuo/internal/db/dbtest"
	"hehuo/internal/establishment"
	"hehuo/internal/holding/holdingtest"
	"hehuo/internal/ledger/ledgertest"
	"hehuo/internal/opening"
	"hehuo/internal/opening/openingtest"
	"hehuo/internal/payment"
	"hehuo/internal/position"
)

func setup(t *testing.T) (*db.DB, int64) {
	t.Helper()
	d := dbtest.New(t)
	t.Cleanup(func() { ledgertest.AssertReconciles(t, d) })
	city := holdingtest.CityCompany(t, d, "环沪城市公司")
	return d, holdingtest.Project(t, d, city, "泰安-锦艺誉峯")
}

// The seed's 34 partners imported: totals A and B, the ledger reconciles,
// and internal/position shows Paid − Returned = A and Interest = B for
// every partner to the fen, with the 退/离 flags on the partners.
func TestSeedImportShowsAAndBInPositions(t *testing.T) {
	d, proj := setup(t)
	ctx := context.Background()
	im := openingtest.Import(t, d, proj)
	if im.Import.Rows != 34 || im.Import.Replayed {
		t.Fatalf("import = %+v", im.Import)
	}
	ledgertest.AssertReconciles(t, d)

	svc := opening.NewService(d)
	res, err := svc.Of(ctx, proj)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Items) != 34 || res.Totals.PrincipalPaid.String() != openingtest.SeedPaid || res.Totals.Interest.String() != openingtest.SeedInterest {
		t.Fatalf("totals = %+v (%d rows)", res.Totals, len(res.Items))
	}
	if it := res.Items[2]; it.Name != "蔡知微" || !it.Flags.Exited || !it.Flags.Left || it.RowNo != 4 {
		t.Fatalf("row 3 = %+v", it)
	}

	pos := position.NewService(d, establishment.NewService(d, nil))
	ps, err := pos.Positions(ctx, nil, position.Query{ProjectIDs: []int64{proj}, Interest: true})
	if err != nil {
		t.Fatal(err)
	}
	byPartner := map[int64]position.Position{}
	for _, p := range ps {
		byPartner[p.PartnerID] = p
	}
	var sumA, sumB decimal.Decimal
	for i, r := range im.Rows {
		p, ok := byPartner[im.Partners[i]]
		if !ok {
			t.Fatalf("%s has no position", r.Name)
		}
		a := p.Paid.Sub(p.Returned)
		if a.StringFixed(2) != r.Paid || p.Interest.StringFixed(2) != r.Interest || !p.ProfitAllocated.IsZero() {
			t.Errorf("%s: paid−returned %s interest %s, want %s %s", r.Name, a.StringFixed(2), p.Interest.StringFixed(2), r.Paid, r.Interest)
		}
		sumA, sumB = sumA.Add(a), sumB.Add(p.Interest)
	}
	if sumA.StringFixed(2) != openingtest.SeedPaid || sumB.StringFixed(2) != openingtest.SeedInterest {
		t.Fatalf("Σ A %s Σ B %s", sumA.StringFixed(2), sumB.StringFixed(2))
	}
	// One partner's position (我的跟投) carries the opening interest too.
	one, err := pos.Positions(ctx, nil, position.Query{PartnerID: im.Partners[0], Interest: true})
	if err != nil || len(one) != 1 || one[0].Interest.StringFixed(2) != "-309818.50" {
		t.Fatalf("partner position = %+v, %v", one, err)
	}
	var flags struct{ Exited, Left int }
	if err := d.Get(&flags, `SELECT count(exited_on) AS exited, count(left_on) AS left FROM partners WHERE id = ANY($1)`, im.Partners); err != nil {
		t.Fatal(err)
	}
	// 退: 安景和 … (22 rows carry 退), 离: 9 rows.
	var wantExited, wantLeft int
	for _, r := range im.Rows {
		if r.Exited {
			wantExited++
		}
		if r.Left {
			wantLeft++
		}
	}
	if flags.Exited != wantExited || flags.Left != wantLeft {
		t.Fatalf("flags = %+v, want %d 退 %d 离", flags, wantExited, wantLeft)
	}

	// The same file again: the first import, nothing posted.
	before := counts(t, d)
	again, err := svc.Import(ctx, audit.System, proj, "again.xlsx", bytes.NewReader(im.File))
	if err != nil || !again.Replayed || again.ID != im.Import.ID {
		t.Fatalf("again = %+v, %v", again, err)
	}
	if after := counts(t, d); after != before {
		t.Fatalf("replay wrote: %s → %s", before, after)
	}
	// Another file for the same project: 409 opening_exists.
	rows := openingtest.Seed()[:1]
	rows[0].Account = im.Rows[0].Account
	rows[0].Paid = "1.00"
	if _, err := svc.Import(ctx, audit.System, proj, "x.xlsx", bytes.NewReader(openingtest.XLSX(t, rows))); !errors.Is(err, opening.ErrExists) {
		t.Fatalf("second file: %v", err)
	}
}

// Returned principal and received profit go on the ledger and show in
// positions (paid, returned, profit allocated and paid).
func TestReturnedAndProfitPost(t *testing.T) {
	d, proj := setup(t)
	ctx := context.Background()
	rows, _ := openingtest.Users(t, d, []openingtest.Row{
		{Name: "甲", Paid: "100000.00", Interest: "-1234.56", Returned: "40000", Profit: "5000.10"},
		{Name: "乙", Paid: "50000", Interest: "", Returned: "", Profit: ""},
	})
	imp, err := opening.NewService(d).Import(ctx, audit.System, proj, "a.xlsx", bytes.NewReader(openingtest.XLSX(t, rows)))
	if err != nil {
		t.Fatal(err)
	}
	ps, err := position.NewService(d, nil).Positions(ctx, nil, position.Query{ProjectIDs: []int64{proj}, Interest: true})
	if err != nil || len(ps) != 2 {
		t.Fatalf("positions %+v %v", ps, err)
	}
	got := ps[0].Paid.StringFixed(2) + " " + ps[0].Returned.StringFixed(2) + " " + ps[0].ProfitAllocated.StringFixed(2) + " " +
		ps[0].ProfitPaid.StringFixed(2) + " " + ps[0].Interest.StringFixed(2) + " | " + ps[1].Paid.StringFixed(2) + " " + ps[1].Interest.StringFixed(2)
	if got != "100000.00 40000.00 5000.10 5000.10 -1234.56 | 50000.00 0.00" || imp.Rows != 2 {
		t.Fatalf("positions = %s", got)
	}
	var n int
	if err := d.Get(&n, `SELECT count(*) FROM ledger_transactions WHERE kind = 'opening_balance' AND project_id = $1`, proj); err != nil || n != 5 {
		t.Fatalf("opening transactions = %d, %v", n, err)
	}
}

// Bad files: 4xx naming row and column, nothing written.
func TestBadFilesChangeNothing(t *testing.T) {
	d, proj := setup(t)
	ctx := context.Background()
	svc := opening.NewService(d)
	rows, users := openingtest.Users(t, d, openingtest.Seed()[:3])
	cases := []struct {
		name   string
		edit   func(r []openingtest.Row)
		row    int
		column string
		msg    string
	}{
		{"unknown user", func(r []openingtest.Row) { r[1].Account = "nobody" }, 3, "钉钉账号", "不是合伙系统中的用户"},
		{"name mismatch", func(r []openingtest.Row) { r[0].Name = "别人" }, 2, "姓名", "姓名与钉钉账号不符"},
		{"three decimals", func(r []openingtest.Row) { r[2].Paid = "100.123" }, 4, "事业合伙本金(已缴)", "最多两位小数"},
		{"bad amount", func(r []openingtest.Row) { r[0].Paid = "abc" }, 2, "事业合伙本金(已缴)", "金额格式不正确"},
		{"zero paid", func(r []openingtest.Row) { r[0].Paid = "0" }, 2, "事业合伙本金(已缴)", "应大于 0"},
		{"positive interest", func(r []openingtest.Row) { r[1].Interest = "12.00" }, 3, "资金利息", "应为负数或 0"},
		{"returned over paid", func(r []openingtest.Row) { r[0].Returned = "999999999" }, 2, "已返还本金", "超过已缴本金"},
		{"duplicate partner", func(r []openingtest.Row) { r[2].Account = r[0].Account; r[2].Name = r[0].Name }, 4, "钉钉账号", "与第2行是同一合伙人"},
	}
	before := counts(t, d)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rs := append([]openingtest.Row(nil), rows...)
			c.edit(rs)
			_, err := svc.Import(ctx, audit.System, proj, "bad.xlsx", bytes.NewReader(openingtest.XLSX(t, rs)))
			e := apperr.As(err)
			if e == nil || e.Code != "import_invalid" || e.Kind != apperr.KindInvalid {
				t.Fatalf("err = %v", err)
			}
			details := e.Details.([]apperr.RowError)
			if len(details) != 1 || details[0].Row != c.row || details[0].Column != c.column || !strings.Contains(details[0].Message, c.msg) {
				t.Fatalf("details = %+v", details)
			}
			if after := counts(t, d); after != before {
				t.Fatalf("refused import wrote: %s → %s", before, after)
			}
		})
	}
	// A date outside civil's window and a bad 状态, in one file: both reported.
	file := badCells(t, rows, map[string]string{"D2": "1999-12-31", "H3": "跑"})
	_, err := svc.Import(ctx, audit.System, proj, "bad.xlsx", bytes.NewReader(file))
	e := apperr.As(err)
	if e == nil || e.Code != "import_invalid" {
		t.Fatalf("err = %v", err)
	}
	if d := e.Details.([]apperr.RowError); len(d) != 2 || d[0].Column != "缴款日期" || d[0].Row != 2 || d[1].Column != "状态" || d[1].Row != 3 {
		t.Fatalf("details = %+v", d)
	}

	// A project with payments: 422 project_has_payments, nothing written.
	partnerID := holdingtest.Partner(t, d, users[0])
	round := holdingtest.Round(t, d, proj, "approved", map[int64]string{partnerID: "100000"})
	pay := payment.NewService(d, establishment.NewService(d, nil))
	if _, err := pay.Confirm(ctx, audit.System, round, "k1", payment.Input{UserID: users[0], Amount: "100", PaidOn: civil.Today(time.Now())}); err != nil {
		t.Fatal(err)
	}
	before = counts(t, d)
	_, err = svc.Import(ctx, audit.System, proj, "ok.xlsx", bytes.NewReader(openingtest.XLSX(t, rows)))
	if !errors.Is(err, opening.ErrHasPayments) || apperr.As(err).Kind != apperr.KindRule {
		t.Fatalf("project with payments: %v", err)
	}
	if after := counts(t, d); after != before {
		t.Fatalf("refused import wrote: %s → %s", before, after)
	}
}

// badCells is the sheet of rows with some cells overwritten.
func badCells(t *testing.T, rows []openingtest.Row, cells map[string]string) []byte {
	t.Helper()
	f, err := excelizeOpen(openingtest.XLSX(t, rows))
	if err != nil {
		t.Fatal(err)
	}
	for c, v := range cells {
		f.SetCellValue("Sheet1", c, v)
	}
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// counts sums what an import writes: imports, rows, partners (and their
// flags), ledger transactions and postings, audit entries.
func counts(t *testing.T, d *db.DB) string {
	t.Helper()
	var s string
	if err := d.Get(&s, `SELECT concat_ws(' ',
		(SELECT count(*) FROM opening_imports), (SELECT count(*) FROM opening_balances),
		(SELECT count(*) FROM partners), (SELECT count(exited_on) + count(left_on) FROM partners),
		(SELECT count(*) FROM ledger_transactions), (SELECT count(*) FROM ledger_postings), (SELECT count(*) FROM audit_log))`); err != nil {
		t.Fatal(err)
	}
	return s
}

func excelizeOpen(b []byte) (*excelize.File, error) { return excelize.OpenReader(bytes.NewReader(b)) }
