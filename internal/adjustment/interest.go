package adjustment

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"
	"github.com/shopspring/decimal"

	"hehuo/internal/calc"
	"hehuo/internal/civil"
	"hehuo/internal/money"
)

// TopUpInterest is a partner's capital interest (R4) on their top-ups: R5
// counts it from the date the peak change took effect, not from the
// funding date. It is ≤ 0, like R4's B.
type TopUpInterest struct {
	PartnerID       int64        `json:"partner_id"`
	UserID          int64        `json:"user_id"`
	CapitalInterest money.Amount `json:"capital_interest"`
	Trace           calc.Trace   `json:"trace"`
}

// interest fills adj.Interest from the adjustment's top-up settlements that
// were not reversed, at the project's financing rate.
func (s *Service) interest(ctx context.Context, q sqlx.QueryerContext, adj *Adjustment) error {
	adj.Interest = []TopUpInterest{}
	var from *civil.Date
	if err := sqlx.GetContext(ctx, q, &from, `SELECT effective_on FROM peak_changes WHERE id = $1`, adj.PeakChangeID); err != nil {
		return fmt.Errorf("peak change effective date: %w", err)
	}
	if from == nil || s.est == nil {
		return nil
	}
	t, err := s.est.Terms(ctx, q, adj.ProjectID)
	if err != nil || t.FinancingRate == nil {
		return nil // no rate, no interest: the terms tab reports the missing rate
	}
	var rows []struct {
		PartnerID int64           `db:"partner_id"`
		UserID    int64           `db:"user_id"`
		Amount    decimal.Decimal `db:"amount"`
		SettledOn civil.Date      `db:"settled_on"`
	}
	if err := sqlx.SelectContext(ctx, q, &rows, `SELECT partner_id, user_id, amount, settled_on FROM adjustment_settlements s
		WHERE adjustment_id = $1 AND direction = 'top_up'
		AND NOT EXISTS (SELECT 1 FROM ledger_transactions lt WHERE lt.reverses_id = s.ledger_tx_id)
		ORDER BY partner_id, id`, adj.ID); err != nil {
		return fmt.Errorf("top-up settlements: %w", err)
	}
	for i := 0; i < len(rows); {
		j := i
		var ps []calc.InterestPayment
		for ; j < len(rows) && rows[j].PartnerID == rows[i].PartnerID; j++ {
			ps = append(ps, calc.InterestPayment{Amount: rows[j].Amount, PaidOn: rows[j].SettledOn})
		}
		b, tr := calc.CapitalInterest(fmt.Sprintf("top_up_interest[%d]", rows[i].PartnerID), *from, *t.FinancingRate, ps)
		adj.Interest = append(adj.Interest, TopUpInterest{PartnerID: rows[i].PartnerID, UserID: rows[i].UserID,
			CapitalInterest: money.AmountOf(b), Trace: tr})
		i = j
	}
	return nil
}
