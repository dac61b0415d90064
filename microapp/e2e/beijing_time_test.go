package e2e

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"hehuo/internal/auth"
	"hehuo/internal/cache/cachetest"
	"hehuo/internal/config"
	"hehuo/internal/db/dbtest"
	"hehuo/internal/wire"
	"hehuo/microapp"
)

// A wrong password on the sign-in page shows the server's message, and the
// console shows times in Beijing time even in a browser set to New York.
func TestConsoleWrongPasswordMessageAndBeijingTime(t *testing.T) {
	ctx := browser(t)
	d := dbtest.New(t)
	c := cachetest.New(t)
	cfg, log := config.Default(), slog.New(slog.NewTextHandler(io.Discard, nil))
	deps := microapp.FromServices(cfg, d, c, log, "e2e", wire.New(cfg, d, c, log))
	bg := context.Background()
	if err := auth.EnsureBootstrap(bg, d, "admin-pass-1", "bizadmin-pass-1"); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(microapp.New(deps).Handler())
	defer srv.Close()
	consoleErrors(t, ctx)

	newYork := chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, emulation.SetTimezoneOverride, emulation.SetTimezoneOverrideParams{TimezoneID: "America/New_York"})
		return err
	})
	err := chromedp.Do(ctx, newYork,
		chromedp.Navigate(srv.URL+"/login"),
		chromedp.WaitVisible(`[data-test=login-username]`),
		chromedp.SendKeys(`[data-test=login-username]`, "admin"),
		chromedp.SendKeys(`[data-test=login-password]`, "wrong-pass-1"),
		chromedp.Click(`[data-test=login-submit]`),
		chromedp.WaitVisible(`//*[contains(@class,"el-message")][contains(.,"用户名或密码错误")]`),
	)
	if err != nil {
		t.Fatalf("wrong password shows no message: %v", err)
	}

	// The newest audit entry is the admin's bootstrap; its time must read
	// as Beijing time on the 系统日志 page.
	var at time.Time
	if err := d.GetContext(bg, &at, `SELECT at FROM audit_log ORDER BY id DESC LIMIT 1`); err != nil {
		t.Fatal(err)
	}
	want := at.In(time.FixedZone("CST", 8*3600)).Format("2006-01-02 15:04:05")
	err = chromedp.Do(ctx,
		chromedp.Navigate(srv.URL+"/login"),
		chromedp.WaitVisible(`[data-test=login-username]`),
		chromedp.SendKeys(`[data-test=login-username]`, "admin"),
		chromedp.SendKeys(`[data-test=login-password]`, "admin-pass-1"),
		chromedp.Click(`[data-test=login-submit]`),
		chromedp.WaitVisible(`[data-test=project-tree]`),
		chromedp.Navigate(srv.URL+"/admin/audit"),
		chromedp.WaitVisible(`[data-test=audit-table] .el-table__row`),
	)
	if err != nil {
		t.Fatalf("audit log page: %v", err)
	}
	shown, err := chromedp.Run(ctx, chromedp.Text(`[data-test=audit-table]`))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(shown, want) {
		t.Fatalf("系统日志 shows %q, want the Beijing time %s", shown, want)
	}
	// The same page speaks Chinese: actions, objects and the fields of the
	// diff by their labels from the server, no code on screen.
	run(t, ctx, "系统日志 in Chinese",
		chromedp.WaitVisible(`//*[@data-test="audit-table"]//td[contains(.,"初始化账号")]`),
		// Expand the first row (a bootstrap entry). A script click: the mouse
		// click at the icon's position was swallowed in headless Chromium.
		chromedp.Evaluate[chromedp.Void](`document.querySelector("[data-test=audit-table] .el-table__row .el-table__expand-icon").click(); undefined`),
		chromedp.WaitVisible(`//*[@data-test="audit-diff"]//td[contains(.,"用户名")]`),
	)
	if shown, err = chromedp.Run(ctx, chromedp.Text(`[data-test=audit-table]`)); err != nil {
		t.Fatal(err)
	}
	for _, code := range []string{"user.bootstrap", "username", "bootstrap", "true", "false"} {
		if strings.Contains(shown, code) {
			t.Errorf("系统日志 shows the code %q: %q", code, shown)
		}
	}
}
