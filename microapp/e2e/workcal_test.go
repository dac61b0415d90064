package e2e

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"hehuo/internal/audit"
	"hehuo/internal/civil"
	"hehuo/internal/holding/holdingtest"
)

// 后台管理 → 工作日历: the system admin turns the 15th of this month to the
// other side (a working day off, a day off at work), the calendar shows it
// marked and a reload still does; then 系统日志's 校验日志链 and 辅助工具's
// 账务核对 report a whole chain and a ledger that reconciles.
func TestConsoleWorkCalendarVerifyAndReconcile(t *testing.T) {
	ctx := browser(t)
	w := newLiveServer(t)
	_, _, proj := w.projectWithTerms()
	pid, _ := strconv.ParseInt(proj, 10, 64)
	uid, _ := w.user("p_cal", "周九")
	partner := holdingtest.Partner(t, w.deps.DB, uid)
	holdingtest.Round(t, w.deps.DB, pid, "approved", map[int64]string{partner: "500000"})
	holdingtest.Pay(t, w.deps.DB, pid, partner, "200000")
	w.user("sys_cal", "日历管理员", "sysadmin")
	token := w.session("sys_cal")

	today := civil.Today(time.Now())
	day := civil.Date{Year: today.Year, Month: today.Month, Day: 15}.String()
	cell := `[data-test="workcal-day-` + day + `"]`

	if err := chromedp.Do(ctx, chromedp.Navigate(w.srv.URL+"/login")); err != nil {
		t.Fatal(err)
	}
	consoleErrors(t, ctx)
	run(t, ctx, "open the work calendar",
		chromedp.Evaluate[chromedp.Void](`document.cookie = "hehuo_session=`+token+`; path=/"; undefined`),
		chromedp.Navigate(w.srv.URL+"/admin/workcal"),
		chromedp.WaitVisible(cell+`[data-working] [data-test=workcal-label]`),
	)
	was := read(t, ctx, chromedp.Evaluate[string](`document.querySelector('`+cell+`').dataset.working`))
	kind, label, kindLabel, working := "holiday", "休息日", "节假日", "false"
	if was != "true" {
		kind, label, kindLabel, working = "workday", "工作日", "调休上班", "true"
	}
	shown := cell + `[data-working="` + working + `"]`
	run(t, ctx, "set "+day+" to "+kind,
		clickUntil(cell, `[data-test=workcal-kind-`+kind+`]`),
		chromedp.Click(`[data-test=workcal-kind-`+kind+`]`),
		chromedp.WaitVisible(`[data-test=workcal-name]`),
		chromedp.SendKeys(`[data-test=workcal-name]`, "测试日"),
		chromedp.Click(`[data-test=workcal-save]`),
		chromedp.WaitVisible(shown),
		chromedp.WaitVisible(`//*[@data-test="workcal-day-`+day+`"]//*[@data-test="workcal-kind"][contains(.,"`+kindLabel+`")]`),
		chromedp.WaitVisible(`//*[@data-test="workcal-table"]//tr[contains(.,"`+day+`")][contains(.,"测试日")]`),
	)
	run(t, ctx, "reload the work calendar",
		chromedp.Reload(),
		chromedp.WaitVisible(shown),
		chromedp.WaitVisible(`//*[@data-test="workcal-day-`+day+`"]//*[@data-test="workcal-label"][normalize-space(.)="`+label+`"]`),
		chromedp.WaitVisible(`//*[@data-test="workcal-day-`+day+`"]//*[@data-test="workcal-kind"][contains(.,"`+kindLabel+`")]`),
	)
	var stored string
	if err := w.deps.DB.Get(&stored, `SELECT kind FROM work_calendar WHERE day = $1`, day); err != nil || stored != kind {
		t.Fatalf("work_calendar %s = %q, %v; want %s", day, stored, err, kind)
	}

	// The chain holds sealed entries, so the check recomputes something.
	if n, err := audit.Seal(context.Background(), w.deps.DB); err != nil || n == 0 {
		t.Fatalf("sealed %d entries: %v", n, err)
	}
	run(t, ctx, "校验日志链",
		chromedp.Navigate(w.srv.URL+"/admin/audit"),
		clickUntil(`[data-test=audit-verify]`, `[data-test=audit-verify-result]`),
		chromedp.WaitVisible(`//*[@data-test="audit-verify-result"][contains(.,"日志链完整")][contains(.,"均与其校验值相符")]`),
	)
	run(t, ctx, "账务核对",
		chromedp.Navigate(w.srv.URL+"/admin/tools"),
		clickUntil(`[data-test=tools-reconcile]`, `[data-test=tools-reconcile-result]`),
		chromedp.WaitVisible(`//*[@data-test="tools-reconcile-result"][contains(.,"账务核对无误")][contains(.,"合计 0.00")]`),
	)
	var txs int
	if err := w.deps.DB.Get(&txs, `SELECT count(*) FROM ledger_transactions`); err != nil || txs == 0 {
		t.Fatalf("the ledger holds %d transactions (%v): the check checked nothing", txs, err)
	}
	text := read(t, ctx, chromedp.Text(`[data-test=tools-reconcile-result]`))
	if want := "共 " + strconv.Itoa(txs) + " 笔账务"; !strings.Contains(text, want) {
		t.Errorf("reconcile result %q does not say %q", text, want)
	}
}
