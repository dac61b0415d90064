package e2e

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"hehuo/internal/audit"
	"hehuo/internal/auth"
	"hehuo/internal/cache/cachetest"
	"hehuo/internal/config"
	"hehuo/internal/db/dbtest"
	"hehuo/internal/dtsim"
	"hehuo/internal/dtsim/dtsimtest"
	"hehuo/internal/org"
	"hehuo/internal/wire"
	"hehuo/microapp"
)

// dingTalkServer runs Hehuo against a simulated DingTalk. Its public URL is
// its real address, so DingTalk's QR page can send the browser back to it.
func dingTalkServer(t *testing.T) (*httptest.Server, *dtsimtest.Server, microapp.Deps) {
	t.Helper()
	d := dbtest.New(t)
	c := cachetest.New(t)
	sim := dtsimtest.Start(t)
	hs := httptest.NewUnstartedServer(nil)
	cfg := config.Default()
	cfg.HTTP.PublicURL = "http://" + hs.Listener.Addr().String()
	cfg.DingTalk = sim.DingTalkConfig()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	deps := microapp.FromServices(cfg, d, c, log, "e2e", wire.New(cfg, d, c, log))
	if err := auth.EnsureBootstrap(context.Background(), d, "admin-pass-1", "bizadmin-pass-1"); err != nil {
		t.Fatal(err)
	}
	hs.Config.Handler = microapp.New(deps).Handler()
	hs.Start()
	t.Cleanup(hs.Close)
	return hs, sim, deps
}

// Must show: on PC, 钉钉扫码登录 goes to DingTalk's page; the employee picked
// there lands in the console signed in. A stranger is sent back with 未开通.
func TestConsoleDingTalkQRSignIn(t *testing.T) {
	ctx := browser(t)
	srv, sim, deps := dingTalkServer(t)
	sim.AddUser(dtsim.User{UserID: "lisi", Name: "李四", Title: "会计"})
	sim.AddUser(dtsim.User{UserID: "stranger", Name: "路人甲"})
	if _, err := deps.Org.CreateUser(context.Background(), audit.System, org.UserInput{Name: "李四", DingTalkUserID: "lisi", Roles: []string{org.RoleAccountant}}); err != nil {
		t.Fatal(err)
	}

	err := chromedp.Do(ctx,
		chromedp.Navigate(srv.URL+"/login"),
		chromedp.WaitVisible(`[data-test=login-dingtalk-qr]`),
		chromedp.Click(`[data-test=login-dingtalk-qr]`),
		chromedp.WaitVisible(`[data-test=dtsim-oauth-stranger]`),
		chromedp.Click(`[data-test=dtsim-oauth-stranger]`),
		chromedp.WaitVisible(`[data-test=login-error]`),
	)
	if err != nil {
		t.Fatalf("stranger's QR sign-in: %v", err)
	}
	header, err := chromedp.Run(ctx, chromedp.Text(`[data-test=login-error]`))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(header, "未开通事业合伙系统，请联系管理员") {
		t.Fatalf("stranger sees %q", header)
	}

	err = chromedp.Do(ctx,
		chromedp.Click(`[data-test=login-dingtalk-qr]`),
		chromedp.WaitVisible(`[data-test=dtsim-oauth-lisi]`),
		chromedp.Click(`[data-test=dtsim-oauth-lisi]`),
		chromedp.WaitVisible(`[data-test=logout]`),
	)
	if err != nil {
		t.Fatalf("李四's QR sign-in: %v", err)
	}
	if header, err = chromedp.Run(ctx, chromedp.Text(`body`)); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(header, "李四") {
		t.Fatalf("the console does not show 李四 signed in: %q", header)
	}
}

