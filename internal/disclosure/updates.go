package disclosure

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/shopspring/decimal"

	"hehuo/internal/apperr"
	"hehuo/internal/audit"
	"hehuo/internal/db"
	"hehuo/internal/establishment"
	"hehuo/internal/money"
	"hehuo/internal/position"
	"hehuo/internal/project"
	"hehuo/internal/text"
	"hehuo/internal/workflow"
)

// Service runs P&L updates and disclosures.
type Service struct {
	db  *db.DB
	est *establishment.Service
	pos *position.Service
	wf  *workflow.Service
	now func() time.Time
}

// NewService returns the service and registers the disclosure process's
// effect on wf (nil in tests without a process center).
func NewService(d *db.DB, est *establishment.Service, wf *workflow.Service) *Service {
	s := &Service{db: d, est: est, pos: position.NewService(d, est), wf: wf, now: time.Now}
	if wf != nil {
		wf.Register(workflow.KindDisclosure, s.effect())
	}
	return s
}

// indicatorKind says how an indicator is written: ratios (净利率, IRR) as
// fractions, the payback period in whole months, the others as amounts.
func indicatorKind(field string) string {
	switch field {
	case "net_margin", "irr":
		return "ratio"
	case "payback_months":
		return "months"
	}
	return "amount"
}

// indicatorLabels are a period's indicators in the order of the screens:
// 货值 first (its 立项 value is the establishment's basic information),
// then the establishment's 盈利指标 in its order and names with 回款 after
// 销售收入 (回款 has no 立项 value).
var indicatorLabels = func() []struct{ Field, Label string } {
	out := []struct{ Field, Label string }{{"saleable_value", "货值"}}
	for _, l := range establishment.IndicatorLabels {
		out = append(out, l)
		if l.Field == "sales_revenue" {
			out = append(out, struct{ Field, Label string }{"collections", "回款"})
		}
	}
	return out
}()

// Indicators are a period's indicators in the order of the screens.
func Indicators() []Indicator {
	out := make([]Indicator, len(indicatorLabels))
	for i, l := range indicatorLabels {
		out[i] = Indicator{Field: l.Field, Label: l.Label, Kind: indicatorKind(l.Field)}
	}
	return out
}

// label is the Chinese name of an indicator field.
func label(field string) string {
	for _, l := range indicatorLabels {
		if l.Field == field {
			return l.Label
		}
	}
	return field
}

// numbers are the values of v by field as decimals (nil when not entered).
func (v Values) numbers() map[string]*decimal.Decimal {
	amt := func(a *money.Amount) *decimal.Decimal {
		if a == nil {
			return nil
		}
		d := a.Decimal
		return &d
	}
	ratio := func(s *string) *decimal.Decimal {
		if s == nil || *s == "" {
			return nil
		}
		d, err := decimal.NewFromString(*s)
		if err != nil {
			return nil
		}
		return &d
	}
	out := map[string]*decimal.Decimal{
		"saleable_value": amt(v.SaleableValue), "collections": amt(v.Collections),
		"sales_revenue": amt(v.SalesRevenue), "total_investment": amt(v.TotalInvestment),
		"net_profit": amt(v.NetProfit), "group_net_profit": amt(v.GroupNetProfit),
		"net_margin": ratio(v.NetMargin), "irr": ratio(v.IRR),
	}
	if v.PaybackMonths != nil {
		d := decimal.NewFromInt(int64(*v.PaybackMonths))
		out["payback_months"] = &d
	}
	return out
}

// render writes an indicator's value as the API does.
func render(kind string, d *decimal.Decimal) *string {
	if d == nil {
		return nil
	}
	var s string
	switch kind {
	case "amount":
		s = money.Format(*d)
	case "months":
		s = d.Round(0).String()
	default:
		s = d.Round(6).String()
	}
	return &s
}

