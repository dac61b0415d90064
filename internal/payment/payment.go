// Package payment keeps payments (缴款确认) of approved rounds: each receipt
// is one balanced ledger transaction (bank:{project} +x,
// principal:{project}:{partner} −x) under the client's Idempotency-Key, a
// reversal (冲销) posts its negation, and every figure shown — paid,
// outstanding, capital interest (RULES R4) — is derived from the ledger.
package payment

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/shopspring/decimal"

	"hehuo/internal/apperr"
	"hehuo/internal/audit"
	"hehuo/internal/calc"
	"hehuo/internal/civil"
	"hehuo/internal/db"
	"hehuo/internal/establishment"
	"hehuo/internal/ledger"
	"hehuo/internal/money"
	"hehuo/internal/partner"
	"hehuo/internal/position"
	"hehuo/internal/project"
	"hehuo/internal/round"
	"hehuo/internal/text"
)

// KindPayment is the ledger kind of a confirmed payment.
const KindPayment = "payment"

// Errors callers and tests may check with errors.Is.
var (
	ErrRoundNotFound   = apperr.NotFound("round_not_found", "轮次不存在")
	ErrPaymentNotFound = apperr.NotFound("payment_not_found", "缴款记录不存在")
	ErrNotApproved     = apperr.Rule("round_not_approved", "", "轮次尚未审批通过，不能确认缴款")
	ErrNotPartner      = apperr.Invalid("payment_not_partner", "user_id", "该用户在本轮次没有认购额度")
	ErrOverpayment     = apperr.Rule("payment_overpaid", "amount", "缴款金额超过待缴金额")
	ErrAlreadyReversed = apperr.Conflict("payment_already_reversed", "该笔缴款已冲销")
)

// Service owns payments.
type Service struct {
	db  *db.DB
	est *establishment.Service
	pos *position.Service
	// Now is the clock; a payment dated after today is refused.
	Now func() time.Time
}

// NewService returns the payment service.
func NewService(d *db.DB, est *establishment.Service) *Service {
	return &Service{db: d, est: est, pos: position.NewService(d, est), Now: time.Now}
}

// Input is a confirmation of one receipt.
type Input struct {
	UserID int64      `json:"user_id"`
	Amount string     `json:"amount"`
	PaidOn civil.Date `json:"paid_on"`
}

// Payment is one confirmed receipt.
type Payment struct {
	ID                    int64        `db:"id" json:"id"`
	RoundID               int64        `db:"round_id" json:"round_id"`
	ProjectID             int64        `db:"project_id" json:"project_id"`
	PartnerID             int64        `db:"partner_id" json:"partner_id"`
	UserID                *int64       `db:"user_id" json:"user_id"`
	Amount                money.Amount `db:"amount" json:"amount"`
	PaidOn                civil.Date   `db:"paid_on" json:"paid_on"`
	IdempotencyKey        string       `db:"idempotency_key" json:"-"`
	LedgerTransactionID   int64        `db:"ledger_transaction_id" json:"ledger_transaction_id"`
	ReversalTransactionID *int64       `db:"reversal_transaction_id" json:"reversal_transaction_id"`
	ReversalReason        *string      `db:"reversal_reason" json:"reversal_reason"`
	ReversedBy            *string      `db:"reversed_by" json:"reversed_by"`
	ReversedAt            *time.Time   `db:"reversed_at" json:"reversed_at"`
	Reversed              bool         `db:"-" json:"reversed"`
	CreatedBy             string       `db:"created_by" json:"created_by"`
	CreatedAt             time.Time    `db:"created_at" json:"created_at"`
	Version               int          `db:"version" json:"version"`
}

func (p *Payment) fill() { p.Reversed = p.ReversalTransactionID != nil }

func actorName(a audit.Actor) string {
	if a.Name == "" {
		return audit.System.Name
	}
	return a.Name
}

// ProjectOfPayment returns the project of payment id, for scope checks.
func (s *Service) ProjectOfPayment(ctx context.Context, id int64) (int64, error) {
	var p int64
	err := s.db.GetContext(ctx, &p, `SELECT project_id FROM payments WHERE id = $1`, id)
	if db.IsNoRows(err) {
		return 0, ErrPaymentNotFound
	}
	return p, err
}

