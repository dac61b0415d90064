package e2e

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"hehuo/internal/civil"
	"hehuo/internal/holding/holdingtest"
	"hehuo/internal/workflow"
)

// Must show: the accountant runs 离职退休测算 and launches the exit. 丙 paid
// 297,143 into 常州项目 (R1's terms: 2024-03-01, 4.35 %) on 2024-04-15 and
// retires on 2025-03-01: in 流程 → 退出流程 the accountant picks 丙, 退休
// and the date, the quote shows P 297,143.00, H 11,332.14 and the payout
// 306,881.56 with its trace; 发起退出流程 sends it to DingTalk; agreed there,
// it is 已承接, and 登记退出打款金额及打款日期 makes it 已打款. No console error.
func TestConsoleExitQuoteAndLaunch(t *testing.T) {
	ctx := browser(t)
	w := newLiveServer(t)
	_, acct, proj := w.projectWithTerms()
	pid, _ := strconv.ParseInt(proj, 10, 64)
	user, _ := w.user("p_bing", "丙")
	partner := holdingtest.Partner(t, w.deps.DB, user)
	round := strconv.FormatInt(holdingtest.Round(t, w.deps.DB, pid, "approved", map[int64]string{partner: "297143"}), 10)
	w.callKey(acct, "pay-bing", "POST", "/api/v1/rounds/"+round+"/payments",
		map[string]any{"user_id": user, "amount": "297143", "paid_on": "2024-04-15"}, 201)

	if err := chromedp.Do(ctx, chromedp.Navigate(w.srv.URL+"/login")); err != nil {
		t.Fatal(err)
	}
	consoleErrors(t, ctx)
	cookie := chromedp.Evaluate[chromedp.Void](`document.cookie = "hehuo_session=` + w.session("acct_huanhu") + `; path=/"; undefined`)
	option := `//*[@data-test="exit-user"]//li[contains(@class,"el-select-dropdown__item")][contains(.,"丙")]`
	run(t, ctx, "离职退休测算",
		cookie,
		chromedp.Navigate(w.srv.URL+"/process?tab=exits&project="+proj),
		chromedp.WaitVisible(`[data-test=exit-list]`),
		chromedp.Click(`[data-test=exit-user]`),
		chromedp.SendKeys(`[data-test=exit-user] input`, "丙"),
		chromedp.WaitVisible(option),
		chromedp.Sleep(200*time.Millisecond), // the dropdown's zoom-in transition
		chromedp.Click(option),
		chromedp.WaitVisible(`//*[@data-test="exit-user"]//*[contains(@class,"el-select__selected-item")][contains(.,"丙")]`),
		clickUntil(`[data-test=exit-type]`, `[data-test=exit-type-retirement]`),
		chromedp.Sleep(200*time.Millisecond),
		chromedp.Click(`[data-test=exit-type-retirement]`),
		chromedp.WaitVisible(`//*[@data-test="exit-type"]//*[contains(@class,"el-select__selected-item")][contains(.,"退休")]`),
		chromedp.SendKeys(`[data-test=exit-date]`, "2025-03-01\r"),
		chromedp.Click(`[data-test=exit-quote]`),
		chromedp.WaitVisible(fmt.Sprintf(`//*[@data-test="exit-quote-table-payout-%d"][contains(.,"306,881.56")]`, pid)),
	)
	for col, want := range map[string]string{"p": "297,143.00", "h": "11,332.14", "payout": "306,881.56"} {
		got := read(t, ctx, chromedp.Text(fmt.Sprintf(`[data-test=exit-quote-table-%s-%d]`, col, pid)))
		if strings.TrimSpace(got) != want {
			t.Errorf("quote %s shows %q, want %s", col, got, want)
		}
	}
	// The trace opens under the line.
	run(t, ctx, "trace",
		chromedp.Click(`//*[@data-test="exit-quote-table"]//*[contains(@class,"el-table__expand-icon")]`),
		chromedp.WaitVisible(fmt.Sprintf(`//*[@data-test="exit-quote-table-trace-%d"][contains(.,"持有收益")]`, pid)),
	)
	exits := w.call(acct, "GET", "/api/v1/exits", nil, 200)["items"].([]any)
	if len(exits) != 1 {
		t.Fatalf("exits: %v", exits)
	}
	id := idOf(exits[0].(map[string]any)["id"])
	run(t, ctx, "发起退出流程",
		chromedp.Click(`[data-test=exit-launch]`),
		chromedp.WaitVisible(`//*[@data-test="exit-status-`+id+`"][@data-status="in_approval"]`),
	)

	// Agreed in DingTalk: the stake passes to the platform company.
	var inst string
	var procID int64
	if err := w.deps.DB.QueryRow(`SELECT id, instance_id FROM processes WHERE kind = 'exit' AND subject_id = $1`, id).Scan(&procID, &inst); err != nil {
		t.Fatal(err)
	}
	ev, err := w.sim.Decide(inst, "agree")
	if err != nil {
		t.Fatal(err)
	}
	payload := fmt.Sprintf(`{"processInstanceId":%q,"type":"finish","result":"agree"}`, inst)
	if _, err := w.wire.Inbox.Accept(context.Background(), ev, workflow.EventInstanceChange, w.sim.DingTalkConfig().CorpID, []byte(payload)); err != nil {
		t.Fatal(err)
	}
	if st := w.call(acct, "GET", "/api/v1/processes/"+strconv.FormatInt(procID, 10), nil, 200)["status"]; st != "agreed" {
		t.Fatalf("exit process: %v", st)
	}
	today := civil.Today(time.Now()).String()
	run(t, ctx, "登记退出打款金额及打款日期",
		chromedp.Click(`[data-test=exit-refresh]`),
		chromedp.WaitVisible(`//*[@data-test="exit-status-`+id+`"][@data-status="agreed"]`),
		clickUntil(`[data-test=exit-payout-`+id+`]`, `[data-test=exit-payout-save]`),
		chromedp.WaitVisible(`//input[@data-test="exit-payout-date"][@value="`+today+`"] | //*[@data-test="exit-payout-date"]`),
		chromedp.Click(`[data-test=exit-payout-save]`),
		chromedp.WaitVisible(`//*[@data-test="exit-status-`+id+`"][@data-status="paid"]`),
	)
	got := w.call(acct, "GET", "/api/v1/exits/"+id, nil, 200)
	if got["paid_amount"] != "306881.56" || got["paid_on"] != today {
		t.Fatalf("exit after the payout: %v", got)
	}
}

