package payment

import (
	"context"
	"fmt"

	"hehuo/internal/civil"
	"hehuo/internal/db"
	"hehuo/internal/establishment"
	"hehuo/internal/money"
	"hehuo/internal/partner"
	"hehuo/internal/round"
)

// Receipt is one payment as the partner sees it.
type Receipt struct {
	ID       int64        `json:"id"`
	Amount   money.Amount `json:"amount"`
	PaidOn   civil.Date   `json:"paid_on"`
	Reversed bool         `json:"reversed"`
}

// MyRound is what a partner owes and paid in one approved round: the H5
// payment notice page (缴款通知) and 我的缴款.
type MyRound struct {
	ProjectID         int64                            `json:"project_id"`
	ProjectName       string                           `json:"project_name"`
	RoundID           int64                            `json:"round_id"`
	RoundName         string                           `json:"round_name"`
	PartnerID         int64                            `json:"partner_id"`
	Allocated         money.Amount                     `json:"allocated"`
	Paid              money.Amount                     `json:"paid"`
	Outstanding       money.Amount                     `json:"outstanding"`
	DueDate           *civil.Date                      `json:"due_date"` // nil until the payment notice is sent
	CollectionAccount *establishment.CollectionAccount `json:"collection_account"`
	Receipts          []Receipt                        `json:"receipts"`
}

// Mine returns user userID's approved allocations with what they paid, newest round first.
func (s *Service) Mine(ctx context.Context, userID int64) ([]MyRound, error) {
	out := []MyRound{}
	pid, ok, err := partner.ForUser(ctx, s.db, userID)
	if err != nil || !ok {
		return out, err
	}
	rounds, err := s.pos.PartnerRounds(ctx, s.db, pid)
	if err != nil {
		return nil, fmt.Errorf("my payments: %w", err)
	}
	for _, r := range rounds {
		var due *civil.Date
		if err := s.db.GetContext(ctx, &due, `SELECT due_date FROM payment_notices WHERE round_id = $1`, r.RoundID); err != nil && !db.IsNoRows(err) {
			return nil, fmt.Errorf("my payments: due date: %w", err)
		}
		m := MyRound{ProjectID: r.ProjectID, ProjectName: r.ProjectName, RoundID: r.RoundID, RoundName: round.RoundName(r.RoundKind, r.RoundSeq),
			PartnerID: r.PartnerID, Allocated: money.AmountOf(r.Allocated), Paid: money.AmountOf(r.Paid),
			Outstanding: money.AmountOf(r.Allocated.Sub(r.Paid)), DueDate: due, Receipts: []Receipt{}}
		if t, err := s.est.Terms(ctx, s.db, r.ProjectID); err == nil {
			acc := t.CollectionAccount
			m.CollectionAccount = &acc
		}
		var ps []Payment
		if err := s.db.SelectContext(ctx, &ps, `SELECT * FROM payments WHERE round_id = $1 AND partner_id = $2 ORDER BY paid_on, id`, r.RoundID, r.PartnerID); err != nil {
			return nil, err
		}
		for _, p := range ps {
			m.Receipts = append(m.Receipts, Receipt{ID: p.ID, Amount: p.Amount, PaidOn: p.PaidOn, Reversed: p.ReversalTransactionID != nil})
		}
		out = append(out, m)
	}
	return out, nil
}
