package dtsim_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/open-dingtalk/dingtalk-stream-sdk-go/event"

	"hehuo/internal/dtsim"
	"hehuo/internal/dtsim/dtsimtest"
)

// browser returns a chromedp context on Debian's Chromium, or skips outside
// CI when it is missing (CI must have it).
func browser(t *testing.T) context.Context {
	t.Helper()
	path := os.Getenv("HEHUO_CHROMIUM")
	if path == "" {
		path = "/usr/bin/chromium"
	}
	if _, err := os.Stat(path); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("browser test needs chromium at %s", path)
		}
		t.Skipf("no chromium at %s", path)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.WindowSize(1400, 1000))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	ctx, cancel2 := chromedp.NewContext(actx)
	t.Cleanup(cancel2)
	ctx, cancel3 := context.WithTimeout(ctx, 60*time.Second)
	t.Cleanup(cancel3)
	return ctx
}

// The page shows a user's inbox, approves from the 审批 tab (pushing the
// event), chats with the bot and points the phone at Hehuo's H5 app.
func TestWebPage(t *testing.T) {
	ctx := browser(t)
	s := dtsimtest.Start(t, func(c *dtsim.Config) { c.AppURL = "http://hehuo.test:8080" })
	s.AddUser(dtsim.User{UserID: "zhangsan", Name: "张三"})
	s.AddUser(dtsim.User{UserID: "lisi", Name: "李四"})
	approvals := make(chan string, 10)
	startSDK(t, s, func(_ context.Context, h *event.EventHeader, data []byte) (event.EventProcessStatusType, error) {
		if strings.Contains(string(data), `"type":"finish"`) {
			approvals <- string(data)
		}
		return event.EventProcessStatusKSuccess, nil
	})
	tok := oldToken(t, s)
	sendNotice(t, s, tok, []string{"lisi"}, "## 缴款提醒：锦艺一期\n\n请于 **2026-12-20** 前缴款。\n\n[查看缴款](http://hehuo.test:8080/m/payments)\n\n[坏链接](javascript:alert(1))")
	_, m := newCall(t, s, tok, "POST", "/v1.0/workflow/processInstances", map[string]any{"processCode": "PROC-PEAK", "originatorUserId": "zhangsan",
		"formComponentValues": []map[string]string{{"name": "项目", "value": "锦艺一期"}}})
	id := m["instanceId"].(string)

	err := chromedp.Do(ctx,
		chromedp.Navigate(s.URL+"/"),
		chromedp.WaitVisible(`[data-test=notice]`),
	)
	if err != nil {
		t.Fatal(err)
	}
	inbox, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`#notice-list`)))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(inbox, "缴款提醒：锦艺一期") || !strings.Contains(inbox, "李四") {
		t.Fatalf("inbox shows %q", inbox)
	}
	// Markdown is rendered as DingTalk shows it: no ## or ** left, the date in
	// bold, one clickable link (javascript: stays text).
	if strings.Contains(inbox, "##") || strings.Contains(inbox, "**") {
		t.Fatalf("markdown shown raw: %q", inbox)
	}
	bold, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`#notice-list .md b`)))
	if err != nil || bold != "2026-12-20" {
		t.Fatalf("bold = %q, %v", bold, err)
	}
	links, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#notice-list a.md-link").length`))
	if err != nil || links != 1 {
		t.Fatalf("%d links, %v; want the one http link", links, err)
	}
	// Tapping the link opens the H5 page in the phone, signed in as the recipient.
	if err := chromedp.Do(ctx, chromedp.Click(`#notice-list a.md-link`), chromedp.WaitVisible(`#phone-frame`)); err != nil {
		t.Fatal(err)
	}
	linked, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.CSS(`#phone-frame`), "src"))
	if err != nil || !strings.HasPrefix(linked.Value, "http://hehuo.test:8080/m/payments?dtsim=") || !strings.HasSuffix(linked.Value, "&dtsim_user=lisi") {
		t.Fatalf("the link opened %q, %v", linked.Value, err)
	}
	if err := chromedp.Do(ctx, chromedp.Click(`nav button[data-tab=notices]`)); err != nil {
		t.Fatal(err)
	}
	agree := `button[data-decide=agree][data-id="` + id + `"]`
	if err := chromedp.Do(ctx, chromedp.Click(`nav button[data-tab=approvals]`), chromedp.WaitVisible(agree), chromedp.Click(agree)); err != nil {
		t.Fatal(err)
	}
	select {
	case ev := <-approvals:
		if !strings.Contains(ev, id) || !strings.Contains(ev, `"result":"agree"`) {
			t.Fatalf("finish event %s", ev)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("clicking 同意 pushed no finish event")
	}
	err = chromedp.Do(ctx,
		chromedp.Click(`nav button[data-tab=chat]`),
		chromedp.SetValue(`#chat-user`, "lisi"),
		chromedp.SendKeys(`[data-test=chat-text]`, "帮助"),
		chromedp.Click(`[data-test=chat-send]`),
		chromedp.Poll[chromedp.Void](`(() => { const b = [...document.querySelectorAll(".bubble.bot")]; return b.length > 0 && !b[b.length-1].classList.contains("muted") })()`),
	)
	if err != nil {
		t.Fatal(err)
	}
	reply, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`#chat-log`)))
	if err != nil {
		t.Fatal(err)
	}
	err = chromedp.Do(ctx,
		chromedp.Click(`nav button[data-tab=phone]`),
		chromedp.SetValue(`#phone-user`, "zhangsan"),
		// A script click: a mouse click right after the tab switch can be
		// swallowed in headless Chromium, leaving the frame on the notice
		// link opened earlier.
		chromedp.WaitVisible(`#phone-open`),
		chromedp.Evaluate[chromedp.Void](`document.querySelector("#phone-open").click()`),
		chromedp.Poll[chromedp.Void](`document.querySelector("#phone-frame").getAttribute("src").includes("dtsim_user=zhangsan")`),
	)
	if err != nil {
		t.Fatal(err)
	}
	src, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.CSS(`#phone-frame`), "src"))
	if err != nil {
		t.Fatal(err)
	}
	phoneSrc := src.Value
	newCall(t, s, tok, "POST", "/v1.0/card/instances/createAndDeliver", map[string]any{
		"cardTemplateId": "tpl.schema", "outTrackId": "card-web", "callbackType": "STREAM",
		"cardData": map[string]any{"cardParamMap": map[string]string{"status": "pending"}}, "openSpaceId": "dtv1.card//IM_ROBOT.lisi",
	})
	err = chromedp.Do(ctx,
		chromedp.Click(`nav button[data-tab=cards]`),
		chromedp.WaitVisible(`button[data-card=card-web][data-action=agree]`),
		chromedp.SetValue(`#card-user`, "lisi"),
		chromedp.Click(`button[data-card=card-web][data-action=agree]`),
		chromedp.WaitVisible(`//pre[contains(., "status=agreed by lisi")]`),
	)
	if err != nil {
		t.Fatal(err)
	}
	err = chromedp.Do(ctx,
		chromedp.Click(`nav button[data-tab=robots]`),
		chromedp.SendKeys(`#r-name`, "经营会计群机器人"),
		chromedp.Click(`[data-test=robot-add]`),
		chromedp.WaitVisible(`//td[contains(., "经营会计群机器人")]`),
	)
	if err != nil {
		t.Fatal(err)
	}
	if rb := s.Robots(); len(rb) != 1 || !strings.HasPrefix(rb[0].Secret, "SEC") || len(rb[0].AccessToken) != 64 || rb[0].Conversation != "经营会计群机器人" {
		t.Fatalf("robots added from the page %+v", rb)
	}
	if !strings.Contains(reply, "你好，李四：帮助") {
		t.Fatalf("chat shows %q", reply)
	}
	if !strings.HasPrefix(phoneSrc, "http://hehuo.test:8080/m/?dtsim=http%3A%2F%2F127.0.0.1") || !strings.HasSuffix(phoneSrc, "&dtsim_user=zhangsan") {
		t.Fatalf("phone iframe src %q", phoneSrc)
	}
}