// Confirm records a receipt of in.Amount from in.UserID on round roundID.
// The allocation line of the partner is locked first, so concurrent
// confirmations for one partner queue and the sum never exceeds the
// allocation. The same key with the same request returns the first payment;
// with another request it is a conflict.
func (s *Service) Confirm(ctx context.Context, a audit.Actor, roundID int64, key string, in Input) (Payment, error) {
	key, err := ledger.ClientKey(key)
	if err != nil {
		return Payment{}, err
	}
	amount, err := money.Parse(in.Amount)
	if err != nil {
		return Payment{}, apperr.Invalid("amount_invalid", "amount", "请填写正确的缴款金额")
	}
	if !amount.IsPositive() {
		return Payment{}, apperr.Invalid("amount_not_positive", "amount", "缴款金额必须大于 0")
	}
	if in.PaidOn.IsZero() {
		return Payment{}, apperr.Invalid("paid_on_required", "paid_on", "请填写缴款日期")
	}
	if err := in.PaidOn.InWindow("paid_on", "缴款日期"); err != nil {
		return Payment{}, err
	}
	if today := civil.Today(s.Now()); today.DaysSince(in.PaidOn) < 0 {
		return Payment{}, apperr.Invalid("paid_on_future", "paid_on", "缴款日期不能晚于今天")
	}
	var out Payment
	err = s.db.InTx(ctx, func(tx *sqlx.Tx) error {
		var r struct {
			ProjectID int64        `db:"project_id"`
			Status    round.Status `db:"status"`
		}
		err := tx.GetContext(ctx, &r, `SELECT project_id, status FROM rounds WHERE id = $1`, roundID)
		if db.IsNoRows(err) {
			return ErrRoundNotFound
		}
		if err != nil {
			return err
		}
		if r.Status != round.StatusApproved {
			return ErrNotApproved
		}
		if err := project.Writable(ctx, tx, r.ProjectID); err != nil {
			return err
		}
		if err := paidOnInReach(ctx, tx, roundID, in.PaidOn); err != nil {
			return err
		}
		line, ok, err := round.LockLine(ctx, tx, roundID, in.UserID)
		if err != nil {
			return err
		}
		if !ok {
			return ErrNotPartner
		}
		if err := partner.RefuseOwnLine(ctx, tx, a, line.PartnerID); err != nil {
			return err
		}
		var prior Payment
		err = tx.GetContext(ctx, &prior, `SELECT * FROM payments WHERE idempotency_key = $1`, key)
		if err == nil {
			if prior.RoundID == roundID && prior.PartnerID == line.PartnerID && prior.Amount.Equal(amount) && prior.PaidOn == in.PaidOn {
				prior.fill()
				out = prior
				return nil
			}
			return ledger.ErrIdempotencyKeyReused
		}
		if !db.IsNoRows(err) {
			return err
		}
		if adjusted, err := s.pos.Adjusted(ctx, tx, r.ProjectID, line.PartnerID); err != nil {
			return err
		} else if adjusted {
			return ErrAdjusted
		}
		paid, err := s.pos.RoundPaid(ctx, tx, roundID, line.PartnerID)
		if err != nil {
			return err
		}
		if paid.Add(amount).GreaterThan(line.Allocated) {
			return apperr.Rule(ErrOverpayment.Code, "amount", "缴款金额超过待缴金额：认购 %s，已缴 %s，待缴 %s",
				money.Display(line.Allocated), money.Display(paid), money.Display(line.Allocated.Sub(paid)))
		}
		out, err = record(ctx, tx, r.ProjectID, roundID, line.PartnerID, in.UserID, key, amount, in.PaidOn, a)
		if err != nil {
			return err
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "payment.confirm", Entity: "payment", EntityID: out.ID,
			ProjectID: &r.ProjectID, After: out})
	})
	return out, err
}

