package e2e

import (
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"hehuo/internal/holding/holdingtest"
)

// 缴款 → 缴款确认: the city accountant opens the approved round, confirms a
// partial payment of a partner in the dialog, and the table shows what the
// ledger now says (paid and outstanding); the API agrees, and 报表 →
// 立项及缴款汇总表 shows the same paid figure for the project.
func TestConsoleAccountantConfirmsAPayment(t *testing.T) {
	ctx := browser(t)
	w := newLiveServer(t)
	_, acct, proj := w.projectWithTerms()
	uid, _ := w.user("p_payer", "钱七")
	pid, _ := strconv.ParseInt(proj, 10, 64)
	partner := holdingtest.Partner(t, w.deps.DB, uid)
	round := holdingtest.Round(t, w.deps.DB, pid, "approved", map[int64]string{partner: "500000"})
	ps := strconv.FormatInt(partner, 10)
	browserToken := w.session("acct_huanhu")

	// The first action starts the browser, so it runs on the test's own context.
	if err := chromedp.Do(ctx, chromedp.Navigate(w.srv.URL+"/login")); err != nil {
		t.Fatal(err)
	}
	run(t, ctx, "缴款确认",
		chromedp.Evaluate[chromedp.Void](`document.cookie = "hehuo_session=`+browserToken+`; path=/"; undefined`),
		chromedp.Navigate(w.srv.URL+"/payment?project="+proj),
		chromedp.WaitVisible(`//*[@data-test="payment-paid-`+ps+`"][contains(.,"0.00")]`),
		clickUntil(`[data-test=payment-confirm-`+ps+`]`, `[data-test=payment-amount]`),
		chromedp.SendKeys(`[data-test=payment-amount]`, kb.End+strings.Repeat(kb.Backspace, 12)+"200000"),
		chromedp.Click(`[data-test=payment-submit]`),
		chromedp.WaitVisible(`//*[@data-test="payment-paid-`+ps+`"][contains(.,"200,000.00")]`),
		chromedp.WaitVisible(`//*[@data-test="payments-total-paid"][contains(.,"200,000.00")]`),
	)
	got := w.call(acct, "GET", "/api/v1/rounds/"+strconv.FormatInt(round, 10)+"/payments", nil, 200)
	if got["paid"] != "200000.00" || got["outstanding"] != "300000.00" {
		t.Fatalf("payments after the console: %v", got)
	}
	items := w.call(acct, "GET", "/api/v1/reports/establishment-payments?project_id="+proj, nil, 200)["items"].([]any)
	if len(items) != 1 || items[0].(map[string]any)["paid"] != "200000.00" || items[0].(map[string]any)["paid_ratio"] != "0.4000" {
		t.Fatalf("report after the console: %v", items)
	}

	run(t, ctx, "变更缴款确认 without an agreed adjustment",
		chromedp.Navigate(w.srv.URL+"/payment?tab=settlements&project="+proj),
		chromedp.WaitVisible(`//*[contains(@class,"settlements")]//*[contains(.,"本项目没有审批通过的立项调整")]`),
	)
	run(t, ctx, "立项及缴款汇总表",
		chromedp.Navigate(w.srv.URL+"/report?report=establishment-payments&project="+proj),
		chromedp.WaitVisible(`//*[@data-test="est-payments-paid-`+proj+`"][contains(.,"200,000.00")]`),
		// The 合计 row fills 已缴款, 缴款比例 (Σ paid / Σ allocated) and 缴清人数.
		chromedp.WaitVisible(`//*[@data-test="est-payments-table"]//*[contains(@class,"el-table__footer")][contains(.,"200,000.00")][contains(.,"40.00%")][contains(.,"0/1")]`),
	)

	// The partner's H5 page (the payment notice's link) shows the receipt the
	// accountant just confirmed, signed in from the simulator's phone
	// (last: signing in there replaces the accountant's session cookie).
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile)); err != nil {
		t.Fatal(err)
	}
	run(t, ctx, "H5 我的缴款 after the console",
		chromedp.Navigate(w.srv.URL+"/m/payments?dtsim="+url.QueryEscape(w.sim.URL)+"&dtsim_user=p_payer"),
		chromedp.WaitVisible(`//*[@data-test="h5-payment-paid"][contains(.,"200,000.00")]`),
		chromedp.WaitVisible(`//*[@data-test="h5-payment-outstanding"][contains(.,"300,000.00")]`),
		chromedp.WaitVisible(`//*[contains(@class,"h5-receipt-row")][contains(.,"200,000.00")]`),
	)
}
