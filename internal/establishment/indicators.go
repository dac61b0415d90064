package establishment

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"
	"github.com/shopspring/decimal"

	"hehuo/internal/apperr"
	"hehuo/internal/audit"
	"hehuo/internal/money"
)

// Indicators are a project's profit indicators (盈利指标) at establishment.
// Dynamic values come with the P&L updates (盈亏动态) of disclosure. Every
// field is optional; ratios are fractions ("0.12" = 12%).
type Indicators struct {
	SalesRevenue    *money.Amount `json:"sales_revenue"`    // 销售收入（含税）
	TotalInvestment *money.Amount `json:"total_investment"` // 总投资
	NetProfit       *money.Amount `json:"net_profit"`       // 净利润
	GroupNetProfit  *money.Amount `json:"group_net_profit"` // 锦艺方净利润 (R7's base)
	NetMargin       *string       `json:"net_margin"`       // 销售净利率
	IRR             *string       `json:"irr"`              // 全投资IRR
	PaybackMonths   *int          `json:"payback_months"`   // 现金流回正周期（月）
	Version         int           `json:"version"`
}

// IndicatorLabels name the indicators in the UI and the KPI export, in order.
var IndicatorLabels = []struct{ Field, Label string }{
	{"sales_revenue", "销售收入"},
	{"total_investment", "总投资"},
	{"net_profit", "净利润"},
	{"group_net_profit", "锦艺方净利润"},
	{"net_margin", "销售净利率"},
	{"irr", "全投资IRR"},
	{"payback_months", "现金流回正周期（月）"},
}

type indicatorRow struct {
	SalesRevenue    *decimal.Decimal `db:"sales_revenue"`
	TotalInvestment *decimal.Decimal `db:"total_investment"`
	NetProfit       *decimal.Decimal `db:"net_profit"`
	GroupNetProfit  *decimal.Decimal `db:"group_net_profit"`
	NetMargin       *decimal.Decimal `db:"net_margin"`
	IRR             *decimal.Decimal `db:"irr"`
	PaybackMonths   *int             `db:"payback_months"`
	Version         int              `db:"indicators_version"`
}

const indicatorColumns = `sales_revenue, total_investment, net_profit, group_net_profit, net_margin, irr, payback_months, indicators_version`

func amountPtr(d *decimal.Decimal) *money.Amount {
	if d == nil {
		return nil
	}
	a := money.AmountOf(*d)
	return &a
}

func (r indicatorRow) indicators() Indicators {
	return Indicators{
		SalesRevenue: amountPtr(r.SalesRevenue), TotalInvestment: amountPtr(r.TotalInvestment),
		NetProfit: amountPtr(r.NetProfit), GroupNetProfit: amountPtr(r.GroupNetProfit),
		NetMargin: optStr(r.NetMargin), IRR: optStr(r.IRR), PaybackMonths: r.PaybackMonths, Version: r.Version,
	}
}

func loadIndicators(ctx context.Context, q sqlx.QueryerContext, projectID int64) (Indicators, error) {
	var r indicatorRow
	err := sqlx.GetContext(ctx, q, &r, `SELECT `+indicatorColumns+` FROM establishments WHERE project_id = $1`, projectID)
	if isNoRows(err) {
		// sqlx allocates the pointer fields before it learns there is no
		// row; start again from nothing entered.
		r = indicatorRow{}
	} else if err != nil {
		return Indicators{}, fmt.Errorf("indicators %d: %w", projectID, err)
	}
	return r.indicators(), nil
}

// Indicators returns the project's establishment profit indicators.
func (s *Service) Indicators(ctx context.Context, projectID int64) (Indicators, error) {
	if err := mustExist(ctx, s.db, projectID); err != nil {
		return Indicators{}, err
	}
	return loadIndicators(ctx, s.db, projectID)
}

// signedRatio reads a ratio that may be negative (a loss-making margin).
func signedRatio(s *string, field, label string) (*decimal.Decimal, error) {
	if s == nil || *s == "" {
		return nil, nil
	}
	v, err := money.ParseNumber(*s)
	if err != nil {
		return nil, apperr.Invalid("ratio_invalid", field, "%s须为小数形式的比例，例如 0.12 表示 12%%", label)
	}
	if !v.Equal(v.Truncate(6)) {
		return nil, apperr.Invalid("ratio_too_precise", field, "%s最多保留6位小数（即百分比4位小数）", label)
	}
	if v.Abs().GreaterThanOrEqual(decimal.NewFromInt(1000)) {
		return nil, apperr.Invalid("ratio_out_of_range", field, "%s超出范围", label)
	}
	return &v, nil
}

func dec(a *money.Amount) *decimal.Decimal {
	if a == nil {
		return nil
	}
	return &a.Decimal
}

// PutIndicators saves the establishment values of the profit indicators.
func (s *Service) PutIndicators(ctx context.Context, a audit.Actor, projectID int64, in Indicators) (Indicators, error) {
	margin, err := signedRatio(in.NetMargin, "net_margin", "销售净利率")
	if err != nil {
		return Indicators{}, err
	}
	irr, err := signedRatio(in.IRR, "irr", "全投资IRR")
	if err != nil {
		return Indicators{}, err
	}
	if in.PaybackMonths != nil && (*in.PaybackMonths < 0 || *in.PaybackMonths > 1200) {
		return Indicators{}, apperr.Invalid("payback_months_invalid", "payback_months", "现金流回正周期须在0到1200个月之间")
	}
	for _, m := range []struct {
		v     *money.Amount
		field string
		label string
	}{{in.SalesRevenue, "sales_revenue", "销售收入"}, {in.TotalInvestment, "total_investment", "总投资"}} {
		if m.v != nil && m.v.IsNegative() {
			return Indicators{}, apperr.Invalid("amount_negative", m.field, "%s不能为负数", m.label)
		}
	}
	var out Indicators
	err = s.db.InTx(ctx, func(tx *sqlx.Tx) error {
		if err := ensureWritable(ctx, tx, projectID); err != nil {
			return err
		}
		before, err := loadIndicators(ctx, tx, projectID)
		if err != nil {
			return err
		}
		if err := checkVersion(in.Version, before.Version); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE establishments SET sales_revenue = $1, total_investment = $2, net_profit = $3,
			group_net_profit = $4, net_margin = $5, irr = $6, payback_months = $7, indicators_version = indicators_version + 1,
			updated_at = now() WHERE project_id = $8`, dec(in.SalesRevenue), dec(in.TotalInvestment), dec(in.NetProfit),
			dec(in.GroupNetProfit), margin, irr, in.PaybackMonths, projectID); err != nil {
			return fmt.Errorf("save indicators %d: %w", projectID, err)
		}
		if out, err = loadIndicators(ctx, tx, projectID); err != nil {
			return err
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "establishment.indicators.save", Entity: "profit_indicators",
			EntityID: projectID, ProjectID: &projectID, Before: before, After: out})
	})
	return out, err
}
