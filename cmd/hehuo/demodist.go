package main

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/shopspring/decimal"
	"github.com/xuri/excelize/v2"

	"hehuo/internal/audit"
	"hehuo/internal/civil"
	"hehuo/internal/distribution"
	"hehuo/internal/dtsim"
	"hehuo/internal/establishment"
	"hehuo/internal/opening"
	"hehuo/internal/payout"
	"hehuo/internal/workflow"
)

// demoDistProject is the demo project that sits mid-distribution.
const demoDistProject = "泰安-锦艺誉峯"

// demoDistPartners are the demo partners of 泰安-锦艺誉峯 (demo_partner_09 …
// 20: not the eight invited in the project in subscription) with the
// principal they paid in 2019 and the days their payment came after the
// funding date (the old system's capital interest to date counts them).
var demoDistPartners = []struct {
	paid string
	days int
}{
	{"600000", 0}, {"500000", 12}, {"450000", 0}, {"400000", 25}, {"350000", 40}, {"300000", 0},
	{"300000", 18}, {"250000", 30}, {"200000", 0}, {"200000", 45}, {"150000", 10}, {"100000", 60},
}

// demoDistRate is the financing rate of 2019 (demoRates), for the interest to date.
var demoDistRate = decimal.RequireFromString("0.0475")

// demoDistribution puts 泰安-锦艺誉峯 mid-distribution, as a group moving
// from its current system would bring a running project: its terms, twelve
// partners' opening balances (期初数据导入) with confirmed payout accounts,
// 实际资金峰值确认 agreed in the simulator, a principal batch at 100%
// calculated, saved, reviewed by the business admin, agreed in the
// simulator and paid out line by line, and the first profit batch
// calculated, saved and submitted (待审核: the business admin reviews it
// next). It goes through the same services the console calls. It does
// nothing when the project already has a distribution, so it may run again.
func demoDistribution(ctx context.Context, a *app, sim *dtsim.Sim) (string, error) {
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
	if err := a.db.GetContext(ctx, &proj, `SELECT id FROM projects WHERE name = $1`, demoDistProject); err != nil {
		return "", fmt.Errorf("demo project %s: %w", demoDistProject, err)
	}
	var started bool
	if err := a.db.GetContext(ctx, &started, `SELECT EXISTS (SELECT 1 FROM distribution_batches WHERE project_id = $1)
		OR EXISTS (SELECT 1 FROM opening_imports WHERE project_id = $1)`, proj); err != nil {
		return "", err
	}
	if started {
		return demoDistProject, nil
	}
	accountant := audit.Actor{ID: &acct.ID, Name: acct.Name, RequestID: "demo"}
	admin := audit.Actor{ID: &biz.ID, Name: biz.Name, RequestID: "demo"}
	funding := civil.Date{Year: 2019, Month: 6, Day: 1}
	today := civil.Today(time.Now())

	if _, err := a.deps.Establishment.PutTerms(ctx, accountant, proj, establishment.TermsInput{
		PeakCapital: "180000000.00",
		TierRatios:  establishment.TierRatios{Holding: "0", Property: "0.0150", City: "0.0050", Other: "0"},
		FundingDate: funding, FinancingRate: demoDistRate.String(), GroupCapRatio: "0.10", PerPersonCapRatio: "0.01",
		CollectionAccount: establishment.CollectionAccount{Bank: "招商银行泰安分行", AccountName: demoDistProject + "合伙企业（有限合伙）", AccountNumber: "6214830000005678"},
	}); err != nil {
		return "", fmt.Errorf("demo distribution terms: %w", err)
	}

	// Opening balances: the partners' principal and interest to date.
	var partners []struct {
		ID     int64  `db:"id"`
		Name   string `db:"name"`
		UserID string `db:"dingtalk_userid"`
	}
	if err := a.db.SelectContext(ctx, &partners, `SELECT id, name, dingtalk_userid FROM users
		WHERE dingtalk_userid LIKE 'demo_partner_%' ORDER BY dingtalk_userid OFFSET 8 LIMIT $1`, len(demoDistPartners)); err != nil {
		return "", fmt.Errorf("demo distribution partners: %w", err)
	}
	if len(partners) != len(demoDistPartners) {
		return "", fmt.Errorf("demo distribution: %d partners, want %d", len(partners), len(demoDistPartners))
	}
	f := excelize.NewFile()
	defer f.Close()
	head := make([]any, len(opening.Columns))
	for i, c := range opening.Columns {
		head[i] = c
	}
	f.SetSheetRow("Sheet1", "A1", &head)
	peak := decimal.Zero
	for i, p := range partners {
		d := demoDistPartners[i]
		paid := decimal.RequireFromString(d.paid)
		peak = peak.Add(paid)
		interest := paid.Mul(demoDistRate).Mul(decimal.NewFromInt(int64(d.days))).Div(decimal.NewFromInt(365)).Round(2).Neg()
		cell, _ := excelize.CoordinatesToCellName(1, i+2)
		f.SetSheetRow("Sheet1", cell, &[]any{p.Name, p.UserID, d.paid, funding.AddDays(d.days).String(), interest.StringFixed(2), "0", "0", ""})
	}
	var file bytes.Buffer
	if err := f.Write(&file); err != nil {
		return "", err
	}
	if _, err := a.deps.Opening.Import(ctx, accountant, proj, "泰安-锦艺誉峯_期初数据.xlsx", &file); err != nil {
		return "", fmt.Errorf("demo opening balances: %w", err)
	}
	for i, p := range partners {
		self := audit.Actor{ID: &p.ID, Name: p.Name, RequestID: "demo"}
		acc, err := a.deps.Payout.Save(ctx, self, p.ID, payout.Input{Bank: "招商银行", Branch: "泰安分行", Holder: p.Name,
			Number: fmt.Sprintf("6214830%09d", 538000+i)})
		if err != nil {
			return "", fmt.Errorf("demo payout account of %s: %w", p.Name, err)
		}
		if _, err := a.deps.Payout.Confirm(ctx, self, p.ID, acc.Version); err != nil {
			return "", fmt.Errorf("demo payout account of %s: %w", p.Name, err)
		}
	}

	// 实际资金峰值确认, agreed in the simulator.
	ap, err := a.deps.Distributions.CreateActualPeak(ctx, accountant, proj, distribution.ActualPeakInput{
		ActualPeakCapital: peak.StringFixed(2), Reason: "演示：项目回款后确认实际资金峰值"})
	if err != nil {
		return "", fmt.Errorf("demo actual peak: %w", err)
	}
	if err := demoAgree(ctx, a, sim, accountant, proj, workflow.KindActualPeak, ap.ID, "演示：实际资金峰值确认", func() (bool, error) {
		peaks, err := a.deps.Distributions.ActualPeaks(ctx, proj)
		return err == nil && len(peaks) > 0 && peaks[0].Status == distribution.PeakAgreed, err
	}); err != nil {
		return "", err
	}

	// 本金分配 at 100%, agreed and paid out.
	paidOn := today.AddDays(-30).String()
	one := "1"
	b, err := demoBatch(ctx, a, accountant, admin, proj, distribution.CreateInput{Kind: string(distribution.KindPrincipal),
		BatchFields: distribution.BatchFields{DistributionDate: &paidOn, RecordDate: &paidOn, ReturnRatio: &one}}, true)
	if err != nil {
		return "", err
	}
	if err := demoAgree(ctx, a, sim, accountant, proj, workflow.KindPrincipalDistribution, b.ID, "演示：本金分配", func() (bool, error) {
		got, err := a.deps.Distributions.Get(ctx, b.ID)
		return err == nil && got.Status == distribution.StatusApproved, err
	}); err != nil {
		return "", err
	}
	for _, l := range b.Lines {
		if _, err := a.deps.Distributions.RegisterPayout(ctx, accountant, b.ID, fmt.Sprintf("demo-payout-%d-%d", b.ID, l.PartnerID),
			distribution.PayoutInput{PartnerID: l.PartnerID, PaidOn: today.AddDays(-29)}); err != nil {
			return "", fmt.Errorf("demo payout of %s: %w", l.Name, err)
		}
	}

	// 第1次利润分配: saved and submitted, awaiting the business admin's review.
	due, amount, note := today.AddDays(14).String(), "1200000.00", "演示：项目阶段性回款，先行分配利润"
	if _, err := demoBatch(ctx, a, accountant, admin, proj, distribution.CreateInput{Kind: string(distribution.KindProfit),
		BatchFields: distribution.BatchFields{DistributionDate: &due, RecordDate: &due, Amount: &amount, Note: &note}}, false); err != nil {
		return "", err
	}
	return demoDistProject, nil
}

