package adjustment

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/jmoiron/sqlx"
	"github.com/shopspring/decimal"

	"hehuo/internal/apperr"
	"hehuo/internal/audit"
	"hehuo/internal/civil"
	"hehuo/internal/db"
	"hehuo/internal/db/dbtest"
	"hehuo/internal/establishment"
	"hehuo/internal/holding/holdingtest"
	"hehuo/internal/ledger"
	"hehuo/internal/org"
	"hehuo/internal/workflow"
)

func codeOf(err error) string {
	var e *apperr.Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// world is R5's project on real Postgres: peak 220,000,000 locked, R3's
// city tier allocated in an approved round, everyone paid in full but D,
// who paid 200,000 of 222,857.
type world struct {
	d       *db.DB
	s       *Service
	project int64
	users   []int64
	parts   []int64
}

func newWorld(t *testing.T) world {
	t.Helper()
	ctx := context.Background()
	d := dbtest.New(t)
	est := establishment.NewService(d, nil)
	w := world{d: d, s: NewService(d, est, nil)}
	w.project = holdingtest.Project(t, d, holdingtest.CityCompany(t, d, "常州城市公司"), "常州项目")
	if _, err := est.PutTerms(ctx, audit.System, w.project, establishment.TermsInput{
		PeakCapital: "220000000", TierRatios: establishment.TierRatios{Holding: "0", Property: "0.0331", City: "0.006", Other: "0"},
		FundingDate: civil.Date{Year: 2024, Month: 3, Day: 1}, FinancingRate: "0.0435",
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.ExecContext(ctx, `UPDATE establishments SET peak_locked_at = now() WHERE project_id = $1`, w.project); err != nil {
		t.Fatal(err)
	}
	alloc := map[int64]string{}
	olds := []string{"500000", "300000", "297143", "222857"}
	for i, name := range []string{"甲", "乙", "丙", "丁"} {
		u, err := org.NewService(d).CreateUser(ctx, audit.System, org.UserInput{Name: name})
		if err != nil {
			t.Fatal(err)
		}
		w.users = append(w.users, u.ID)
		w.parts = append(w.parts, holdingtest.Partner(t, d, u.ID))
		alloc[w.parts[i]] = olds[i]
	}
	holdingtest.Round(t, d, w.project, "approved", alloc)
	for i, paid := range []string{"500000", "300000", "297143", "200000"} {
		holdingtest.Pay(t, d, w.project, w.parts[i], paid)
	}
	return w
}

// agreedAdjustment takes a peak change to 200,000,000 and its adjustment
// to agreed, running the process effects as the process center would.
func (w world) agreedAdjustment(t *testing.T) Adjustment {
	t.Helper()
	ctx := context.Background()
	pc, err := w.s.CreatePeakChange(ctx, audit.System, w.project, PeakChangeInput{NewPeakCapital: "200000000",
		Shareholders: []establishment.ShareholderInput{{Name: "锦艺集团", Kind: "group", Stake: "1"}}})
	if err != nil {
		t.Fatal(err)
	}
	run := func(f func(context.Context, *sqlx.Tx, workflow.Instance) error, subject int64) {
		t.Helper()
		if err := w.d.InTx(ctx, func(tx *sqlx.Tx) error {
			return f(ctx, tx, workflow.Instance{ID: subject + 1000, ProjectID: w.project, SubjectID: subject})
		}); err != nil {
			t.Fatal(err)
		}
	}
	run(w.s.peakChangeEffect().Agreed, pc.ID)
	adj, err := w.s.Create(ctx, audit.System, w.project, CreateInput{})
	if err != nil {
		t.Fatal(err)
	}
	if adj, err = w.s.Submit(ctx, audit.System, adj.ID, VersionInput{Version: adj.Version}); err != nil {
		t.Fatal(err)
	}
	if _, err = w.s.Review(ctx, audit.System, adj.ID, ReviewInput{Approve: true, Version: adj.Version}); err != nil {
		t.Fatal(err)
	}
	run(w.s.adjustmentEffect().Agreed, adj.ID)
	adj, err = w.s.Get(ctx, adj.ID)
	if err != nil || adj.Status != StatusAgreed {
		t.Fatalf("adjustment %v %v", adj.Status, err)
	}
	return adj
}

// Twenty concurrent confirmations of D's top-up of 2,597 in parts of 200:
// never more than due (12 go through, 2,400; the rest 422), the ledger
// balanced, and the line's settled equals the ledger's movement.
func TestSettleConcurrentNeverExceedsDue(t *testing.T) {
	w := newWorld(t)
	adj := w.agreedAdjustment(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok, over := 0, 0
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			_, err := w.s.Settle(ctx, audit.System, adj.ID, fmt.Sprintf("k%d", i),
				SettlementInput{UserID: w.users[3], Amount: "200", SettledOn: civil.Date{Year: 2026, Month: 1, Day: 5}})
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				ok++
			case codeOf(err) == "settlement_over":
				over++
			default:
				t.Errorf("settle: %v", err)
			}
		}(i)
	}
	wg.Wait()
	if ok != 12 || over != 8 {
		t.Fatalf("%d settled, %d refused; want 12 and 8", ok, over)
	}
	bal, err := ledger.Balance(ctx, w.d, ledger.Principal(w.project, w.parts[3]))
	if err != nil || !bal.Equal(decimal.NewFromInt(-202400)) {
		t.Fatalf("D's principal %s %v", bal, err)
	}
	var settled decimal.Decimal
	if err := w.d.Get(&settled, `SELECT settled FROM adjustment_lines WHERE adjustment_id = $1 AND partner_id = $2`, adj.ID, w.parts[3]); err != nil || !settled.Equal(decimal.NewFromInt(2400)) {
		t.Fatalf("settled %s %v", settled, err)
	}
	rep, err := ledger.Reconcile(ctx, w.d)
	if err != nil || !rep.OK {
		t.Fatalf("ledger: %+v %v", rep, err)
	}
}

// Σ refunds and top-ups settled in full = Σ new − Σ paid: with everyone
// paid in full the pool delta (R5), here minus D's unpaid 22,857.
func TestSettleAllEqualsPoolDelta(t *testing.T) {
	w := newWorld(t)
	adj := w.agreedAdjustment(t)
	ctx := context.Background()
	before, _ := ledger.Balance(ctx, w.d, ledger.Bank(w.project))
	// D's top-up only: refunds need confirmed payout accounts, refused here.
	if _, err := w.s.Settle(ctx, audit.System, adj.ID, "d", SettlementInput{UserID: w.users[3], Amount: "2597",
		SettledOn: civil.Date{Year: 2026, Month: 1, Day: 5}}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.s.Settle(ctx, audit.System, adj.ID, "a", SettlementInput{UserID: w.users[0], Amount: "1",
		SettledOn: civil.Date{Year: 2026, Month: 1, Day: 5}}); codeOf(err) != "payout_account_unconfirmed" {
		t.Fatalf("refund without a confirmed account: %v", err)
	}
	after, _ := ledger.Balance(ctx, w.d, ledger.Bank(w.project))
	if !after.Sub(before).Equal(decimal.NewFromInt(2597)) {
		t.Fatalf("bank moved %s", after.Sub(before))
	}
	if !adj.TopUps.Sub(adj.Refunds.Decimal).Equal(decimal.NewFromInt(-120000+22857)) || !adj.PoolDelta.Equal(decimal.NewFromInt(-120000)) {
		t.Fatalf("top-ups %s refunds %s pool delta %s", adj.TopUps, adj.Refunds, adj.PoolDelta)
	}
}

// R5: capital interest on a top-up counts from the date the peak change
// took effect — 2,597 paid 35 days after it at 4.35% → −10.83.
func TestTopUpInterestFromTheEffectiveDate(t *testing.T) {
	w := newWorld(t)
	adj := w.agreedAdjustment(t)
	ctx := context.Background()
	if _, err := w.d.ExecContext(ctx, `UPDATE peak_changes SET effective_on = '2025-12-01' WHERE id = $1`, adj.PeakChangeID); err != nil {
		t.Fatal(err)
	}
	if _, err := w.s.Settle(ctx, audit.System, adj.ID, "d", SettlementInput{UserID: w.users[3], Amount: "2597",
		SettledOn: civil.Date{Year: 2026, Month: 1, Day: 5}}); err != nil {
		t.Fatal(err)
	}
	got, err := w.s.Get(ctx, adj.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Interest) != 1 || got.Interest[0].PartnerID != w.parts[3] || !got.Interest[0].CapitalInterest.Equal(decimal.RequireFromString("-10.83")) {
		t.Fatalf("top-up interest: %+v", got.Interest)
	}
}

// A second peak change waits for the first one's adjustment: R5 scales the
// principal from the peak it was allocated at.
func TestSecondPeakChangeWaitsForTheAdjustment(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	in := PeakChangeInput{NewPeakCapital: "200000000", Shareholders: []establishment.ShareholderInput{{Name: "锦艺集团", Kind: "group", Stake: "1"}}}
	pc, err := w.s.CreatePeakChange(ctx, audit.System, w.project, in)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.d.InTx(ctx, func(tx *sqlx.Tx) error {
		return w.s.peakChangeEffect().Agreed(ctx, tx, workflow.Instance{ID: 1, ProjectID: w.project, SubjectID: pc.ID})
	}); err != nil {
		t.Fatal(err)
	}
	in.NewPeakCapital = "180000000"
	if _, err := w.s.CreatePeakChange(ctx, audit.System, w.project, in); codeOf(err) != "adjustment_pending" {
		t.Fatalf("second change before the adjustment: %v", err)
	}
	if _, err := w.s.Create(ctx, audit.System, w.project, CreateInput{}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.s.CreatePeakChange(ctx, audit.System, w.project, in); codeOf(err) != "adjustment_pending" {
		t.Fatalf("second change with a draft adjustment: %v", err)
	}
}
