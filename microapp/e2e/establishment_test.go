package e2e

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"hehuo/internal/audit"
	"hehuo/internal/auth"
	"hehuo/internal/cache/cachetest"
	"hehuo/internal/civil"
	"hehuo/internal/config"
	"hehuo/internal/db/dbtest"
	"hehuo/internal/org"
	"hehuo/internal/project"
	"hehuo/internal/rate"
	"hehuo/internal/wire"
	"hehuo/microapp"
)

// An accountant fills 立项信息 in the console: the pools of R1 appear as the
// ratios are typed, before saving; the funding date shows the rate in force;
// the saved figures carry their trace on hover. Then 股权合作 is saved as its
// first version once the stakes make 100%.
func TestConsoleEstablishmentTermsShowPoolsAsTyped(t *testing.T) {
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
	p, err := deps.Projects.Create(bg, audit.System, project.Input{Name: "泰安-锦艺誉峯", CityCompanyID: city.ID, IsOpen: true})
	if err != nil {
		t.Fatal(err)
	}
	from, _ := civil.Parse("2024-01-01")
	if _, err := deps.Establishment.Rates().Create(bg, audit.System, rate.Input{EffectiveFrom: from, Rate: "0.0435"}); err != nil {
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
	pid := strconv.FormatInt(p.ID, 10)

	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return strings.TrimSpace(s)
	}
	err = estDo(ctx,
		chromedp.Navigate(srv.URL+"/login"),
		chromedp.Evaluate[chromedp.Void](`document.cookie = "hehuo_session=`+token+`; path=/"; undefined`),
		chromedp.Navigate(srv.URL+"/establishment/terms?project="+pid),
		// The form takes input once the saved terms are in (typing earlier
		// would be overwritten by them).
		chromedp.WaitEnabled(`input[data-test=est-peak]`),
		chromedp.SendKeys(`input[data-test=est-peak]`, "220000000.00"),
		chromedp.SendKeys(`input[data-test=est-ratio-property]`, "3.31"),
		chromedp.SendKeys(`input[data-test=est-ratio-city]`, "0.6"),
		chromedp.WaitVisible(`//*[@data-test="est-pool-property"][normalize-space(.)="7,282,000.00"]`),
	)
	if err != nil {
		shot(t, ctx, "typing")
		t.Fatalf("typing the terms: %v", err)
	}
	if got := text(`[data-test=est-pool-city]`); got != "1,320,000.00" {
		t.Errorf("city pool as typed = %q", got)
	}
	if got := text(`[data-test=est-total]`); got != "8,602,000.00" {
		t.Errorf("total as typed = %q", got)
	}
	if got := text(`[data-test=est-ratio-total]`); got != "3.91%" {
		t.Errorf("ratio as typed = %q", got)
	}
	err = estDo(ctx,
		chromedp.SendKeys(`input[data-test=est-funding-date]`, "2024-03-01\r"),
		chromedp.WaitVisible(`//*[@data-test="est-rate-in-force"][contains(.,"4.35%")]`),
		chromedp.SendKeys(`input[data-test=est-bank]`, "招商银行泰安分行"),
		chromedp.Click(`[data-test=est-terms-save]`),
		chromedp.WaitVisible(`//*[contains(@class,"est-version")][normalize-space(.)="版本 1"]`),
		// Hovering a pool shows its trace.
		chromedp.Evaluate[chromedp.Void](`document.querySelector('[data-test=est-pool-property]').dispatchEvent(new MouseEvent('mouseenter', {bubbles: true})); undefined`),
		chromedp.WaitVisible(`//*[@data-test="est-trace"][contains(.,"P × 置业集团比例")][contains(.,"220,000,000.00")]`),
	)
	if err != nil {
		shot(t, ctx, "saving")
		t.Fatalf("saving the terms: %v", err)
	}
	v, err := deps.Establishment.GetTerms(bg, p.ID)
	if err != nil || v.Version != 1 || v.Total.String() != "8602000.00" || *v.FinancingRate != "0.0435" || v.CollectionAccount.Bank != "招商银行泰安分行" {
		t.Fatalf("stored terms = %+v, %v", v, err)
	}

	// 股权合作: the save waits for 100%.
	err = estDo(ctx,
		chromedp.Click(`[data-test=est-tab-shareholding]`),
		chromedp.WaitVisible(`[data-test=share-name-0]`),
		chromedp.SendKeys(`input[data-test=share-name-0]`, "锦艺置业"),
		chromedp.SendKeys(`input[data-test=share-stake-0]`, "90"),
		clickUntil(`[data-test=share-add]`, `[data-test=share-name-1]`),
		chromedp.SendKeys(`input[data-test=share-name-1]`, "泰安誉峯合伙企业"),
		chromedp.SendKeys(`input[data-test=share-stake-1]`, "10"),
		chromedp.WaitVisible(`//*[@data-test="share-sum"][normalize-space(.)="100%"]`),
		chromedp.SendKeys(`input[data-test=share-effective-on]`, "2019-03-21\r"),
		chromedp.Click(`[data-test=share-save]`),
		chromedp.WaitVisible(`//*[@data-test="share-current"][contains(.,"当前版本 1")]`),
	)
	if err != nil {
		shot(t, ctx, "shareholding")
		t.Fatalf("shareholding: %v", err)
	}
	sh, err := deps.Establishment.Shareholding(bg, d, p.ID)
	if err != nil || sh.Version != 1 || len(sh.Shareholders) != 2 || sh.Shareholders[1].Stake.String() != "0.1" {
		t.Fatalf("stored shareholding = %+v, %v", sh, err)
	}
	if os.Getenv("HEHUO_E2E_SHOTS") != "" {
		shot(t, ctx, "shareholding-saved")
	}
}

// shot logs the page's text and saves a screenshot when HEHUO_E2E_SHOTS names
// a directory, to see why a step timed out.
func shot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	c, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if body, err := chromedp.Run(c, chromedp.Text(chromedp.CSS("body"))); err == nil {
		t.Logf("page at %s: %s", name, body)
	}
	if dir := os.Getenv("HEHUO_E2E_SHOTS"); dir != "" {
		if b, err := chromedp.Run(c, chromedp.CaptureScreenshot()); err == nil {
			_ = os.WriteFile(filepath.Join(dir, "establishment-"+name+".png"), b, 0o644)
		}
	}
}

// estDo runs steps one by one, each within 20 s, and names the step that
// timed out, so a failure leaves the rest of the test's time for shot.
func estDo(ctx context.Context, steps ...chromedp.Action[chromedp.Void]) error {
	// The first call starts the browser, which lives as long as that call's context.
	if err := chromedp.Do(ctx); err != nil {
		return err
	}
	for i, s := range steps {
		c, cancel := context.WithTimeout(ctx, 20*time.Second)
		err := chromedp.Do(c, s)
		cancel()
		if err != nil {
			return fmt.Errorf("step %d: %w", i+1, err)
		}
	}
	return nil
}
