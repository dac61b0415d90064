package main

import (
	"context"
	"fmt"
	"time"

	"github.com/shopspring/decimal"

	"hehuo/internal/audit"
	"hehuo/internal/civil"
	"hehuo/internal/establishment"
	"hehuo/internal/money"
	"hehuo/internal/project"
	"hehuo/internal/rate"
)

// demoRates are plausible 资金成本利率 steps (the one-year LPR plus a margin).
var demoRates = []struct {
	from       civil.Date
	rate, note string
}{
	{civil.Date{Year: 2019, Month: 1, Day: 1}, "0.0475", "演示：2019年集团资金成本"},
	{civil.Date{Year: 2022, Month: 1, Day: 1}, "0.0435", "演示：2022年调整"},
	{civil.Date{Year: 2024, Month: 7, Day: 1}, "0.0385", "演示：2024年下半年调整"},
}

// demoValues gives every demo project plausible 基础信息, 关键节点 and 盈利指标,
// and the rate table some history, through the services (so the audit log
// shows them), at the first start of a demo database only.
func demoValues(ctx context.Context, a *app) error {
	actor := audit.Actor{Name: "演示数据", RequestID: "demo"}
	rates := a.deps.Establishment.Rates()
	have, err := rates.List(ctx)
	if err != nil {
		return err
	}
	if len(have) == 0 {
		for _, r := range demoRates {
			if _, err := rates.Create(ctx, actor, rate.Input{EffectiveFrom: r.from, Rate: r.rate, Note: r.note}); err != nil {
				return fmt.Errorf("demo rate %s: %w", r.from, err)
			}
		}
	}
	ps, err := a.deps.Projects.List(ctx, project.Filter{All: true})
	if err != nil {
		return err
	}
	for i, p := range ps {
		if err := demoProjectValues(ctx, a, actor, i, p); err != nil {
			return fmt.Errorf("demo values of %s: %w", p.Name, err)
		}
	}
	return nil
}

func demoProjectValues(ctx context.Context, a *app, actor audit.Actor, i int, p project.Project) error {
	est := a.deps.Establishment
	n := int64(i + 1)
	str := func(v int64) *string { s := fmt.Sprint(v); return &s }
	land := 40000 + 7300*n
	basic := establishment.BasicInfo{
		Address: p.CityCompanyName + p.Name + "地块", LandArea: str(land), BuildingArea: str(land * 22 / 10),
		SaleableArea: str(land * 17 / 10), SaleableValue: str(land * 17 / 10 * 16500), GroupEquityRatio: ptr("0.51"),
		Note: "演示数据：住宅及配套商业，分两期开发。",
	}
	if _, err := est.PutBasicInfo(ctx, actor, p.ID, basic); err != nil {
		return err
	}
	start := p.LandAcquiredOn
	if start.IsZero() {
		start = civil.Today(time.Now()).AddDays(-400)
	}
	offsets := []int{0, 120, 270, 540, 720, 900, 1080, 1200, 1500}
	today := civil.Today(time.Now())
	var ms []establishment.Milestone
	for k, node := range establishment.Nodes {
		m := establishment.Milestone{Node: node.Node, PlannedOn: start.AddDays(offsets[k])}
		if actual := start.AddDays(offsets[k] + 10*(k%3)); actual.Before(today) {
			m.ActualOn = actual
		}
		ms = append(ms, m)
	}
	if _, err := est.PutMilestones(ctx, actor, p.ID, establishment.MilestonesInput{Milestones: ms}); err != nil {
		return err
	}
	revenue := decimal.NewFromInt(land * 17 / 10 * 16500)
	investment := revenue.Mul(decimal.RequireFromString("0.86")).Round(0)
	net := revenue.Sub(investment).Mul(decimal.RequireFromString("0.75")).Round(0)
	amount := func(d decimal.Decimal) *money.Amount { v := money.Amount{Decimal: d}; return &v }
	months := 30 + i*2
	ind := establishment.Indicators{
		SalesRevenue: amount(revenue), TotalInvestment: amount(investment), NetProfit: amount(net),
		GroupNetProfit: amount(net.Mul(decimal.RequireFromString("0.51")).Round(0)),
		NetMargin:      ptr(net.Div(revenue).Round(4).String()), IRR: ptr("0.1350"), PaybackMonths: &months,
	}
	_, err := est.PutIndicators(ctx, actor, p.ID, ind)
	return err
}

func ptr(s string) *string { return &s }