// demoBatch creates a batch, calculates, saves and submits it, and — when
// review — has the business admin approve the review.
func demoBatch(ctx context.Context, a *app, accountant, admin audit.Actor, proj int64, in distribution.CreateInput, review bool) (distribution.Batch, error) {
	s := a.deps.Distributions
	b, err := s.CreateBatch(ctx, accountant, proj, in)
	if err == nil {
		b, err = s.Calculate(ctx, accountant, b.ID, distribution.CalculateInput{Version: b.Version})
	}
	if err == nil {
		b, err = s.Save(ctx, accountant, b.ID, distribution.VersionInput{Version: b.Version})
	}
	if err == nil {
		b, err = s.Submit(ctx, accountant, b.ID, distribution.VersionInput{Version: b.Version})
	}
	if err == nil && review {
		b, err = s.Review(ctx, admin, b.ID, distribution.ReviewInput{Approve: true, Version: b.Version})
	}
	if err != nil {
		return b, fmt.Errorf("demo %s batch: %w", in.Kind, err)
	}
	return b, nil
}

// demoAgree launches kind's process for subject, agrees it in the simulator
// and waits until the event came back through the stream (done).
func demoAgree(ctx context.Context, a *app, sim *dtsim.Sim, actor audit.Actor, proj int64, kind workflow.Kind, subject int64, note string,
	done func() (bool, error)) error {
	inst, err := a.deps.Workflow.Launch(ctx, actor, proj, workflow.LaunchInput{Kind: kind, SubjectID: subject, Form: map[string]string{"情况说明": note}})
	if err != nil {
		return fmt.Errorf("demo %s: %w", kind, err)
	}
	if _, err := sim.Decide(inst.InstanceID, "agree"); err != nil {
		return fmt.Errorf("demo %s agree: %w", kind, err)
	}
	for deadline := time.Now().Add(20 * time.Second); ; {
		ok, err := done()
		if ok {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("demo %s: the approval event did not arrive (%v)", kind, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