// compare is the 立项 vs 动态 table of v against base.
func compare(base, v Values) []Compared {
	b, c := base.numbers(), v.numbers()
	out := make([]Compared, 0, len(indicatorLabels))
	for _, l := range indicatorLabels {
		k := indicatorKind(l.Field)
		row := Compared{Field: l.Field, Label: l.Label, Kind: k, Baseline: render(k, b[l.Field]), Value: render(k, c[l.Field])}
		if b[l.Field] != nil && c[l.Field] != nil {
			d := c[l.Field].Sub(*b[l.Field])
			row.Difference = render(k, &d)
		}
		out = append(out, row)
	}
	return out
}

// baseline is the project's 立项 values of the indicators.
func (s *Service) baseline(ctx context.Context, projectID int64) (Values, error) {
	in, err := s.est.Indicators(ctx, projectID)
	if err != nil {
		return Values{}, err
	}
	basic, err := s.est.BasicInfo(ctx, projectID)
	if err != nil {
		return Values{}, err
	}
	v := Values{SalesRevenue: in.SalesRevenue, TotalInvestment: in.TotalInvestment, NetProfit: in.NetProfit,
		GroupNetProfit: in.GroupNetProfit, NetMargin: in.NetMargin, IRR: in.IRR, PaybackMonths: in.PaybackMonths}
	// 货值 at 立项 is the establishment's basic information (项目基本信息).
	if basic.SaleableValue != nil {
		d, err := money.Parse(*basic.SaleableValue)
		if err != nil {
			return Values{}, fmt.Errorf("baseline 货值 of project %d: %w", projectID, err)
		}
		a := money.AmountOf(d)
		v.SaleableValue = &a
	}
	return v, nil
}

// ratioOf reads a ratio that may be negative (a loss), at most six decimals.
func ratioOf(s *string, field string) (*decimal.Decimal, error) {
	if s == nil || *s == "" {
		return nil, nil
	}
	v, err := money.ParseNumber(*s)
	if err != nil {
		return nil, apperr.Invalid("ratio_invalid", field, "%s须为小数形式的比例，例如 0.12 表示 12%%", label(field))
	}
	if !v.Equal(v.Truncate(6)) {
		return nil, apperr.Invalid("ratio_too_precise", field, "%s最多保留6位小数（即百分比4位小数）", label(field))
	}
	if v.Abs().GreaterThanOrEqual(decimal.NewFromInt(1000)) {
		return nil, apperr.Invalid("ratio_out_of_range", field, "%s超出范围", label(field))
	}
	return &v, nil
}

// clean checks a period as entered and returns its stored form: the period
// date, at least one indicator, amounts of sales and investment not
// negative, ratios as fractions, the payback within 0–1200 months.
func clean(in Input) (Input, valueRow, error) {
	var r valueRow
	if in.PeriodOn.IsZero() {
		return in, r, apperr.Invalid("period_on_required", "period_on", "请填写盈亏期间的截至日期")
	}
	if err := in.PeriodOn.InWindow("period_on", "截至日期"); err != nil {
		return in, r, err
	}
	var err error
	if in.Title, err = text.Clean(in.Title, "title", "期间名称", false, 50); err != nil {
		return in, r, err
	}
	if in.Note, err = text.CleanNote(in.Note, "note", "情况说明", false, 2000); err != nil {
		return in, r, err
	}
	for _, m := range []struct {
		v     *money.Amount
		field string
	}{{in.SaleableValue, "saleable_value"}, {in.Collections, "collections"}, {in.SalesRevenue, "sales_revenue"}, {in.TotalInvestment, "total_investment"}} {
		if m.v != nil && m.v.IsNegative() {
			return in, r, apperr.Invalid("amount_negative", m.field, "%s不能为负数", label(m.field))
		}
	}
	if r.NetMargin, err = ratioOf(in.NetMargin, "net_margin"); err != nil {
		return in, r, err
	}
	if r.IRR, err = ratioOf(in.IRR, "irr"); err != nil {
		return in, r, err
	}
	if in.PaybackMonths != nil && (*in.PaybackMonths < 0 || *in.PaybackMonths > 1200) {
		return in, r, apperr.Invalid("payback_months_invalid", "payback_months", "现金流回正周期须在0到1200个月之间")
	}
	dec := func(a *money.Amount) *decimal.Decimal {
		if a == nil {
			return nil
		}
		d := a.Decimal
		return &d
	}
	r.SaleableValue, r.Collections = dec(in.SaleableValue), dec(in.Collections)
	r.SalesRevenue, r.TotalInvestment = dec(in.SalesRevenue), dec(in.TotalInvestment)
	r.NetProfit, r.GroupNetProfit = dec(in.NetProfit), dec(in.GroupNetProfit)
	r.PaybackMonths = in.PaybackMonths
	if r.SaleableValue == nil && r.Collections == nil && r.SalesRevenue == nil && r.TotalInvestment == nil && r.NetProfit == nil && r.GroupNetProfit == nil &&
		r.NetMargin == nil && r.IRR == nil && r.PaybackMonths == nil {
		return in, r, apperr.Invalid("indicators_required", "sales_revenue", "请至少填写一项盈利指标")
	}
	// The stored forms of the ratios ("" cleared to nil).
	in.NetMargin, in.IRR = ratioString(r.NetMargin), ratioString(r.IRR)
	return in, r, nil
}

