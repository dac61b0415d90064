package establishment

import (
	"bytes"
	"context"
	"fmt"

	"github.com/lib/pq"
	"github.com/shopspring/decimal"
	"github.com/xuri/excelize/v2"

	"hehuo/internal/calc"
	"hehuo/internal/civil"
	"hehuo/internal/money"
)

// KPISheet is the sheet name of the 所有项目盈利KPI指标 export.
const KPISheet = "盈利KPI指标"

type kpiRow struct {
	ID          int64            `db:"id"`
	Code        *string          `db:"code"`
	Name        string           `db:"name"`
	City        string           `db:"city"`
	Batch       *string          `db:"batch"`
	LandOn      civil.Date       `db:"land_acquired_on"`
	PeakCapital *decimal.Decimal `db:"peak_capital"`
	Holding     *decimal.Decimal `db:"ratio_holding"`
	Property    *decimal.Decimal `db:"ratio_property"`
	CityRatio   *decimal.Decimal `db:"ratio_city"`
	Other       *decimal.Decimal `db:"ratio_other"`
	indicatorRow
}

// KPIExport writes 所有项目盈利KPI指标: one row per project in scope (all, or
// the ids) with the terms' sizing, the establishment profit indicators and
// the planned and actual milestone dates. Money cells are numbers with two
// decimals, ratios percentages, so the sheet sums and sorts in Excel.
func (s *Service) KPIExport(ctx context.Context, all bool, ids []int64) ([]byte, error) {
	var rows []kpiRow
	if err := s.db.SelectContext(ctx, &rows, `SELECT p.id, p.code, p.name, o.name AS city, b.name AS batch, p.land_acquired_on,
		e.peak_capital, e.ratio_holding, e.ratio_property, e.ratio_city, e.ratio_other,
		e.sales_revenue, e.total_investment, e.net_profit, e.group_net_profit, e.net_margin, e.irr, e.payback_months,
		coalesce(e.indicators_version, 0) AS indicators_version
		FROM projects p JOIN org_units o ON o.id = p.city_company_id LEFT JOIN batches b ON b.id = p.batch_id
		LEFT JOIN establishments e ON e.project_id = p.id
		WHERE $1 OR p.id = ANY($2) ORDER BY p.id`, all, pq.Int64Array(ids)); err != nil {
		return nil, fmt.Errorf("kpi rows: %w", err)
	}
	var ms []struct {
		ProjectID int64      `db:"project_id"`
		Node      string     `db:"node"`
		PlannedOn civil.Date `db:"planned_on"`
		ActualOn  civil.Date `db:"actual_on"`
	}
	if err := s.db.SelectContext(ctx, &ms, `SELECT project_id, node, planned_on, actual_on FROM milestones
		WHERE $1 OR project_id = ANY($2)`, all, pq.Int64Array(ids)); err != nil {
		return nil, fmt.Errorf("kpi milestones: %w", err)
	}
	type key struct {
		p int64
		n string
	}
	dates := map[key][2]civil.Date{}
	for _, m := range ms {
		dates[key{m.ProjectID, m.Node}] = [2]civil.Date{m.PlannedOn, m.ActualOn}
	}

	header := []any{"序号", "项目ID", "项目编码", "项目名称", "城市公司", "批次", "拿地时间", "资金峰值", "合伙投资占比", "跟投总额"}
	for _, l := range IndicatorLabels {
		header = append(header, l.Label)
	}
	for _, n := range Nodes {
		header = append(header, n.Label+"（计划）", n.Label+"（实际）")
	}
	x := excelize.NewFile()
	defer x.Close()
	if err := x.SetSheetName("Sheet1", KPISheet); err != nil {
		return nil, err
	}
	if err := x.SetSheetRow(KPISheet, "A1", &header); err != nil {
		return nil, err
	}
	moneyStyle, _ := x.NewStyle(&excelize.Style{NumFmt: 4}) // #,##0.00
	pctStyle, _ := x.NewStyle(&excelize.Style{CustomNumFmt: ptr("0.00##%")})
	bold, _ := x.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	_ = x.SetRowStyle(KPISheet, 1, 1, bold)

	num := func(d *decimal.Decimal) any {
		if d == nil {
			return nil
		}
		return d.InexactFloat64()
	}
	date := func(d civil.Date) any {
		if d.IsZero() {
			return nil
		}
		return d.String()
	}
	for i, r := range rows {
		line := []any{i + 1, r.ID, deref(r.Code), r.Name, r.City, deref(r.Batch), date(r.LandOn)}
		if r.PeakCapital != nil {
			sz := calc.Size(*r.PeakCapital, calc.Ratios{Holding: *r.Holding, Property: *r.Property, City: *r.CityRatio, Other: *r.Other})
			total := money.RoundFen(sz.Total)
			line = append(line, num(r.PeakCapital), num(&sz.Ratio), num(&total))
		} else {
			line = append(line, nil, nil, nil)
		}
		pm := r.PaybackMonths
		var payback any
		if pm != nil {
			payback = *pm
		}
		line = append(line, num(r.SalesRevenue), num(r.TotalInvestment), num(r.NetProfit), num(r.GroupNetProfit),
			num(r.NetMargin), num(r.IRR), payback)
		for _, n := range Nodes {
			d := dates[key{r.ID, n.Node}]
			line = append(line, date(d[0]), date(d[1]))
		}
		cell, _ := excelize.CoordinatesToCellName(1, i+2)
		if err := x.SetSheetRow(KPISheet, cell, &line); err != nil {
			return nil, err
		}
	}
	last := len(rows) + 1
	if last > 1 {
		for _, c := range []struct {
			from, to string
			style    int
		}{{"H", "H", moneyStyle}, {"I", "I", pctStyle}, {"J", "N", moneyStyle}, {"O", "P", pctStyle}} {
			_ = x.SetCellStyle(KPISheet, fmt.Sprintf("%s2", c.from), fmt.Sprintf("%s%d", c.to, last), c.style)
		}
	}
	_ = x.SetColWidth(KPISheet, "C", "F", 16)
	_ = x.SetColWidth(KPISheet, "G", "AI", 14)
	_ = x.SetPanes(KPISheet, &excelize.Panes{Freeze: true, XSplit: 4, YSplit: 1, TopLeftCell: "E2", ActivePane: "bottomRight"})
	var buf bytes.Buffer
	if err := x.Write(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func ptr[T any](v T) *T { return &v }

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
