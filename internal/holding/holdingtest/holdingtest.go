// Package holdingtest builds projects and ledger postings for tests of what
// partners hold: payments, returned principal and profit paid out.
package holdingtest

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/jmoiron/sqlx"
	"github.com/shopspring/decimal"

	"hehuo/internal/audit"
	"hehuo/internal/db"
	"hehuo/internal/ledger"
	"hehuo/internal/money"
	"hehuo/internal/org"
	"hehuo/internal/partner"
	"hehuo/internal/project"
)

// CityCompany creates a group and a city company below it, returning the
// city company's id.
func CityCompany(tb testing.TB, d *db.DB, name string) int64 {
	tb.Helper()
	ctx := context.Background()
	s := org.NewService(d)
	group, err := s.CreateUnit(ctx, audit.System, org.UnitInput{Name: "集团-" + name, Kind: org.KindGroup})
	if err != nil {
		tb.Fatalf("create group: %v", err)
	}
	city, err := s.CreateUnit(ctx, audit.System, org.UnitInput{Name: name, ParentID: &group.ID, Kind: org.KindCity})
	if err != nil {
		tb.Fatalf("create city company: %v", err)
	}
	return city.ID
}

// Project creates an open project of a city company.
func Project(tb testing.TB, d *db.DB, cityCompanyID int64, name string) int64 {
	tb.Helper()
	p, err := project.NewService(d).Create(context.Background(), audit.System, project.Input{
		Name: name, CityCompanyID: cityCompanyID, IsOpen: true, Operator: "锦艺", AcquisitionMethod: "招拍挂"})
	if err != nil {
		tb.Fatalf("create project %s: %v", name, err)
	}
	return p.ID
}

var seq atomic.Int64

// post records one ledger transaction with a fresh idempotency key.
func post(tb testing.TB, d *db.DB, kind string, projectID int64, postings ...ledger.Posting) ledger.Posted {
	tb.Helper()
	p, err := ledger.PostTx(context.Background(), d, ledger.Transaction{
		IdempotencyKey: fmt.Sprintf("holdingtest-%s-%d", kind, seq.Add(1)),
		Kind:           kind,
		ProjectID:      &projectID,
		Postings:       postings,
	})
	if err != nil {
		tb.Fatalf("post %s: %v", kind, err)
	}
	return p
}

// Pay records a partner's payment of principal (缴款): bank +x, principal −x.
func Pay(tb testing.TB, d *db.DB, projectID, partnerID int64, amount string) ledger.Posted {
	tb.Helper()
	x := money.MustParse(amount)
	return post(tb, d, "payment", projectID,
		ledger.Posting{Account: ledger.Bank(projectID), Amount: x},
		ledger.Posting{Account: ledger.Principal(projectID, partnerID), Amount: x.Neg()})
}

// ReturnPrincipal records principal paid back to a partner: principal +x, bank −x.
func ReturnPrincipal(tb testing.TB, d *db.DB, projectID, partnerID int64, amount string) ledger.Posted {
	tb.Helper()
	x := money.MustParse(amount)
	return post(tb, d, "principal_distribution", projectID,
		ledger.Posting{Account: ledger.Principal(projectID, partnerID), Amount: x},
		ledger.Posting{Account: ledger.Bank(projectID), Amount: x.Neg()})
}

// PayProfit records profit received by the partnership, allocated to a
// partner and paid out: bank +x, profit −x; then profit +x, bank −x.
func PayProfit(tb testing.TB, d *db.DB, projectID, partnerID int64, amount string) {
	tb.Helper()
	x := money.MustParse(amount)
	post(tb, d, "profit_allocation", projectID,
		ledger.Posting{Account: ledger.Bank(projectID), Amount: x},
		ledger.Posting{Account: ledger.Profit(projectID, partnerID), Amount: x.Neg()})
	post(tb, d, "profit_payout", projectID,
		ledger.Posting{Account: ledger.Profit(projectID, partnerID), Amount: x},
		ledger.Posting{Account: ledger.Bank(projectID), Amount: x.Neg()})
}

// AllocateProfit records profit allocated to a partner and not yet paid.
func AllocateProfit(tb testing.TB, d *db.DB, projectID, partnerID int64, amount string) {
	tb.Helper()
	x := money.MustParse(amount)
	post(tb, d, "profit_allocation", projectID,
		ledger.Posting{Account: ledger.Bank(projectID), Amount: x},
		ledger.Posting{Account: ledger.Profit(projectID, partnerID), Amount: x.Neg()})
}