func ratioString(d *decimal.Decimal) *string {
	if d == nil {
		return nil
	}
	s := d.String()
	return &s
}

const selectUpdate = `SELECT id, project_id, period_on, title, note, saleable_value, collections, sales_revenue, total_investment, net_profit, group_net_profit,
	net_margin, irr, payback_months, status, process_id, created_by_name, created_at, updated_by_name, updated_at, version
	FROM profit_updates`

// scanUpdate reads one row of selectUpdate.
type updateRow struct {
	ProfitUpdate
	valueRow
}

func (r updateRow) update() ProfitUpdate {
	u := r.ProfitUpdate
	amt := func(d *decimal.Decimal) *money.Amount {
		if d == nil {
			return nil
		}
		a := money.AmountOf(*d)
		return &a
	}
	u.Values = Values{SaleableValue: amt(r.SaleableValue), Collections: amt(r.Collections), SalesRevenue: amt(r.SalesRevenue), TotalInvestment: amt(r.TotalInvestment), NetProfit: amt(r.NetProfit),
		GroupNetProfit: amt(r.GroupNetProfit), NetMargin: ratioString(r.NetMargin), IRR: ratioString(r.IRR), PaybackMonths: r.PaybackMonths}
	u.StatusLabel = u.Status.Label()
	return u
}

// loadUpdate reads P&L update id (lock: FOR UPDATE); a missing one is 404.
func loadUpdate(ctx context.Context, q sqlx.QueryerContext, id int64, lock bool) (ProfitUpdate, error) {
	var r updateRow
	query := selectUpdate + ` WHERE id = $1`
	if lock {
		query += ` FOR UPDATE`
	}
	if err := sqlx.GetContext(ctx, q, &r, query, id); err != nil {
		if db.IsNoRows(err) {
			return ProfitUpdate{}, ErrNotFound
		}
		return ProfitUpdate{}, fmt.Errorf("profit update %d: %w", id, err)
	}
	return r.update(), nil
}

// history reads the versions of the updates ids, newest first, by update.
func history(ctx context.Context, q sqlx.QueryerContext, ids []int64) (map[int64][]Revision, error) {
	out := map[int64][]Revision{}
	if len(ids) == 0 {
		return out, nil
	}
	var rows []struct {
		ID int64 `db:"profit_update_id"`
		Revision
	}
	query, args, err := sqlx.In(`SELECT profit_update_id, version, data, saved_by_name, saved_at FROM profit_update_versions
		WHERE profit_update_id IN (?) ORDER BY profit_update_id, version DESC`, ids)
	if err != nil {
		return nil, err
	}
	if err := sqlx.SelectContext(ctx, q, &rows, sqlx.Rebind(sqlx.DOLLAR, query), args...); err != nil {
		return nil, fmt.Errorf("profit update history: %w", err)
	}
	for _, r := range rows {
		rev := r.Revision
		if err := json.Unmarshal(rev.Raw, &rev.Data); err != nil {
			return nil, fmt.Errorf("profit update %d version %d: %w", r.ID, rev.Version, err)
		}
		out[r.ID] = append(out[r.ID], rev)
	}
	return out, nil
}

