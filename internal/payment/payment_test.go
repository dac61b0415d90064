package payment_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"hehuo/internal/audit"
	"hehuo/internal/civil"
	"hehuo/internal/db"
	"hehuo/internal/db/dbtest"
	"hehuo/internal/establishment"
	"hehuo/internal/holding/holdingtest"
	"hehuo/internal/ledger/ledgertest"
	"hehuo/internal/payment"
)

// world is a project with an approved round allocating n partners 1,000
// each; users have job numbers J1…Jn and names 合伙人1…n.
func world(tb testing.TB, n int) (d *db.DB, s *payment.Service, roundID int64) {
	tb.Helper()
	d = dbtest.New(tb)
	city := holdingtest.CityCompany(tb, d, "昆明公司")
	proj := holdingtest.Project(tb, d, city, "滇池项目")
	ctx := context.Background()
	if _, err := d.ExecContext(ctx, `
		WITH u AS (INSERT INTO users (name, job_number) SELECT '合伙人' || g, 'J' || g FROM generate_series(1, $1) g RETURNING id, name)
		INSERT INTO partners (kind, user_id, name) SELECT 'employee', id, name FROM u`, n); err != nil {
		tb.Fatal(err)
	}
	if _, err := d.ExecContext(ctx, `
		WITH r AS (INSERT INTO rounds (project_id, kind, seq, status) VALUES ($1, 'initial', 1, 'approved') RETURNING id),
		a AS (INSERT INTO allocations (round_id, subscription_seq, preview, peak_capital, pool_holding, pool_property, pool_city, pool_other, computed_by)
			SELECT id, 0, false, 0, 0, 0, 0, 0, '测试' FROM r RETURNING round_id)
		INSERT INTO allocation_lines (round_id, partner_id, tier, mandatory, min_amount, max_amount, requested, calculated, allocated)
		SELECT a.round_id, p.id, 'city', false, 0, 1000, 1000, 1000, 1000 FROM a, partners p WHERE p.kind = 'employee'`, proj); err != nil {
		tb.Fatal(err)
	}
	if err := d.GetContext(ctx, &roundID, `SELECT id FROM rounds WHERE project_id = $1`, proj); err != nil {
		tb.Fatal(err)
	}
	est := establishment.NewService(d, nil)
	if _, err := est.PutTerms(ctx, audit.System, proj, establishment.TermsInput{
		PeakCapital: "220000000", TierRatios: establishment.TierRatios{Holding: "0", Property: "0.0331", City: "0.006", Other: "0"},
		FundingDate: civil.Date{Year: 2024, Month: 3, Day: 1}, FinancingRate: "0.0435",
	}); err != nil {
		tb.Fatal(err)
	}
	return d, payment.NewService(d, est), roundID
}

func sheet(tb testing.TB, n int, amount string) []byte {
	f := excelize.NewFile()
	defer f.Close()
	sw, err := f.NewStreamWriter("Sheet1")
	if err != nil {
		tb.Fatal(err)
	}
	sw.SetRow("A1", []any{"流水号", "工号", "姓名", "金额", "到账日期"})
	for i := 1; i <= n; i++ {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		sw.SetRow(cell, []any{fmt.Sprintf("S%d", i), fmt.Sprintf("J%d", i), fmt.Sprintf("合伙人%d", i), amount, "2024-03-20"})
	}
	sw.Flush()
	var b bytes.Buffer
	f.Write(&b)
	return b.Bytes()
}

// The service on real Postgres: an import pays everyone, the list agrees
// with the ledger to the fen, and the ledger reconciles.
func TestImportAndList(t *testing.T) {
	d, s, roundID := world(t, 50)
	ctx := context.Background()
	res, err := s.Import(ctx, audit.System, roundID, bytes.NewReader(sheet(t, 50, "1000")))
	if err != nil || res.Imported != 50 {
		t.Fatalf("import: %+v %v", res, err)
	}
	sum, err := s.List(ctx, roundID)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Paid.StringFixed(2) != "50000.00" || sum.Outstanding.StringFixed(2) != "0.00" || len(sum.Items) != 50 {
		t.Fatalf("summary: paid %s outstanding %s items %d", sum.Paid, sum.Outstanding, len(sum.Items))
	}
	// 1,000 × 4.35% × 19 / 365 = 2.2644 → −2.26 each.
	if b := sum.Items[0].CapitalInterest.StringFixed(2); b != "-2.26" {
		t.Fatalf("interest %s, want -2.26", b)
	}
	ledgertest.AssertReconciles(t, d)
}

// BenchmarkImport10000 confirms 10,000 payments by one import.
func BenchmarkImport10000(b *testing.B) {
	const n = 10000
	file := sheet(b, n, "1000")
	for b.Loop() {
		b.StopTimer()
		_, s, roundID := world(b, n)
		b.StartTimer()
		start := time.Now()
		res, err := s.Import(context.Background(), audit.System, roundID, bytes.NewReader(file))
		if err != nil || res.Imported != n {
			b.Fatalf("import: %+v %v", res, err)
		}
		b.ReportMetric(float64(time.Since(start).Milliseconds()), "ms/import")
	}
}
