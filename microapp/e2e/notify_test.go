package e2e

import (
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/jmoiron/sqlx"

	"hehuo/internal/audit"
	"hehuo/internal/auth"
	"hehuo/internal/cache/cachetest"
	"hehuo/internal/config"
	"hehuo/internal/db/dbtest"
	"hehuo/internal/dtsim"
	"hehuo/internal/dtsim/dtsimtest"
	"hehuo/internal/notify"
	"hehuo/internal/org"
	"hehuo/internal/wire"
	"hehuo/microapp"
)

// The system admin edits a template with a draft preview, configures a
// robot for a city company and tests it into the simulated group, and
// retries a dead notice from the queue — all through the console.
func TestConsoleTemplatesRobotsAndQueue(t *testing.T) {
	ctx := browser(t)
	d := dbtest.New(t)
	c := cachetest.New(t)
	sim := dtsimtest.Start(t)
	cfg := config.Default()
	cfg.DingTalk = sim.DingTalkConfig()
	cfg.SecretKey = hex.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	deps := microapp.FromServices(cfg, d, c, log, "e2e", wire.New(cfg, d, c, log))
	bg := context.Background()
	if err := auth.EnsureBootstrap(bg, d, "admin-pass-1", "bizadmin-pass-1"); err != nil {
		t.Fatal(err)
	}
	group, _ := deps.Org.CreateUnit(bg, audit.System, org.UnitInput{Name: "锦艺集团", Kind: org.KindGroup})
	if _, err := deps.Org.CreateUnit(bg, audit.System, org.UnitInput{Name: "环沪城市公司", Kind: org.KindCity, ParentID: &group.ID}); err != nil {
		t.Fatal(err)
	}
	const token, secret = "e2erobottoken0123", "SECe2e0123456789abcdef"
	sim.AddRobot(dtsim.Robot{Name: "环沪会计群机器人", AccessToken: token, Secret: secret, Conversation: "环沪会计群"})
	var noticeID int64
	if err := d.InTx(bg, func(tx *sqlx.Tx) error {
		var err error
		noticeID, _, err = notify.Enqueue(bg, tx, notify.Notice{Kind: notify.KindWorkNotice, Recipients: []string{"u1"},
			Template: "payment_notice", DedupeKey: "e2e", Data: map[string]any{"project_name": "常州项目"}})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	d.MustExec(`UPDATE notify_deliveries SET status = 'dead' WHERE outbox_id = $1`, noticeID)
	d.MustExec(`UPDATE notify_outbox SET status = 'dead', attempts = 8, last_error = '模板数据缺少 due_date' WHERE id = $1`, noticeID)

	srv := httptest.NewServer(microapp.New(deps).Handler())
	defer srv.Close()

	editRow := `//tr[.//*[@data-test="template-row-name"][normalize-space(.)="缴款通知"]]//*[@data-test="template-edit"]`
	err := steps(t, ctx,
		chromedp.Navigate(srv.URL+"/login"),
		chromedp.WaitVisible(`[data-test=login-username]`),
		chromedp.SendKeys(`[data-test=login-username]`, "admin"),
		chromedp.SendKeys(`[data-test=login-password]`, "admin-pass-1"),
		chromedp.Click(`[data-test=login-submit]`),
		chromedp.WaitVisible(`[data-test=project-tree]`),
		chromedp.Navigate(srv.URL+"/admin/templates"),
		chromedp.WaitVisible(editRow),
		noLoadingMask,
		chromedp.Click(editRow),
		chromedp.WaitVisible(`[data-test=template-title]`),
		chromedp.WaitVisible(`//*[@data-test="template-variables"]//*[contains(text(),"{{.due_date}}")]`),
		chromedp.SendKeys(`[data-test=template-title]`, "（请尽快）"),
		chromedp.Click(`[data-test=template-draft-preview]`),
		chromedp.WaitVisible(`//*[@data-test="template-preview-title"][normalize-space(.)="缴款通知：常州项目（请尽快）"]`),
		chromedp.Click(`[data-test=template-save]`),
		chromedp.WaitVisible(`//td[contains(.,"缴款通知：{{.project_name}}（请尽快）")]`),
	)
	if err != nil {
		t.Fatalf("template flow: %v", err)
	}
	var title string
	d.Get(&title, `SELECT title FROM notify_templates WHERE code = 'payment_notice'`)
	if title != "缴款通知：{{.project_name}}（请尽快）" {
		t.Fatalf("stored title = %q", title)
	}

	err = steps(t, ctx,
		chromedp.Navigate(srv.URL+"/admin/dingtalk"),
		chromedp.WaitVisible(`[data-test=dingtalk-restart-notice]`),
		chromedp.WaitVisible(`[data-test=robot-table]`),
		noLoadingMask,
		chromedp.Click(`[data-test=robot-new]`),
		chromedp.WaitVisible(`[data-test=robot-name]`),
		// The tree select passes its data-test to the inner tree too: click the select.
		choose(`.el-select[data-test=robot-org]`,
			`//div[contains(@class,"el-select")][@data-test="robot-org"]//*[contains(@class,"el-tree-node__content")][normalize-space(.)="环沪城市公司"]`,
			`//div[contains(@class,"el-select")][@data-test="robot-org"]//*[contains(@class,"el-select__selected-item")][normalize-space(.)="环沪城市公司"]`),
		chromedp.SendKeys(`[data-test=robot-name]`, "环沪会计群"),
		chromedp.SendKeys(`[data-test=robot-webhook]`, sim.URL+"/robot/send?access_token="+token),
		chromedp.SendKeys(`[data-test=robot-secret]`, secret),
		chromedp.Click(`[data-test=robot-save]`),
		chromedp.WaitVisible(`//*[@data-test="robot-table"]//td[normalize-space(.)="环沪会计群"]`),
		noLoadingMask,
		chromedp.Click(`[data-test=robot-test]`),
	)
	if err != nil {
		t.Fatalf("robot flow: %v", err)
	}
	if !waitFor(func() bool { return len(sim.RobotMessages()) == 1 }) {
		t.Fatal("the robot test did not reach the group")
	}
	if m := sim.RobotMessages()[0]; m.Conversation != "环沪会计群" || !strings.Contains(string(m.Msg), "测试消息") {
		t.Fatalf("robot message = %+v", m)
	}
	page, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(page, secret) || strings.Contains(page, token) {
		t.Fatal("the page shows the robot secret or token")
	}

	err = steps(t, ctx,
		chromedp.Navigate(srv.URL+"/admin/notices"),
		chromedp.WaitVisible(`[data-test=notice-tab-dead]`),
		chromedp.Click(`[data-test=notice-tab-dead]`),
		chromedp.WaitVisible(`[data-test=notice-retry]`),
		noLoadingMask,
		chromedp.Click(`[data-test=notice-retry]`),
	)
	if err != nil {
		t.Fatalf("queue flow: %v", err)
	}
	if !waitFor(func() bool {
		var st string
		d.Get(&st, `SELECT status FROM notify_outbox WHERE id = $1`, noticeID)
		return st == "pending"
	}) {
		t.Fatal("the retry did not queue the notice again")
	}
}

// steps runs actions one at a time, each within 15 seconds, and names the
// one that failed (with a screenshot in the test's temp dir).
func steps(t *testing.T, ctx context.Context, actions ...chromedp.Action[chromedp.Void]) error {
	t.Helper()
	// Start the browser on ctx itself: one started under a step's context
	// would close when that step ends.
	if err := chromedp.Do(ctx); err != nil {
		return err
	}
	for i, a := range actions {
		sctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		err := chromedp.Do(sctx, a)
		cancel()
		if err != nil {
			var png []byte
			if shot, err2 := chromedp.Run(ctx, chromedp.FullScreenshot(100)); err2 == nil {
				png = shot
			}
			path := t.TempDir() + "/failed.png"
			os.WriteFile(path, png, 0o644)
			if dir := os.Getenv("HEHUO_E2E_SHOTS"); dir != "" {
				os.WriteFile(dir+"/"+strings.ReplaceAll(t.Name(), "/", "_")+".png", png, 0o644)
			}
			return fmt.Errorf("step %d: %w (screenshot %s)", i+1, err, path)
		}
	}
	return nil
}

// noLoadingMask waits until no table is loading: a click on a row while the
// loading mask fades out lands on the mask.
var noLoadingMask = chromedp.WaitNotPresent(`.el-loading-mask`)

// waitFor polls cond for a few seconds.
func waitFor(cond func() bool) bool {
	for i := 0; i < 50; i++ {
		if cond() {
			return true
		}
		time.Sleep(100 * time.Millisecond)
	}
	return false
}
