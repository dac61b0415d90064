package e2e

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"hehuo/internal/holding/holdingtest"
)

// Must show (the partner's side): after the accountant confirms a partial
// payment, the partner's 我的缴款 page — where the payment notice links —
// shows what is allocated, paid and outstanding, the receipt, and the
// project's collection account to copy.
func TestH5PaymentsPageShowsTheReceipt(t *testing.T) {
	ctx := browser(t)
	w := newLiveServer(t)
	_, acct, proj := w.projectWithTerms()
	uid, partnerToken := w.user("p_receipt", "周九")
	pid, _ := strconv.ParseInt(proj, 10, 64)
	partner := holdingtest.Partner(t, w.deps.DB, uid)
	round := holdingtest.Round(t, w.deps.DB, pid, "approved", map[int64]string{partner: "500000"})

	body, _ := json.Marshal(map[string]any{"user_id": uid, "amount": "200000", "paid_on": "2026-11-20"})
	req, _ := http.NewRequest("POST", w.srv.URL+"/api/v1/rounds/"+strconv.FormatInt(round, 10)+"/payments", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+acct)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", "h5-receipt-1")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode/100 != 2 {
		t.Fatalf("confirm payment: %d %s", res.StatusCode, raw)
	}

	if err := chromedp.Do(ctx, chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile)); err != nil {
		t.Fatal(err)
	}
	rs := strconv.FormatInt(round, 10)
	run(t, ctx, "H5 我的缴款",
		chromedp.Navigate(w.srv.URL+"/m/payments?dtsim="+url.QueryEscape(w.sim.URL)+"&dtsim_user=p_receipt"),
		chromedp.WaitVisible(`[data-test=h5-payment-`+rs+`]`),
		chromedp.WaitVisible(`//*[@data-test="h5-payment-allocated"][contains(.,"500,000.00")]`),
		chromedp.WaitVisible(`//*[@data-test="h5-payment-paid"][contains(.,"200,000.00")]`),
		chromedp.WaitVisible(`//*[@data-test="h5-payment-outstanding"][contains(.,"300,000.00")]`),
		chromedp.WaitVisible(`//*[contains(@class,"h5-receipt-row")][contains(.,"200,000.00")][contains(.,"2026-11-20")]`),
		chromedp.WaitVisible(`[data-test=h5-payment-copy]`),
	)
	number, err := chromedp.Run(ctx, chromedp.Text(`[data-test=h5-payment-account-number]`))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(number, "1105020309000012345") {
		t.Fatalf("collection account shows %q; API: %v", number, w.call(partnerToken, "GET", "/api/v1/me/payments", nil, 200))
	}

	// 我的分配 (none yet) opens, and its 返回 goes back to the page before.
	run(t, ctx, "H5 我的分配 and 返回",
		chromedp.Navigate(w.srv.URL+"/m/distributions?dtsim="+url.QueryEscape(w.sim.URL)+"&dtsim_user=p_receipt"),
		chromedp.WaitVisible(`[data-test=h5-distributions-empty]`),
		chromedp.Click(`.van-nav-bar__left`),
		chromedp.WaitNotPresent(`[data-test=h5-distributions-empty]`),
	)
	if back, err := chromedp.Run(ctx, chromedp.Evaluate[string](`location.pathname`)); err != nil || back != "/m/payments" {
		t.Fatalf("返回 went to %q (%v), want /m/payments", back, err)
	}
}
