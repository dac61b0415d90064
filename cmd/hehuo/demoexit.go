package main

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/lib/pq"
	"github.com/xuri/excelize/v2"

	"hehuo/internal/audit"
	"hehuo/internal/civil"
	"hehuo/internal/dtsim"
	"hehuo/internal/establishment"
	"hehuo/internal/exit"
	"hehuo/internal/money"
	"hehuo/internal/opening"
	"hehuo/internal/workflow"
)

// demoExitProject is the demo project where a partner exits.
const demoExitProject = "演示退出项目"

// demoExit shows one exited partner (退投, R9): a partner who paid 300,000
// into a project (brought as an opening balance, funding 2022-03-01 at
// 4.35 %) retires; the accountant runs 离职退休测算 (P + I + H), the exit
// process is agreed in the simulator — the platform company takes the
// stake over (承接) and the partner shows 退/离 — and the payout is
// registered. It uses the services the console calls and does nothing
// when an exit exists already, so it may run again. The project is the
// first open project without rounds or opening balances.
func demoExit(ctx context.Context, a *app, sim *dtsim.Sim) error {
	var done bool
	if err := a.db.GetContext(ctx, &done, `SELECT EXISTS (SELECT 1 FROM exits)`); err != nil || done {
		return err
	}
	var acct struct {
		ID   int64  `db:"id"`
		Name string `db:"name"`
	}
	if err := a.db.GetContext(ctx, &acct, `SELECT id, name FROM users WHERE dingtalk_userid = 'demo_acct_huanhu'`); err != nil {
		return fmt.Errorf("demo accountant: %w", err)
	}
	var who struct {
		ID     int64  `db:"id"`
		Name   string `db:"name"`
		UserID string `db:"dingtalk_userid"`
	}
	if err := a.db.GetContext(ctx, &who, `SELECT id, name, dingtalk_userid FROM users WHERE dingtalk_userid LIKE 'demo_partner_%'
		ORDER BY dingtalk_userid DESC LIMIT 1`); err != nil {
		return fmt.Errorf("demo exit partner: %w", err)
	}
	var proj int64
	// Not a project another part of the demo puts elsewhere in its life,
	// whichever ran first.
	if err := a.db.GetContext(ctx, &proj, `SELECT p.id FROM projects p WHERE p.is_open AND p.name <> ALL($1)
		AND NOT EXISTS (SELECT 1 FROM rounds r WHERE r.project_id = p.id)
		AND NOT EXISTS (SELECT 1 FROM opening_imports o WHERE o.project_id = p.id)
		AND NOT EXISTS (SELECT 1 FROM establishments e WHERE e.project_id = p.id AND e.funding_date IS NOT NULL)
		ORDER BY p.id DESC LIMIT 1`, pq.StringArray{demoDistProject, demoDisclosureProject}); err != nil {
		return fmt.Errorf("demo exit project: %w", err)
	}
	accountant := audit.Actor{ID: &acct.ID, Name: acct.Name, RequestID: "demo"}
	funding := civil.Date{Year: 2022, Month: 3, Day: 1}
	if _, err := a.deps.Establishment.PutTerms(ctx, accountant, proj, establishment.TermsInput{
		PeakCapital: "120000000.00",
		TierRatios:  establishment.TierRatios{Holding: "0", Property: "0.0150", City: "0.0050", Other: "0"},
		FundingDate: funding, FinancingRate: "0.0435", GroupCapRatio: "0.10", PerPersonCapRatio: "0.01",
	}); err != nil {
		return fmt.Errorf("demo exit terms: %w", err)
	}
	// The stake: 300,000 paid on 2022-03-16 (15 days late: B = −536.30).
	f := excelize.NewFile()
	defer f.Close()
	head := make([]any, len(opening.Columns))
	for i, c := range opening.Columns {
		head[i] = c
	}
	f.SetSheetRow("Sheet1", "A1", &head)
	f.SetSheetRow("Sheet1", "A2", &[]any{who.Name, who.UserID, "300000", funding.AddDays(15).String(), "-536.30", "0", "0", ""})
	var file bytes.Buffer
	if err := f.Write(&file); err != nil {
		return err
	}
	if _, err := a.deps.Opening.Import(ctx, accountant, proj, demoExitProject+"_期初数据.xlsx", &file); err != nil {
		return fmt.Errorf("demo exit opening balance: %w", err)
	}
	today := civil.Today(time.Now())
	q, err := a.deps.Exits.Quote(ctx, accountant, nil, exit.QuoteInput{UserID: who.ID, ExitType: "retirement", ExitDate: today.String()})
	if err != nil {
		return fmt.Errorf("demo exit quote: %w", err)
	}
	if err := demoAgree(ctx, a, sim, accountant, proj, workflow.KindExit, q.ID, "演示："+who.Name+"退休退出，平台公司承接", func() (bool, error) {
		e, err := a.deps.Exits.Get(ctx, nil, q.ID)
		return e.Status == exit.StatusAgreed, err
	}); err != nil {
		return err
	}
	if _, err := a.deps.Exits.RegisterPayout(ctx, accountant, q.ID, "demo-exit-payout",
		exit.PayoutInput{PaidOn: today, Amount: money.AmountOf(q.Total.Decimal)}); err != nil {
		return fmt.Errorf("demo exit payout: %w", err)
	}
	return nil
}
