package establishment

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"
	"github.com/shopspring/decimal"

	"hehuo/internal/apperr"
	"hehuo/internal/audit"
)

// ChangePeakCapital sets the project's peak capital to newPeak in tx: the
// effect of an agreed peak_change process (R5). The tier ratios stay, so
// the pools resize with the peak (R1); the lock stays, since the new peak
// was itself approved. The terms version moves so that an open 立项信息
// form becomes stale.
func (s *Service) ChangePeakCapital(ctx context.Context, tx *sqlx.Tx, a audit.Actor, projectID int64, newPeak decimal.Decimal, processID int64) error {
	if newPeak.Sign() <= 0 {
		return apperr.Invalid("peak_capital_invalid", "new_peak_capital", "资金峰值必须大于0")
	}
	if err := ensure(ctx, tx, projectID); err != nil {
		return err
	}
	before, err := load(ctx, tx, projectID)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE establishments SET peak_capital = $2, terms_version = terms_version + 1,
		updated_at = now() WHERE project_id = $1`, projectID, newPeak); err != nil {
		return fmt.Errorf("change peak capital %d: %w", projectID, err)
	}
	after, err := load(ctx, tx, projectID)
	if err != nil {
		return err
	}
	return audit.Record(ctx, tx, a, audit.Entry{Action: "establishment.peak.change", Entity: "establishment_terms", EntityID: projectID,
		ProjectID: &projectID, Before: auditTerms(before), After: map[string]any{"terms": auditTerms(after), "process_id": processID}})
}

// CheckShareholders applies the rules of 股权合作 (kinds, stakes summing to
// 100%) to a shareholder list without saving it: a peak change checks its
// new shareholding when it is created, not only when it takes effect.
func CheckShareholders(in []ShareholderInput) error {
	_, err := checkShareholders(in)
	return err
}
