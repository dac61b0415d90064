package e2e

import (
	"encoding/hex"
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"

	"hehuo/internal/config"
	"hehuo/internal/shareholder"
)

// Must show: 小股东 → 股东分配 in the console. Two outside shareholders are
// registered and their stakes (0.15, 0.05) approved through the API; the
// accountant opens a batch of 100,000.00 (75,000.00 / 25,000.00 by stake)
// and submits it (录入分配及申请审核), the business admin approves it
// (审核通过), the accountant registers both payouts (登记打款) and the batch
// reads 已打款. No console error.
func TestConsoleShareholderDistribution(t *testing.T) {
	ctx := browser(t)
	w := newLiveServer(t, func(c *config.Config) {
		c.SecretKey = hex.EncodeToString([]byte("0123456789abcdef0123456789abcdef")) // the registry's numbers are sealed
	})
	_, acct, proj := w.projectWithTerms()
	_, biz := w.user("biz_min", "业务管理员乙", "bizadmin")
	for i, s := range []struct{ name, stake, account string }{
		{"泰山城建投资有限公司", "0.15", "6222021602012345678"},
		{"岱岳土地开发有限公司", "0.05", "6217002870012345671"},
	} {
		stem := fmt.Sprintf("9137090%dMA3C5LXX8", i)
		c, _ := shareholder.CreditCheckChar(stem)
		sh := w.call(acct, "POST", "/api/v1/shareholders", map[string]any{"name": s.name, "kind": "company",
			"id_number": stem + string(c), "bank": "工商银行泰安分行", "account_number": s.account}, 201)
		reg := w.call(acct, "POST", "/api/v1/projects/"+proj+"/shareholder-registrations", map[string]any{
			"shareholder_id": sh["id"], "stake": s.stake, "contributed": "1000000.00", "contributed_on": "2024-03-01"}, 201)
		id := idOf(reg["id"])
		reg = w.call(acct, "POST", "/api/v1/shareholder-registrations/"+id+"/submit", map[string]any{"version": reg["version"]}, 200)
		w.call(biz, "POST", "/api/v1/shareholder-registrations/"+id+"/review", map[string]any{"approve": true, "version": reg["version"]}, 200)
	}

	if err := chromedp.Do(ctx, chromedp.Navigate(w.srv.URL+"/login")); err != nil {
		t.Fatal(err)
	}
	consoleErrors(t, ctx)
	cookie := func(token string) chromedp.Action[chromedp.Void] {
		return chromedp.Evaluate[chromedp.Void](`document.cookie = "hehuo_session=` + token + `; path=/"; undefined`)
	}
	page := w.srv.URL + "/minority?tab=distributions&project=" + proj
	status := func(label string) chromedp.Action[chromedp.Void] {
		return chromedp.WaitVisible(`//*[@data-test="shdist-status"][contains(.,"` + label + `")]`)
	}
	run(t, ctx, "新建分配批次",
		cookie(w.session("acct_huanhu")),
		chromedp.Navigate(page),
		chromedp.WaitVisible(`[data-test=shdist-new]`),
		clickUntil(`[data-test=shdist-new]`, `input[data-test=shdist-amount]`),
		chromedp.SendKeys(`input[data-test=shdist-amount]`, "100000.00"),
		chromedp.Click(`[data-test=shdist-save]`),
		status("草稿"),
		chromedp.WaitVisible(`//*[@data-test="shdist-line-amount"][contains(.,"75,000.00")]`),
		chromedp.WaitVisible(`//*[@data-test="shdist-line-amount"][contains(.,"25,000.00")]`),
	)
	run(t, ctx, "录入分配及申请审核",
		chromedp.Click(`[data-test=shdist-submit]`),
		status("待审核"),
	)
	run(t, ctx, "审核通过",
		cookie(w.session("biz_min")),
		chromedp.Navigate(page),
		chromedp.WaitVisible(`[data-test=shdist-review]`),
		clickUntil(`[data-test=shdist-review]`, `[data-test=shdist-approve]`),
		chromedp.Click(`[data-test=shdist-approve]`),
		status("审核通过"),
	)
	run(t, ctx, "登记打款",
		cookie(w.session("acct_huanhu")),
		chromedp.Navigate(page),
		status("审核通过"),
		clickUntil(`[data-test=shdist-pay]`, `[data-test=shdist-pay-save]`),
		chromedp.Click(`[data-test=shdist-pay-save]`),
		chromedp.WaitVisible(`//*[@data-test="shdist-line-status"][contains(.,"已打款")]`),
		chromedp.WaitNotVisible(`[data-test=shdist-pay-dialog]`),
		clickUntil(`[data-test=shdist-pay]`, `[data-test=shdist-pay-save]`),
		chromedp.Click(`[data-test=shdist-pay-save]`),
		status("已打款"),
	)
	items := w.call(acct, "GET", "/api/v1/projects/"+proj+"/shareholder-distributions", nil, 200)["items"].([]any)
	if len(items) != 1 || items[0].(map[string]any)["status"] != "paid" || items[0].(map[string]any)["paid"] != "100000.00" {
		t.Fatalf("batches after the browser: %v", items)
	}
}
