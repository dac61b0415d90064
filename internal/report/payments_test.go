package report_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	"github.com/shopspring/decimal"
	"github.com/xuri/excelize/v2"

	"hehuo/internal/audit"
	"hehuo/internal/civil"
	"hehuo/internal/db"
	"hehuo/internal/db/dbtest"
	"hehuo/internal/establishment"
	"hehuo/internal/ledger"
	"hehuo/internal/money"
	"hehuo/internal/payment"
	"hehuo/internal/position"
	"hehuo/internal/report"
)

// paymentsWorld is a project whose initial round is approved with the R4
// partners' allocations (500,000 / 300,000 / 297,143 / 222,857), and a second
// project in another city company.
type paymentsWorld struct {
	city, city2, proj, proj2 int64
	partners                 []int64
	users                    []int64
}

func newPaymentsWorld(t *testing.T, d *db.DB) paymentsWorld {
	t.Helper()
	var w paymentsWorld
	w.city = mustExec(t, d, `INSERT INTO org_units (name, kind) VALUES ('环沪城市公司', 'city') RETURNING id`)
	w.city2 = mustExec(t, d, `INSERT INTO org_units (name, kind) VALUES ('西南城市公司', 'city') RETURNING id`)
	w.proj = mustExec(t, d, `INSERT INTO projects (name, city_company_id, is_open) VALUES ('常州项目', $1, true) RETURNING id`, w.city)
	w.proj2 = mustExec(t, d, `INSERT INTO projects (name, city_company_id, is_open) VALUES ('昆明项目', $1, true) RETURNING id`, w.city2)
	round := mustExec(t, d, `INSERT INTO rounds (project_id, kind, seq, status) VALUES ($1, 'initial', 1, 'approved') RETURNING id`, w.proj)
	mustExec(t, d, `INSERT INTO allocations (round_id, subscription_seq, preview, peak_capital, pool_holding, pool_property, pool_city, pool_other, computed_by)
		VALUES ($1, 1, false, 220000000, 0, 0, 1320000, 0, '会计甲') RETURNING round_id`, round)
	for i, amt := range []string{"500000", "300000", "297143", "222857"} {
		name := fmt.Sprintf("合伙人%c", 'A'+i)
		u := mustExec(t, d, `INSERT INTO users (name, job_number) VALUES ($1, $2) RETURNING id`, name, fmt.Sprintf("J%03d", i+1))
		p := mustExec(t, d, `INSERT INTO partners (kind, user_id, name) VALUES ('employee', $1, $2) RETURNING id`, u, name)
		mustExec(t, d, `INSERT INTO allocation_lines (round_id, partner_id, user_id, tier, mandatory, min_amount, max_amount, requested, calculated, allocated)
			VALUES ($1, $2, $3, 'city', true, 0, 1000000, $4, $4, $4) RETURNING round_id`, round, p, u, amt)
		w.partners, w.users = append(w.partners, p), append(w.users, u)
	}
	return w
}

