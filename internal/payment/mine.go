package payment

import (
	"context"
	"fmt"

	"github.com/shopspring/decimal"

	"hehuo/internal/civil"
	"hehuo/internal/establishment"
	"hehuo/internal/money"
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
	var rows []struct {
		ProjectID int64           `db:"project_id"`
		Project   string          `db:"project_name"`
		RoundID   int64           `db:"round_id"`
		Kind      string          `db:"kind"`
		Seq       int             `db:"seq"`
		PartnerID int64           `db:"partner_id"`
		Allocated decimal.Decimal `db:"allocated"`
		Due       *civil.Date     `db:"due_date"`
	}
	if err := s.db.SelectContext(ctx, &rows, `
		SELECT r.project_id, pr.name AS project_name, r.id AS round_id, r.kind, r.seq, l.partner_id, l.allocated, pn.due_date
		FROM partners p JOIN allocation_lines l ON l.partner_id = p.id JOIN rounds r ON r.id = l.round_id AND r.status = 'approved'
		JOIN projects pr ON pr.id = r.project_id LEFT JOIN payment_notices pn ON pn.round_id = r.id
		WHERE p.user_id = $1 AND l.allocated > 0 ORDER BY r.id DESC`, userID); err != nil {
		return nil, fmt.Errorf("my payments: %w", err)
	}
	out := []MyRound{}
	for _, r := range rows {
		paid, err := paidOf(ctx, s.db, r.RoundID, r.PartnerID)
		if err != nil {
			return nil, err
		}
		m := MyRound{ProjectID: r.ProjectID, ProjectName: r.Project, RoundID: r.RoundID, RoundName: round.RoundName(r.Kind, r.Seq),
			PartnerID: r.PartnerID, Allocated: money.AmountOf(r.Allocated), Paid: money.AmountOf(paid),
			Outstanding: money.AmountOf(r.Allocated.Sub(paid)), DueDate: r.Due, Receipts: []Receipt{}}
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