// ProjectOf is the project of P&L update id (404 when there is none).
func (s *Service) ProjectOf(ctx context.Context, id int64) (int64, error) {
	u, err := loadUpdate(ctx, s.db, id, false)
	return u.ProjectID, err
}

// ProfitUpdates returns the project's P&L: the 立项 baseline and every period,
// oldest first, each compared with the baseline and with its history.
func (s *Service) ProfitUpdates(ctx context.Context, projectID int64) (Updates, error) {
	base, err := s.baseline(ctx, projectID)
	if err != nil {
		return Updates{}, err
	}
	var rows []updateRow
	if err := s.db.SelectContext(ctx, &rows, selectUpdate+` WHERE project_id = $1 ORDER BY period_on, id`, projectID); err != nil {
		return Updates{}, fmt.Errorf("profit updates of %d: %w", projectID, err)
	}
	ids := make([]int64, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
	}
	hist, err := history(ctx, s.db, ids)
	if err != nil {
		return Updates{}, err
	}
	out := Updates{ProjectID: projectID, Indicators: Indicators(), Baseline: base, Items: make([]ProfitUpdate, len(rows))}
	for i, r := range rows {
		u := r.update()
		u.Comparison = compare(base, u.Values)
		u.History = hist[u.ID]
		if u.History == nil {
			u.History = []Revision{}
		}
		out.Items[i] = u
	}
	return out, nil
}

// Get returns one P&L update with its comparison and history.
func (s *Service) Get(ctx context.Context, id int64) (ProfitUpdate, error) {
	u, err := loadUpdate(ctx, s.db, id, false)
	if err != nil {
		return u, err
	}
	return s.describe(ctx, u)
}

func (s *Service) describe(ctx context.Context, u ProfitUpdate) (ProfitUpdate, error) {
	base, err := s.baseline(ctx, u.ProjectID)
	if err != nil {
		return u, err
	}
	u.Comparison = compare(base, u.Values)
	hist, err := history(ctx, s.db, []int64{u.ID})
	if err != nil {
		return u, err
	}
	u.History = hist[u.ID]
	if u.History == nil {
		u.History = []Revision{}
	}
	return u, nil
}

