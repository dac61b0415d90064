package shareholder

import (
	"context"
	"testing"

	"hehuo/internal/audit"
	"hehuo/internal/civil"
	"hehuo/internal/establishment"
	"hehuo/internal/holding/holdingtest"
)

// A cooperator row of 股权合作 links to a registered minority shareholder;
// another kind, or a shareholder that does not exist, is refused and
// nothing is saved.
func TestCooperatorLinksToARegisteredShareholder(t *testing.T) {
	ctx := context.Background()
	d, s := newService(t)
	project := holdingtest.Project(t, d, holdingtest.CityCompany(t, d, "泰安城市公司"), "泰安-锦艺誉峯")
	sh, err := s.Create(ctx, audit.System, Input{Name: "泰安城投", Kind: "company", IDNumber: creditCode(t, "91370900MA3C5LXX1")})
	if err != nil {
		t.Fatal(err)
	}
	est := establishment.NewService(d, nil)
	put := func(kind string, link int64) (establishment.Shareholding, error) {
		return est.PutShareholding(ctx, audit.System, project, establishment.ShareholdingInput{
			EffectiveOn: civil.Date{Year: 2024, Month: 3, Day: 1},
			Shareholders: []establishment.ShareholderInput{{Name: "锦艺置业", Kind: establishment.KindGroup, Stake: "0.7"},
				{Name: "泰安城投", Kind: kind, Stake: "0.3", MinorityShareholderID: &link}}})
	}
	before := fingerprint(t, d)
	if _, err := put(establishment.KindPartnership, sh.ID); code(err) != "minority_link_kind" {
		t.Fatalf("partnership linked: %v", err)
	}
	if _, err := put(establishment.KindCooperator, 999999); code(err) != "shareholder_not_found" {
		t.Fatalf("unknown shareholder: %v", err)
	}
	if fingerprint(t, d) != before {
		t.Fatal("a refused link wrote something")
	}
	v, err := put(establishment.KindCooperator, sh.ID)
	if err != nil {
		t.Fatal(err)
	}
	if l := v.Shareholders[1].MinorityShareholderID; l == nil || *l != sh.ID || v.Shareholders[0].MinorityShareholderID != nil {
		t.Fatalf("linked: %+v", v.Shareholders)
	}
}
