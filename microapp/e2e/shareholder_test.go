package e2e

import (
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"hehuo/internal/config"
	"hehuo/internal/org"
	"hehuo/internal/shareholder"
)

// Must show (issue 13): 后台管理 → 外部股东 adds a shareholder (its number
// shown masked only); 小股东 → 股东登记: the accountant registers its stake
// and 申请审核, the business admin 审核通过.
func TestConsoleShareholderRegistryRegistrationReview(t *testing.T) {
	ctx := browser(t)
	w := newLiveServer(t, func(c *config.Config) {
		c.SecretKey = hex.EncodeToString([]byte("0123456789abcdef0123456789abcdef")) // the numbers are stored encrypted
	})
	_, _, proj := w.projectWithTerms()
	w.user("biz_sh", "业务管理员", org.RoleBizadmin)
	biz, acct := w.session("biz_sh"), w.session("acct_huanhu")
	c, _ := shareholder.CreditCheckChar("91370900MA3C5LXX1")
	code := "91370900MA3C5LXX1" + string(c)
	as := func(token string) chromedp.Action[chromedp.Void] {
		return chromedp.Evaluate[chromedp.Void](`document.cookie = "hehuo_session=` + token + `; path=/"; undefined`)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(w.srv.URL+"/login")); err != nil {
		t.Fatal(err)
	}
	consoleErrors(t, ctx)
	err := estDo(ctx,
		as(biz),
		chromedp.Navigate(w.srv.URL+"/admin/shareholders"),
		chromedp.WaitVisible(`[data-test=sh-table]`),
		clickUntil(`[data-test=sh-new]`, `[data-test=sh-name]`),
		chromedp.SendKeys(`[data-test=sh-name]`, "泰安城投"),
		chromedp.SendKeys(`[data-test=sh-id-number]`, code),
		chromedp.SendKeys(`[data-test=sh-bank]`, "工商银行泰安分行"),
		chromedp.SendKeys(`[data-test=sh-account]`, "6222021602019876543"),
		chromedp.Click(`[data-test=sh-save]`),
		chromedp.Sleep(500*time.Millisecond), // the dialog fades out
		chromedp.WaitVisible(`//*[@data-test="sh-table"]//tr[contains(.,"泰安城投")][contains(.,"****6543")]`),
	)
	if err != nil {
		shot(t, ctx, "shareholders")
		t.Fatalf("外部股东: %v", err)
	}
	html, err := chromedp.Run(ctx, chromedp.Text(`body`))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(html, "6222021602019876543") || strings.Contains(html, code) {
		t.Fatal("the registry shows a number in clear")
	}
	err = estDo(ctx,
		as(acct),
		chromedp.Navigate(w.srv.URL+"/minority?project="+proj),
		chromedp.WaitVisible(`[data-test=shreg-table]`),
		clickUntil(`[data-test=shreg-new]`, `[data-test=shreg-stake]`),
		pick("shreg-shareholder", "泰安城投（企业）"),
		// The date first: typing in the next fields closes its panel.
		chromedp.SendKeys(`[data-test=shreg-contributed-on]`, "2024-03-01\r"),
		chromedp.SendKeys(`[data-test=shreg-stake]`, "15"),
		chromedp.SendKeys(`[data-test=shreg-contributed]`, "1500000"),
		// A first click may only close the date picker's panel.
		clickUntil(`[data-test=shreg-save]`,
			`//*[@data-test="shreg-table"]//tr[contains(.,"泰安城投")][contains(.,"15%")]//*[@data-test="shreg-status"][contains(.,"草稿")]`),
		chromedp.Sleep(500*time.Millisecond), // the dialog fades out
		clickUntil(`[data-test=shreg-submit]`, `//*[@data-test="shreg-status"][contains(.,"待审核")]`),
		as(biz),
		chromedp.Navigate(w.srv.URL+"/minority?project="+proj),
		clickUntil(`[data-test=shreg-review]`, `[data-test=shreg-approve]`),
		chromedp.Sleep(300*time.Millisecond),
		chromedp.Click(`[data-test=shreg-approve]`),
		chromedp.WaitVisible(`//*[@data-test="shreg-status"][contains(.,"已通过")]`),
		chromedp.WaitVisible(`//*[@data-test="shreg-total"][contains(.,"15%")]`),
	)
	if err != nil {
		shot(t, ctx, "shareholder-registration")
		t.Fatalf("股东登记: %v", err)
	}
	var status string
	if err := w.deps.DB.Get(&status, `SELECT status FROM shareholder_registrations`); err != nil || status != "approved" {
		t.Fatalf("registration %q %v", status, err)
	}
}