// pay posts a receipt as the payment service does: bank +x, principal −x.
func pay(t testing.TB, d *db.DB, project, partner int64, amount, key string) ledger.Posted {
	t.Helper()
	x := money.MustParse(amount)
	p, err := ledger.PostTx(context.Background(), d, ledger.Transaction{IdempotencyKey: key, Kind: "payment", ProjectID: &project,
		Postings: []ledger.Posting{{Account: ledger.Bank(project), Amount: x}, {Account: ledger.Principal(project, partner), Amount: x.Neg()}}})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// 立项及缴款汇总表: pools and allocations from the approved round, paid from
// the ledger (a reversed receipt does not count), unpaid per partner, the
// paid ratio; the total paid equals the ledger's principal balances.
func TestEstablishmentPaymentsFromTheLedger(t *testing.T) {
	d := dbtest.New(t)
	ctx := context.Background()
	w := newPaymentsWorld(t, d)
	pay(t, d, w.proj, w.partners[0], "500000.00", "pay-a")
	pay(t, d, w.proj, w.partners[1], "100000.00", "pay-b1")
	wrong := pay(t, d, w.proj, w.partners[2], "297143.00", "pay-c")
	if err := d.InTx(ctx, func(tx *sqlx.Tx) error {
		_, err := ledger.Reverse(ctx, tx, wrong.ID, "rev-c", "录错合伙人", nil)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	pay(t, d, w.proj, w.partners[3], "222857.00", "pay-d")

	s := report.NewService(d)
	rows, err := s.EstablishmentPayments(ctx, report.Filter{All: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 {
		t.Fatalf("rows = %+v", rows)
	}
	r := rows[0]
	if r.ProjectID != w.proj || r.PoolCity.String() != "1320000.00" || r.PoolTotal.String() != "1320000.00" ||
		r.Allocated.String() != "1320000.00" || r.Paid.String() != "822857.00" || r.Unpaid.String() != "497143.00" ||
		r.PaidRatio != "0.6234" || r.Partners != 4 || r.PaidPartners != 2 || r.Interest == nil || !r.Interest.IsZero() {
		t.Fatalf("row = %+v", r)
	}
	// Equal to the ledger: Σ principal balances of the project, negated.
	bal, err := ledger.BalancesByPrefix(ctx, d, fmt.Sprintf("principal:%d:", w.proj))
	if err != nil {
		t.Fatal(err)
	}
	sum := decimal.Zero
	for _, b := range bal {
		sum = sum.Sub(b.Balance)
	}
	if !sum.Equal(r.Paid.Decimal) {
		t.Fatalf("ledger %s, report %s", sum, r.Paid)
	}
	if o := rows[1]; o.ProjectID != w.proj2 || !o.Allocated.IsZero() || o.PaidRatio != "0.0000" {
		t.Fatalf("other = %+v", o)
	}

	rows, _ = s.EstablishmentPayments(ctx, report.Filter{IDs: pq.Int64Array{w.proj}})
	if len(rows) != 1 || rows[0].ProjectID != w.proj {
		t.Fatalf("scoped = %+v", rows)
	}

	// The workbook has the same figures and a total row.
	var buf bytes.Buffer
	if err := s.EstablishmentPaymentsXLSX(ctx, report.Filter{All: true}, &buf); err != nil {
		t.Fatal(err)
	}
	x, err := excelize.OpenReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	sheet, _ := x.GetRows("立项及缴款汇总表")
	if len(sheet) != 4 || sheet[0][9] != "已缴款" || sheet[1][0] != "常州项目" || sheet[1][9] != "822,857.00" ||
		sheet[1][11] != "62.34%" || sheet[3][0] != "合计" || sheet[3][8] != "1,320,000.00" || sheet[3][14] != "0.00" {
		t.Fatalf("sheet = %q", sheet)
	}

	// 缴款信息: one row per partner with its status.
	buf.Reset()
	if err := s.PaymentsExportXLSX(ctx, report.Filter{All: true, ProjectID: w.proj}, &buf); err != nil {
		t.Fatal(err)
	}
	if x, err = excelize.OpenReader(&buf); err != nil {
		t.Fatal(err)
	}
	sheet, _ = x.GetRows("缴款信息")
	want := [][]string{
		{"合伙人A", "J001", "城市公司层面", "500,000.00", "500,000.00", "0.00", "已缴清"},
		{"合伙人B", "J002", "城市公司层面", "300,000.00", "100,000.00", "200,000.00", "部分缴款"},
		{"合伙人C", "J003", "城市公司层面", "297,143.00", "0.00", "297,143.00", "未缴款"},
		{"合伙人D", "J004", "城市公司层面", "222,857.00", "222,857.00", "0.00", "已缴清"},
	}
	if len(sheet) != 5 {
		t.Fatalf("export = %q", sheet)
	}
	for i, w := range want {
		if got := sheet[i+1][3:]; fmt.Sprint(got) != fmt.Sprint(w) {
			t.Errorf("export row %d = %q, want %q", i+1, got, w)
		}
	}
}

// 每日到账汇总: one robot message per city company that received money that
// day, with its projects, receipts and total; a reversed receipt is left
// out; calling again for the same day enqueues nothing more.
func TestDailyReceiptsOncePerCityCompanyAndDay(t *testing.T) {
	d := dbtest.New(t)
	ctx := context.Background()
	w := newPaymentsWorld(t, d)
	pay(t, d, w.proj, w.partners[0], "500000.00", "pay-a")
	pay(t, d, w.proj, w.partners[1], "100000.50", "pay-b")
	wrong := pay(t, d, w.proj, w.partners[2], "1.00", "pay-c")
	if err := d.InTx(ctx, func(tx *sqlx.Tx) error {
		_, err := ledger.Reverse(ctx, tx, wrong.ID, "rev-c", "录错", nil)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	today := civil.Today(time.Now())
	s := report.NewService(d)
	n, err := s.DailyReceipts(ctx, today)
	if err != nil || n != 1 {
		t.Fatalf("DailyReceipts = %d, %v", n, err)
	}
	var data []string
	if err := d.Select(&data, `SELECT data::text FROM notify_outbox WHERE template = 'daily_receipts' AND org_unit_id = $1`, w.city); err != nil {
		t.Fatal(err)
	}
	var got map[string]string
	if len(data) != 1 || json.Unmarshal([]byte(data[0]), &got) != nil {
		t.Fatalf("outbox = %q", data)
	}
	want := map[string]string{"date": today.String(), "link": "/report?report=establishment-payments",
		"receipt_count": "2", "total_amount": "600,000.50", "project_count": "1"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("data = %v, want %v", got, want)
	}
	if n, err := s.DailyReceipts(ctx, today); err != nil || n != 0 {
		t.Fatalf("again = %d, %v", n, err)
	}
	if n, err := s.DailyReceipts(ctx, today.AddDays(-1)); err != nil || n != 0 {
		t.Fatalf("yesterday = %d, %v", n, err)
	}
}

// The R4 example through the payment service: the report's interest is the
// Σ of 缴款确认's capital interest, to the fen (0.00 − 679.32 − 1,593.58 − 796.79):
// both are internal/position's.
func TestEstablishmentPaymentsInterestIsThePaymentServices(t *testing.T) {
	d := dbtest.New(t)
	ctx := context.Background()
	w := newPaymentsWorld(t, d)
	mustExec(t, d, `INSERT INTO establishments (project_id, peak_capital, ratio_city, funding_date, financing_rate)
		VALUES ($1, 220000000, 0.006, '2024-03-01', 0.0435) RETURNING project_id`, w.proj)
	var round int64
	if err := d.Get(&round, `SELECT id FROM rounds WHERE project_id = $1`, w.proj); err != nil {
		t.Fatal(err)
	}
	pays := payment.NewService(d, establishment.NewService(d, nil))
	for i, c := range []struct{ amount, on string }{
		{"500000", "2024-03-01"}, {"300000", "2024-03-20"}, {"297143", "2024-04-15"}, {"222857", "2024-03-31"},
	} {
		on, _ := civil.Parse(c.on)
		if _, err := pays.Confirm(ctx, audit.System, round, fmt.Sprint("k", i), payment.Input{UserID: w.users[i], Amount: c.amount, PaidOn: on}); err != nil {
			t.Fatal(err)
		}
	}
	s := report.NewService(d)
	rows, err := s.EstablishmentPayments(ctx, report.Filter{All: true, ProjectID: w.proj})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || rows[0].Interest == nil || rows[0].Interest.String() != "-3069.69" ||
		rows[0].Paid.String() != "1320000.00" || rows[0].Unpaid.String() != "0.00" || rows[0].PaidRatio != "1.0000" || rows[0].PaidPartners != 4 {
		t.Fatalf("rows = %+v", rows)
	}
	list, err := pays.List(ctx, round)
	if err != nil || !list.Paid.Equal(rows[0].Paid.Decimal) || !list.Allocated.Equal(rows[0].Allocated.Decimal) {
		t.Fatalf("payment list %+v, %v", list, err)
	}
}

// After an agreed establishment adjustment (R5's example: 220,000,000 →
// 200,000,000), allocated is the new principal and the refunds paid show in
// paid: unpaid is what is still due.
func TestEstablishmentPaymentsAfterAnAgreedAdjustment(t *testing.T) {
	d := dbtest.New(t)
	ctx := context.Background()
	w := newPaymentsWorld(t, d)
	for i, a := range []string{"500000.00", "300000.00", "297143.00", "222857.00"} {
		pay(t, d, w.proj, w.partners[i], a, fmt.Sprint("adj-pay-", i))
	}
	pc := mustExec(t, d, `INSERT INTO peak_changes (project_id, old_peak_capital, new_peak_capital, status, created_by_name)
		VALUES ($1, 220000000, 200000000, 'agreed', '会计甲') RETURNING id`, w.proj)
	adj := mustExec(t, d, `INSERT INTO adjustments (project_id, peak_change_id, old_peak_capital, new_peak_capital, status, created_by_name)
		VALUES ($1, $2, 220000000, 200000000, 'agreed', '会计甲') RETURNING id`, w.proj, pc)
	for i, c := range []struct{ old, new, refund string }{
		{"500000", "454546", "45454"}, {"300000", "272727", "27273"}, {"297143", "270130", "27013"}, {"222857", "202597", "20260"},
	} {
		mustExec(t, d, `INSERT INTO adjustment_lines (adjustment_id, partner_id, user_id, tier, old_principal, new_principal, delta, paid, top_up, refund)
			VALUES ($1, $2, $3, 'city', $4, $5, $5::numeric - $4::numeric, $4, 0, $6) RETURNING adjustment_id`, adj, w.partners[i], w.users[i], c.old, c.new, c.refund)
	}
	s := report.NewService(d)
	rows, err := s.EstablishmentPayments(ctx, report.Filter{All: true, ProjectID: w.proj})
	if err != nil {
		t.Fatal(err)
	}
	if r := rows[0]; r.Allocated.String() != "1200000.00" || r.Paid.String() != "1320000.00" || r.Unpaid.String() != "0.00" || r.PaidPartners != 4 {
		t.Fatalf("before refunds = %+v", r)
	}
	// The first refund (principal +x, bank −x) is paid.
	x := money.MustParse("45454")
	if _, err := ledger.PostTx(ctx, d, ledger.Transaction{IdempotencyKey: "refund-a", Kind: position.KindAdjustmentRefund, ProjectID: &w.proj,
		Postings: []ledger.Posting{{Account: ledger.Principal(w.proj, w.partners[0]), Amount: x}, {Account: ledger.Bank(w.proj), Amount: x.Neg()}}}); err != nil {
		t.Fatal(err)
	}
	rows, _ = s.EstablishmentPayments(ctx, report.Filter{All: true, ProjectID: w.proj})
	if r := rows[0]; r.Paid.String() != "1274546.00" || r.Unpaid.String() != "0.00" {
		t.Fatalf("after a refund = %+v", r)
	}
}
