package main

import (
	"context"
	"fmt"
	"time"

	"github.com/lib/pq"

	"hehuo/internal/audit"
	"hehuo/internal/civil"
	"hehuo/internal/money"
	"hehuo/internal/shareholder"
	"hehuo/internal/shareholderdist"
)

// demoMinorityShareholders are the outside shareholders (小股东) of the
// demo: the first two hold stakes in the first demo project, the last two
// in the second (stake fraction, capital contributed).
var demoMinorityShareholders = []struct {
	name, kind, stem, _, bank, account string
	stake, contributed                 string
}{
	{"泰山城建投资有限公司", "company", "91370900MA3C5LXX8", "", "工商银行泰安分行", "6222021602012345678", "0.15", "15000000.00"},
	{"岱岳土地开发有限公司", "company", "91370911MA3D2K8Q7", "", "建设银行泰安分行", "6217002870012345671", "0.10", "10000000.00"},
	{"江南产业基金合伙企业（有限合伙）", "company", "91320200MA1W7T3N4", "", "招商银行无锡分行", "6214830000012345", "0.20", "30000000.00"},
	{"王建国", "person", "32020219800101123", "", "农业银行无锡分行", "6228480402564890018", "0.05", "7500000.00"},
}

// demoMinority shows 小股东: two open projects (not those the other demo
// pieces use) each with two registered outside shareholders whose stakes
// were entered by the 环沪 accountant and approved by the business admin
// (股东登记), and, in the first, one shareholder distribution (股东分配)
// entered, approved and paid line by line. It goes through the services
// the console calls and does nothing when a shareholder distribution
// exists already, so it may run again.
func demoMinority(ctx context.Context, a *app) error {
	var done bool
	if err := a.db.GetContext(ctx, &done, `SELECT EXISTS (SELECT 1 FROM shareholder_distributions)`); err != nil || done {
		return err
	}
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
	// Two open 环沪 projects the other demo pieces leave alone.
	var projects []int64
	if err := a.db.SelectContext(ctx, &projects, `SELECT p.id FROM projects p JOIN org_units u ON u.id = p.city_company_id
		LEFT JOIN org_units parent ON parent.id = u.parent_id
		WHERE (u.name = '环沪城市公司' OR parent.name = '环沪城市公司') AND p.is_open AND p.name <> ALL($1)
		ORDER BY p.id DESC LIMIT 2`, pq.StringArray{demoDistProject, demoDisclosureProject, demoExitProject}); err != nil {
		return fmt.Errorf("demo minority projects: %w", err)
	}
	if len(projects) < 2 {
		return fmt.Errorf("demo minority: %d open 环沪 projects, want 2", len(projects))
	}
	accountant := audit.Actor{ID: &acct.ID, Name: acct.Name, RequestID: "demo"}
	reviewer := audit.Actor{ID: &biz.ID, Name: biz.Name, RequestID: "demo"}
	registry := a.deps.Shareholders
	today := civil.Today(time.Now())
	for i, d := range demoMinorityShareholders {
		check := shareholder.CreditCheckChar
		if d.kind == "person" {
			check = shareholder.IDCheckChar
		}
		c, ok := check(d.stem)
		if !ok {
			return fmt.Errorf("demo ID number %s", d.stem)
		}
		id := d.stem + string(c)
		sh, err := registry.Create(ctx, accountant, shareholder.Input{Name: d.name, Kind: d.kind, IDNumber: id,
			Contact: "演示联系人", Bank: d.bank, AccountNumber: d.account})
		if err != nil {
			return fmt.Errorf("demo shareholder %s: %w", d.name, err)
		}
		reg, err := registry.CreateRegistration(ctx, accountant, projects[i/2], shareholder.RegistrationInput{ShareholderID: sh.ID,
			Stake: d.stake, Contributed: d.contributed, ContributedOn: today.AddDays(-400).String()})
		if err != nil {
			return fmt.Errorf("demo registration %s: %w", d.name, err)
		}
		if reg, err = registry.Submit(ctx, accountant, reg.ID, reg.Version); err != nil {
			return fmt.Errorf("demo registration %s: submit: %w", d.name, err)
		}
		if _, err := registry.Review(ctx, reviewer, reg.ID, shareholder.ReviewInput{Approve: true, Version: reg.Version}); err != nil {
			return fmt.Errorf("demo registration %s: review: %w", d.name, err)
		}
	}
	s := a.deps.ShareholderDists
	b, err := s.Create(ctx, accountant, projects[0], shareholderdist.CreateInput{DistributionDate: today.AddDays(-20),
		Amount: money.AmountOf(money.MustParse("5000000.00")), Note: "演示：2025年度股东分红"})
	if err != nil {
		return fmt.Errorf("demo shareholder distribution: %w", err)
	}
	if b, err = s.Submit(ctx, accountant, b.ID, shareholderdist.VersionInput{Version: b.Version}); err != nil {
		return fmt.Errorf("demo shareholder distribution: submit: %w", err)
	}
	if b, err = s.Review(ctx, reviewer, b.ID, shareholderdist.ReviewInput{Approve: true, Version: b.Version}); err != nil {
		return fmt.Errorf("demo shareholder distribution: review: %w", err)
	}
	for _, l := range b.Lines {
		if _, err := s.RegisterPayout(ctx, accountant, b.ID, fmt.Sprintf("demo-minority-%d-%d", b.ID, l.ShareholderID),
			shareholderdist.PayoutInput{ShareholderID: l.ShareholderID, PaidOn: today.AddDays(-10)}); err != nil {
			return fmt.Errorf("demo shareholder payout %s: %w", l.Name, err)
		}
	}
	return nil
}
