package exit

import (
	"context"
	"errors"
	"fmt"

	"github.com/jmoiron/sqlx"

	"hehuo/internal/apperr"
	"hehuo/internal/audit"
	"hehuo/internal/civil"
	"hehuo/internal/ledger"
	"hehuo/internal/money"
	"hehuo/internal/partner"
)

// KindPayout is the ledger kind of an exit's payout.
const KindPayout = "exit_payout"

// PayoutResult is a registered payout.
type PayoutResult struct {
	Exit
	// Replayed: the Idempotency-Key had registered this payout before;
	// nothing was posted this time.
	Replayed bool `json:"replayed"`
}

// RegisterPayout records the payout of agreed exit id (登记退出打款金额及打款
// 日期): the platform company pays the partner the quoted total, posted as
// external:platform −y, external:{partner} +y in one balanced transaction
// under the client's Idempotency-Key; the exit is then paid. The amount
// must be the quoted total (422 exit_payout_amount_mismatch); an exit not
// agreed is 422 exit_not_agreed. The same key and body again answer with
// the first payout and post nothing; the same key with another body is
// 409, and so is another key on a paid exit (exit_paid).
func (s *Service) RegisterPayout(ctx context.Context, a audit.Actor, id int64, key string, in PayoutInput) (PayoutResult, error) {
	key, err := ledger.ClientKey(key)
	if err != nil {
		return PayoutResult{}, err
	}
	if in.PaidOn.IsZero() {
		return PayoutResult{}, apperr.Invalid("paid_on_required", "paid_on", "请填写打款日期")
	}
	if err := in.PaidOn.InWindow("paid_on", "打款日期"); err != nil {
		return PayoutResult{}, err
	}
	if civil.Today(s.now()).Before(in.PaidOn) {
		return PayoutResult{}, apperr.Invalid("paid_on_future", "paid_on", "打款日期不能晚于今天")
	}
	if !in.Amount.IsPositive() {
		return PayoutResult{}, apperr.Invalid("amount_required", "amount", "请填写打款金额")
	}
	key = fmt.Sprintf("exit:%d:payout:%s", id, key)
	var out PayoutResult
	err = s.db.InTx(ctx, func(tx *sqlx.Tx) error {
		e, err := s.lock(ctx, tx, id)
		if err != nil {
			return err
		}
		if e.Status == StatusPaid {
			prior, err := ledger.GetByKey(ctx, tx, key)
			switch {
			case errors.Is(err, ledger.ErrTransactionNotFound):
				return apperr.Conflict("exit_paid", "该退出已于 %s 登记打款，不能重复登记", e.PaidOn)
			case err != nil:
				return err
			case e.PayoutTxID == nil || prior.ID != *e.PayoutTxID || *e.PaidOn != in.PaidOn || !e.PaidAmount.Equal(in.Amount.Decimal):
				return ledger.ErrIdempotencyKeyReused
			}
			out = PayoutResult{Exit: e, Replayed: true}
			return nil
		}
		if e.Status != StatusAgreed {
			return apperr.Rule("exit_not_agreed", "", "退出审批通过（已承接）后才能登记打款（当前：%s）", e.Status.Label())
		}
		if !in.Amount.Equal(e.Total.Decimal) {
			return apperr.Rule("exit_payout_amount_mismatch", "amount", "打款金额 %s 须等于测算的退出价款合计 %s",
				money.Display(in.Amount.Decimal), money.Display(e.Total.Decimal))
		}
		if in.PaidOn.Before(e.ExitDate) {
			return apperr.Rule("paid_on_before_exit", "paid_on", "打款日期不能早于退出日期 %s", e.ExitDate)
		}
		if err := partner.RefuseOwnLine(ctx, tx, a, e.PartnerID); err != nil {
			return err
		}
		posted, err := ledger.Post(ctx, tx, ledger.Transaction{IdempotencyKey: key, Kind: KindPayout,
			Memo:      fmt.Sprintf("平台公司支付 %s 退出价款 %s", e.PartnerName, in.PaidOn),
			CreatedBy: a.ID,
			Postings: []ledger.Posting{
				{Account: ledger.External("platform"), Amount: in.Amount.Decimal.Neg()},
				{Account: ledger.ExternalPartner(e.PartnerID), Amount: in.Amount.Decimal},
			}})
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE exits SET status = 'paid', paid_on = $2, paid_amount = $3, payout_tx_id = $4,
			version = version + 1, updated_at = now() WHERE id = $1`, id, in.PaidOn, in.Amount, posted.ID); err != nil {
			return fmt.Errorf("exit paid: %w", err)
		}
		if err := audit.Record(ctx, tx, a, audit.Entry{Action: "exit.payout", Entity: "exit", EntityID: id,
			Before: map[string]any{"status": e.Status, "version": e.Version},
			After: map[string]any{"status": StatusPaid, "paid_on": in.PaidOn, "paid_amount": in.Amount,
				"ledger_transaction_id": posted.ID, "version": e.Version + 1}}); err != nil {
			return err
		}
		e, err = s.Get(ctx, tx, id)
		out = PayoutResult{Exit: e}
		return err
	})
	return out, err
}
