package e2e

import (
	"context"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/xuri/excelize/v2"

	"hehuo/internal/config"
	"hehuo/internal/holding/holdingtest"
	"hehuo/internal/notify"
)

// consoleErrors collects every console error and uncaught exception of the
// browser's page from now on; the test fails on any at its end.
func consoleErrors(t *testing.T, ctx context.Context) {
	t.Helper()
	var mu sync.Mutex
	var errs []string
	if err := chromedp.Listen(ctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch e := ev.(type) {
		case *runtime.EventExceptionThrown:
			msg := e.ExceptionDetails.Text
			if e.ExceptionDetails.Exception != nil {
				msg += " " + e.ExceptionDetails.Exception.Description
			}
			errs = append(errs, "exception: "+msg)
		case *runtime.EventConsoleAPICalled:
			if e.Type == runtime.ConsoleAPICalledTypeError || e.Type == runtime.ConsoleAPICalledTypeAssert {
				var parts []string
				for _, a := range e.Args {
					if a.Description != "" {
						parts = append(parts, a.Description)
					} else {
						parts = append(parts, string(a.Value))
					}
				}
				errs = append(errs, "console."+string(e.Type)+": "+strings.Join(parts, " "))
			}
		}
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		if len(errs) > 0 {
			t.Errorf("console errors on the pages walked:\n%s", strings.Join(errs, "\n"))
		}
	})
}

// writeStatement saves a bank statement (.xlsx) with rows under the
// template's headers and returns its path.
func writeStatement(t *testing.T, name string, rows [][]any) string {
	t.Helper()
	return writeSheet(t, name, []string{"流水号", "工号", "姓名", "金额", "到账日期"}, rows)
}

// writeSheet saves an .xlsx in a temporary folder: the header row, then rows.
func writeSheet(t *testing.T, name string, header []string, rows [][]any) string {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	h := make([]any, len(header))
	for i, c := range header {
		h[i] = c
	}
	f.SetSheetRow("Sheet1", "A1", &h)
	for i, r := range rows {
		f.SetSheetRow("Sheet1", fmt.Sprintf("A%d", i+2), &r)
	}
	path := filepath.Join(t.TempDir(), name)
	if err := f.SaveAs(path); err != nil {
		t.Fatal(err)
	}
	return path
}

// received counts the notices userid got in the simulator whose text has s.
func (w *liveServer) received(userid, s string) int {
	n := 0
	for _, x := range w.sim.Notices(userid) {
		if !x.Dropped && strings.Contains(string(x.Msg), s) {
			n++
		}
	}
	return n
}

// deliver runs the notice dispatcher once, as the server's would.
func (w *liveServer) deliver() {
	w.t.Helper()
	d := notify.NewDispatcher(w.deps.Notify, notify.WithoutListen(), notify.WithResultDelay(time.Hour))
	if _, err := d.DrainOnce(context.Background()); err != nil {
		w.t.Fatal(err)
	}
}

