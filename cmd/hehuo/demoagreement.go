package main

import (
	"context"
	"fmt"
	"time"

	"github.com/lib/pq"

	"hehuo/internal/agreement"
	"hehuo/internal/audit"
	"hehuo/internal/civil"
	"hehuo/internal/dtsim"
	"hehuo/internal/establishment"
	"hehuo/internal/round"
	"hehuo/internal/workflow"
)

// demoAgreements shows agreements (协议): a second 环沪 project goes through
// 立项 — terms, 项目资金峰值 and 事业合伙立项 agreed in the simulator, three
// demo partners subscribing — so its approval creates the partners'
// agreements in the same transaction, as in production; every other
// approved round of the demo data gets its agreements too; the first
// agreement's partner signs it (PDF rendered, hash stored), so 个人中心 →
// 协议下载 shows one 已签署 and 立项 → 协议签署 who has not. It returns the
// number of agreements and does nothing new when run again.
func demoAgreements(ctx context.Context, a *app, sim *dtsim.Sim) (int, error) {
	var n int
	if err := a.db.GetContext(ctx, &n, `SELECT count(*) FROM agreements`); err != nil {
		return 0, fmt.Errorf("demo agreements: %w", err)
	}
	if n == 0 && sim != nil {
		if err := demoEstablishedRound(ctx, a, sim); err != nil {
			return 0, err
		}
	}
	var rounds []int64
	if err := a.db.SelectContext(ctx, &rounds, `SELECT id FROM rounds WHERE status = 'approved' ORDER BY id`); err != nil {
		return 0, fmt.Errorf("demo agreements: rounds: %w", err)
	}
	for _, id := range rounds {
		if err := a.deps.Agreements.GenerateForRound(ctx, id); err != nil {
			return 0, fmt.Errorf("demo agreements of round %d: %w", id, err)
		}
	}
	var first struct {
		ID     int64  `db:"id"`
		UserID int64  `db:"user_id"`
		Name   string `db:"name"`
	}
	if err := a.db.GetContext(ctx, &first, `SELECT a.id, a.user_id, u.name FROM agreements a JOIN users u ON u.id = a.user_id
		ORDER BY a.id LIMIT 1`); err != nil {
		return 0, fmt.Errorf("demo agreements: none generated: %w", err)
	}
	if _, err := a.deps.Agreements.Sign(ctx, audit.Actor{ID: &first.UserID, Name: first.Name, RequestID: "demo"}, first.UserID, first.ID,
		agreement.SignInput{Agreed: true}); err != nil {
		return 0, fmt.Errorf("demo agreements: sign %d: %w", first.ID, err)
	}
	err := a.db.GetContext(ctx, &n, `SELECT count(*) FROM agreements`)
	return n, err
}

