package e2e

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

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

// h5Server runs Hehuo in demo mode or not, with a simulator whose phone
// opens this server's H5 app.
func h5Server(t *testing.T, demo bool) (*httptest.Server, *dtsimtest.Server, microapp.Deps) {
	t.Helper()
	d := dbtest.New(t)
	c := cachetest.New(t)
	hs := httptest.NewUnstartedServer(nil)
	sim := dtsimtest.Start(t, func(sc *dtsim.Config) { sc.AppURL = "http://" + hs.Listener.Addr().String() })
	cfg := config.Default()
	cfg.Demo = demo
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

// Must show: with the security headers on, the simulator's phone page still
// frames the H5 app from its own origin, and 免登 inside it (a fetch to the
// simulator) signs the user in.
func TestH5OpensInsideTheSimulatorPhone(t *testing.T) {
	ctx := browser(t)
	_, sim, deps := h5Server(t, true)
	sim.AddUser(dtsim.User{UserID: "zhangsan", Name: "张三", Title: "出纳"})
	if _, err := deps.Org.CreateUser(context.Background(), audit.System, org.UserInput{Name: "张三", DingTalkUserID: "zhangsan", Title: "出纳"}); err != nil {
		t.Fatal(err)
	}
	err := chromedp.Do(ctx,
		chromedp.Navigate(sim.URL+"/"),
		chromedp.Click(`nav button[data-tab=phone]`),
		chromedp.WaitReady(chromedp.CSS(`#phone-user option[value=zhangsan]`)),
		chromedp.SetValue(`#phone-user`, "zhangsan"),
		chromedp.Click(`#phone-open`),
	)
	if err != nil {
		t.Fatalf("simulator phone: %v", err)
	}
	// The simulator and the app are both on 127.0.0.1 (one site), so the
	// frame's document is reachable from its element.
	var card string
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		frames, ferr := chromedp.Run(ctx, chromedp.Nodes(chromedp.CSS(`#phone-frame`)))
		if ferr != nil || len(frames) == 0 {
			t.Fatalf("phone frame: %v", ferr)
		}
		tctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		card, err = chromedp.Run(tctx, chromedp.Text(chromedp.CSS(`[data-test=h5-user]`), chromedp.FromNode(frames[0])))
		cancel()
		if err == nil && strings.Contains(card, "张三") {
			return
		}
		time.Sleep(300 * time.Millisecond)
	}
	t.Fatalf("the phone's H5 app shows %q (%v), want 张三 signed in", card, err)
}

// Must show: /m/ opened in a browser outside DingTalk offers the password
// form only on a demo server; a production server shows 请在钉钉中打开 alone.
func TestH5PasswordFormOnlyInDemo(t *testing.T) {
	ctx := browser(t)
	prod, _, _ := h5Server(t, false)
	err := chromedp.Do(ctx,
		chromedp.Navigate(prod.URL+"/m/"),
		chromedp.WaitVisible(`[data-test=h5-open-in-dingtalk]`),
		chromedp.Sleep(time.Second), // the app info has long answered
	)
	if err != nil {
		t.Fatalf("production /m/: %v", err)
	}
	forms, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('[data-test=h5-login-username]').length`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := chromedp.Run(ctx, chromedp.Text(`body`))
	if forms != 0 || strings.Contains(body, "账号密码登录") {
		t.Fatalf("a production server offers the password form: %q", body)
	}

	demo, _, _ := h5Server(t, true)
	err = chromedp.Do(ctx,
		chromedp.Navigate(demo.URL+"/m/"),
		chromedp.WaitVisible(`[data-test=h5-login-username]`),
		chromedp.SendKeys(`#h5-login-username`, "admin"),
		chromedp.SendKeys(`#h5-login-password`, "admin-pass-1"),
		chromedp.Click(`[data-test=h5-login-submit]`),
		chromedp.WaitVisible(`[data-test=h5-user]`),
	)
	if err != nil {
		t.Fatalf("demo /m/ password sign-in: %v", err)
	}
}