// Must show: the payment desk in the console, as the city accountant uses
// it. A test 缴款通知 to herself, then the real one to both partners (listed
// before sending); a bank statement with one bad row shows the row/column
// error table and applies nothing, the fixed statement applies; the R4
// trace of the 资金利息 figure; a 催缴通知 that reaches only the partner who
// has not paid; 分配 → 分配账户 with each partner's status, and the
// confirmation notice reaching only the partner not confirmed. Any console
// error on these pages fails the test.
func TestConsolePaymentDesk(t *testing.T) {
	ctx := browser(t)
	w := newLiveServer(t, func(c *config.Config) {
		c.SecretKey = hex.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))
	})
	_, acct, proj := w.projectWithTerms()
	pid, _ := strconv.ParseInt(proj, 10, 64)
	paidID, paidToken := w.user("p_jia", "甲一")
	unpaidID, _ := w.user("p_yi", "乙二")
	if _, err := w.deps.DB.Exec(`UPDATE users SET job_number = 'E' || id WHERE id IN ($1, $2)`, paidID, unpaidID); err != nil {
		t.Fatal(err)
	}
	paidPartner := holdingtest.Partner(t, w.deps.DB, paidID)
	unpaidPartner := holdingtest.Partner(t, w.deps.DB, unpaidID)
	round := holdingtest.Round(t, w.deps.DB, pid, "approved", map[int64]string{paidPartner: "300000", unpaidPartner: "200000"})
	rs := strconv.FormatInt(round, 10)
	pps := strconv.FormatInt(paidPartner, 10)
	// 甲一 has confirmed a payout account on the phone; 乙二 has none.
	acc := w.call(paidToken, "PUT", "/api/v1/me/payout-account",
		map[string]any{"bank": "招商银行", "branch": "常州分行", "holder": "甲一", "number": "6214830212345678", "version": 0}, 200)
	w.call(paidToken, "POST", "/api/v1/me/payout-account/confirm", map[string]any{"version": acc["version"]}, 200)
	w.deliver() // the account's own confirmation notice, before the desk's

	consoleErrors(t, ctx)
	if err := chromedp.Do(ctx, chromedp.Navigate(w.srv.URL+"/login")); err != nil {
		t.Fatal(err)
	}
	token := w.session("acct_huanhu")
	run(t, ctx, "缴款通知: recipients, test, real",
		chromedp.Evaluate[chromedp.Void](`document.cookie = "hehuo_session=`+token+`; path=/"; undefined`),
		chromedp.Navigate(w.srv.URL+"/payment?project="+proj),
		chromedp.WaitVisible(`//*[@data-test="payment-paid-`+pps+`"][contains(.,"0.00")]`),
		clickUntil(`[data-test=payment-notice-open]`, `//*[@data-test="payment-notice-recipients"]//*[contains(.,"乙二")]`),
		chromedp.WaitVisible(`//*[@data-test="payment-notice-recipients"]//*[contains(.,"甲一")]`),
		chromedp.WaitVisible(`//*[@data-test="payment-notice-count"][contains(.,"将发送给 2 人")]`),
		chromedp.Click(`[data-test=payment-notice-test]`),
		chromedp.WaitVisible(`//*[contains(@class,"el-message")][contains(.,"测试消息已发送")]`),
	)
	w.deliver()
	if w.received("acct_huanhu", "缴款通知") != 1 || w.received("p_jia", "缴款通知") != 0 {
		t.Fatalf("the test went beyond the accountant: accountant %d, 甲一 %d", w.received("acct_huanhu", "缴款通知"), w.received("p_jia", "缴款通知"))
	}
	run(t, ctx, "缴款通知: the real send",
		chromedp.Click(`[data-test=payment-notice-send]`),
		chromedp.WaitVisible(`//*[contains(@class,"el-message")][contains(.,"已发送给 2 人")]`),
	)
	w.deliver()
	if w.received("p_jia", "缴款通知") != 1 || w.received("p_yi", "缴款通知") != 1 {
		t.Fatalf("payment notices: 甲一 %d, 乙二 %d", w.received("p_jia", "缴款通知"), w.received("p_yi", "缴款通知"))
	}

	// A statement whose second row has a bad amount: the error table, nothing applied.
	job := func(id int64) string { return "E" + strconv.FormatInt(id, 10) }
	bad := writeStatement(t, "bad.xlsx", [][]any{
		{"BK001", job(paidID), "甲一", "300000", "2024-03-20"},
		{"BK002", job(unpaidID), "乙二", "一百元", "2024-03-20"},
	})
	run(t, ctx, "流水 with a bad row",
		clickUntil(`[data-test=statement-import-open]`, `[data-test=statement-import-template]`),
		chromedp.SetUploadFiles(`[data-test=statement-import-file] input[type=file]`, []string{bad}),
		chromedp.Click(`[data-test=statement-import-submit]`),
		chromedp.WaitVisible(`//*[@data-test="statement-import-errors"]//tr[contains(.,"3")][contains(.,"金额")]`),
	)
	if got := w.call(acct, "GET", "/api/v1/rounds/"+rs+"/payments", nil, 200); got["paid"] != "0.00" {
		t.Fatalf("a refused statement applied: %v", got["paid"])
	}
	// Fixed (乙二's row removed: he has not paid), imported again.
	good := writeStatement(t, "good.xlsx", [][]any{{"BK001", job(paidID), "甲一", "300000", "2024-03-20"}})
	run(t, ctx, "流水 fixed",
		chromedp.SetUploadFiles(`[data-test=statement-import-file] input[type=file]`, []string{good}),
		chromedp.Click(`[data-test=statement-import-submit]`),
		chromedp.WaitVisible(`//*[contains(@class,"el-message")][contains(.,"已导入 1 笔到账")]`),
		chromedp.WaitVisible(`//*[@data-test="payment-paid-`+pps+`"][contains(.,"300,000.00")]`),
		// R4: 300,000 × 4.35% × 19 days / 365 = 679.32, shown as the trace of the figure.
		noLoadingMask,
		clickUntil(`[data-test=payment-interest-`+pps+`]`, `//*[@data-test="interest-trace-step"][contains(.,"2024-03-20")][contains(.,"19")]`),
		chromedp.WaitVisible(`//*[@data-test="interest-trace-total"][contains(.,"-679.32")]`),
	)
	if got := w.call(acct, "GET", "/api/v1/rounds/"+rs+"/payments", nil, 200); got["paid"] != "300000.00" {
		t.Fatalf("after the fixed statement: paid %v", got["paid"])
	}

	// 催缴: listed first, reaches only 乙二.
	run(t, ctx, "催缴通知",
		clickUntil(`[data-test=dunning-open]`, `//*[@data-test="dunning-recipients"]//*[contains(.,"乙二")]`),
		chromedp.WaitVisible(`//*[@data-test="dunning-count"][contains(.,"将发送给 1 人")]`),
		chromedp.Click(`[data-test=dunning-send]`),
		chromedp.WaitVisible(`//*[contains(@class,"el-message")][contains(.,"已发送给 1 人")]`),
	)
	w.deliver()
	if w.received("p_yi", "催缴") != 1 || w.received("p_jia", "催缴") != 0 {
		t.Fatalf("dunning: 乙二 %d, 甲一 %d", w.received("p_yi", "催缴"), w.received("p_jia", "催缴"))
	}

	// 分配 → 分配账户: statuses; the confirmation notice reaches only 乙二.
	const confirmSubject = "请确认分配账户：常州项目"
	run(t, ctx, "分配账户",
		chromedp.Navigate(w.srv.URL+"/distribution?tab=accounts&project="+proj),
		chromedp.WaitVisible(`//*[@data-test="payout-status-`+strconv.FormatInt(paidID, 10)+`"][contains(.,"已确认")]`),
		chromedp.WaitVisible(`//*[@data-test="payout-status-`+strconv.FormatInt(unpaidID, 10)+`"][contains(.,"未填写")]`),
		chromedp.WaitVisible(`//*[@data-test="payout-number-`+strconv.FormatInt(paidID, 10)+`"][contains(.,"**** **** **** 5678")]`),
		clickUntil(`[data-test=payout-notice-open]`, `//*[@data-test="payout-notice-recipients"]//*[contains(.,"乙二")]`),
		chromedp.WaitVisible(`//*[@data-test="payout-notice-count"][contains(.,"将发送给 1 人")]`),
		chromedp.Click(`[data-test=payout-notice-test]`),
		chromedp.WaitVisible(`//*[contains(@class,"el-message")][contains(.,"测试消息已发送")]`),
		chromedp.Click(`[data-test=payout-notice-send]`),
		chromedp.WaitVisible(`//*[contains(@class,"el-message")][contains(.,"已发送给 1 人")]`),
	)
	w.deliver()
	if w.received("acct_huanhu", confirmSubject) != 1 || w.received("p_yi", confirmSubject) != 1 || w.received("p_jia", confirmSubject) != 0 {
		t.Fatalf("confirmation notices: accountant %d, 乙二 %d, 甲一 %d", w.received("acct_huanhu", confirmSubject),
			w.received("p_yi", confirmSubject), w.received("p_jia", confirmSubject))
	}
	body, err := chromedp.Run(ctx, chromedp.Text(`body`))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(body, "6214830212345678") {
		t.Fatal("the 分配账户 page shows a full account number")
	}
	_ = os.Remove(bad)
}

