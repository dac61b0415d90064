// Package establishment owns a project's establishment (立项): basic info
// (基础信息), shareholding (股权合作, versioned), terms (立项信息, sized by R1),
// milestones (关键节点) and profit indicators (盈利指标, establishment values),
// and the business effect of the peak_capital process (terms locked).
package establishment

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/shopspring/decimal"

	"hehuo/internal/apperr"
	"hehuo/internal/db"
	"hehuo/internal/money"
	"hehuo/internal/project"
	"hehuo/internal/rate"
	"hehuo/internal/workflow"
)

// Service owns establishment data.
type Service struct {
	db    *db.DB
	wf    *workflow.Service
	rates *rate.Service
	now   func() time.Time
	guard ShareholdingGuard
}

// ShareholdingGuard refuses a direct save of project projectID's
// shareholding (股权合作) in the caller's transaction.
type ShareholdingGuard func(ctx context.Context, q sqlx.QueryerContext, projectID int64) error

// GuardShareholding sets the rule a direct save of 股权合作 must pass. The
// owner of peak changes registers it: a change in progress carries the new
// shareholders and saves them when agreed, so a direct save meanwhile would
// be overwritten or contradict it.
func (s *Service) GuardShareholding(g ShareholdingGuard) { s.guard = g }

// NewService returns the establishment service and registers the effect of
// the peak_capital process on wf (nil in tests that need no process center).
func NewService(d *db.DB, wf *workflow.Service) *Service {
	s := &Service{db: d, wf: wf, rates: rate.NewService(d), now: time.Now}
	if wf != nil {
		wf.Register(workflow.KindPeakCapital, s.peakCapitalEffect())
	}
	return s
}

// Rates is the financing rate table the terms read.
func (s *Service) Rates() *rate.Service { return s.rates }

// SetClock replaces the clock (tests of dates relative to today).
func (s *Service) SetClock(now func() time.Time) { s.now = now }

// ensure creates the project's establishment row if missing and locks it,
// so that concurrent saves of one project queue up. A missing project is 404.
func ensure(ctx context.Context, tx *sqlx.Tx, projectID int64) error {
	if err := mustExist(ctx, tx, projectID); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO establishments (project_id) VALUES ($1) ON CONFLICT DO NOTHING`, projectID); err != nil {
		return fmt.Errorf("create establishment %d: %w", projectID, err)
	}
	if _, err := tx.ExecContext(ctx, `SELECT 1 FROM establishments WHERE project_id = $1 FOR UPDATE`, projectID); err != nil {
		return fmt.Errorf("lock establishment %d: %w", projectID, err)
	}
	return nil
}

// ensureWritable is ensure for a user's save: the project must be open and
// not settled (project.Writable). The effects of agreed processes use ensure:
// the decision was taken in DingTalk and is recorded whatever came after.
func ensureWritable(ctx context.Context, tx *sqlx.Tx, projectID int64) error {
	if err := project.Writable(ctx, tx, projectID); err != nil {
		return err
	}
	return ensure(ctx, tx, projectID)
}

// mustExist is 404 for a project that does not exist (a sysadmin's scope
// covers every id, so the route's scope check does not catch it).
func mustExist(ctx context.Context, q sqlx.QueryerContext, projectID int64) error {
	var ok bool
	if err := sqlx.GetContext(ctx, q, &ok, `SELECT EXISTS (SELECT 1 FROM projects WHERE id = $1)`, projectID); err != nil {
		return fmt.Errorf("check project %d: %w", projectID, err)
	}
	if !ok {
		return apperr.NotFound("project_not_found", "项目不存在")
	}
	return nil
}

// checkVersion compares the client's version of a tab with the stored one.
func checkVersion(got, want int) error {
	if got != want {
		return apperr.ErrStaleVersion
	}
	return nil
}

// parseFraction reads a ratio as a fraction with at most six decimals in
// [0, max]. An empty string is nil.
func parseFraction(s, field, label string, max decimal.Decimal) (*decimal.Decimal, error) {
	if s == "" {
		return nil, nil
	}
	v, err := money.ParseNumber(s)
	if err != nil {
		return nil, apperr.Invalid("ratio_invalid", field, "%s须为小数形式的比例，例如 0.0331 表示 3.31%%", label)
	}
	if !v.Equal(v.Truncate(6)) {
		return nil, apperr.Invalid("ratio_too_precise", field, "%s最多保留6位小数（即百分比4位小数）", label)
	}
	if v.GreaterThan(max) {
		return nil, apperr.Invalid("ratio_out_of_range", field, "%s不能超过%s", label, max.Shift(2).String()+"%")
	}
	return &v, nil
}

// parseQuantity reads a non-negative quantity (area, amount) with at most two
// decimals. An empty string is nil.
func parseQuantity(s, field, label string) (*decimal.Decimal, error) {
	if s == "" {
		return nil, nil
	}
	v, err := money.ParseNumber(s)
	if err != nil {
		return nil, apperr.Invalid("number_invalid", field, "%s须为数字", label)
	}
	if v.IsNegative() {
		return nil, apperr.Invalid("number_negative", field, "%s不能为负数", label)
	}
	if !v.Equal(v.Truncate(2)) {
		return nil, apperr.Invalid("number_too_precise", field, "%s最多保留2位小数", label)
	}
	if v.GreaterThanOrEqual(decimal.New(1, 18)) {
		return nil, apperr.Invalid("number_too_large", field, "%s过大", label)
	}
	return &v, nil
}

// decStr renders an optional decimal as a string, "" when absent.
func decStr(d *decimal.Decimal) string {
	if d == nil {
		return ""
	}
	return d.String()
}

func isNoRows(err error) bool { return db.IsNoRows(err) }

func errNegative(field, label string) error {
	return apperr.Invalid("ratio_negative", field, "%s不能为负数", label)
}
