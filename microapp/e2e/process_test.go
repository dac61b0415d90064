package e2e

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"hehuo/internal/audit"
	"hehuo/internal/auth"
	"hehuo/internal/cache/cachetest"
	"hehuo/internal/civil"
	"hehuo/internal/config"
	"hehuo/internal/db/dbtest"
	"hehuo/internal/disclosure"
	"hehuo/internal/dtsim"
	"hehuo/internal/dtsim/dtsimtest"
	"hehuo/internal/org"
	"hehuo/internal/project"
	"hehuo/internal/wire"
	"hehuo/internal/workflow"
	"hehuo/microapp"
)

// 流程 → 项目流程: the accountant launches a process with 情况说明 from the
// list (the dialog previews the OA form), DingTalk agrees, and the list,
// 查看 and 查看BPM show the result.
func TestConsoleProcessLaunchViewAndBPM(t *testing.T) {
	ctx := browser(t)
	d := dbtest.New(t)
	c := cachetest.New(t)
	sim := dtsimtest.Start(t)
	cfg := config.Default()
	cfg.DingTalk = sim.DingTalkConfig()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	ws := wire.New(cfg, d, c, log)
	deps := microapp.FromServices(cfg, d, c, log, "e2e", ws)
	bg := context.Background()
	if err := auth.EnsureBootstrap(bg, d, "admin-pass-1", "bizadmin-pass-1"); err != nil {
		t.Fatal(err)
	}
	payback := 30
	group, _ := deps.Org.CreateUnit(bg, audit.System, org.UnitInput{Name: "锦艺集团", Kind: org.KindGroup})
	city, err := deps.Org.CreateUnit(bg, audit.System, org.UnitInput{Name: "环沪城市公司", Kind: org.KindCity, ParentID: &group.ID})
	if err != nil {
		t.Fatal(err)
	}
	proj, err := deps.Projects.Create(bg, audit.System, project.Input{Name: "泰安-锦艺誉峯", CityCompanyID: city.ID, IsOpen: true})
	if err != nil {
		t.Fatal(err)
	}
	sim.AddUser(dtsim.User{UserID: "acct_taian", Name: "泰安会计"})
	acct, err := deps.Org.CreateUser(bg, audit.System, org.UserInput{Name: "泰安会计", DingTalkUserID: "acct_taian", Roles: []string{org.RoleAccountant}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := deps.Auth.SetGrants(bg, audit.System, auth.Target{OrgUnitID: &city.ID},
		[]auth.Grant{{Role: org.RoleAccountant, UserIDs: []int64{acct.ID}}}); err != nil {
		t.Fatal(err)
	}
	// 披露's subject: a period of 盈亏动态, which the dialog picks.
	if _, err := deps.Disclosures.Create(bg, audit.Actor{ID: &acct.ID, Name: acct.Name}, proj.ID, disclosure.Input{
		PeriodOn: civil.Date{Year: 2026, Month: 9, Day: 30}, Title: "2026年三季度", Values: disclosure.Values{PaybackMonths: &payback}}); err != nil {
		t.Fatal(err)
	}
	token, _, err := deps.Auth.SignInUser(bg, acct.ID)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(microapp.New(deps).Handler())
	defer srv.Close()
	pid := strconv.FormatInt(proj.ID, 10)

	// The first call starts the browser, which lives as long as its context.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatal(err)
	}
	run(t, ctx, "launch from 项目流程",
		chromedp.Navigate(srv.URL+"/login"),
		chromedp.Evaluate[chromedp.Void](`document.cookie = "hehuo_session=`+token+`; path=/"; undefined`),
		chromedp.Navigate(srv.URL+"/process?project="+pid),
		chromedp.WaitVisible(`[data-test=process-kind-peak_capital]`),
		// Every kind is built now: 退出 too has its 发起 (with a quote: 退出流程).
		chromedp.WaitVisible(`//*[@data-test="process-kind-exit"][not(contains(.,"未开放"))]`),
		reveal(`[data-test=process-launch-disclosure]`),
		settle,
		chromedp.Click(`[data-test=process-launch-disclosure]`),
		chromedp.WaitVisible(`[data-test=launch-dialog]`),
		chromedp.WaitVisible(`//*[@data-test="launch-form-preview"][contains(.,"盈亏期间")][contains(.,"2026年三季度")][contains(.,"泰安-锦艺誉峯")]`),
		chromedp.SendKeys(`textarea[data-test=launch-description]`, "三季度经营情况披露"),
		chromedp.WaitVisible(`//*[@data-test="launch-form-preview"][contains(.,"三季度经营情况披露")]`),
		chromedp.Click(`[data-test=launch-submit]:not(.is-disabled)`),
		chromedp.WaitVisible(`//*[starts-with(@data-test,"process-status-")][@data-status="running"]`),
	)
	running := sim.Approvals(dtsim.StatusRunning)
	if len(running) != 1 {
		t.Fatalf("simulator approvals %+v", running)
	}
	if _, err := sim.Decide(running[0].InstanceID, "agree"); err != nil {
		t.Fatal(err)
	}
	for _, ev := range sim.Events() {
		if ev.Type == workflow.EventInstanceChange {
			if _, err := ws.Inbox.Accept(bg, ev.ID, ev.Type, "", ev.Data); err != nil {
				t.Fatal(err)
			}
		}
	}
	run(t, ctx, "the result in the list, 查看 and 查看BPM",
		chromedp.Click(`[data-test=process-refresh]`),
		chromedp.WaitVisible(`//*[starts-with(@data-test,"process-status-")][@data-status="agreed"][contains(.,"已通过")]`),
		reveal(`[data-test^=process-view-]`),
		settle,
		chromedp.Click(`[data-test^=process-view-]`),
		chromedp.WaitVisible(`//*[@data-test="process-detail-form"][contains(.,"流水号")][contains(.,"HH-")][contains(.,"三季度经营情况披露")]`),
		reveal(`[data-test=process-detail-bpm]`),
		settle,
		chromedp.Click(`[data-test=process-detail-bpm]`),
		chromedp.WaitVisible(`//*[@data-test="process-bpm-status"][@data-status="COMPLETED"]`),
	)
}

// reveal scrolls an element to the middle of the console's scrolling pane:
// the page scrolls inside its layout, not the window, so a click at a row
// below the fold would land elsewhere. Callers pause (settle) before the
// click measures the element.
var settle = chromedp.Sleep(500 * time.Millisecond)

func reveal(sel string) chromedp.Action[chromedp.Void] {
	return chromedp.Evaluate[chromedp.Void](`document.querySelector('` + sel + `').scrollIntoView({block: 'center', behavior: 'instant'}); undefined`)
}
