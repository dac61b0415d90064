// Package e2e drives the embedded console in headless Chromium (chromedp)
// against a real server over a real Postgres and Redis.
package e2e

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

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
	"hehuo/microapp/web"
)

// browser returns a chromedp context on Debian's Chromium, or skips outside CI
// when Chromium or the built front end is missing (CI must have both).
func browser(t *testing.T) context.Context {
	t.Helper()
	path := os.Getenv("HEHUO_CHROMIUM")
	if path == "" {
		path = "/usr/bin/chromium"
	}
	missing := ""
	if _, err := os.Stat(path); err != nil {
		missing = "chromium at " + path
	} else if _, err := fs.Stat(web.Dist, "dist/index.html"); err != nil {
		missing = "the built front end (make web)"
	}
	if missing != "" {
		if os.Getenv("CI") != "" {
			t.Fatalf("browser test needs %s", missing)
		}
		t.Skipf("no %s", missing)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("disable-quic", true),
		chromedp.WindowSize(1400, 900))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	ctx, cancel2 := chromedp.NewContext(actx)
	t.Cleanup(cancel2)
	ctx, cancel3 := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(cancel3)
	return ctx
}

// Must show: sign in as admin, create a project in the console, grant it to
// an accountant, and that accountant sees exactly that project.
// pick chooses label in the Element Plus select marked data-test=test (not
// teleported) and waits until the select shows it.
func pick(test, label string) chromedp.Action[chromedp.Void] {
	return choose(`[data-test=`+test+`]`,
		`//*[@data-test="`+test+`"]//li[contains(@class,"el-select-dropdown__item")][normalize-space(.)="`+label+`"]`,
		`//*[@data-test="`+test+`"]//*[contains(@class,"el-select__selected-item")][normalize-space(.)="`+label+`"]`)
}

// clickUntil clicks sel until shown is visible: a click that lands while
// the page is still settling (a fading mask, a re-render) can be lost on a
// loaded machine. Only for clicks that are safe to repeat until they work.
func clickUntil(sel, shown string) chromedp.Action[chromedp.Void] {
	return retry(chromedp.Steps(chromedp.Click(sel), chromedp.WaitVisible(shown)), "click "+sel)
}

// retry runs steps up to three times, each try given 5 s.
func retry(steps chromedp.Action[chromedp.Void], what string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		var err error
		for range 3 {
			try, cancel := context.WithTimeout(ctx, 5*time.Second)
			_, err = steps(try, t)
			cancel()
			if err == nil || ctx.Err() != nil {
				return err
			}
		}
		return fmt.Errorf("%s: %w", what, err)
	})
}

// choose clicks trigger, then option, until chosen shows. A click that lands
// while a dropdown is still moving in can miss on a loaded machine, so it
// tries up to three times.
func choose(trigger, option, chosen string) chromedp.Action[chromedp.Void] {
	return retry(chromedp.Steps(
		chromedp.Click(trigger),
		chromedp.WaitVisible(option),
		chromedp.Sleep(200*time.Millisecond), // the dropdown's zoom-in transition
		chromedp.Click(option),
		chromedp.WaitVisible(chosen),
	), "choose "+option)
}

