package main

import (
	"bytes"
	"context"
	"fmt"

	"github.com/xuri/excelize/v2"

	"hehuo/internal/audit"
	"hehuo/internal/civil"
	"hehuo/internal/disclosure"
	"hehuo/internal/dtsim"
	"hehuo/internal/establishment"
	"hehuo/internal/money"
	"hehuo/internal/opening"
	"hehuo/internal/workflow"
)

// demoDisclosureProject is the demo project in the holding period.
const demoDisclosureProject = "马鞍山-林语春风"

// demoDisclosurePartners are the principal paid in 2019 by six demo
// partners (demo_partner_21 … 26: none of those of the other demo projects).
var demoDisclosurePartners = []string{"500000", "400000", "300000", "300000", "200000", "100000"}

// demoDisclosure puts 马鞍山-林语春风 in the holding period: its terms, six
// partners' opening balances (期初数据导入), and two periods of 盈亏动态
// disclosed through the disclosure process agreed in the simulator — the
// first already sent to the partners (H5 披露 shows its chart), the second
// waiting in 披露 → 披露审核 for the business admin's 合并发送通知. It goes
// through the services the console calls and does nothing when the
// project already has P&L updates, so it may run again.
func demoDisclosure(ctx context.Context, a *app, sim *dtsim.Sim) (string, error) {
	var acct, biz struct {
		ID   int64  `db:"id"`
		Name string `db:"name"`
	}
	if err := a.db.GetContext(ctx, &acct, `SELECT id, name FROM users WHERE dingtalk_userid = 'demo_acct_huanhu'`); err != nil {
		return "", fmt.Errorf("demo accountant: %w", err)
	}
	if err := a.db.GetContext(ctx, &biz, `SELECT id, name FROM users WHERE username = 'hhadmin'`); err != nil {
		return "", fmt.Errorf("demo business admin: %w", err)
	}
	var proj int64
	if err := a.db.GetContext(ctx, &proj, `SELECT id FROM projects WHERE name = $1`, demoDisclosureProject); err != nil {
		return "", fmt.Errorf("demo project %s: %w", demoDisclosureProject, err)
	}
	existing, err := a.deps.Disclosures.ProfitUpdates(ctx, proj)
	if err != nil {
		return "", err
	}
	if len(existing.Items) > 0 {
		return demoDisclosureProject, nil
	}
	accountant := audit.Actor{ID: &acct.ID, Name: acct.Name, RequestID: "demo"}
	admin := audit.Actor{ID: &biz.ID, Name: biz.Name, RequestID: "demo"}
	funding := civil.Date{Year: 2019, Month: 5, Day: 1}

	if _, err := a.deps.Establishment.PutTerms(ctx, accountant, proj, establishment.TermsInput{
		PeakCapital: "120000000.00",
		TierRatios:  establishment.TierRatios{Holding: "0", Property: "0.0150", City: "0.0050", Other: "0"},
		FundingDate: funding, FinancingRate: demoDistRate.String(), GroupCapRatio: "0.10", PerPersonCapRatio: "0.01",
		CollectionAccount: establishment.CollectionAccount{Bank: "工商银行马鞍山分行", AccountName: demoDisclosureProject + "合伙企业（有限合伙）", AccountNumber: "1306020009000067890"},
	}); err != nil {
		return "", fmt.Errorf("demo disclosure terms: %w", err)
	}
	var partners []struct {
		Name   string `db:"name"`
		UserID string `db:"dingtalk_userid"`
	}
	if err := a.db.SelectContext(ctx, &partners, `SELECT name, dingtalk_userid FROM users
		WHERE dingtalk_userid LIKE 'demo_partner_%' ORDER BY dingtalk_userid OFFSET 20 LIMIT $1`, len(demoDisclosurePartners)); err != nil {
		return "", fmt.Errorf("demo disclosure partners: %w", err)
	}
	if len(partners) != len(demoDisclosurePartners) {
		return "", fmt.Errorf("demo disclosure: %d partners, want %d", len(partners), len(demoDisclosurePartners))
	}
	f := excelize.NewFile()
	defer f.Close()
	head := make([]any, len(opening.Columns))
	for i, c := range opening.Columns {
		head[i] = c
	}
	f.SetSheetRow("Sheet1", "A1", &head)
	for i, p := range partners {
		cell, _ := excelize.CoordinatesToCellName(1, i+2)
		f.SetSheetRow("Sheet1", cell, &[]any{p.Name, p.UserID, demoDisclosurePartners[i], funding.String(), "0", "0", "0", ""})
	}
	var file bytes.Buffer
	if err := f.Write(&file); err != nil {
		return "", err
	}
	if _, err := a.deps.Opening.Import(ctx, accountant, proj, demoDisclosureProject+"_期初数据.xlsx", &file); err != nil {
		return "", fmt.Errorf("demo disclosure opening balances: %w", err)
	}

	amount := func(s string) *money.Amount { a := money.AmountOf(money.MustParse(s)); return &a }
	ratio := func(s string) *string { return &s }
	months := func(n int) *int { return &n }
	periods := []disclosure.Input{
		{PeriodOn: civil.Date{Year: 2026, Month: 6, Day: 30}, Title: "2026年上半年", Note: "演示：上半年去化放缓，售价基本持平。",
			Values: disclosure.Values{SalesRevenue: amount("1180000000.00"), TotalInvestment: amount("960000000.00"),
				NetProfit: amount("86000000.00"), GroupNetProfit: amount("60200000.00"), NetMargin: ratio("0.0729"), IRR: ratio("0.118"), PaybackMonths: months(34)}},
		{PeriodOn: civil.Date{Year: 2026, Month: 9, Day: 30}, Title: "2026年第三季度", Note: "演示：三季度加推后回款改善，利润略有回升。",
			Values: disclosure.Values{SalesRevenue: amount("1225000000.00"), TotalInvestment: amount("955000000.00"),
				NetProfit: amount("93500000.00"), GroupNetProfit: amount("65450000.00"), NetMargin: ratio("0.0763"), IRR: ratio("0.126"), PaybackMonths: months(33)}},
	}
	for i, in := range periods {
		u, err := a.deps.Disclosures.Create(ctx, accountant, proj, in)
		if err != nil {
			return "", fmt.Errorf("demo P&L update %s: %w", in.PeriodOn, err)
		}
		if err := demoAgree(ctx, a, sim, accountant, proj, workflow.KindDisclosure, u.ID, "演示："+in.Title+"经营情况披露", func() (bool, error) {
			got, err := a.deps.Disclosures.Get(ctx, u.ID)
			return err == nil && got.Status == disclosure.StatusDisclosed, err
		}); err != nil {
			return "", err
		}
		// The first period is sent; the second waits in 披露审核.
		if i == 0 {
			if _, err := a.deps.Disclosures.Send(ctx, admin, biz.ID, disclosure.Scope{All: true}, disclosure.SendInput{}); err != nil {
				return "", fmt.Errorf("demo disclosure notices: %w", err)
			}
		}
	}
	return demoDisclosureProject, nil
}
