package main

import (
	"context"
	"fmt"

	"hehuo/internal/audit"
	"hehuo/internal/shareholder"
)

// demoShareholders registers the demo's minority shareholders (外部股东): a
// cooperating developer and a landowner's company (企业) and a person (个人),
// and their stakes in two projects (股东登记), entered by the city
// accountant and approved by the business admin (hhadmin). It does nothing
// when the registry holds anyone already, so it may run again. The numbers
// are made-up ones with valid check characters.
func demoShareholders(ctx context.Context, a *app) error {
	registered, err := a.deps.Shareholders.List(ctx)
	if err != nil {
		return err
	}
	if len(registered) > 0 {
		return nil
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
	accountant := audit.Actor{ID: &acct.ID, Name: acct.Name, RequestID: "demo"}
	admin := audit.Actor{ID: &biz.ID, Name: biz.Name, RequestID: "demo"}
	code := func(stem string) string {
		c, _ := shareholder.CreditCheckChar(stem)
		return stem + string(c)
	}
	s := a.deps.Shareholders
	people := []shareholder.Input{
		{Name: "泰安城发置业有限公司", Kind: "company", IDNumber: code("91370900MA3C5LXX1"), Contact: "王经理 0538-8210000",
			Bank: "中国工商银行泰安分行", AccountNumber: "1606020109200123456"},
		{Name: "马鞍山林语投资有限公司", Kind: "company", IDNumber: code("91340500MA2N1PQ31"), Contact: "陈总 0555-2300000",
			Bank: "中国建设银行马鞍山分行", AccountNumber: "34050166010800001234"},
		{Name: "刘建国", Kind: "person", IDNumber: "11010519491231002X", Contact: "13900000000",
			Bank: "招商银行泰安分行", AccountNumber: "6214830200001234"},
	}
	ids := make([]int64, len(people))
	for i, in := range people {
		sh, err := s.Create(ctx, accountant, in)
		if err != nil {
			return fmt.Errorf("demo shareholder %s: %w", in.Name, err)
		}
		ids[i] = sh.ID
	}
	stakes := []struct {
		project     string
		shareholder int64
		stake       string
		contributed string
		on          string
	}{
		{demoDistProject, ids[0], "0.20", "20000000.00", "2019-06-01"},
		{demoDistProject, ids[2], "0.05", "5000000.00", "2019-06-01"},
		{demoDisclosureProject, ids[1], "0.30", "15000000.00", "2020-04-15"},
	}
	for _, st := range stakes {
		var proj int64
		if err := a.db.GetContext(ctx, &proj, `SELECT id FROM projects WHERE name = $1`, st.project); err != nil {
			return fmt.Errorf("demo project %s: %w", st.project, err)
		}
		r, err := s.CreateRegistration(ctx, accountant, proj, shareholder.RegistrationInput{ShareholderID: st.shareholder,
			Stake: st.stake, Contributed: st.contributed, ContributedOn: st.on})
		if err != nil {
			return fmt.Errorf("demo registration in %s: %w", st.project, err)
		}
		if r, err = s.Submit(ctx, accountant, r.ID, r.Version); err != nil {
			return err
		}
		if _, err = s.Review(ctx, admin, r.ID, shareholder.ReviewInput{Approve: true, Reason: "与工商登记一致", Version: r.Version}); err != nil {
			return err
		}
	}
	return nil
}
