package e2e

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"testing"

	"github.com/chromedp/chromedp"

	"hehuo/internal/auth"
	"hehuo/internal/cache/cachetest"
	"hehuo/internal/config"
	"hehuo/internal/db/dbtest"
	"hehuo/internal/wire"
	"hehuo/microapp"
)

// 后台管理 → 强投名单: the system admin raises a grade's minimum and the list
// shows it; the saved list is what invitations are checked against.
func TestConsoleMandatoryList(t *testing.T) {
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
	srv := httptest.NewServer(microapp.New(deps).Handler())
	defer srv.Close()

	err := estDo(ctx,
		chromedp.Navigate(srv.URL+"/login"),
		chromedp.SendKeys(`[data-test=login-username]`, "admin"),
		chromedp.SendKeys(`[data-test=login-password]`, "admin-pass-1"),
		chromedp.Click(`[data-test=login-submit]`),
		chromedp.WaitVisible(`[data-test=tab-admin]`),
		chromedp.Navigate(srv.URL+"/admin/mandatory"),
		chromedp.WaitVisible(`//*[@data-test="mandatory-table"]//*[contains(.,"城市公司总经理")]`),
		chromedp.WaitVisible(`//*[@data-test="mandatory-other-value"][contains(.,"250,000.00")]`),
		chromedp.Click(`[data-test=mandatory-edit]`),
		chromedp.WaitVisible(`[data-test=mandatory-min-1]`),
		chromedp.Evaluate[chromedp.Void](`(() => { const el = document.querySelector('[data-test=mandatory-min-1]'); el.focus(); el.select() })()`),
		chromedp.SendKeys(`[data-test=mandatory-min-1]`, "600000"),
		chromedp.Click(`[data-test=mandatory-save]`),
		chromedp.WaitVisible(`[data-test=mandatory-edit]`),
		chromedp.WaitVisible(`//*[@data-test="mandatory-table"]//tr[contains(.,"M5")]//*[@data-test="mandatory-min"][contains(.,"600,000.00")]`),
	)
	if err != nil {
		shot(t, ctx, "mandatory")
		t.Fatalf("mandatory list page: %v", err)
	}
	var min string
	if err := d.Get(&min, `SELECT min_amount::text FROM mandatory_grades WHERE grade = 'M5'`); err != nil || min != "600000.00" {
		t.Fatalf("M5 minimum = %q, %v", min, err)
	}
}
