package distribution

import (
	"context"
	"fmt"
	"strings"

	"github.com/jmoiron/sqlx"

	"hehuo/internal/apperr"
	"hehuo/internal/audit"
	"hehuo/internal/partner"
	"hehuo/internal/payout"
	"hehuo/internal/text"
)

// Submit (申请发布审核) sends a saved batch to the business admin's review:
// an unsaved one is 422 calculation_unsaved, one whose figures moved since
// it was saved 409 calculation_stale, and every payee with an amount must
// have a confirmed payout account (422 payout_account_missing naming them).
func (s *Service) Submit(ctx context.Context, a audit.Actor, id int64, in VersionInput) (Batch, error) {
	if in.Version <= 0 {
		return Batch{}, apperr.Invalid("version_required", "version", "缺少版本号")
	}
	var out Batch
	err := s.db.InTx(ctx, func(tx *sqlx.Tx) error {
		b, err := begin(ctx, tx, a, id, in.Version)
		if err != nil {
			return err
		}
		switch b.Status {
		case StatusSaved:
		case StatusDraft, StatusCalculated, StatusRejected:
			return apperr.Rule("calculation_unsaved", "", "测算结果尚未保存，请先保存再申请发布审核")
		default:
			return apperr.Rule("distribution_status", "", "分配批次当前状态（%s）不能申请发布审核", b.Status.Label())
		}
		if err := s.recheck(ctx, tx, b, true); err != nil {
			return err
		}
		if err := payoutAccounts(ctx, tx, id); err != nil {
			return err
		}
		out, err = finish(ctx, tx, a, b, "distribution.submit", `, status = 'submitted', submitted_by = $2, submitted_at = now(),
			review_note = ''`, a.ID)
		return err
	})
	return out, err
}

// payoutAccounts refuses a batch paying someone without a confirmed payout
// account (分配账户): every payee who is a user and has an amount on the line.
func payoutAccounts(ctx context.Context, tx *sqlx.Tx, id int64) error {
	var payees []struct {
		Seq    int    `db:"seq"`
		Name   string `db:"name"`
		UserID int64  `db:"user_id"`
	}
	if err := tx.SelectContext(ctx, &payees, `SELECT l.seq, py.name, py.user_id FROM distribution_lines l
		JOIN partners py ON py.id = l.payee_partner_id
		WHERE l.batch_id = $1 AND (l.e <> 0 OR l.f <> 0) AND py.user_id IS NOT NULL ORDER BY l.seq`, id); err != nil {
		return fmt.Errorf("payees of distribution %d: %w", id, err)
	}
	if len(payees) == 0 {
		return nil
	}
	ids := make([]int64, len(payees))
	for i, p := range payees {
		ids[i] = p.UserID
	}
	accounts, err := payout.Of(ctx, tx, ids)
	if err != nil {
		return err
	}
	var names []string
	var missing []int64
	for _, p := range payees {
		if acc, ok := accounts[p.UserID]; !ok || acc.Status != payout.StatusConfirmed {
			names = append(names, fmt.Sprintf("第%d行 %s", p.Seq, p.Name))
			missing = append(missing, p.UserID)
		}
	}
	if len(names) == 0 {
		return nil
	}
	e := apperr.Rule("payout_account_missing", "", "以下合伙人尚未确认分配账户，不能申请发布审核：%s", strings.Join(names, "、"))
	e.Details = map[string]any{"user_ids": missing}
	return e
}

// ReviewInput is the business admin's decision (审核).
type ReviewInput struct {
	Approve bool   `json:"approve"`
	Reason  string `json:"reason"`
	Version int    `json:"version"`
}

// Review approves a submitted batch (reviewed: its process may be launched)
// or returns it (rejected, with the reason, required then). Never one's own
// submission (403 own_submission), never a batch holding one's own line.
func (s *Service) Review(ctx context.Context, a audit.Actor, id int64, in ReviewInput) (Batch, error) {
	if in.Version <= 0 {
		return Batch{}, apperr.Invalid("version_required", "version", "缺少版本号")
	}
	reason, err := text.CleanNote(in.Reason, "reason", "审核意见", !in.Approve, 1000)
	if err != nil {
		if e := apperr.As(err); e != nil && e.Code == "required" {
			return Batch{}, apperr.Invalid("review_reason_required", "reason", "退回时请填写审核意见")
		}
		return Batch{}, err
	}
	var out Batch
	err = s.db.InTx(ctx, func(tx *sqlx.Tx) error {
		b, err := begin(ctx, tx, a, id, in.Version)
		if err != nil {
			return err
		}
		if b.Status != StatusSubmitted {
			return apperr.Rule("distribution_not_submitted", "", "分配批次当前状态（%s）不能审核", b.Status.Label())
		}
		h, err := readHashes(ctx, tx, id)
		if err != nil {
			return err
		}
		if a.ID != nil && h.SubmittedBy != nil && *h.SubmittedBy == *a.ID {
			return partner.ErrOwnSubmission
		}
		if in.Approve {
			out, err = finish(ctx, tx, a, b, "distribution.review_approve", `, status = 'reviewed', reviewed_by = $2, reviewed_at = now(),
				review_note = $3`, a.ID, reason)
		} else {
			out, err = finish(ctx, tx, a, b, "distribution.review_return", `, status = 'rejected', reviewed_by = $2, reviewed_at = now(),
				review_note = $3`, a.ID, reason)
		}
		return err
	})
	return out, err
}
