package position

import (
	"context"
	"fmt"
	"sort"

	"github.com/jmoiron/sqlx"
	"github.com/shopspring/decimal"

	"hehuo/internal/calc"
	"hehuo/internal/civil"
)

// PartnerPayments are one partner's payments into one project as an exit
// quote (R9's H) reads them.
type PartnerPayments struct {
	ProjectID int64
	// Outstanding are the payments still outstanding, oldest first: each
	// payment's net on the ledger (reversals left out), with the principal
	// returned or transferred out retired FIFO from the oldest payment.
	Outstanding []calc.InterestPayment
	// Last is the date of the partner's latest payment with a net amount.
	Last civil.Date
}

// PartnerPayments returns, per project, partnerID's payments (round
// payments, adjustment top-ups and the principal opening balances brought,
// dated as imported) for R9's holding return. Principal already returned
// (distributions, refunds) or transferred out is retired first-in first-out:
// it is taken from the oldest payments, so H runs on the money that stayed
// longest in the partnership last — the reading of "payments still
// outstanding" docs/exits.md writes down.
func (s *Service) PartnerPayments(ctx context.Context, conn sqlx.QueryerContext, partnerID int64) (map[int64]PartnerPayments, error) {
	if conn == nil {
		conn = s.db
	}
	var rs []receipt
	if err := sqlx.SelectContext(ctx, conn, &rs, receiptsByPartner, partnerID); err != nil {
		return nil, fmt.Errorf("position: payments of partner %d: %w", partnerID, err)
	}
	var opening []receipt
	if err := sqlx.SelectContext(ctx, conn, &opening, `SELECT project_id, 0 AS grp, partner_id, paid_on, NULL::date AS from_date,
		principal_paid AS net FROM opening_balances WHERE partner_id = $1`, partnerID); err != nil {
		return nil, fmt.Errorf("position: opening payments of partner %d: %w", partnerID, err)
	}
	rs = append(rs, opening...)
	ps, err := s.Positions(ctx, conn, Query{PartnerID: partnerID})
	if err != nil {
		return nil, err
	}
	retire := map[int64]decimal.Decimal{}
	for _, p := range ps {
		retire[p.ProjectID] = p.Returned.Add(p.TransferredOut)
	}
	byProject := map[int64][]calc.InterestPayment{}
	for _, r := range rs {
		if r.Net.IsPositive() {
			byProject[r.ProjectID] = append(byProject[r.ProjectID], calc.InterestPayment{Amount: r.Net, PaidOn: r.PaidOn})
		}
	}
	out := make(map[int64]PartnerPayments, len(byProject))
	for project, pays := range byProject {
		sort.SliceStable(pays, func(i, j int) bool { return pays[i].PaidOn.DaysSince(pays[j].PaidOn) < 0 })
		pp := PartnerPayments{ProjectID: project, Last: pays[len(pays)-1].PaidOn}
		left := retire[project]
		for _, p := range pays {
			if left.IsPositive() {
				take := decimal.Min(left, p.Amount)
				p.Amount = p.Amount.Sub(take)
				left = left.Sub(take)
			}
			if p.Amount.IsPositive() {
				pp.Outstanding = append(pp.Outstanding, p)
			}
		}
		out[project] = pp
	}
	return out, nil
}