// Must show: the H5 app opened in the simulator's phone signs in by 免登
// without a password; a DingTalk user without a Hehuo account sees 未开通.
func TestH5DingTalkSignIn(t *testing.T) {
	ctx := browser(t)
	srv, sim, deps := dingTalkServer(t)
	sim.AddUser(dtsim.User{UserID: "zhangsan", Name: "张三", Title: "出纳"})
	sim.AddUser(dtsim.User{UserID: "stranger", Name: "路人甲"})
	if _, err := deps.Org.CreateUser(context.Background(), audit.System, org.UserInput{Name: "张三", DingTalkUserID: "zhangsan", Title: "出纳"}); err != nil {
		t.Fatal(err)
	}
	phone := func(userid string) string {
		return srv.URL + "/m/?dtsim=" + url.QueryEscape(sim.URL) + "&dtsim_user=" + url.QueryEscape(userid)
	}

	text := func(page, sel string) string {
		t.Helper()
		if err := chromedp.Do(ctx, chromedp.Navigate(page), chromedp.WaitVisible(sel)); err != nil {
			t.Fatalf("H5 免登 at %s: %v", page, err)
		}
		s, err := chromedp.Run(ctx, chromedp.Text(sel))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	card := text(phone("zhangsan"), `[data-test=h5-user]`)
	refused := text(phone("stranger"), `[data-test=h5-not-enabled]`)
	if !strings.Contains(card, "张三") {
		t.Fatalf("H5 shows %q, want 张三 signed in", card)
	}
	if !strings.Contains(refused, "未开通事业合伙系统，请联系管理员") {
		t.Fatalf("stranger sees %q", refused)
	}
}

// Must show: the system admin presses 从钉钉同步 on the users page and the
// DingTalk address book's new employee appears in the table.
func TestConsoleUsersSyncFromDingTalk(t *testing.T) {
	ctx := browser(t)
	srv, sim, _ := dingTalkServer(t)
	sim.AddDepartment(dtsim.Department{ID: 10, Name: "财务部"})
	sim.AddUser(dtsim.User{UserID: "wangwu", Name: "王五", DeptID: 10, Title: "出纳", Mobile: "13800000003"})

	err := chromedp.Do(ctx,
		chromedp.Navigate(srv.URL+"/login"),
		chromedp.WaitVisible(`[data-test=login-username]`),
		chromedp.SendKeys(`[data-test=login-username]`, "admin"),
		chromedp.SendKeys(`[data-test=login-password]`, "admin-pass-1"),
		chromedp.Click(`[data-test=login-submit]`),
		chromedp.WaitVisible(`[data-test=logout]`),
		chromedp.Navigate(srv.URL+"/admin/accounts"),
		chromedp.WaitVisible(`[data-test=user-sync]`),
		chromedp.Click(`[data-test=user-sync]`),
		chromedp.WaitVisible(`.el-message-box__btns .el-button--primary`),
		chromedp.Click(`.el-message-box__btns .el-button--primary`),
		chromedp.WaitVisible(`//*[contains(@class,"el-message")][contains(.,"同步完成：新增 1 人")]`),
		chromedp.WaitVisible(`//*[@data-test="user-table"]//td[normalize-space(.)="王五"]`),
	)
	if err != nil {
		t.Fatalf("从钉钉同步: %v", err)
	}
}

// Finding 8: a sysadmin sees a locked-out password account on 账号及角色
// and unlocks it there.
func TestConsoleUnlocksALockedAccount(t *testing.T) {
	ctx := browser(t)
	srv, _, deps := dingTalkServer(t)
	for range 5 {
		deps.Auth.SignInPassword(context.Background(), auth.BizadminUsername, "wrong-password", "203.0.113.5")
	}
	steps := []chromedp.Action[chromedp.Void]{
		chromedp.Navigate(srv.URL + "/login"),
		chromedp.WaitVisible(`[data-test=login-username]`),
		chromedp.SendKeys(`[data-test=login-username]`, "admin"),
		chromedp.SendKeys(`[data-test=login-password]`, "admin-pass-1"),
		chromedp.Click(`[data-test=login-submit]`),
		chromedp.WaitVisible(`[data-test=logout]`),
		chromedp.Navigate(srv.URL + "/admin/accounts"),
		chromedp.WaitVisible(`//*[@data-test="user-table"]//tr[.//td[normalize-space(.)="hhadmin"]]//*[@data-test="user-locked"]`),
		chromedp.WaitVisible(`//*[@data-test="user-table"]//tr[.//td[normalize-space(.)="hhadmin"]]//*[@data-test="user-unlock"]`),
		// Only hhadmin is locked, so its button is the one on the page.
		chromedp.Evaluate[chromedp.Void](`document.querySelector('[data-test=user-unlock]').click(); undefined`),
		chromedp.WaitVisible(`.el-message-box__btns .el-button--primary`),
		chromedp.Click(`.el-message-box__btns .el-button--primary`),
		chromedp.WaitVisible(`//*[contains(@class,"el-message")][contains(.,"已解锁")]`),
		chromedp.WaitNotPresent(`[data-test=user-locked]`),
	}
	for i, step := range steps {
		if err := chromedp.Do(ctx, step); err != nil {
			t.Fatalf("解锁, step %d: %v", i, err)
		}
	}
	if locks, err := deps.Auth.Locks(context.Background()); err != nil || len(locks) != 0 {
		t.Fatalf("locks after the unlock: %v %v", locks, err)
	}
}
