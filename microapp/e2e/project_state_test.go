package e2e

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/chromedp/chromedp"

	"hehuo/internal/audit"
	"hehuo/internal/auth"
	"hehuo/internal/cache/cachetest"
	"hehuo/internal/civil"
	"hehuo/internal/config"
	"hehuo/internal/db/dbtest"
	"hehuo/internal/establishment"
	"hehuo/internal/org"
	"hehuo/internal/project"
	"hehuo/internal/wire"
	"hehuo/microapp"
)

// The console as a new user meets it: the tree marks a project that is not
// open (未开放); a link to a project outside the caller's scope says
// 无权查看该项目 instead of a blank page; the 立项调整 form takes the new
// shareholders, which are stored with the peak change and not applied.
func TestConsoleProjectFlagsScopeAndPeakChangeHolders(t *testing.T) {
	ctx := browser(t)
	d := dbtest.New(t)
	c := cachetest.New(t)
	cfg := config.Default()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	deps := microapp.FromServices(cfg, d, c, log, "e2e", wire.New(cfg, d, c, log))
	bg := context.Background()
	if err := auth.EnsureBootstrap(bg, d, "admin-pass-1", "bizadmin-pass-1"); err != nil {
		t.Fatal(err)
	}
	group, _ := deps.Org.CreateUnit(bg, audit.System, org.UnitInput{Name: "锦艺集团", Kind: org.KindGroup})
	city, err := deps.Org.CreateUnit(bg, audit.System, org.UnitInput{Name: "环沪城市公司", Kind: org.KindCity, ParentID: &group.ID})
	if err != nil {
		t.Fatal(err)
	}
	other, err := deps.Org.CreateUnit(bg, audit.System, org.UnitInput{Name: "昆明城市公司", Kind: org.KindCity, ParentID: &group.ID})
	if err != nil {
		t.Fatal(err)
	}
	mk := func(name string, cityID int64, open bool) int64 {
		p, err := deps.Projects.Create(bg, audit.System, project.Input{Name: name, CityCompanyID: cityID, IsOpen: open})
		if err != nil {
			t.Fatal(err)
		}
		return p.ID
	}
	mine, closed, elsewhere := mk("泰安-锦艺誉峯", city.ID, true), mk("常州-未开放", city.ID, false), mk("昆明-城市之光", other.ID, true)
	// The peak of mine is approved (as the peak_capital process leaves it),
	// with a first version of 股权合作.
	if _, err := d.Exec(`INSERT INTO establishments (project_id, peak_capital, ratio_city, peak_locked_at) VALUES ($1, 220000000, 0.006, now())`, mine); err != nil {
		t.Fatal(err)
	}
	from, _ := civil.Parse("2024-01-01")
	if _, err := deps.Establishment.PutShareholding(bg, audit.System, mine, establishment.ShareholdingInput{EffectiveOn: from,
		Shareholders: []establishment.ShareholderInput{{Name: "锦艺置业", Kind: "group", Stake: "1"}}}); err != nil {
		t.Fatal(err)
	}
	acct, err := deps.Org.CreateUser(bg, audit.System, org.UserInput{Name: "环沪会计", Roles: []string{org.RoleAccountant}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := deps.Auth.SetGrants(bg, audit.System, auth.Target{OrgUnitID: &city.ID},
		[]auth.Grant{{Role: org.RoleAccountant, UserIDs: []int64{acct.ID}}}); err != nil {
		t.Fatal(err)
	}
	token, _, err := deps.Auth.SignInUser(bg, acct.ID)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(microapp.New(deps).Handler())
	defer srv.Close()
	id := func(n int64) string { return strconv.FormatInt(n, 10) }

	err = estDo(ctx,
		chromedp.Navigate(srv.URL+"/login"),
		chromedp.Evaluate[chromedp.Void](`document.cookie = "hehuo_session=`+token+`; path=/"; undefined`),
		// The tree marks the project that is not open, and only that one.
		chromedp.Navigate(srv.URL+"/establishment/basic?project="+id(mine)),
		chromedp.WaitVisible(`//*[@data-test="tree-project"][@data-id="`+id(closed)+`"]//*[@data-test="tree-project-flag"][normalize-space(.)="未开放"]`),
		// A link to a project outside the scope says why.
		chromedp.Navigate(srv.URL+"/establishment/terms?project="+id(elsewhere)),
		chromedp.WaitVisible(`//*[@data-test="project-out-of-scope"][contains(.,"无权查看该项目")]`),
	)
	if err != nil {
		shot(t, ctx, "scope")
		t.Fatalf("tree and scope: %v", err)
	}
	flags, err := chromedp.Run(ctx, chromedp.Evaluate[string](`[...document.querySelectorAll('[data-test=tree-project-flag]')].map(e => e.textContent.trim()).join(',')`))
	if err != nil || flags != "未开放" {
		t.Fatalf("tree flags: %q %v, want only 未开放 on the closed project", flags, err)
	}

	// 立项调整: the new shareholders start as the version in force.
	err = estDo(ctx,
		chromedp.Navigate(srv.URL+"/establishment/adjustment?project="+id(mine)),
		chromedp.WaitVisible(`input[data-test=adj-holder-name-0]`),
		chromedp.WaitVisible(`//*[@data-test="adj-holders-sum"][normalize-space(.)="100%"]`),
		chromedp.Evaluate[chromedp.Void](`(() => { const i = document.querySelector('input[data-test=adj-holder-stake-0]');
			i.value = '90'; i.dispatchEvent(new Event('input', {bubbles: true})) })(); undefined`),
		clickUntil(`[data-test=adj-holder-add]`, `input[data-test=adj-holder-name-1]`),
		chromedp.SendKeys(`input[data-test=adj-holder-name-1]`, "泰安誉峯合伙企业"),
		chromedp.SendKeys(`input[data-test=adj-holder-stake-1]`, "10"),
		chromedp.WaitVisible(`//*[@data-test="adj-holders-sum"][normalize-space(.)="100%"]`),
		chromedp.SendKeys(`input[data-test=adj-new-peak]`, "200000000"),
		chromedp.Click(`[data-test=adj-create-peak]`),
		chromedp.WaitVisible(`//*[@data-test="adj-peak-holder"][contains(.,"泰安誉峯合伙企业")][contains(.,"10%")]`),
	)
	if err != nil {
		shot(t, ctx, "peak-change")
		t.Fatalf("peak change with new shareholders: %v", err)
	}
	var raw []byte
	if err := d.Get(&raw, `SELECT shareholders FROM peak_changes WHERE project_id = $1`, mine); err != nil {
		t.Fatal(err)
	}
	var stored []establishment.ShareholderInput
	if err := json.Unmarshal(raw, &stored); err != nil || len(stored) != 2 || stored[0].Stake != "0.9" || stored[1].Name != "泰安誉峯合伙企业" ||
		stored[1].Kind != "cooperator" || stored[1].Stake != "0.1" {
		t.Fatalf("shareholders stored with the peak change: %s %v", raw, err)
	}
	sh, err := deps.Establishment.Shareholding(bg, d, mine)
	if err != nil || sh.Version != 1 || len(sh.Shareholders) != 1 {
		t.Fatalf("shareholding before the change is agreed: %+v %v", sh, err)
	}
}
