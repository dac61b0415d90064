package e2e

import (
	"context"
	"encoding/hex"
	"io"
	"log/slog"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"hehuo/internal/auth"
	"hehuo/internal/cache/cachetest"
	"hehuo/internal/config"
	"hehuo/internal/db/dbtest"
	"hehuo/internal/dtsim/dtsimtest"
	"hehuo/internal/wire"
	"hehuo/microapp"
)

// Must show: a partner enters the payout account (分配账户) on the phone, the
// page shows it masked and 待确认, the partner confirms it, and the API then
// says confirmed. The full number never comes back to the page.
func TestH5PayoutAccountEnterAndConfirm(t *testing.T) {
	ctx := browser(t)
	d := dbtest.New(t)
	c := cachetest.New(t)
	sim := dtsimtest.Start(t)
	hs := httptest.NewUnstartedServer(nil)
	cfg := config.Default()
	cfg.HTTP.PublicURL = "http://" + hs.Listener.Addr().String()
	cfg.DingTalk = sim.DingTalkConfig()
	cfg.SecretKey = hex.EncodeToString([]byte("0123456789abcdef0123456789abcdef")) // accounts are stored encrypted
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	deps := microapp.FromServices(cfg, d, c, log, "e2e", wire.New(cfg, d, c, log))
	if err := auth.EnsureBootstrap(context.Background(), d, "admin-pass-1", "bizadmin-pass-1"); err != nil {
		t.Fatal(err)
	}
	hs.Config.Handler = microapp.New(deps).Handler()
	hs.Start()
	t.Cleanup(hs.Close)
	w := &liveServer{t: t, srv: hs, sim: sim, deps: deps}
	_, token := w.user("p_payee", "孙八")

	const number = "6214830212345678"
	page := hs.URL + "/m/payout-account?dtsim=" + url.QueryEscape(sim.URL) + "&dtsim_user=p_payee"
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile)); err != nil {
		t.Fatal(err)
	}
	run(t, ctx, "H5 payout account",
		chromedp.Navigate(page),
		chromedp.WaitVisible(`[data-test=h5-payout-form]`),
		chromedp.SendKeys(`[data-test=h5-payout-bank] input`, "招商银行"),
		chromedp.SendKeys(`[data-test=h5-payout-branch] input`, "南京分行"),
		chromedp.SendKeys(`#h5-payout-number`, number),
		chromedp.Click(`[data-test=h5-payout-save]`),
		chromedp.WaitVisible(`//*[@data-test="h5-payout-masked"][contains(.,"5678")]`),
		chromedp.WaitVisible(`//*[@data-test="h5-payout-status"][contains(.,"待确认")]`),
		chromedp.Click(`[data-test=h5-payout-confirm]`),
		chromedp.WaitVisible(`//*[@data-test="h5-payout-status"][contains(.,"已确认")]`),
	)
	body, err := chromedp.Run(ctx, chromedp.Text(`body`))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(body, number) {
		t.Fatalf("the page shows the full number: %s", body)
	}
	got := w.call(token, "GET", "/api/v1/me/payout-account", nil, 200)
	if got["status"] != "confirmed" || got["holder"] != "孙八" || got["number_masked"] != "**** **** **** 5678" {
		t.Fatalf("after the phone: %v", got)
	}
}
