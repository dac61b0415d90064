package e2e

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/chromedp/chromedp"

	"hehuo/internal/audit"
	"hehuo/internal/auth"
	"hehuo/internal/cache/cachetest"
	"hehuo/internal/config"
	"hehuo/internal/db/dbtest"
	"hehuo/internal/org"
	"hehuo/internal/project"
	"hehuo/internal/wire"
	"hehuo/microapp"
)

// 报表 → 工作跟踪表: an accountant sees the projects of their grant only, each
// step as done (with who) or pending (with whose turn), and the Excel link
// carries the filter.
func TestConsoleWorkTrackingReport(t *testing.T) {
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
	other, _ := deps.Org.CreateUnit(bg, audit.System, org.UnitInput{Name: "昆明城市公司", Kind: org.KindCity, ParentID: &group.ID})
	mine, err := deps.Projects.Create(bg, audit.System, project.Input{Name: "泰安-锦艺誉峯", CityCompanyID: city.ID, IsOpen: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := deps.Projects.Create(bg, audit.System, project.Input{Name: "昆明-城市之光", CityCompanyID: other.ID, IsOpen: true}); err != nil {
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
	pid := strconv.FormatInt(mine.ID, 10)

	err = chromedp.Do(ctx,
		chromedp.Navigate(srv.URL+"/login"),
		chromedp.Evaluate[chromedp.Void](`document.cookie = "hehuo_session=`+token+`; path=/"; undefined`),
		chromedp.Navigate(srv.URL+"/report?project="+pid),
		chromedp.WaitVisible(`//*[@data-test="work-step-`+pid+`-project_opened"][@data-status="done"][contains(.,"已完成")][contains(.,"系统")]`),
		chromedp.WaitVisible(`//*[@data-test="work-step-`+pid+`-establishment_data"][@data-status="pending"][contains(.,"待办·城市公司")]`),
	)
	if err != nil {
		shot(t, ctx, "work-tracking")
		t.Fatalf("work tracking page: %v", err)
	}
	rows, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('[data-test=work-tracking-table] .el-table__body-wrapper tbody tr').length`))
	if err != nil {
		t.Fatal(err)
	}
	err = chromedp.Do(ctx,
		chromedp.Click(`[data-test=work-tracking-only-selected]`),
		chromedp.WaitVisible(`//*[@data-test="work-tracking-download"][contains(@href,"project_id=`+pid+`")]`),
	)
	if err != nil {
		shot(t, ctx, "work-tracking-filter")
		t.Fatalf("only the selected project: %v", err)
	}
	href, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('[data-test=work-tracking-download]').getAttribute('href')`))
	if err != nil {
		t.Fatal(err)
	}
	if rows != 1 {
		t.Errorf("the accountant of 环沪 sees %d rows, want 1", rows)
	}
	if href != "/api/v1/reports/work-tracking.xlsx?project_id="+pid {
		t.Errorf("download link = %q", href)
	}
}
