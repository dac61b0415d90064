package e2e

import (
	"strconv"
	"testing"

	"github.com/chromedp/chromedp"

	"hehuo/internal/holding/holdingtest"
)

// 报表 → 员工合伙信息查询表: the city accountant opens the report, sees the
// partner's row with the principal still held, narrows it by name (a name
// that matches nobody empties the table), and the Excel link carries the
// filter; the 待发起退出 tab opens too; no console error on the way.
func TestConsolePartnersReport(t *testing.T) {
	ctx := browser(t)
	w := newLiveServer(t)
	_, acct, proj := w.projectWithTerms()
	pid, _ := strconv.ParseInt(proj, 10, 64)
	uid, _ := w.user("p_zhou", "周合伙")
	partner := holdingtest.Partner(t, w.deps.DB, uid)
	holdingtest.Round(t, w.deps.DB, pid, "approved", map[int64]string{partner: "500000"})
	holdingtest.Pay(t, w.deps.DB, pid, partner, "200000")
	row := strconv.FormatInt(partner, 10) + "-" + proj

	if err := chromedp.Do(ctx, chromedp.Navigate(w.srv.URL+"/login")); err != nil {
		t.Fatal(err)
	}
	consoleErrors(t, ctx)
	run(t, ctx, "open the report",
		chromedp.Evaluate[chromedp.Void](`document.cookie = "hehuo_session=`+acct+`; path=/"; undefined`),
		chromedp.Navigate(w.srv.URL+"/report?report=partners&project="+proj),
		chromedp.WaitVisible(`//*[@data-test="partners-held-`+row+`"][contains(.,"200,000.00")]`),
		chromedp.WaitVisible(`//*[@data-test="partners-table"]//*[contains(@class,"el-tag")][contains(.,"在投")]`),
	)
	failedLoads(t, ctx)
	run(t, ctx, "filter by name",
		chromedp.SendKeys(`[data-test=partners-name]`, "周"),
		chromedp.Click(`[data-test=partners-search]`),
		chromedp.WaitVisible(`[data-test="partners-row-`+row+`"]`),
		chromedp.WaitVisible(`//*[@data-test="partners-download"][contains(@href,"name=")]`),
		chromedp.SendKeys(`[data-test=partners-name]`, "无此人"),
		chromedp.Click(`[data-test=partners-search]`),
		chromedp.WaitNotPresent(`[data-test="partners-row-`+row+`"]`),
	)
	run(t, ctx, "only the selected project",
		chromedp.Evaluate[chromedp.Void](`(() => { const i = document.querySelector('[data-test=partners-name]'); i.value = ''; i.dispatchEvent(new Event('input')) })(); undefined`),
		chromedp.Click(`[data-test=partners-only-selected]`),
		chromedp.WaitVisible(`[data-test="partners-row-`+row+`"]`),
		chromedp.WaitVisible(`//*[@data-test="partners-download"][contains(@href,"project_id=`+proj+`")]`),
	)
	run(t, ctx, "exits to start",
		chromedp.Navigate(w.srv.URL+"/report?report=exit-candidates&project="+proj),
		chromedp.WaitVisible(`//*[@data-test="exit-candidates-table"][contains(.,"暂无待发起退出的人员")]`),
	)
}
