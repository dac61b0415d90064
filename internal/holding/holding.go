// Package holding is a partner's stakes (我的跟投): per project, the
// principal in force, paid and returned and the profit received, as
// internal/position reads them.
package holding

import (
	"context"
	"fmt"

	"github.com/shopspring/decimal"

	"hehuo/internal/db"
	"hehuo/internal/position"
)

// Holding is a partner's stake in one project.
type Holding struct {
	ProjectID   int64
	ProjectName string
	// Principal is the principal subscribed (认缴本金): the principal in force
	// (approved rounds' allocations plus agreed adjustments), or Paid where
	// none is known (stakes recorded in the ledger before allocations existed).
	Principal decimal.Decimal
	// Paid is the principal paid in (已缴): credits to principal:{project}:{partner}.
	Paid decimal.Decimal
	// Returned is the principal paid back (已返还本金): debits to the same account.
	Returned decimal.Decimal
	// ProfitReceived is the profit paid out (已分配收益): debits to profit:{project}:{partner}.
	ProfitReceived decimal.Decimal
	// Transferred is the principal taken over by the platform company when
	// the partner's exit was agreed (已转让, R9): 0 while the partner holds it.
	Transferred decimal.Decimal
}

// Service reads holdings.
type Service struct {
	db  *db.DB
	pos *position.Service
}

// NewService returns the holding service over the positions of pos (nil:
// a position service of its own, without capital interest).
func NewService(d *db.DB, pos *position.Service) *Service {
	if pos == nil {
		pos = position.NewService(d, nil)
	}
	return &Service{db: d, pos: pos}
}

// ForUser returns the stakes of the partner who is user userID (我的跟投);
// a user who was never invited holds nothing.
func (s *Service) ForUser(ctx context.Context, userID int64) ([]Holding, error) {
	return s.holdings(ctx, position.Query{UserID: userID})
}

// ForPartner returns the stakes of partnerID (a partners.id: the ledger's
// {partner} segment) in project id order: every project where the
// partner has a principal or profit posting, or a commitment.
func (s *Service) ForPartner(ctx context.Context, partnerID int64) ([]Holding, error) {
	return s.holdings(ctx, position.Query{PartnerID: partnerID})
}

// holdings reads the positions of one partner (by partner or user id) in
// one query.
func (s *Service) holdings(ctx context.Context, q position.Query) ([]Holding, error) {
	ps, err := s.pos.Positions(ctx, nil, q)
	if err != nil {
		return nil, fmt.Errorf("holdings: %w", err)
	}
	out := make([]Holding, len(ps))
	for i, p := range ps {
		h := Holding{ProjectID: p.ProjectID, ProjectName: p.ProjectName, Principal: p.Principal,
			Paid: p.Paid, Returned: p.Returned, ProfitReceived: p.ProfitPaid, Transferred: p.TransferredOut}
		if !p.Committed {
			h.Principal = p.Paid
		}
		if h.ProjectName == "" {
			// The ledger does not reference projects; a posting for a
			// project that is gone still shows, by its id.
			h.ProjectName = fmt.Sprintf("项目 %d", p.ProjectID)
		}
		out[i] = h
	}
	return out, nil
}
