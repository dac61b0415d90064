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
	// 下载协议PDF: the link downloads the PDF with the phone's session.
	dl, err := chromedp.Run(ctx, chromedp.Evaluate[string](`fetch(document.querySelector("[data-test=h5-agreement-pdf]").href)
		.then(r => r.status + " " + r.headers.get("content-type"))`, chromedp.EvalAwaitPromise))
	if err != nil || dl != "200 application/pdf" {
		t.Fatalf("PDF download from the page: %q %v", dl, err)
	}
	got := w.call(token, "GET", "/api/v1/me/agreements", nil, 200)["items"].([]any)[0].(map[string]any)
	if got["status"] != "signed" || got["sha256"] == nil || got["signed_sha256"] != got["sha256"] {
		t.Fatalf("after signing in H5: %v", got)
	}
}

// The console's side: the accountant sees who signed the approved round's
// agreements on 立项 → 协议签署 and sends 发送签署提醒 to who has not; the
// admin edits an agreement template in 后台管理 → 模板管理 → 协议模板,
// previews it with sample data and saves it as version 2.
func TestConsoleAgreementSigningAndTemplates(t *testing.T) {
	ctx := browser(t)
	w := newLiveServer(t)
	admin, _, proj := w.projectWithTerms()
	pid, _ := strconv.ParseInt(proj, 10, 64)
	uid1, tok1 := w.user("p_sign1", "赵敏")
	uid2, _ := w.user("p_sign2", "钱进")
	round := holdingtest.Round(t, w.deps.DB, pid, "approved", map[int64]string{
		holdingtest.Partner(t, w.deps.DB, uid1): "500000", holdingtest.Partner(t, w.deps.DB, uid2): "300000"})
	if err := w.deps.Agreements.GenerateForRound(context.Background(), round); err != nil {
		t.Fatal(err)
	}
	mine := w.call(tok1, "GET", "/api/v1/me/agreements", nil, 200)["items"].([]any)
	w.call(tok1, "POST", "/api/v1/me/agreements/"+idOf(mine[0].(map[string]any)["id"])+"/sign", map[string]any{"agreed": true}, 200)

	token := w.session("acct_huanhu")
	if err := chromedp.Do(ctx, chromedp.Navigate(w.srv.URL+"/login")); err != nil {
		t.Fatal(err)
	}
	consoleErrors(t, ctx)
	run(t, ctx, "立项 → 协议签署",
		chromedp.Evaluate[chromedp.Void](`document.cookie = "hehuo_session=`+token+`; path=/"; undefined`),
		chromedp.Navigate(w.srv.URL+"/establishment/signing?project="+proj),
		chromedp.WaitVisible(`//*[@data-test="signing-counts"][contains(.,"已签署 1 人")][contains(.,"未签署 1 人")]`),
		chromedp.WaitVisible(`//*[contains(@class,"signing-row")][@data-status="signed"][contains(.,"赵敏")]`),
		chromedp.WaitVisible(`//*[contains(@class,"signing-row")][@data-status="unsigned"][contains(.,"钱进")]`),
		chromedp.Click(`[data-test=signing-remind]`),
		chromedp.WaitVisible(`//*[contains(@class,"el-message")][contains(.,"1 位未签署")]`),
	)
	var queued int
	if err := w.deps.DB.Get(&queued, `SELECT count(*) FROM notify_outbox WHERE template = 'agreement_sign_reminder'`); err != nil || queued != 1 {
		t.Fatalf("reminders queued: %d (%v)", queued, err)
	}

	adminSession := w.call("", "POST", "/api/v1/auth/password", map[string]string{"username": "admin", "password": "admin-pass-1"}, 200)["token"].(string)
	_ = admin
	run(t, ctx, "模板管理 → 协议模板: edit, preview, save",
		chromedp.Evaluate[chromedp.Void](`document.cookie = "hehuo_session=`+adminSession+`; path=/"; undefined`),
		chromedp.Navigate(w.srv.URL+"/admin/templates"),
		chromedp.WaitVisible(`[data-test=templates-agreement]`),
		chromedp.Click(`[data-test=templates-agreement]`),
		chromedp.WaitVisible(`//*[@data-test="agreement-template-name"][contains(.,"事业合伙协议")]`),
		chromedp.Evaluate[chromedp.Void](`document.querySelector("[data-test=agreement-template-edit]").click(); undefined`),
		chromedp.WaitVisible(`.el-dialog textarea`),
		chromedp.SetValue(`.el-dialog textarea`, "事业合伙协议\n甲方：{{.partner_name}}，在执本金{{.principal}}元"),
		chromedp.Evaluate[chromedp.Void](`document.querySelector(".el-dialog textarea").dispatchEvent(new Event("input")); undefined`),
		chromedp.Evaluate[chromedp.Void](`document.querySelector("[data-test=agreement-template-preview]").click(); undefined`),
		chromedp.WaitVisible(`//*[@data-test="agreement-template-preview-text"][contains(.,"甲方：张三，在执本金1,234,567.89元")]`),
		chromedp.Evaluate[chromedp.Void](`document.querySelector("[data-test=agreement-template-save]").click(); undefined`),
		chromedp.WaitVisible(`//*[contains(@class,"el-message")][contains(.,"第2版")]`),
	)
}
