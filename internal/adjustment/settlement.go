package adjustment

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/shopspring/decimal"

	"hehuo/internal/apperr"
	"hehuo/internal/audit"
	"hehuo/internal/civil"
	"hehuo/internal/db"
	"hehuo/internal/ledger"
	"hehuo/internal/money"
	"hehuo/internal/partner"
	"hehuo/internal/payout"
)

// Settlement directions.
const (
	DirectionTopUp  = "top_up" // 补缴: the partner pays in
	DirectionRefund = "refund" // 退款: the partnership pays back
)

// Settlement is one confirmed top-up or refund (变更缴款确认).
type Settlement struct {
	ID           int64        `json:"id" db:"id"`
	AdjustmentID int64        `json:"adjustment_id" db:"adjustment_id"`
	PartnerID    int64        `json:"partner_id" db:"partner_id"`
	UserID       int64        `json:"user_id" db:"user_id"`
	Direction    string       `json:"direction" db:"direction"`
	Amount       money.Amount `json:"amount" db:"amount"`
	SettledOn    civil.Date   `json:"settled_on" db:"settled_on"`
	LedgerTxID   int64        `json:"ledger_transaction_id" db:"ledger_tx_id"`
	CreatedBy    string       `json:"created_by_name" db:"created_by_name"`
	// Reversed: the settlement's ledger transaction was reversed (冲销).
	Reversed  bool      `json:"reversed" db:"reversed"`
	CreatedAt time.Time `json:"created_at" db:"created_at"`
}

// SettlementInput is the body of POST /adjustments/{id}/settlements.
type SettlementInput struct {
	UserID    int64      `json:"user_id"`
	Amount    string     `json:"amount"`
	SettledOn civil.Date `json:"settled_on"`
}

const selectSettlement = `SELECT id, adjustment_id, partner_id, user_id, direction, amount, settled_on, ledger_tx_id,
	created_by_name, created_at, EXISTS (SELECT 1 FROM ledger_transactions lt WHERE lt.reverses_id = ledger_tx_id) AS reversed
	FROM adjustment_settlements`

// Settlements lists the adjustment's settlements in order.
func (s *Service) Settlements(ctx context.Context, id int64) ([]Settlement, error) {
	out := []Settlement{}
	if err := sqlx.SelectContext(ctx, s.db, &out, selectSettlement+` WHERE adjustment_id = $1 ORDER BY id`, id); err != nil {
		return nil, fmt.Errorf("settlements: %w", err)
	}
	return out, nil
}

