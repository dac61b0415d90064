package main

import (
	"context"
	"fmt"
	"time"

	"hehuo/internal/audit"
	"hehuo/internal/civil"
	"hehuo/internal/dtsim"
	"hehuo/internal/establishment"
	"hehuo/internal/round"
	"hehuo/internal/workflow"
)

// demoSubscription puts one demo project where a newcomer can watch the
// subscription stage: establishment terms saved by the project's city
// accountant, 项目资金峰值 launched and agreed in the simulator (the event
// comes back through the stream like a real approval), and an initial round
// with eight demo partners invited and notified. It runs once, on freshly
// loaded demo data, through the same services the console calls.
func demoSubscription(ctx context.Context, a *app, sim *dtsim.Sim) (string, error) {
	var acct struct {
		ID   int64  `db:"id"`
		Name string `db:"name"`
	}
	if err := a.db.GetContext(ctx, &acct, `SELECT id, name FROM users WHERE dingtalk_userid = 'demo_acct_huanhu'`); err != nil {
		return "", fmt.Errorf("demo accountant: %w", err)
	}
	var proj struct {
		ID   int64  `db:"id"`
		Name string `db:"name"`
	}
	if err := a.db.GetContext(ctx, &proj, `SELECT p.id, p.name FROM projects p JOIN org_units u ON u.id = p.city_company_id
		LEFT JOIN org_units parent ON parent.id = u.parent_id
		WHERE (u.name = '环沪城市公司' OR parent.name = '环沪城市公司') AND p.is_open ORDER BY p.id LIMIT 1`); err != nil {
		return "", fmt.Errorf("demo project: %w", err)
	}
	actor := audit.Actor{ID: &acct.ID, Name: acct.Name, RequestID: "demo"}
	today := civil.Today(time.Now())

	// RULES R1's example: P = 220,000,000; 0 / 3.31% / 0.60% / 0.
	if _, err := a.deps.Establishment.PutTerms(ctx, actor, proj.ID, establishment.TermsInput{
		PeakCapital: "220000000.00",
		TierRatios:  establishment.TierRatios{Holding: "0", Property: "0.0331", City: "0.006", Other: "0"},
		FundingDate: today.AddDays(30), FinancingRate: "0.0435", GroupCapRatio: "0.10", PerPersonCapRatio: "0.01",
		CollectionAccount: establishment.CollectionAccount{Bank: "招商银行上海分行", AccountName: proj.Name + "合伙企业（有限合伙）", AccountNumber: "6214830000001234"},
	}); err != nil {
		return "", fmt.Errorf("demo terms: %w", err)
	}
	inst, err := a.deps.Workflow.Launch(ctx, actor, proj.ID, workflow.LaunchInput{
		Kind: workflow.KindPeakCapital, Form: map[string]string{"情况说明": "演示：项目资金峰值审批"},
	})
	if err != nil {
		return "", fmt.Errorf("demo peak capital: %w", err)
	}
	if _, err := sim.Decide(inst.InstanceID, "agree"); err != nil {
		return "", fmt.Errorf("demo peak capital agree: %w", err)
	}
	for deadline := time.Now().Add(20 * time.Second); ; {
		t, err := a.deps.Establishment.Terms(ctx, a.db, proj.ID)
		if err == nil && t.PeakLocked {
			break
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("demo peak capital: the approval event did not arrive")
		}
		time.Sleep(200 * time.Millisecond)
	}

	r, err := a.deps.Rounds.Create(ctx, actor, proj.ID, round.CreateInput{Kind: "initial"})
	if err != nil {
		return "", fmt.Errorf("demo round: %w", err)
	}
	var partners []int64
	if err := a.db.SelectContext(ctx, &partners, `SELECT id FROM users WHERE dingtalk_userid LIKE 'demo_partner_%' ORDER BY dingtalk_userid LIMIT 8`); err != nil {
		return "", fmt.Errorf("demo partners: %w", err)
	}
	for i, uid := range partners {
		in := round.InvitationInput{UserID: uid, Tier: "city", MinAmount: "100000", MaxAmount: "400000", Deadline: today.AddDays(14)}
		if i < 2 {
			in.Mandatory, in.MinAmount, in.MaxAmount = true, "500000", "600000"
		}
		if i >= 6 {
			in.Tier, in.MaxAmount = "property", "2000000"
		}
		if _, err := a.deps.Rounds.AddInvitation(ctx, actor, r.ID, in); err != nil {
			return "", fmt.Errorf("demo invitation: %w", err)
		}
	}
	if _, err := a.deps.Rounds.SendSubscriptionNotices(ctx, actor, acct.ID, r.ID, false); err != nil {
		return "", fmt.Errorf("demo subscription notices: %w", err)
	}
	return proj.Name, nil
}