// A partner asks to leave from the phone (个人中心 → 申请退出: reason and
// date) and sees the request's status; the accountant sees it in 退出流程
// with its status and a 测算 button that fills the quote form from it; once
// quoted, the phone shows 已测算.
func TestH5ExitRequest(t *testing.T) {
	ctx := browser(t)
	w := newLiveServer(t)
	_, acct, proj := w.projectWithTerms()
	pid, _ := strconv.ParseInt(proj, 10, 64)
	user, _ := w.user("p_yi", "乙")
	partner := holdingtest.Partner(t, w.deps.DB, user)
	holdingtest.Round(t, w.deps.DB, pid, "approved", map[int64]string{partner: "300000"})
	holdingtest.Pay(t, w.deps.DB, pid, partner, "300000")

	if err := chromedp.Do(ctx, chromedp.Navigate(w.srv.URL+"/login")); err != nil {
		t.Fatal(err)
	}
	consoleErrors(t, ctx)
	phone := w.srv.URL + "/m/exit-request?dtsim=" + url.QueryEscape(w.sim.URL) + "&dtsim_user=p_yi"
	run(t, ctx, "H5 申请退出",
		chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile),
		chromedp.Navigate(phone),
		chromedp.WaitVisible(`[data-test=h5-exit-form]`),
		chromedp.SendKeys(`[data-test=h5-exit-reason] textarea`, "退休"),
		chromedp.Evaluate[chromedp.Void](`(() => { const i = document.querySelector('[data-test=h5-exit-date] input');
			i.value = '2025-06-30'; i.dispatchEvent(new Event('input', { bubbles: true })) })(); undefined`),
		chromedp.Click(`[data-test=h5-exit-submit]`),
		chromedp.WaitVisible(`//*[@data-test="h5-exit-request-status"][contains(.,"已提交")]`),
	)
	reqs := w.call(acct, "GET", "/api/v1/exit-requests", nil, 200)["items"].([]any)
	if len(reqs) != 1 {
		t.Fatalf("requests: %v", reqs)
	}
	id := idOf(reqs[0].(map[string]any)["id"])
	run(t, ctx, "退出申请 in the console",
		chromedp.EmulateViewport(1440, 900),
		// The phone's session cookie is HttpOnly: the console signs in afresh.
		chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			_, err := cdp.Call(ctx, t, network.ClearBrowserCookies, cdp.Empty{})
			return err
		}),
		chromedp.Evaluate[chromedp.Void](`document.cookie = "hehuo_session=`+w.session("acct_huanhu")+`; path=/"; undefined`),
		chromedp.Navigate(w.srv.URL+"/process?tab=exits&project="+proj),
		chromedp.WaitVisible(`//*[@data-test="exit-request-status-`+id+`"][contains(.,"已提交")]`),
		chromedp.Click(`[data-test=exit-request-quote-`+id+`]`),
		chromedp.WaitVisible(`[data-test=exit-from-request]`),
		chromedp.WaitVisible(`//*[@data-test="exit-user"]//*[contains(@class,"el-select__selected-item")][contains(.,"乙")]`),
		clickUntil(`[data-test=exit-type]`, `[data-test=exit-type-retirement]`),
		chromedp.Sleep(200*time.Millisecond),
		chromedp.Click(`[data-test=exit-type-retirement]`),
		chromedp.Click(`[data-test=exit-quote]`),
		chromedp.WaitVisible(fmt.Sprintf(`[data-test=exit-quote-table-payout-%d]`, pid)),
		chromedp.WaitVisible(`//*[@data-test="exit-request-status-`+id+`"][contains(.,"已测算")]`),
	)
	run(t, ctx, "the phone shows 已测算",
		chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile),
		chromedp.Navigate(phone),
		chromedp.WaitVisible(`//*[@data-test="h5-exit-request-status"][contains(.,"已测算")]`),
	)
}
