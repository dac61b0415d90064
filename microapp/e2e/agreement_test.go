package e2e

import (
	"context"
	"net/url"
	"strconv"
	"testing"

	"github.com/chromedp/chromedp"

	"hehuo/internal/holding/holdingtest"
)

// Must show (the partner's side of 协议): on the phone, 个人中心 → 协议下载
// lists the agreement of an approved round; the partner opens it, reads the
// whole text to the end, ticks 我已阅读并同意, confirms and sees 已签署; the
// PDF link is there.
func TestH5PartnerSignsTheAgreement(t *testing.T) {
	ctx := browser(t)
	w := newLiveServer(t)
	_, _, proj := w.projectWithTerms()
	uid, token := w.user("p_agree", "王芳")
	pid, _ := strconv.ParseInt(proj, 10, 64)
	partner := holdingtest.Partner(t, w.deps.DB, uid)
	round := holdingtest.Round(t, w.deps.DB, pid, "approved", map[int64]string{partner: "500000"})
	if err := w.deps.Agreements.GenerateForRound(context.Background(), round); err != nil {
		t.Fatal(err)
	}
	items := w.call(token, "GET", "/api/v1/me/agreements", nil, 200)["items"].([]any)
	if len(items) != 1 {
		t.Fatalf("agreements: %v", items)
	}
	id := strconv.FormatInt(int64(items[0].(map[string]any)["id"].(float64)), 10)

	if err := chromedp.Do(ctx, chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile)); err != nil {
		t.Fatal(err)
	}
	sim := "?dtsim=" + url.QueryEscape(w.sim.URL) + "&dtsim_user=p_agree"
	run(t, ctx, "H5 个人中心 → 协议下载 → the agreement",
		chromedp.Navigate(w.srv.URL+"/m/me"+sim),
		chromedp.WaitVisible(`[data-test=h5-me-agreements]`),
		chromedp.Click(`[data-test=h5-me-agreements]`),
		chromedp.WaitVisible(`//*[@data-test="h5-agreement-`+id+`"][contains(.,"待签署")]`),
		chromedp.Click(`[data-test=h5-agreement-`+id+`]`),
		chromedp.WaitVisible(`//*[@data-test="h5-agreement-text"][contains(.,"王芳")][contains(.,"500,000.00")]`),
		chromedp.WaitVisible(`[data-test=h5-agreement-pdf]`),
	)
	// The tick box opens once the whole text is read (scrolled to its end).
	run(t, ctx, "read to the end, tick, sign",
		chromedp.Evaluate[chromedp.Void](`(() => { const el = document.querySelector('[data-test=h5-agreement-text]'); el.scrollTop = el.scrollHeight; el.dispatchEvent(new Event('scroll')) })(); undefined`),
		chromedp.WaitNotPresent(`[data-test=h5-agreement-scroll-hint]`),
		chromedp.Click(`[data-test=h5-agreement-agree]`),
		chromedp.Click(`[data-test=h5-agreement-sign]:not([disabled])`),
		chromedp.WaitVisible(`//*[@data-test="h5-agreement-state"][contains(.,"已签署")]`),
		chromedp.WaitVisible(`[data-test=h5-agreement-signed-at]`),
	)
	got := w.call(token, "GET", "/api/v1/me/agreements", nil, 200)["items"].([]any)[0].(map[string]any)
	if got["status"] != "signed" || got["sha256"] == nil || got["signed_sha256"] != got["sha256"] {
		t.Fatalf("after signing in H5: %v", got)
	}
}