// record posts one receipt to the ledger and writes its payment row; the
// caller has locked the partner's allocation line and checked the amount.
func record(ctx context.Context, tx *sqlx.Tx, projectID, roundID, partnerID, userID int64, key string, amount decimal.Decimal, paidOn civil.Date, a audit.Actor) (Payment, error) {
	var out Payment
	posted, err := ledger.Post(ctx, tx, ledger.Transaction{
		IdempotencyKey: "payment:" + key,
		Kind:           KindPayment,
		Memo:           fmt.Sprintf("缴款确认 轮次%d %s", roundID, paidOn),
		ProjectID:      &projectID,
		CreatedBy:      a.ID,
		Postings: []ledger.Posting{
			{Account: ledger.Bank(projectID), Amount: amount},
			{Account: ledger.Principal(projectID, partnerID), Amount: amount.Neg()},
		},
	})
	if err != nil {
		return out, err
	}
	err = tx.GetContext(ctx, &out, `
		INSERT INTO payments (round_id, project_id, partner_id, user_id, amount, paid_on, idempotency_key, ledger_transaction_id, created_by)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING *`,
		roundID, projectID, partnerID, userID, amount, paidOn, key, posted.ID, actorName(a))
	if c, ok := db.IsUniqueViolation(err); ok && c == "payments_idempotency_key_key" {
		return out, ledger.ErrIdempotencyKeyReused
	}
	if err != nil {
		return out, fmt.Errorf("payment: insert: %w", err)
	}
	out.fill()
	return out, nil
}

// ErrAdjusted is a round payment for a partner whose principal an agreed
// establishment adjustment (R5) has re-split: what they still owe is the
// adjustment's top-up, confirmed as a settlement (变更缴款确认), so that the
// round's old allocation cannot be paid on top of the new principal.
var ErrAdjusted = apperr.Rule("payment_adjusted", "user_id", "项目已立项调整，该合伙人的补缴请在「变更缴款确认」中登记")

// ReverseInput is a reversal (冲销) of a payment entered by mistake.
type ReverseInput struct {
	Reason  string `json:"reason"`
	Version int    `json:"version"`
}

// Reverse posts the negation of payment id's ledger transaction with the
// reason; the payment no longer counts as paid nor for interest.
func (s *Service) Reverse(ctx context.Context, a audit.Actor, id int64, in ReverseInput) (Payment, error) {
	reason, err := text.CleanNote(in.Reason, "reason", "冲销原因", true, 500)
	if err != nil {
		return Payment{}, err
	}
	var out Payment
	err = s.db.InTx(ctx, func(tx *sqlx.Tx) error {
		var p Payment
		err := tx.GetContext(ctx, &p, `SELECT * FROM payments WHERE id = $1 FOR UPDATE`, id)
		if db.IsNoRows(err) {
			return ErrPaymentNotFound
		}
		if err != nil {
			return err
		}
		p.fill()
		if err := project.Writable(ctx, tx, p.ProjectID); err != nil {
			return err
		}
		if err := partner.RefuseOwnLine(ctx, tx, a, p.PartnerID); err != nil {
			return err
		}
		if p.Reversed {
			return ErrAlreadyReversed
		}
		if in.Version != p.Version {
			return apperr.ErrStaleVersion
		}
		rev, err := ledger.Reverse(ctx, tx, p.LedgerTransactionID, fmt.Sprintf("payment-reversal:%d", p.ID), "冲销缴款："+reason, a.ID)
		if err != nil {
			return err
		}
		err = tx.GetContext(ctx, &out, `
			UPDATE payments SET reversal_transaction_id = $2, reversal_reason = $3, reversed_by = $4, reversed_at = now(), version = version + 1
			WHERE id = $1 RETURNING *`, id, rev.ID, reason, actorName(a))
		if err != nil {
			return fmt.Errorf("payment: reverse: %w", err)
		}
		out.fill()
		return audit.Record(ctx, tx, a, audit.Entry{Action: "payment.reverse", Entity: "payment", EntityID: id,
			ProjectID: &p.ProjectID, Before: p, After: out})
	})
	return out, err
}

// Line is one partner's position in a round.
type Line struct {
	PartnerID       int64        `json:"partner_id"`
	UserID          *int64       `json:"user_id"`
	Name            string       `json:"name"`
	Tier            string       `json:"tier"`
	Allocated       money.Amount `json:"allocated"`
	Paid            money.Amount `json:"paid"`
	Outstanding     money.Amount `json:"outstanding"`
	CapitalInterest money.Amount `json:"capital_interest"`
	FullyPaid       bool         `json:"fully_paid"`
	Payments        []Payment    `json:"payments"`
	Trace           calc.Trace   `json:"trace"`
}

// Summary is a round's payments (缴款确认 list).
type Summary struct {
	RoundID       int64        `json:"round_id"`
	ProjectID     int64        `json:"project_id"`
	FundingDate   *civil.Date  `json:"funding_date"`
	FinancingRate *string      `json:"financing_rate"`
	Allocated     money.Amount `json:"allocated"`
	Paid          money.Amount `json:"paid"`
	Outstanding   money.Amount `json:"outstanding"`
	Items         []Line       `json:"items"`
}

