package shareholder

import (
	"context"
	"strings"
	"testing"

	"hehuo/internal/apperr"
	"hehuo/internal/audit"
	"hehuo/internal/config"
	"hehuo/internal/db"
	"hehuo/internal/db/dbtest"
	"hehuo/internal/holding/holdingtest"
	"hehuo/internal/secret"
)

// Valid numbers for tests: a credit code and an ID number with the right
// check characters.
func creditCode(t testing.TB, first17 string) string {
	c, ok := CreditCheckChar(first17)
	if !ok {
		t.Fatalf("bad credit code stem %s", first17)
	}
	return first17 + string(c)
}

const personID = "11010519491231002X"

func code(err error) string {
	if e := apperr.As(err); e != nil {
		return e.Code
	}
	return ""
}

func newService(t *testing.T) (*db.DB, *Service) {
	t.Helper()
	d := dbtest.New(t)
	return d, NewService(d, config.Config{Demo: true}, nil)
}

func TestQueryMethods(t *testing.T) {
	ctx := context.Background()
	d, s := newService(t)
	project := holdingtest.Project(t, d, holdingtest.CityCompany(t, d, "泰安城市公司"), "泰安-锦艺誉峯")
	cc := creditCode(t, "91370900MA3C5LXX1")
	co, err := s.Create(ctx, audit.System, Input{Name: "泰安城投", Kind: "company", IDNumber: cc, Bank: "工商银行泰安分行",
		AccountNumber: "6222 0216 0201 2345 678"})
	if err != nil {
		t.Fatal(err)
	}
	if co.IDNumberMasked != "****"+cc[14:] || co.AccountMasked != "****5678" || co.KindLabel != "企业" {
		t.Fatalf("masked: %+v", co)
	}
	pe, err := s.Create(ctx, audit.System, Input{Name: "张三", Kind: "person", IDNumber: strings.ToLower(personID)})
	if err != nil {
		t.Fatal(err)
	}
	got, err := Get(ctx, d, pe.ID)
	if err != nil || got.Name != "张三" || got.IDNumberMasked != "****002X" || got.AccountMasked != "" {
		t.Fatalf("Get: %+v %v", got, err)
	}
	if _, err := Get(ctx, d, 999999); code(err) != "shareholder_not_found" {
		t.Fatalf("missing: %v", err)
	}
	box, err := s.Box()
	if err != nil {
		t.Fatal(err)
	}
	p, err := Payee(ctx, d, box, co.ID)
	if err != nil || p.Number != "6222021602012345678" || p.Bank != "工商银行泰安分行" {
		t.Fatalf("Payee: %+v %v", p, err)
	}
	if _, err := Payee(ctx, d, box, pe.ID); code(err) != "shareholder_account_missing" {
		t.Fatalf("no account: %v", err)
	}
	other, _ := secret.New(make([]byte, 32))
	if _, err := Payee(ctx, d, other, co.ID); err == nil || strings.Contains(err.Error(), "6222") {
		t.Fatalf("wrong key: %v", err)
	}
	// Only approved registrations are stakes.
	for _, r := range []struct {
		sh     int64
		stake  string
		status string
	}{{co.ID, "0.15", "approved"}, {pe.ID, "0.05", "submitted"}, {co.ID, "0.10", "superseded"}} {
		if _, err := d.ExecContext(ctx, `INSERT INTO shareholder_registrations (project_id, shareholder_id, stake, contributed,
			contributed_on, status) VALUES ($1, $2, $3, 1500000, '2024-03-01', $4)`, project, r.sh, r.stake, r.status); err != nil {
			t.Fatal(err)
		}
	}
	stakes, err := ApprovedStakes(ctx, d, project)
	if err != nil {
		t.Fatal(err)
	}
	if len(stakes) != 1 || stakes[0].ShareholderID != co.ID || stakes[0].Stake.String() != "0.15" ||
		stakes[0].Contributed.StringFixed(2) != "1500000.00" || stakes[0].ContributedOn.String() != "2024-03-01" || stakes[0].Name != "泰安城投" {
		t.Fatalf("stakes: %+v", stakes)
	}
}
