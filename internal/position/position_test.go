package position_test

import (
	"context"
	"testing"

	"github.com/jmoiron/sqlx"
	"github.com/shopspring/decimal"

	"hehuo/internal/db"
	"hehuo/internal/db/dbtest"
	"hehuo/internal/establishment"
	"hehuo/internal/holding/holdingtest"
	"hehuo/internal/ledger"
	"hehuo/internal/money"
	"hehuo/internal/position"
)

func mustExec(t *testing.T, d *db.DB, q string, args ...any) int64 {
	t.Helper()
	var id int64
	if err := d.Get(&id, q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return id
}

// The figures of a partner in one project, each from its one source: an
// approved round commits (a submitted one does not), an agreed adjustment
// changes the principal in force (a draft one does not), a reversed
// payment counts nowhere, a refund is returned and lowers what was paid in,
// profit allocated and paid come from the profit account; both reads (by
// projects and by partner) agree.
func TestPositionFigures(t *testing.T) {
	ctx := context.Background()
	d := dbtest.New(t)
	city := holdingtest.CityCompany(t, d, "环沪城市公司")
	proj := holdingtest.Project(t, d, city, "常州项目")
	other := holdingtest.Project(t, d, city, "无锡项目")
	const me, you, legacy = 7, 8, 9
	holdingtest.Round(t, d, proj, "approved", map[int64]string{me: "300000", you: "100000"})
	holdingtest.Round(t, d, proj, "approved", map[int64]string{me: "50000"})
	holdingtest.Round(t, d, proj, "submitted", map[int64]string{me: "999000"})
	pc := mustExec(t, d, `INSERT INTO peak_changes (project_id, old_peak_capital, new_peak_capital, status, created_by_name)
		VALUES ($1, 2, 1, 'agreed', '测试') RETURNING id`, proj)
	agreed := mustExec(t, d, `INSERT INTO adjustments (project_id, peak_change_id, old_peak_capital, new_peak_capital, status, created_by_name)
		VALUES ($1, $2, 2, 1, 'agreed', '测试') RETURNING id`, proj, pc)
	mustExec(t, d, `INSERT INTO adjustment_lines (adjustment_id, partner_id, tier, old_principal, new_principal, delta, paid, top_up, refund)
		VALUES ($1, $2, 'city', 350000, 320000, -30000, 350000, 0, 30000) RETURNING adjustment_id`, agreed, me)
	pc2 := mustExec(t, d, `INSERT INTO peak_changes (project_id, old_peak_capital, new_peak_capital, status, created_by_name)
		VALUES ($1, 1, 2, 'agreed', '测试') RETURNING id`, proj)
	draft := mustExec(t, d, `INSERT INTO adjustments (project_id, peak_change_id, old_peak_capital, new_peak_capital, created_by_name)
		VALUES ($1, $2, 1, 2, '测试') RETURNING id`, proj, pc2)
	mustExec(t, d, `INSERT INTO adjustment_lines (adjustment_id, partner_id, tier, old_principal, new_principal, delta, paid, top_up, refund)
		VALUES ($1, $2, 'city', 320000, 640000, 320000, 0, 320000, 0) RETURNING adjustment_id`, draft, me)

	holdingtest.Pay(t, d, proj, me, "350000.00")
	wrong := holdingtest.Pay(t, d, proj, you, "1000.00")
	holdingtest.Reverse(t, d, wrong)
	holdingtest.Pay(t, d, proj, you, "40000.00")
	x := money.MustParse("10000.00")
	if _, err := ledger.PostTx(ctx, d, ledger.Transaction{IdempotencyKey: "refund-me", Kind: position.KindAdjustmentRefund, ProjectID: &proj,
		Postings: []ledger.Posting{{Account: ledger.Principal(proj, me), Amount: x}, {Account: ledger.Bank(proj), Amount: x.Neg()}}}); err != nil {
		t.Fatal(err)
	}
	holdingtest.PayProfit(t, d, proj, me, "1200.00")
	holdingtest.AllocateProfit(t, d, proj, me, "300.00")
	holdingtest.Pay(t, d, other, legacy, "5000.00") // a stake without allocations

	s := position.NewService(d, establishment.NewService(d, nil))
	ps, err := s.Positions(ctx, nil, position.Query{ProjectIDs: []int64{proj, other}, Interest: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 3 {
		t.Fatalf("positions = %+v", ps)
	}
	type want struct {
		committed                                                                        bool
		allocated, principal, paid, returned, refunded, outstanding, profitA, profitPaid string
	}
	for i, w := range []want{
		{true, "350000", "320000", "350000", "10000", "10000", "0", "1500", "1200"},
		{true, "100000", "100000", "40000", "0", "0", "60000", "0", "0"},
		{false, "0", "0", "5000", "0", "0", "0", "0", "0"},
	} {
		p := ps[i]
		for _, f := range []struct {
			name      string
			got, want string
		}{
			{"allocated", p.Allocated.String(), w.allocated}, {"principal", p.Principal.String(), w.principal},
			{"paid", p.Paid.String(), w.paid}, {"returned", p.Returned.String(), w.returned},
			{"refunded", p.Refunded.String(), w.refunded}, {"outstanding", p.Outstanding.String(), w.outstanding},
			{"profit allocated", p.ProfitAllocated.String(), w.profitA}, {"profit paid", p.ProfitPaid.String(), w.profitPaid},
		} {
			if !decimal.RequireFromString(f.got).Equal(decimal.RequireFromString(f.want)) {
				t.Errorf("position %d (partner %d) %s = %s, want %s", i, p.PartnerID, f.name, f.got, f.want)
			}
		}
		if p.Committed != w.committed || !p.Interest.IsZero() {
			t.Errorf("position %d: committed %v interest %s", i, p.Committed, p.Interest)
		}
	}
	if ps[0].PaidIn().String() != "340000" || !ps[0].FullyPaid() || ps[1].FullyPaid() || ps[0].ProjectName != "常州项目" ||
		len(ps[0].Tiers()) != 1 || ps[0].Tiers()[0] != "city" {
		t.Errorf("derived figures of %+v", ps[0])
	}
	mine, err := s.Positions(ctx, nil, position.Query{PartnerID: me})
	if err != nil || len(mine) != 1 || !mine[0].Principal.Equal(ps[0].Principal) || !mine[0].Paid.Equal(ps[0].Paid) ||
		!mine[0].Outstanding.Equal(ps[0].Outstanding) || !mine[0].ProfitPaid.Equal(ps[0].ProfitPaid) {
		t.Fatalf("by partner = %+v, %v", mine, err)
	}
	if ok, err := s.Adjusted(ctx, d, proj, me); err != nil || !ok {
		t.Errorf("adjusted(me) = %v %v", ok, err)
	}
	if ok, err := s.Adjusted(ctx, d, proj, you); err != nil || ok {
		t.Errorf("adjusted(you) = %v %v", ok, err)
	}
	tiers, err := s.Tiers(ctx, d, proj)
	if err != nil || len(tiers) != 2 || tiers[0].PartnerID != me || tiers[0].Principal.String() != "320000" {
		t.Fatalf("tiers = %+v, %v", tiers, err)
	}
	// Read inside a transaction, the positions see its own writes.
	err = d.InTx(ctx, func(tx *sqlx.Tx) error {
		holdingtest.Round(t, d, other, "approved", map[int64]string{legacy: "8000"}) // committed outside, seen inside
		p, err := s.Of(ctx, tx, other, legacy, false)
		if err != nil || !p.Committed || p.Outstanding.String() != "3000" {
			t.Errorf("legacy after its allocation = %+v, %v", p, err)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}
