package distribution

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"
	"github.com/shopspring/decimal"

	"hehuo/internal/apperr"
	"hehuo/internal/audit"
	"hehuo/internal/money"
	"hehuo/internal/text"
)

// LineInput is the body of PATCH /distributions/{id}/lines/{partner_id}:
// C with its reason (while the batch is editable), and amounts typed by
// hand (R8, only while unlocked). Absent fields stay as they are.
type LineInput struct {
	Version int     `json:"version"` // the batch's
	C       *string `json:"c"`
	CReason *string `json:"c_reason"`
	D       *string `json:"d"`
	E       *string `json:"e"`
	F       *string `json:"f"`
}

// parseAmount reads an amount field of a line: Parse's rules (at most two
// decimals), the field named.
func parseAmount(s, field, label string) (decimal.Decimal, error) {
	x, err := money.Parse(s)
	if err != nil {
		if e := apperr.As(err); e != nil {
			return x, apperr.Invalid(e.Code, field, "%s：%s", label, e.Message)
		}
		return x, err
	}
	return x, nil
}

// UpdateLine edits one line of an editable batch: C (其它, any sign) with
// its reason, required when C is not zero (422 c_reason_required); D, E, F
// typed by hand while the batch is unlocked (else 422 distribution_locked),
// marked manual with who and when. Any edit sends the batch back to draft.
func (s *Service) UpdateLine(ctx context.Context, a audit.Actor, id, partnerID int64, in LineInput) (Batch, error) {
	if in.Version <= 0 {
		return Batch{}, apperr.Invalid("version_required", "version", "缺少版本号")
	}
	var c, d, e, f *decimal.Decimal
	for _, x := range []struct {
		in           *string
		out          **decimal.Decimal
		field, label string
	}{{in.C, &c, "c", "其它"}, {in.D, &d, "d", "本金分配（不含其它）"}, {in.E, &e, "e", "本金分配（含其它）"}, {in.F, &f, "f", "利润分配"}} {
		if x.in == nil {
			continue
		}
		v, err := parseAmount(*x.in, x.field, x.label)
		if err != nil {
			return Batch{}, err
		}
		*x.out = &v
	}
	var reason *string
	if in.CReason != nil {
		r, err := text.CleanNote(*in.CReason, "c_reason", "其它的说明", false, 500)
		if err != nil {
			return Batch{}, err
		}
		reason = &r
	}
	var out Batch
	err := s.db.InTx(ctx, func(tx *sqlx.Tx) error {
		b, err := begin(ctx, tx, a, id, in.Version)
		if err != nil {
			return err
		}
		if !editable[b.Status] {
			return errLocked
		}
		var line *Line
		for i := range b.Lines {
			if b.Lines[i].PartnerID == partnerID {
				line = &b.Lines[i]
			}
		}
		if line == nil {
			return apperr.NotFound("line_not_found", "该分配批次没有此合伙人的明细")
		}
		manual := d != nil || e != nil || f != nil
		if manual && !b.Unlocked {
			return apperr.Rule("distribution_locked", "", "手工录入金额须先由业务管理员解锁编辑")
		}
		if (d != nil || e != nil) && b.Kind == KindProfit {
			return apperr.Invalid("field_not_applicable", "d", "利润分配没有本金分配金额")
		}
		if f != nil && b.Kind == KindPrincipal {
			return apperr.Invalid("field_not_applicable", "f", "本金分配没有利润分配金额")
		}
		if f != nil && f.IsNegative() {
			return apperr.Invalid("f_invalid", "f", "利润分配不能为负数")
		}
		newC, newReason := line.C.Decimal, line.CReason
		if c != nil {
			newC = *c
		}
		if reason != nil {
			newReason = *reason
		}
		if !newC.IsZero() && newReason == "" {
			return apperr.Rule("c_reason_required", "c_reason", "第%d行（%s）其它不为0，请填写说明", line.Seq, line.Name)
		}
		newD, newE, newF := line.D.Decimal, line.E.Decimal, line.F.Decimal
		if d != nil {
			newD = *d
			if e == nil { // E follows the D typed, with C
				newE = newD.Add(newC)
			}
		}
		if e != nil {
			newE = *e
		}
		if f != nil {
			newF = *f
		}
		set := `c = $3, c_reason = $4`
		args := []any{id, partnerID, newC, newReason}
		if manual {
			set += `, d = $5, e = $6, f = $7, manual = true, manual_by = $8, manual_by_name = $9, manual_at = now()`
			args = append(args, newD, newE, newF, a.ID, actorName(a))
		}
		if _, err := tx.ExecContext(ctx, `UPDATE distribution_lines SET `+set+` WHERE batch_id = $1 AND partner_id = $2`, args...); err != nil {
			return fmt.Errorf("update distribution line: %w", err)
		}
		before := map[string]any{"partner_id": partnerID, "c": line.C, "c_reason": line.CReason, "d": line.D, "e": line.E, "f": line.F,
			"manual": line.Manual, "status": b.Status, "version": b.Version}
		if _, err := tx.ExecContext(ctx, `UPDATE distribution_batches SET status = 'draft', saved_hash = '', version = version + 1,
			updated_at = now() WHERE id = $1`, id); err != nil {
			return fmt.Errorf("distribution to draft: %w", err)
		}
		if out, err = get(ctx, tx, id, false); err != nil {
			return err
		}
		after := map[string]any{"partner_id": partnerID, "c": money.AmountOf(newC), "c_reason": newReason, "d": money.AmountOf(newD),
			"e": money.AmountOf(newE), "f": money.AmountOf(newF), "manual": line.Manual || manual, "status": out.Status, "version": out.Version}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "distribution.line_update", Entity: "distribution", EntityID: id,
			ProjectID: &b.ProjectID, Before: before, After: after})
	})
	return out, err
}