// saveVersion records the period as it now stands under its version.
func saveVersion(ctx context.Context, tx *sqlx.Tx, a audit.Actor, id int64, version int, in Input) error {
	data, err := marshalSnapshot(Snapshot{PeriodOn: in.PeriodOn, Title: in.Title, Note: in.Note, Values: in.Values})
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO profit_update_versions (profit_update_id, version, data, saved_by_name)
		VALUES ($1, $2, $3, $4)`, id, version, string(data), a.Name); err != nil {
		return fmt.Errorf("profit update %d version %d: %w", id, version, err)
	}
	return nil
}

// errPeriodExists is a second period with the same date in one project.
func errPeriodExists(on string) error {
	return apperr.Conflict("profit_update_period_exists", "该项目已有截至 %s 的盈亏动态，请修改原记录", on)
}

// Create adds a period to the project (accountant or business admin).
func (s *Service) Create(ctx context.Context, a audit.Actor, projectID int64, in Input) (ProfitUpdate, error) {
	in, r, err := clean(in)
	if err != nil {
		return ProfitUpdate{}, err
	}
	var id int64
	err = s.db.InTx(ctx, func(tx *sqlx.Tx) error {
		if err := project.Writable(ctx, tx, projectID); err != nil {
			return err
		}
		var exists bool
		if err := tx.GetContext(ctx, &exists, `SELECT EXISTS (SELECT 1 FROM profit_updates WHERE project_id = $1 AND period_on = $2)`,
			projectID, in.PeriodOn); err != nil {
			return fmt.Errorf("profit update period: %w", err)
		}
		if exists {
			return errPeriodExists(in.PeriodOn.String())
		}
		if err := tx.GetContext(ctx, &id, `INSERT INTO profit_updates (project_id, period_on, title, note, sales_revenue, total_investment,
			net_profit, group_net_profit, net_margin, irr, payback_months, created_by, created_by_name, updated_by_name,
			saleable_value, collections)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13, $14, $15) RETURNING id`,
			projectID, in.PeriodOn, in.Title, in.Note, r.SalesRevenue, r.TotalInvestment, r.NetProfit, r.GroupNetProfit,
			r.NetMargin, r.IRR, r.PaybackMonths, a.ID, a.Name, r.SaleableValue, r.Collections); err != nil {
			if _, ok := db.IsUniqueViolation(err); ok {
				return errPeriodExists(in.PeriodOn.String())
			}
			return fmt.Errorf("create profit update: %w", err)
		}
		if err := saveVersion(ctx, tx, a, id, 1, in); err != nil {
			return err
		}
		after, err := loadUpdate(ctx, tx, id, false)
		if err != nil {
			return err
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "profit_update.create", Entity: "profit_update", EntityID: id,
			ProjectID: &projectID, After: after})
	})
	if err != nil {
		return ProfitUpdate{}, err
	}
	return s.Get(ctx, id)
}

// Update replaces a period's date, name, note and values (version read;
// stale → 409). The version saved before stays in the history. A period
// in a disclosure process or disclosed is locked (422 profit_update_locked).
func (s *Service) Update(ctx context.Context, a audit.Actor, id int64, in Input) (ProfitUpdate, error) {
	in, r, err := clean(in)
	if err != nil {
		return ProfitUpdate{}, err
	}
	err = s.db.InTx(ctx, func(tx *sqlx.Tx) error {
		before, err := loadUpdate(ctx, tx, id, true)
		if err != nil {
			return err
		}
		if err := project.Writable(ctx, tx, before.ProjectID); err != nil {
			return err
		}
		if in.Version != before.Version {
			return apperr.ErrStaleVersion
		}
		if before.Status != StatusDraft {
			return apperr.Rule("profit_update_locked", "", "该期盈亏动态%s，不能再修改", before.Status.Label())
		}
		var clash bool
		if err := tx.GetContext(ctx, &clash, `SELECT EXISTS (SELECT 1 FROM profit_updates WHERE project_id = $1 AND period_on = $2 AND id <> $3)`,
			before.ProjectID, in.PeriodOn, id); err != nil {
			return fmt.Errorf("profit update period: %w", err)
		}
		if clash {
			return errPeriodExists(in.PeriodOn.String())
		}
		if _, err := tx.ExecContext(ctx, `UPDATE profit_updates SET period_on = $2, title = $3, note = $4, sales_revenue = $5,
			total_investment = $6, net_profit = $7, group_net_profit = $8, net_margin = $9, irr = $10, payback_months = $11,
			updated_by_name = $12, updated_at = now(), version = version + 1, saleable_value = $13, collections = $14 WHERE id = $1`,
			id, in.PeriodOn, in.Title, in.Note, r.SalesRevenue, r.TotalInvestment, r.NetProfit, r.GroupNetProfit,
			r.NetMargin, r.IRR, r.PaybackMonths, a.Name, r.SaleableValue, r.Collections); err != nil {
			return fmt.Errorf("update profit update %d: %w", id, err)
		}
		if err := saveVersion(ctx, tx, a, id, before.Version+1, in); err != nil {
			return err
		}
		after, err := loadUpdate(ctx, tx, id, false)
		if err != nil {
			return err
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "profit_update.update", Entity: "profit_update", EntityID: id,
			ProjectID: &before.ProjectID, Before: before, After: after})
	})
	if err != nil {
		return ProfitUpdate{}, err
	}
	return s.Get(ctx, id)
}

// periodName is how a period is named on forms and notices: its title, or
// 截至 <date>.
func (u ProfitUpdate) periodName() string {
	if u.Title != "" {
		return u.Title + "（截至" + u.PeriodOn.String() + "）"
	}
	return "截至" + u.PeriodOn.String()
}