func TestConsoleSignInCreateProjectAndAccountantScope(t *testing.T) {
	ctx := browser(t)
	d := dbtest.New(t)
	c := cachetest.New(t)
	// The whole service graph: every route's service is there.
	cfg, log := config.Default(), slog.New(slog.NewTextHandler(io.Discard, nil))
	deps := microapp.FromServices(cfg, d, c, log, "e2e", wire.New(cfg, d, c, log))
	bg := context.Background()
	if err := auth.EnsureBootstrap(bg, d, "admin-pass-1", "bizadmin-pass-1"); err != nil {
		t.Fatal(err)
	}
	group, _ := deps.Org.CreateUnit(bg, audit.System, org.UnitInput{Name: "锦艺集团", Kind: org.KindGroup})
	prop, _ := deps.Org.CreateUnit(bg, audit.System, org.UnitInput{Name: "置业集团", Kind: org.KindProperty, ParentID: &group.ID})
	city, err := deps.Org.CreateUnit(bg, audit.System, org.UnitInput{Name: "环沪城市公司", Kind: org.KindCity, ParentID: &prop.ID})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := deps.Projects.Create(bg, audit.System, project.Input{Name: "常州项目", CityCompanyID: city.ID}); err != nil {
		t.Fatal(err)
	}
	if _, err := deps.Projects.CreateBatch(bg, audit.System, "2019年10月"); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(microapp.New(deps).Handler())
	defer srv.Close()

	err = chromedp.Do(ctx,
		chromedp.Navigate(srv.URL+"/"),
		chromedp.WaitVisible(`[data-test=login-username]`),
		chromedp.SendKeys(`[data-test=login-username]`, "admin"),
		chromedp.SendKeys(`[data-test=login-password]`, "admin-pass-1"),
		chromedp.Click(`[data-test=login-submit]`),
		chromedp.WaitVisible(`[data-test=project-tree]`),
		chromedp.Click(`[data-test=tab-admin]`),
		chromedp.Click(`[data-test=admin-projects]`),
		chromedp.WaitVisible(`[data-test=project-new]`),
		chromedp.Click(`[data-test=project-new]`),
		chromedp.WaitVisible(`[data-test=project-name]`),
		chromedp.SendKeys(`[data-test=project-code]`, "JY-901"),
		chromedp.SendKeys(`[data-test=project-name]`, "靖江项目"),
		// Selects first, then the date: an open date picker would swallow
		// the next click.
		pick("project-city", "环沪城市公司"),
		pick("project-batch", "2019年10月"),
		chromedp.SendKeys(`[data-test=project-land-date]`, "2019-10-21\r"),
		chromedp.Click(`[data-test=project-open]`),
		chromedp.Click(`[data-test=project-save]`),
		chromedp.WaitVisible(`//td[normalize-space(.)="JY-901"]`),
	)
	if err != nil {
		t.Fatalf("console flow: %v", err)
	}
	rows, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(rows, "靖江项目") {
		t.Fatalf("the new project is not listed")
	}
	var p project.Project
	if err := d.Get(&p, `SELECT id, name, is_open, land_acquired_on, city_company_id, code, version, joint_operation, is_settled, operator, acquisition_method, batch_id,
		'' AS city_company_name, NULL::text AS batch_name FROM projects WHERE name = '靖江项目'`); err != nil {
		t.Fatalf("project not stored: %v", err)
	}
	if !p.IsOpen || p.LandAcquiredOn.String() != "2019-10-21" || p.CityCompanyID != city.ID || p.BatchID == nil {
		t.Fatalf("stored project = %+v", p)
	}

	// Grant it to an accountant, who then sees exactly that project in the tree.
	acct, err := deps.Org.CreateUser(bg, audit.System, org.UserInput{Name: "沈嘉禾", Roles: []string{org.RoleAccountant}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := deps.Auth.SetGrants(bg, audit.System, auth.Target{ProjectID: &p.ID},
		[]auth.Grant{{Role: org.RoleAccountant, UserIDs: []int64{acct.ID}}}); err != nil {
		t.Fatal(err)
	}
	token, _, err := deps.Auth.SignInUser(bg, acct.ID)
	if err != nil {
		t.Fatal(err)
	}
	err = chromedp.Do(ctx,
		chromedp.Click(`[data-test=logout]`),
		chromedp.WaitVisible(`[data-test=login-username]`),
		chromedp.Evaluate[chromedp.Void](`document.cookie = "hehuo_session=`+token+`; path=/"; undefined`),
		chromedp.Navigate(srv.URL+"/"),
		chromedp.WaitVisible(`//*[@data-test="project-tree"]//*[contains(text(),"靖江项目")]`),
	)
	if err != nil {
		t.Fatalf("accountant view: %v", err)
	}
	tree, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("[data-test=project-tree]")))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(tree, "常州项目") {
		t.Fatalf("accountant sees an ungranted project: %q", tree)
	}
}