// Settle confirms a top-up received or a refund paid for a partner of an
// agreed adjustment: one balanced ledger transaction (top-up: bank +x,
// principal −x; refund: principal +x, bank −x) under the idempotency key,
// never more than the partner's outstanding top-up or refund. A refund
// needs the partner's confirmed payout account. The key is the client's
// Idempotency-Key, checked by ledger.ClientKey as for payments (never
// invented): the same key with the same request answers with the first
// settlement and posts nothing; with another request it is
// ledger.ErrIdempotencyKeyReused.
func (s *Service) Settle(ctx context.Context, a audit.Actor, id int64, key string, in SettlementInput) (Settlement, error) {
	key, err := ledger.ClientKey(key)
	if err != nil {
		return Settlement{}, err
	}
	amount, err := money.Parse(in.Amount)
	if err != nil || amount.Sign() <= 0 {
		return Settlement{}, apperr.Invalid("amount_invalid", "amount", "金额必须为大于0的金额（精确到分）")
	}
	if in.SettledOn.IsZero() {
		return Settlement{}, apperr.Invalid("settled_on_required", "settled_on", "请填写缴款/退款日期")
	}
	if in.SettledOn.Start().After(s.now()) {
		return Settlement{}, apperr.Invalid("settled_on_future", "settled_on", "日期不能晚于今天")
	}
	key = fmt.Sprintf("adjustment:%d:settlement:%s", id, key)
	var out Settlement
	err = s.db.InTx(ctx, func(tx *sqlx.Tx) error {
		if err := writable(ctx, tx, id); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `SELECT 1 FROM adjustments WHERE id = $1 FOR SHARE`, id); err != nil {
			return fmt.Errorf("lock adjustment: %w", err)
		}
		adj, err := get(ctx, tx, id)
		if err != nil {
			return err
		}
		if adj.Status != StatusAgreed {
			return apperr.Conflict("adjustment_not_agreed", "立项调整审批通过后才能确认补缴或退款")
		}
		// A replayed key answers with the settlement it made, if the
		// request is the same; another request under it is a conflict.
		if err := tx.GetContext(ctx, &out, selectSettlement+` WHERE idempotency_key = $1`, key); err == nil {
			if out.UserID != in.UserID || !out.Amount.Equal(amount) || out.SettledOn != in.SettledOn {
				out = Settlement{}
				return ledger.ErrIdempotencyKeyReused
			}
			return nil
		} else if !db.IsNoRows(err) {
			return fmt.Errorf("settlement by key: %w", err)
		}
		pid, ok, err := partner.ForUser(ctx, tx, in.UserID)
		if err != nil {
			return err
		}
		if !ok {
			return apperr.Rule("partner_not_in_adjustment", "user_id", "该用户不在本次立项调整中")
		}
		if err := partner.RefuseOwnLine(ctx, tx, a, pid); err != nil {
			return err
		}
		// Lock the partner's lines: concurrent confirmations queue here.
		type line struct {
			Tier    string          `db:"tier"`
			TopUp   decimal.Decimal `db:"top_up"`
			Refund  decimal.Decimal `db:"refund"`
			Settled decimal.Decimal `db:"settled"`
		}
		var lines []line
		if err := tx.SelectContext(ctx, &lines, `SELECT tier, top_up, refund, settled FROM adjustment_lines
			WHERE adjustment_id = $1 AND partner_id = $2 ORDER BY tier FOR UPDATE`, id, pid); err != nil {
			return fmt.Errorf("lock lines: %w", err)
		}
		var topUp, refund, settled decimal.Decimal
		for _, l := range lines {
			topUp, refund, settled = topUp.Add(l.TopUp), refund.Add(l.Refund), settled.Add(l.Settled)
		}
		if len(lines) == 0 || topUp.Add(refund).IsZero() {
			return apperr.Rule("partner_not_in_adjustment", "user_id", "该合伙人在本次立项调整中无需补缴或退款")
		}
		// A partner has either a net top-up or a net refund: in two tiers
		// the two are netted, as one principal account is settled.
		direction, due := DirectionTopUp, topUp.Sub(refund)
		if due.Sign() < 0 {
			direction, due = DirectionRefund, due.Neg()
		}
		left := due.Sub(settled)
		if amount.GreaterThan(left) {
			return apperr.Rule("settlement_over", "amount", "金额超过待%s金额 %s", directionLabel(direction), money.Display(left))
		}
		if direction == DirectionRefund {
			ok, err := payout.Confirmed(ctx, tx, in.UserID)
			if err != nil {
				return err
			}
			if !ok {
				return apperr.Rule("payout_account_unconfirmed", "user_id", "该合伙人尚未确认分配账户，不能退款")
			}
		}
		x := amount
		if direction == DirectionRefund {
			x = x.Neg()
		}
		project, by := adj.ProjectID, a.ID
		posted, err := ledger.Post(ctx, tx, ledger.Transaction{IdempotencyKey: key, Kind: "adjustment_" + direction,
			Memo: fmt.Sprintf("立项调整 %d %s %s", id, directionLabel(direction), in.SettledOn), ProjectID: &project, CreatedBy: by,
			Postings: []ledger.Posting{{Account: ledger.Bank(project), Amount: x}, {Account: ledger.Principal(project, pid), Amount: x.Neg()}}})
		if err != nil {
			return err
		}
		// Spread the amount over the partner's lines (settled ≤ top_up + refund each).
		rest := amount
		for _, l := range lines {
			room := l.TopUp.Add(l.Refund).Sub(l.Settled)
			take := decimal.Min(room, rest)
			if take.Sign() <= 0 {
				continue
			}
			if _, err := tx.ExecContext(ctx, `UPDATE adjustment_lines SET settled = settled + $4 WHERE adjustment_id = $1 AND partner_id = $2 AND tier = $3`,
				id, pid, l.Tier, take); err != nil {
				return fmt.Errorf("settle line: %w", err)
			}
			rest = rest.Sub(take)
		}
		if rest.Sign() > 0 {
			// Netted tiers: the remainder goes on the first line that has room left from netting.
			if _, err := tx.ExecContext(ctx, `UPDATE adjustment_lines SET settled = settled + $3 WHERE adjustment_id = $1 AND partner_id = $2
				AND tier = (SELECT tier FROM adjustment_lines WHERE adjustment_id = $1 AND partner_id = $2 AND top_up + refund - settled >= $3 LIMIT 1)`,
				id, pid, rest); err != nil {
				return fmt.Errorf("settle line: %w", err)
			}
		}
		if err := tx.GetContext(ctx, &out, `INSERT INTO adjustment_settlements (adjustment_id, partner_id, user_id, direction, amount, settled_on,
			ledger_tx_id, idempotency_key, created_by, created_by_name) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
			RETURNING id, adjustment_id, partner_id, user_id, direction, amount, settled_on, ledger_tx_id, created_by_name, created_at, false AS reversed`,
			id, pid, in.UserID, direction, amount, in.SettledOn, posted.ID, key, a.ID, actorName(a)); err != nil {
			return fmt.Errorf("insert settlement: %w", err)
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "adjustment.settle", Entity: "adjustment_settlement", EntityID: out.ID,
			ProjectID: &project, After: out})
	})
	return out, err
}

func directionLabel(d string) string {
	if d == DirectionRefund {
		return "退款"
	}
	return "补缴"
}