// The seed's step 6.4.5: the business admin sends the 缴款通知 from 立项 →
// 方案审核 once the round is approved, recipients listed first.
func TestConsoleBizadminSendsPaymentNoticeFromReview(t *testing.T) {
	ctx := browser(t)
	w := newLiveServer(t)
	_, _, proj := w.projectWithTerms()
	pid, _ := strconv.ParseInt(proj, 10, 64)
	uid, _ := w.user("p_bing", "丙三")
	holdingtest.Round(t, w.deps.DB, pid, "approved", map[int64]string{holdingtest.Partner(t, w.deps.DB, uid): "100000"})
	w.user("biz_admin", "业务管理员", "bizadmin")
	consoleErrors(t, ctx)
	if err := chromedp.Do(ctx, chromedp.Navigate(w.srv.URL+"/login")); err != nil {
		t.Fatal(err)
	}
	token := w.session("biz_admin")
	run(t, ctx, "方案审核 → 发送缴款通知",
		chromedp.Evaluate[chromedp.Void](`document.cookie = "hehuo_session=`+token+`; path=/"; undefined`),
		chromedp.Navigate(w.srv.URL+"/establishment/review?project="+proj),
		clickUntil(`[data-test=payment-notice-open]`, `//*[@data-test="payment-notice-recipients"]//*[contains(.,"丙三")]`),
		chromedp.Click(`[data-test=payment-notice-send]`),
		chromedp.WaitVisible(`//*[contains(@class,"el-message")][contains(.,"已发送给 1 人")]`),
	)
	w.deliver()
	if w.received("p_bing", "缴款通知") != 1 {
		t.Fatalf("丙三 got %d payment notices", w.received("p_bing", "缴款通知"))
	}
}