// List returns every allocated partner of round roundID with what they were
// allocated, paid (from the ledger), still owe, and their capital interest
// (R4; zero while the project has no funding date or rate).
func (s *Service) List(ctx context.Context, roundID int64) (Summary, error) {
	var projectID int64
	err := s.db.GetContext(ctx, &projectID, `SELECT project_id FROM rounds WHERE id = $1`, roundID)
	if db.IsNoRows(err) {
		return Summary{}, ErrRoundNotFound
	}
	if err != nil {
		return Summary{}, err
	}
	out := Summary{RoundID: roundID, ProjectID: projectID, Items: []Line{}}
	rp, err := s.pos.Round(ctx, s.db, roundID, projectID)
	if err != nil {
		return Summary{}, err
	}
	if funding := rp.Funding.Date; !funding.IsZero() {
		out.FundingDate = &funding
	}
	if rate := rp.Funding.Rate; rate != nil {
		r := rate.String()
		out.FinancingRate = &r
	}
	var all []Payment
	if err := s.db.SelectContext(ctx, &all, `SELECT * FROM payments WHERE round_id = $1 ORDER BY paid_on, id`, roundID); err != nil {
		return Summary{}, err
	}
	byPartner := map[int64][]Payment{}
	for _, p := range all {
		p.fill()
		byPartner[p.PartnerID] = append(byPartner[p.PartnerID], p)
	}
	for _, l := range rp.Lines {
		line := Line{PartnerID: l.PartnerID, UserID: l.UserID, Name: l.Name, Tier: l.Tier,
			Allocated: money.AmountOf(l.Allocated), Paid: money.AmountOf(l.Paid), Outstanding: money.AmountOf(l.Outstanding),
			FullyPaid: l.Paid.Equal(l.Allocated), Payments: byPartner[l.PartnerID],
			CapitalInterest: money.AmountOf(l.Interest), Trace: l.Trace}
		if line.Payments == nil {
			line.Payments = []Payment{}
		}
		out.Items = append(out.Items, line)
	}
	tA, tP := rp.Totals()
	out.Allocated, out.Paid, out.Outstanding = money.AmountOf(tA), money.AmountOf(tP), money.AmountOf(tA.Sub(tP))
	return out, nil
}

// paidOnInReach refuses a payment dated more than a year before the round's
// payment notice (or the project's funding date, when that is earlier, as
// when past payments are entered after the fact): such a date is a typo, not
// a payment (400 date_out_of_range). A round with neither has only civil's
// window.
func paidOnInReach(ctx context.Context, q sqlx.QueryerContext, roundID int64, paidOn civil.Date) error {
	var anchor civil.Date
	err := sqlx.GetContext(ctx, q, &anchor, `
		SELECT LEAST((SELECT (pn.sent_at AT TIME ZONE 'Asia/Shanghai')::date FROM payment_notices pn WHERE pn.round_id = r.id),
		             (SELECT e.funding_date FROM establishments e WHERE e.project_id = r.project_id))
		FROM rounds r WHERE r.id = $1`, roundID)
	if err != nil {
		return fmt.Errorf("payment date anchor of round %d: %w", roundID, err)
	}
	if anchor.IsZero() {
		return nil
	}
	earliest := civil.Of(anchor.Start().AddDate(-1, 0, 0))
	if paidOn.Before(earliest) {
		return apperr.Invalid("date_out_of_range", "paid_on", "缴款日期不能早于%s（缴款通知或出资日期前一年）", earliest)
	}
	return nil
}

// ProjectHasPayments reports whether any payment (reversed or not) was ever
// confirmed in project projectID: opening balances (internal/opening) are
// only for a project whose money has not started moving in Hehuo.
func ProjectHasPayments(ctx context.Context, q sqlx.QueryerContext, projectID int64) (bool, error) {
	var ok bool
	if err := sqlx.GetContext(ctx, q, &ok, `SELECT EXISTS (SELECT 1 FROM payments WHERE project_id = $1)`, projectID); err != nil {
		return false, fmt.Errorf("payments of project %d: %w", projectID, err)
	}
	return ok, nil
}