// demoEstablishedRound takes a 环沪 project without rounds through 立项 to
// an approved initial round with three demo partners (demo_partner_21 …).
func demoEstablishedRound(ctx context.Context, a *app, sim *dtsim.Sim) error {
	var acct, biz struct {
		ID   int64  `db:"id"`
		Name string `db:"name"`
	}
	if err := a.db.GetContext(ctx, &acct, `SELECT id, name FROM users WHERE dingtalk_userid = 'demo_acct_huanhu'`); err != nil {
		return fmt.Errorf("demo accountant: %w", err)
	}
	if err := a.db.GetContext(ctx, &biz, `SELECT id, name FROM users WHERE username = 'hhadmin'`); err != nil {
		return fmt.Errorf("demo business admin: %w", err)
	}
	var proj struct {
		ID   int64  `db:"id"`
		Name string `db:"name"`
	}
	if err := a.db.GetContext(ctx, &proj, `SELECT p.id, p.name FROM projects p JOIN org_units u ON u.id = p.city_company_id
		LEFT JOIN org_units parent ON parent.id = u.parent_id
		WHERE (u.name = '环沪城市公司' OR parent.name = '环沪城市公司') AND p.is_open AND p.name <> ALL($1)
		  AND NOT EXISTS (SELECT 1 FROM rounds r WHERE r.project_id = p.id)
		  AND NOT EXISTS (SELECT 1 FROM establishments e WHERE e.project_id = p.id AND e.peak_capital IS NOT NULL)
		ORDER BY p.id LIMIT 1`, pq.StringArray{demoDistProject, demoDisclosureProject}); err != nil {
		return fmt.Errorf("demo agreements: a project for 立项: %w", err)
	}
	actor := audit.Actor{ID: &acct.ID, Name: acct.Name, RequestID: "demo"}
	today := civil.Today(time.Now())
	if _, err := a.deps.Establishment.PutTerms(ctx, actor, proj.ID, establishment.TermsInput{
		PeakCapital: "150000000.00",
		TierRatios:  establishment.TierRatios{Holding: "0", Property: "0.02", City: "0.006", Other: "0"},
		FundingDate: today.AddDays(-30), FinancingRate: "0.0435", GroupCapRatio: "0.10", PerPersonCapRatio: "0.01",
		CollectionAccount: establishment.CollectionAccount{Bank: "招商银行上海分行", AccountName: proj.Name + "合伙企业（有限合伙）", AccountNumber: "6214830000005678"},
	}); err != nil {
		return fmt.Errorf("demo agreements: terms: %w", err)
	}
	agreed := func(kind workflow.Kind, subject int64, done func() bool) error {
		inst, err := a.deps.Workflow.Launch(ctx, actor, proj.ID, workflow.LaunchInput{Kind: kind, SubjectID: subject,
			Form: map[string]string{"情况说明": "演示：" + kind.Label()}})
		if err != nil {
			return fmt.Errorf("demo agreements: launch %s: %w", kind, err)
		}
		if _, err := sim.Decide(inst.InstanceID, "agree"); err != nil {
			return fmt.Errorf("demo agreements: agree %s: %w", kind, err)
		}
		for deadline := time.Now().Add(20 * time.Second); !done(); time.Sleep(200 * time.Millisecond) {
			if time.Now().After(deadline) {
				return fmt.Errorf("demo agreements: the approval event of %s did not arrive", kind)
			}
		}
		return nil
	}
	if err := agreed(workflow.KindPeakCapital, 0, func() bool {
		t, err := a.deps.Establishment.Terms(ctx, a.db, proj.ID)
		return err == nil && t.PeakLocked
	}); err != nil {
		return err
	}
	r, err := a.deps.Rounds.Create(ctx, actor, proj.ID, round.CreateInput{Kind: round.KindInitial})
	if err != nil {
		return fmt.Errorf("demo agreements: round: %w", err)
	}
	var partners []int64
	if err := a.db.SelectContext(ctx, &partners, `SELECT id FROM users WHERE dingtalk_userid LIKE 'demo_partner_%'
		ORDER BY dingtalk_userid OFFSET 20 LIMIT 3`); err != nil || len(partners) == 0 {
		return fmt.Errorf("demo agreements: partners: %v", err)
	}
	amounts := []string{"300000", "200000", "150000"}
	var invs []int64
	for _, uid := range partners {
		inv, err := a.deps.Rounds.AddInvitation(ctx, actor, r.ID, round.InvitationInput{UserID: uid, Tier: "city",
			MinAmount: "100000", MaxAmount: "400000", Deadline: today.AddDays(14)})
		if err != nil {
			return fmt.Errorf("demo agreements: invitation: %w", err)
		}
		invs = append(invs, inv.ID)
	}
	if _, err := a.deps.Rounds.SendSubscriptionNotices(ctx, actor, acct.ID, r.ID, false); err != nil {
		return fmt.Errorf("demo agreements: subscription notices: %w", err)
	}
	for i, uid := range partners {
		if _, err := a.deps.Rounds.Subscribe(ctx, audit.Actor{ID: &uid, Name: "demo", RequestID: "demo"}, uid, invs[i],
			round.SubscriptionInput{Amount: amounts[i], RiskAcknowledged: true}); err != nil {
			return fmt.Errorf("demo agreements: subscribe: %w", err)
		}
	}
	if _, err := a.deps.Rounds.Close(ctx, actor, r.ID); err != nil {
		return fmt.Errorf("demo agreements: close: %w", err)
	}
	if _, err := a.deps.Rounds.Allocate(ctx, actor, r.ID); err != nil {
		return fmt.Errorf("demo agreements: allocate: %w", err)
	}
	if _, err := a.deps.Rounds.Submit(ctx, actor, r.ID); err != nil {
		return fmt.Errorf("demo agreements: submit: %w", err)
	}
	if _, err := a.deps.Rounds.Review(ctx, audit.Actor{ID: &biz.ID, Name: biz.Name, RequestID: "demo"}, r.ID,
		round.ReviewInput{Decision: "approve"}); err != nil {
		return fmt.Errorf("demo agreements: review: %w", err)
	}
	return agreed(workflow.KindEstablishment, r.ID, func() bool {
		got, err := a.deps.Rounds.Get(ctx, r.ID)
		return err == nil && got.Status == round.StatusApproved
	})
}
