package adjustment

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"
	"github.com/shopspring/decimal"

	"hehuo/internal/apperr"
	"hehuo/internal/audit"
	"hehuo/internal/db"
	"hehuo/internal/ledger"
	"hehuo/internal/partner"
	"hehuo/internal/text"
)

// ReversalInput is the body of a settlement's reversal: why it is undone.
type ReversalInput struct {
	Reason string `json:"reason"`
}

// Reverse undoes a mistyped settlement (冲销): the ledger transaction is
// reversed with the reason, the partner's lines owe the amount again, and
// the settlement is marked reversed (derived from the ledger, so the two
// cannot disagree). Reversing twice is 409; the reversal key is fixed per
// settlement, so a retried request answers the same.
func (s *Service) Reverse(ctx context.Context, a audit.Actor, adjustmentID, settlementID int64, in ReversalInput) (Settlement, error) {
	reason, err := text.CleanNote(in.Reason, "reason", "冲销原因", true, 200)
	if err != nil {
		return Settlement{}, err
	}
	var out Settlement
	err = s.db.InTx(ctx, func(tx *sqlx.Tx) error {
		if err := writable(ctx, tx, adjustmentID); err != nil {
			return err
		}
		if err := tx.GetContext(ctx, &out, selectSettlement+` WHERE id = $1 AND adjustment_id = $2 FOR UPDATE`, settlementID, adjustmentID); err != nil {
			if db.IsNoRows(err) {
				return apperr.NotFound("settlement_not_found", "变更缴款记录不存在")
			}
			return fmt.Errorf("settlement %d: %w", settlementID, err)
		}
		if err := partner.RefuseOwnLine(ctx, tx, a, out.PartnerID); err != nil {
			return err
		}
		var reversed bool
		if err := tx.GetContext(ctx, &reversed, `SELECT EXISTS (SELECT 1 FROM ledger_transactions WHERE reverses_id = $1)`, out.LedgerTxID); err != nil {
			return fmt.Errorf("settlement reversed: %w", err)
		}
		if reversed {
			return apperr.Conflict("settlement_reversed", "该笔变更缴款已冲销")
		}
		if _, err := ledger.Reverse(ctx, tx, out.LedgerTxID, fmt.Sprintf("adjustment:%d:settlement:%d:reversal", adjustmentID, settlementID), reason, a.ID); err != nil {
			return err
		}
		// Give the amount back to the partner's lines, last tier first.
		var lines []struct {
			Tier    string          `db:"tier"`
			Settled decimal.Decimal `db:"settled"`
		}
		if err := tx.SelectContext(ctx, &lines, `SELECT tier, settled FROM adjustment_lines WHERE adjustment_id = $1 AND partner_id = $2
			AND settled > 0 ORDER BY tier DESC FOR UPDATE`, adjustmentID, out.PartnerID); err != nil {
			return fmt.Errorf("lock lines: %w", err)
		}
		rest := out.Amount.Decimal
		for _, l := range lines {
			take := decimal.Min(l.Settled, rest)
			if take.Sign() <= 0 {
				break
			}
			if _, err := tx.ExecContext(ctx, `UPDATE adjustment_lines SET settled = settled - $4 WHERE adjustment_id = $1 AND partner_id = $2 AND tier = $3`,
				adjustmentID, out.PartnerID, l.Tier, take); err != nil {
				return fmt.Errorf("unsettle line: %w", err)
			}
			rest = rest.Sub(take)
		}
		var projectID int64
		if err := tx.GetContext(ctx, &projectID, `SELECT project_id FROM adjustments WHERE id = $1`, adjustmentID); err != nil {
			return fmt.Errorf("adjustment project: %w", err)
		}
		out.Reversed = true
		return audit.Record(ctx, tx, a, audit.Entry{Action: "adjustment.settlement_reverse", Entity: "adjustment_settlement", EntityID: settlementID,
			ProjectID: &projectID, After: map[string]any{"settlement": out, "reason": reason}})
	})
	return out, err
}
