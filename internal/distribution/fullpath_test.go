package distribution

import (
	"testing"

	"github.com/lib/pq"

	"hehuo/internal/audit"
	"hehuo/internal/ledger"
	"hehuo/internal/ledger/ledgertest"
	"hehuo/internal/workflow"
)

// reviewed takes batch id from draft to reviewed through the service:
// calculated, saved, submitted by the accountant, reviewed by the
// business admin.
func (f *fixture) reviewed(id int64, biz audit.Actor) Batch {
	f.t.Helper()
	b, err := f.s.Calculate(f.ctx, f.actor, id, CalculateInput{})
	must(f.t, err)
	b, err = f.s.Save(f.ctx, f.actor, id, VersionInput{Version: b.Version})
	must(f.t, err)
	return f.submitReviewed(b, biz)
}

func (f *fixture) submitReviewed(b Batch, biz audit.Actor) Batch {
	f.t.Helper()
	b, err := f.s.Submit(f.ctx, f.actor, b.ID, VersionInput{Version: b.Version})
	must(f.t, err)
	b, err = f.s.Review(f.ctx, biz, b.ID, ReviewInput{Approve: true, Version: b.Version})
	must(f.t, err)
	if b.Status != StatusReviewed {
		f.t.Fatalf("reviewed: %s", b.Status)
	}
	return b
}

// The whole path on core-a's batch service and DingTalk: the actual peak
// agreed; a principal batch at 80% calculated, saved, submitted, reviewed,
// launched and agreed (the event twice: one posting), posted to the fen
// and reconciled; the rest then carries B = 0 (deducted once); the
// liquidation refused once (back to saved), relaunched and agreed: every
// principal is 0, the project settled and read-only, no second liquidation.
func TestFullPathPrincipalThenLiquidation(t *testing.T) {
	f := newFixture(t)
	biz := f.user("dt_biz", "业务管理员")
	var users []int64
	must(t, f.d.Select(&users, `SELECT user_id FROM partners WHERE id = ANY($1) ORDER BY id`, pq.Int64Array(f.partners)))
	for _, u := range users {
		must(t, exec(f.d, `INSERT INTO payout_accounts (user_id, bank, branch, holder, number_enc, number_last4, status, confirmed_at)
			VALUES ($1, '招商银行', '泰安分行', '合伙人', 'v1:sealed', '0123', 'confirmed', now())`, u))
	}

	// 实际资金峰值确认, agreed in DingTalk.
	peak, err := f.s.CreateActualPeak(f.ctx, f.actor, f.project, ActualPeakInput{ActualPeakCapital: "210000000"})
	must(t, err)
	pinst, err := f.launch(workflow.KindActualPeak, peak.ID, nil)
	must(t, err)
	f.decide(pinst, "agree")

	// 本金分配 at 80%.
	b, err := f.s.CreateBatch(f.ctx, f.actor, f.project, CreateInput{Kind: "principal", BatchFields: BatchFields{
		DistributionDate: str("2026-06-30"), RecordDate: str("2026-06-20"), ReturnRatio: str("0.8")}})
	must(t, err)
	b = f.reviewed(b.ID, biz)
	inst, err := f.launch(workflow.KindPrincipalDistribution, b.ID, nil)
	must(t, err)
	ev := f.decide(inst, "agree")
	if res := f.redeliver(ev); res != workflow.Duplicate {
		t.Errorf("redelivery %v", res)
	}
	if n := count(t, f.d, `SELECT count(*) FROM ledger_transactions WHERE idempotency_key = $1`, ApprovalKey(b.ID)); n != 1 {
		t.Fatalf("%d approval transactions", n)
	}
	bal := f.balances()
	p := f.project
	for i, want := range [][2]string{ // principal balance (paid − returned, a credit), payable (−D)
		{"-100000.00", "-400000.00"}, {"-60000.00", "-239320.68"}, {"-59428.60", "-236120.82"}, {"-44571.40", "-177488.81"},
	} {
		k := f.partners[i]
		if got := bal[ledger.Principal(p, k)]; !got.Equal(d(want[0])) {
			t.Errorf("principal of %d: %s, want %s", i, got, want[0])
		}
		if got := bal[ledger.Payable(p, k)]; !got.Equal(d(want[1])) {
			t.Errorf("payable of %d: %s, want %s", i, got, want[1])
		}
	}
	if got := bal[ledger.Interest(p)]; !got.Equal(d("-3069.69")) {
		t.Errorf("interest %s", got)
	}
	ledgertest.AssertReconciles(t, f.d)

	// The rest: B is 0 now (deducted once), A what is left.
	rest, err := f.s.CreateBatch(f.ctx, f.actor, f.project, CreateInput{Kind: "principal", BatchFields: BatchFields{
		DistributionDate: str("2026-09-30"), RecordDate: str("2026-09-20"), ReturnRatio: str("1")}})
	must(t, err)
	wantColumn(t, rest, "a", "100000", "60000", "59428.6", "44571.4")
	wantColumn(t, rest, "b", "0", "0", "0", "0")
	must(t, f.s.DeleteBatch(f.ctx, f.actor, rest.ID))

	// 清算分配: the rest of the principal and X = 100,000 of profit.
	l, err := f.s.CreateBatch(f.ctx, f.actor, f.project, CreateInput{Kind: "liquidation", BatchFields: BatchFields{
		DistributionDate: str("2026-12-30"), RecordDate: str("2026-12-20"), Amount: str("100000")}})
	must(t, err)
	l = f.reviewed(l.ID, biz)
	wantColumn(t, l, "d", "100000.00", "60000.00", "59428.60", "44571.40")
	wantColumn(t, l, "f", "37878.79", "22727.27", "22510.83", "16883.11")
	linst, err := f.launch(workflow.KindLiquidation, l.ID, nil)
	must(t, err)
	f.decide(linst, "refuse")
	if st := f.status(l.ID); st != StatusSaved {
		t.Fatalf("refused liquidation: %s", st)
	}
	got, err := f.wf.Get(f.ctx, linst.ID)
	must(t, err)
	_, err = f.wf.Reset(f.ctx, f.actor, linst.ID, got.Version)
	must(t, err)
	l, err = f.s.Get(f.ctx, l.ID)
	must(t, err)
	f.submitReviewed(l, biz)
	linst, err = f.launch(workflow.KindLiquidation, l.ID, nil)
	must(t, err)
	f.decide(linst, "agree")

	bal = f.balances()
	for i, k := range f.partners {
		if got := bal[ledger.Principal(p, k)]; !got.IsZero() {
			t.Errorf("principal of %d after liquidation: %s", i, got)
		}
	}
	for i, pp := range f.positions() {
		if !pp.Paid.Sub(pp.Returned).IsZero() || !pp.Interest.IsZero() {
			t.Errorf("partner %d: held %s interest %s", i, pp.Paid.Sub(pp.Returned), pp.Interest)
		}
	}
	if got := bal[ledger.Bank(p)]; !got.Equal(d("1420000.00")) {
		t.Errorf("bank %s: 1,320,000 paid in + 100,000 profit received, nothing paid out yet", got)
	}
	ledgertest.AssertReconciles(t, f.d)
	// Settled: read-only, no second liquidation.
	if _, err := f.s.CreateBatch(f.ctx, f.actor, f.project, CreateInput{Kind: "liquidation"}); code(err) != "project_settled" {
		t.Errorf("second liquidation: %v", err)
	}
	if _, err := f.s.CreateActualPeak(f.ctx, f.actor, f.project, ActualPeakInput{ActualPeakCapital: "1"}); code(err) != "project_settled" {
		t.Errorf("write after settlement: %v", err)
	}
}