// Reverse reverses a posted transaction, as a correction.
func Reverse(tb testing.TB, d *db.DB, p ledger.Posted) {
	tb.Helper()
	err := d.InTx(context.Background(), func(tx *sqlx.Tx) error {
		_, err := ledger.Reverse(context.Background(), tx, p.ID, fmt.Sprintf("holdingtest-reversal-%d", seq.Add(1)), "录入错误", nil)
		return err
	})
	if err != nil {
		tb.Fatalf("reverse %d: %v", p.ID, err)
	}
}

// Partner returns the partners.id of user userID (the ledger's {partner}
// segment), creating the partner as a first invitation would.
func Partner(tb testing.TB, d *db.DB, userID int64) int64 {
	tb.Helper()
	var id int64
	err := d.InTx(context.Background(), func(tx *sqlx.Tx) error {
		var err error
		id, err = partner.EnsureForUser(context.Background(), tx, userID)
		return err
	})
	if err != nil {
		tb.Fatalf("partner of user %d: %v", userID, err)
	}
	return id
}

// Round writes a round of projectID in status with one allocated line per
// partner (partners.id → whole yuan), as the round and allocation services
// would leave it, and returns the round's id.
func Round(tb testing.TB, d *db.DB, projectID int64, status string, allocated map[int64]string) int64 {
	tb.Helper()
	ctx := context.Background()
	var id int64
	err := d.InTx(ctx, func(tx *sqlx.Tx) error {
		if err := tx.GetContext(ctx, &id, `
			INSERT INTO rounds (project_id, kind, seq, status)
			VALUES ($1, 'supplementary', (SELECT coalesce(max(seq), 0) + 1 FROM rounds WHERE project_id = $1), $2)
			RETURNING id`, projectID, status); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `
			INSERT INTO allocations (round_id, subscription_seq, preview, peak_capital, pool_holding, pool_property, pool_city, pool_other, computed_by)
			VALUES ($1, 0, false, 0, 0, 0, 0, 0, '测试')`, id); err != nil {
			return err
		}
		for p, a := range allocated {
			x := money.MustParse(a)
			if _, err := tx.ExecContext(ctx, `
				INSERT INTO allocation_lines (round_id, partner_id, tier, mandatory, min_amount, max_amount, requested, calculated, allocated)
				VALUES ($1, $2, 'city', false, 0, $3, $3, $3, $3)`, id, p, x); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		tb.Fatalf("round of project %d: %v", projectID, err)
	}
	return id
}

// Distribute posts a distribution line of partnerID as the distribution
// service does (DESIGN §4 with its payable account): the approval —
// principal +returned, interest −|interest|, payable −E (E = returned −
// |interest|); bank +profit, profit −profit — and, when paid, the payout:
// payable +E, profit +profit, bank −(E + profit). Amounts are decimal
// strings; interest is ≤ 0 as R6's B.
func Distribute(tb testing.TB, d *db.DB, projectID, partnerID int64, returned, interest, profit string, paid bool) {
	tb.Helper()
	a, b, f := money.MustParse(returned), money.MustParse(interest), money.MustParse(profit)
	e := a.Add(b)
	var approval, payout []ledger.Posting
	add := func(ps *[]ledger.Posting, acc string, x decimal.Decimal) {
		if !x.IsZero() {
			*ps = append(*ps, ledger.Posting{Account: acc, Amount: x})
		}
	}
	add(&approval, ledger.Principal(projectID, partnerID), a)
	add(&approval, ledger.Interest(projectID), b)
	add(&approval, ledger.Payable(projectID, partnerID), e.Neg())
	add(&approval, ledger.Bank(projectID), f)
	add(&approval, ledger.Profit(projectID, partnerID), f.Neg())
	post(tb, d, "distribution_approval", projectID, approval...)
	if !paid {
		return
	}
	add(&payout, ledger.Payable(projectID, partnerID), e)
	add(&payout, ledger.Profit(projectID, partnerID), f)
	add(&payout, ledger.Bank(projectID), e.Add(f).Neg())
	post(tb, d, "distribution_payout", projectID, payout...)
}
