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

	"hehuo/internal/audit"
	"hehuo/internal/holding/holdingtest"
	"hehuo/internal/workflow"
)

// Must show: the H5 披露 page of a project shows the P&L history as a chart
// (a canvas drawn by ECharts) and the documents, without a console error;
// the console's 盈亏动态 shows 立项 vs 动态 and 披露审核 the sent history.
func TestH5DisclosurePageShowsTheChart(t *testing.T) {
	ctx := browser(t)
	w := newLiveServer(t)
	_, acct, proj := w.projectWithTerms()
	pid, _ := strconv.ParseInt(proj, 10, 64)
	uid, _ := w.user("p_disc", "吴十")
	holdingtest.Round(t, w.deps.DB, pid, "approved", map[int64]string{holdingtest.Partner(t, w.deps.DB, uid): "500000"})
	_, biz := w.user("biz_disc", "披露管理员", "bizadmin")
	w.call(acct, "PUT", "/api/v1/projects/"+proj+"/profit-indicators", map[string]any{
		"sales_revenue": "500000000.00", "net_profit": "40000000.00", "irr": "0.15", "version": 0}, 200)
	for i, p := range []map[string]any{
		{"period_on": "2026-06-30", "title": "2026年上半年", "sales_revenue": "200000000.00", "net_profit": "15000000.00", "irr": "0.14"},
		{"period_on": "2026-09-30", "title": "2026年第三季度", "sales_revenue": "320000000.00", "net_profit": "26000000.00", "irr": "0.155"},
	} {
		u := w.call(acct, "POST", "/api/v1/projects/"+proj+"/profit-updates", p, 201)
		id, _ := strconv.ParseInt(idOf(u["id"]), 10, 64)
		if i == 0 {
			w.agree(acct, proj, "disclosure", id)
		} else {
			w.agreeWithFile(acct, proj, pid, id, "三季度经营报告.pdf")
		}
		if i == 0 {
			w.call(biz, "POST", "/api/v1/disclosures/notices", map[string]any{"test": false}, 200)
		}
	}
	w.call(biz, "POST", "/api/v1/disclosures/notices", map[string]any{"test": false}, 200)

	if err := chromedp.Do(ctx, chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile)); err != nil {
		t.Fatal(err)
	}
	consoleErrors(t, ctx)
	run(t, ctx, "H5 披露 list",
		chromedp.Navigate(w.srv.URL+"/m/disclosures?dtsim="+url.QueryEscape(w.sim.URL)+"&dtsim_user=p_disc"),
		chromedp.WaitVisible(`[data-test=h5-disclosure-project-`+proj+`]`),
	)
	failedLoads(t, ctx)
	run(t, ctx, "H5 披露 of the project",
		chromedp.Click(`[data-test=h5-disclosure-project-`+proj+`]`),
		chromedp.WaitVisible(`[data-test=h5-pnl-chart] canvas`),
		chromedp.WaitVisible(`//*[@data-test="h5-disclosure-latest"][contains(.,"2026年第三季度")][contains(.,"15.5%")]`),
		chromedp.WaitVisible(`//*[@data-test="h5-disclosure-documents"]//*[starts-with(@data-test,"h5-disclosure-document-")][contains(.,"三季度经营报告.pdf")]`),
	)
	drawn, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(() => { const c = document.querySelector("[data-test=h5-pnl-chart] canvas");
		return !!c && c.width > 0 && c.height > 0 })()`))
	if err != nil || !drawn {
		t.Fatalf("chart canvas drawn: %v %v", drawn, err)
	}

	// The console: 盈亏动态 with the comparison, 披露审核 with the sent history.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1400, 900)); err != nil {
		t.Fatal(err)
	}
	run(t, ctx, "console 盈亏动态",
		// The partner's H5 session cookie is HttpOnly: cleared, not overwritten.
		chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			_, err := cdp.Call(ctx, t, network.ClearBrowserCookies, cdp.Empty{})
			return err
		}),
		chromedp.Evaluate[chromedp.Void](`document.cookie = "hehuo_session=`+acct+`; path=/"; undefined`),
		chromedp.Navigate(w.srv.URL+"/disclosure?project="+proj),
		chromedp.WaitVisible(`[data-test=pnl-periods]`),
		chromedp.WaitVisible(`//*[@data-test="pnl-diff-sales_revenue"][contains(.,"-180,000,000.00")]`),
	)
	run(t, ctx, "console 新增期间",
		chromedp.Click(`[data-test=pnl-add]`),
		chromedp.WaitVisible(`input[data-test=pnl-input-net_profit]`),
		chromedp.SendKeys(`[data-test=pnl-period-on]`, "2026-12-31\r"),
		chromedp.SendKeys(`input[data-test=pnl-title]`, "2026年第四季度"),
		chromedp.SendKeys(`input[data-test=pnl-input-net_profit]`, "30000000.00"),
		chromedp.Click(`[data-test=pnl-save]`),
		chromedp.WaitVisible(`//*[@data-test="pnl-periods"]//tr[contains(.,"2026-12-31")][contains(.,"未披露")]`),
		chromedp.WaitVisible(`//*[@data-test="pnl-diff-net_profit"][contains(.,"-10,000,000.00")]`),
	)
	// 发起披露 opens 项目流程's launch dialog on the period.
	// The period's dialog fades out over the page and the list reloads
	// after the save: a click on a row being replaced does nothing, so
	// 发起披露 is clicked again until 项目流程's dialog opens.
	run(t, ctx, "console 发起披露", chromedp.WaitNotVisible(`[data-test=pnl-dialog]`))
	for try := 1; ; try++ {
		// Once the page has left, there is nothing to click: wait for the dialog.
		click, cancel := context.WithTimeout(ctx, 5*time.Second)
		clicked := chromedp.Do(click, chromedp.Click(`[data-test^=pnl-launch-]`)) == nil
		cancel()
		wait, cancel := context.WithTimeout(ctx, 5*time.Second)
		err := chromedp.Do(wait, chromedp.WaitVisible(`[data-test=launch-dialog]`))
		cancel()
		if err == nil {
			break
		}
		if try == 3 || !clicked {
			body, _ := chromedp.Run(ctx, chromedp.Text(`body`))
			t.Fatalf("发起披露 did not open the launch dialog (%d clicks): %v\npage: %s", try, err, body)
		}
	}
	run(t, ctx, "console 发起披露",
		chromedp.WaitVisible(`//*[@data-test="launch-form-preview"][contains(.,"盈亏期间")][contains(.,"2026年第四季度")]`),
		chromedp.Click(`[data-test=launch-submit]:not(.is-disabled)`),
		chromedp.WaitVisible(`//*[starts-with(@data-test,"process-status-")][@data-status="running"]`),
		chromedp.Navigate(w.srv.URL+"/disclosure?project="+proj),
		chromedp.WaitVisible(`//*[@data-test="pnl-periods"]//tr[contains(.,"2026-12-31")][contains(.,"披露审批中")]`),
	)
	run(t, ctx, "console 披露审核",
		chromedp.Evaluate[chromedp.Void](`document.cookie = "hehuo_session=`+biz+`; path=/"; undefined`),
		chromedp.Navigate(w.srv.URL+"/disclosure?tab=review&project="+proj),
		chromedp.WaitVisible(`//*[@data-test="disc-review-sent"]//tr[contains(.,"2026年第三季度")]`),
		chromedp.Sleep(300*time.Millisecond),
	)
}

// agreeWithFile launches the disclosure of period subject with a file
// attached, agrees it in the simulator and delivers the approval event.
func (w *liveServer) agreeWithFile(token, proj string, projectID, subject int64, name string) {
	w.t.Helper()
	att, err := w.deps.Attachments.Upload(context.Background(), audit.System, projectID, name, strings.NewReader("%PDF-1.4\n%%EOF\n"))
	if err != nil {
		w.t.Fatal(err)
	}
	p := w.call(token, "POST", "/api/v1/projects/"+proj+"/processes", map[string]any{
		"kind": "disclosure", "subject_id": subject, "form": map[string]string{"情况说明": "浏览器测试"}, "attachment_ids": []int64{att.ID},
	}, 201)
	inst, _ := p["instance_id"].(string)
	ev, err := w.sim.Decide(inst, "agree")
	if err != nil {
		w.t.Fatal(err)
	}
	payload := fmt.Sprintf(`{"processInstanceId":%q,"type":"finish","result":"agree"}`, inst)
	if _, err := w.wire.Inbox.Accept(context.Background(), ev, workflow.EventInstanceChange, w.sim.DingTalkConfig().CorpID, []byte(payload)); err != nil {
		w.t.Fatal(err)
	}
}
