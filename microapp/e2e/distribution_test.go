package e2e

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/xuri/excelize/v2"

	"hehuo/internal/civil"
	"hehuo/internal/config"
	"hehuo/internal/holding/holdingtest"
	"hehuo/internal/workflow"
)

// callKey is call with an Idempotency-Key (money routes).
func (w *liveServer) callKey(token, key, method, path string, body any, want int) map[string]any {
	w.t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(method, w.srv.URL+path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Idempotency-Key", key)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	if res.StatusCode != want {
		w.t.Fatalf("%s %s: %d %s, want %d", method, path, res.StatusCode, raw, want)
	}
	out := map[string]any{}
	_ = json.Unmarshal(raw, &out)
	return out
}

// agree launches a process of the project through the process center as
// token's user, agrees it in the simulator and delivers the approval event
// the way the stream bot does.
func (w *liveServer) agree(token, proj, kind string, subject int64) {
	w.t.Helper()
	p := w.call(token, "POST", "/api/v1/projects/"+proj+"/processes", map[string]any{
		"kind": kind, "subject_id": subject, "form": map[string]string{"情况说明": "浏览器测试"},
	}, 201)
	inst, _ := p["instance_id"].(string)
	if inst == "" {
		w.t.Fatalf("launch %s: %v", kind, p)
	}
	ev, err := w.sim.Decide(inst, "agree")
	if err != nil {
		w.t.Fatal(err)
	}
	payload := fmt.Sprintf(`{"processInstanceId":%q,"type":"finish","result":"agree"}`, inst)
	if _, err := w.wire.Inbox.Accept(context.Background(), ev, workflow.EventInstanceChange, w.sim.DingTalkConfig().CorpID, []byte(payload)); err != nil {
		w.t.Fatal(err)
	}
	if st := w.call(token, "GET", "/api/v1/processes/"+idOf(p["id"]), nil, 200)["status"]; st != "agreed" {
		w.t.Fatalf("%s process after agreement: %v", kind, st)
	}
}

// get fetches a file of the API with token's session.
func (w *liveServer) get(token, path string) []byte {
	w.t.Helper()
	req, _ := http.NewRequest("GET", w.srv.URL+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 {
		w.t.Fatalf("GET %s: %d %s", path, res.StatusCode, raw)
	}
	return raw
}

// read runs a in 20 s and returns what it read; a failure shows the page.
func read[T any](t *testing.T, ctx context.Context, a chromedp.Action[T]) T {
	t.Helper()
	step, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	v, err := chromedp.Run(step, a)
	if err != nil {
		body, _ := chromedp.Run(ctx, chromedp.Text(`body`))
		t.Fatalf("read: %v\npage: %s", err, body)
	}
	return v
}

// approve takes the saved batch to approval: 申请发布审核 by the accountant,
// the business admin's review (biz), then its process launched and agreed
// in DingTalk (agree); the batch is then approved (on the ledger).
func (w *liveServer) approve(acct, biz, proj, batch, kind string) {
	w.t.Helper()
	path := "/api/v1/distributions/" + batch
	b := w.call(acct, "GET", path, nil, 200)
	b = w.call(acct, "POST", path+"/submit", map[string]any{"version": b["version"]}, 200)
	b = w.call(biz, "POST", path+"/review", map[string]any{"approve": true, "reason": "", "version": b["version"]}, 200)
	if b["status"] != "reviewed" {
		w.t.Fatalf("batch %s after the review: %v", batch, b["status"])
	}
	id, _ := strconv.ParseInt(batch, 10, 64)
	w.agree(acct, proj, kind, id)
	if st := w.call(acct, "GET", path, nil, 200)["status"]; st != "approved" {
		w.t.Fatalf("batch %s after its process was agreed: %v", batch, st)
	}
}

// h5Line is a block of H5 我的分配 as the phone shows it: its heading and
// each cell's value by the cell's title.
type h5Line struct {
	Test  string            `json:"test"`
	Title string            `json:"title"`
	Cells map[string]string `json:"cells"`
}

// h5Lines reads the blocks of 我的分配 off the page.
const h5Lines = `[...document.querySelectorAll('.h5-distribution')].map(s => ({
	test: s.dataset.test,
	title: s.querySelector('.van-cell-group__title').innerText.trim(),
	cells: Object.fromEntries([...s.querySelectorAll('.van-cell')].map(c =>
		[c.querySelector('.van-cell__title').innerText.trim(), c.querySelector('.van-cell__value').innerText.trim()])),
}))`

// fillTemplate writes amounts (by partner name) into the batch's 导出模板
// under its amount column (F, the profit of this batch) and saves it.
func fillTemplate(t *testing.T, raw []byte, amounts map[string]string) string {
	t.Helper()
	f, err := excelize.OpenReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("template: %v", err)
	}
	defer f.Close()
	sheet := f.GetSheetName(0)
	rows, err := f.GetRows(sheet)
	if err != nil {
		t.Fatal(err)
	}
	header, nameCol, amountCol := -1, -1, -1
	for i, r := range rows {
		for j, c := range r {
			c = strings.TrimSpace(c)
			switch {
			case c == "姓名":
				nameCol = j
			case c == "F" || strings.Contains(c, "利润"):
				amountCol = j
			}
		}
		if nameCol >= 0 && amountCol >= 0 {
			header = i
			break
		}
		nameCol, amountCol = -1, -1
	}
	if header < 0 {
		t.Fatalf("template has no 姓名 and F columns: %v", rows)
	}
	filled := 0
	for i := header + 1; i < len(rows); i++ {
		if nameCol >= len(rows[i]) {
			continue
		}
		a, ok := amounts[strings.TrimSpace(rows[i][nameCol])]
		if !ok {
			continue
		}
		cell, _ := excelize.CoordinatesToCellName(amountCol+1, i+1)
		if err := f.SetCellValue(sheet, cell, a); err != nil {
			t.Fatal(err)
		}
		filled++
	}
	if filled != len(amounts) {
		t.Fatalf("template filled %d of %d partners: %v", filled, len(amounts), rows)
	}
	path := filepath.Join(t.TempDir(), "利润分配导入.xlsx")
	if err := f.SaveAs(path); err != nil {
		t.Fatal(err)
	}
	return path
}

// Must show (browser): the city accountant opens 分配 → 事业合伙分配 for a
// project whose partners paid as in RULES R4 and whose actual peak is
// agreed, creates a principal batch at 100 %, calculates and saves it — the
// table shows R6's D column to the fen; then the business admin unlocks a
// profit batch (解锁编辑) of another project (one open batch per project)
// and the accountant imports its F column (R7's split of 100,000.00), each
// line marked 手工, and calculates and saves it. Both batches go through
// review and approval in DingTalk; then 乙, who has a line in each, opens
// 我的分配 on the phone and sees both: title, date, amount to the fen and
// 待支付. No console error on the way.
func TestConsoleDistributionPrincipalAndManualProfit(t *testing.T) {
	ctx := browser(t)
	w := newLiveServer(t, func(c *config.Config) {
		c.SecretKey = hex.EncodeToString([]byte("0123456789abcdef0123456789abcdef")) // payout accounts are stored encrypted
	})
	admin, acct, proj := w.projectWithTerms()
	pid, _ := strconv.ParseInt(proj, 10, 64)

	// R4's four partners, allocated and paid on R4's dates.
	type partner struct {
		userid, name, amount, paidOn string
		id                           int64
		user                         int64
		token                        string
	}
	partners := []*partner{
		{userid: "p_jia", name: "甲", amount: "500000", paidOn: "2024-03-01"},
		{userid: "p_yi", name: "乙", amount: "300000", paidOn: "2024-03-20"},
		{userid: "p_bing", name: "丙", amount: "297143", paidOn: "2024-04-15"},
		{userid: "p_ding", name: "丁", amount: "222857", paidOn: "2024-03-31"},
	}
	allocated := map[int64]string{}
	for _, p := range partners {
		p.user, p.token = w.user(p.userid, p.name)
		p.id = holdingtest.Partner(t, w.deps.DB, p.user)
		allocated[p.id] = p.amount
		// A confirmed payout account (分配账户): no batch paying a partner
		// without one may be submitted.
		acc := w.call(p.token, "PUT", "/api/v1/me/payout-account", map[string]any{
			"bank": "招商银行", "branch": "常州分行", "holder": p.name, "number": fmt.Sprintf("62148302%08d", p.user), "version": 0,
		}, 200)
		w.call(p.token, "POST", "/api/v1/me/payout-account/confirm", map[string]any{"version": acc["version"]}, 200)
	}
	round := strconv.FormatInt(holdingtest.Round(t, w.deps.DB, pid, "approved", allocated), 10)
	for _, p := range partners {
		w.callKey(acct, "pay-"+p.userid, "POST", "/api/v1/rounds/"+round+"/payments",
			map[string]any{"user_id": p.user, "amount": p.amount, "paid_on": p.paidOn}, 201)
	}
	// The actual peak (实际资金峰值确认), agreed in DingTalk.
	peak := w.call(acct, "POST", "/api/v1/projects/"+proj+"/actual-peaks",
		map[string]any{"actual_peak_capital": "220000000.00", "reason": "项目实际资金峰值"}, 201)
	w.agree(acct, proj, "actual_peak", int64(peak["id"].(float64)))

	_, biz := w.user("biz_dist", "业务管理员甲", "bizadmin")
	today := time.Now().In(civil.Shanghai)
	distDate := civil.Of(today.AddDate(0, 0, 7)).String()
	recordDate := civil.Of(today).String()

	if err := chromedp.Do(ctx, chromedp.Navigate(w.srv.URL+"/login")); err != nil {
		t.Fatal(err)
	}
	consoleErrors(t, ctx)
	cookie := func(token string) chromedp.Action[chromedp.Void] {
		return chromedp.Evaluate[chromedp.Void](`document.cookie = "hehuo_session=` + token + `; path=/"; undefined`)
	}
	page := w.srv.URL + "/distribution?project=" + proj
	run(t, ctx, "new principal batch",
		cookie(w.session("acct_huanhu")),
		chromedp.Navigate(page),
		chromedp.WaitVisible(`[data-test=dist-stages]`),
		chromedp.WaitVisible(`//*[@data-test="dist-peaks-table"]//tr[contains(.,"220,000,000.00")]`),
		clickUntil(`[data-test=dist-new]`, `[data-test=dist-batch-dialog]`),
		chromedp.SendKeys(`[data-test=dist-batch-date]`, distDate+"\r"),
		chromedp.SendKeys(`[data-test=dist-batch-record-date]`, recordDate+"\r"),
		chromedp.Click(`[data-test=dist-batch-submit]`),
		chromedp.WaitVisible(`//*[@data-test="dist-title"][contains(.,"本金分配")]`),
		chromedp.WaitVisible(`//*[@data-test="dist-status"][@data-status="draft"]`),
	)
	run(t, ctx, "calculate and save",
		chromedp.Click(`[data-test=dist-calculate]`),
		chromedp.WaitVisible(`//*[@data-test="dist-status"][@data-status="calculated"]`),
		chromedp.Click(`[data-test=dist-save]`),
		chromedp.WaitVisible(`//*[@data-test="dist-status"][@data-status="saved"]`),
	)
	// R6's example: D = A × 100 % + B, to the fen, and the 合计 row.
	want := map[int64][3]string{
		partners[0].id: {"500,000.00", "0.00", "500,000.00"},
		partners[1].id: {"300,000.00", "-679.32", "299,320.68"},
		partners[2].id: {"297,143.00", "-1,593.58", "295,549.42"},
		partners[3].id: {"222,857.00", "-796.79", "222,060.21"},
	}
	for id, v := range want {
		for i, col := range []string{"a", "b", "d"} {
			got := read(t, ctx, chromedp.Text(fmt.Sprintf(`[data-test=dist-%s-%d]`, col, id)))
			if strings.TrimSpace(got) != v[i] {
				t.Errorf("partner %d column %s shows %q, want %s", id, col, got, v[i])
			}
		}
	}
	for col, v := range map[string]string{"a": "1,320,000.00", "b": "-3,069.69", "d": "1,316,930.31", "e": "1,316,930.31"} {
		got := read(t, ctx, chromedp.Text(`[data-test=dist-sum-`+col+`]`))
		if strings.TrimSpace(got) != v {
			t.Errorf("合计 %s shows %q, want %s", col, got, v)
		}
	}
	// The trace of a figure opens beside it.
	run(t, ctx, "trace of D",
		reveal(fmt.Sprintf(`[data-test=dist-d-%d]`, partners[1].id)),
		settle,
		chromedp.Click(fmt.Sprintf(`[data-test=dist-d-%d]`, partners[1].id)),
		chromedp.WaitVisible(`//*[@data-test="trace"][contains(.,"299,320.68")]`),
	)

	// A project has one open batch at a time: the profit batch is another
	// project's, 泰安-锦艺誉峯, where the same four partners paid in full.
	var city int64
	if err := w.deps.DB.Get(&city, `SELECT city_company_id FROM projects WHERE id = $1`, pid); err != nil {
		t.Fatal(err)
	}
	proj2 := idOf(w.call(admin, "POST", "/api/v1/projects", map[string]any{
		"name": "泰安-锦艺誉峯", "city_company_id": city, "land_acquired_on": "2019-12-30", "is_open": true,
	}, 201)["id"])
	pid2, _ := strconv.ParseInt(proj2, 10, 64)
	holdingtest.Round(t, w.deps.DB, pid2, "approved", allocated)
	for _, p := range partners {
		holdingtest.Pay(t, w.deps.DB, pid2, p.id, p.amount)
	}
	page = w.srv.URL + "/distribution?project=" + proj2

	// A first profit batch of 100,000.00, unlocked by the business admin.
	profit := w.call(acct, "POST", "/api/v1/projects/"+proj2+"/distributions", map[string]any{
		"kind": "profit", "distribution_date": distDate, "record_date": recordDate, "amount": "100000.00",
	}, 201)
	batch := idOf(profit["id"])
	run(t, ctx, "解锁编辑",
		cookie(w.session("biz_dist")),
		chromedp.Navigate(page+"&batch="+batch),
		chromedp.WaitVisible(`//*[@data-test="dist-title"][contains(.,"第1次利润分配")]`),
		clickUntil(`[data-test=dist-unlock]`, `[data-test=dist-unlocked]`),
	)
	// R7's split, typed into the batch's own template.
	split := map[string]string{"甲": "37878.79", "乙": "22727.27", "丙": "22510.83", "丁": "16883.11"}
	sheet := fillTemplate(t, w.get(acct, "/api/v1/distributions/"+batch+"/template.xlsx"), split)
	run(t, ctx, "导入",
		cookie(w.session("acct_huanhu")),
		chromedp.Navigate(page+"&batch="+batch),
		chromedp.WaitVisible(`[data-test=dist-unlocked]`),
		clickUntil(`[data-test=dist-import-open]`, `[data-test=dist-import-file]`),
		chromedp.SetUploadFiles(`[data-test=dist-import-file] input[type=file]`, []string{sheet}),
		chromedp.Click(`[data-test=dist-import-submit]:not(.is-disabled)`),
		chromedp.WaitNotVisible(`[data-test=dist-import-dialog]`),
		chromedp.WaitVisible(fmt.Sprintf(`[data-test=dist-manual-f-%d]`, partners[0].id)),
	)
	for i, p := range partners {
		got := read(t, ctx, chromedp.Value(fmt.Sprintf(`[data-test=dist-f-input-%d]`, p.id)))
		if wantF := []string{"37878.79", "22727.27", "22510.83", "16883.11"}[i]; strings.ReplaceAll(got, ",", "") != wantF {
			t.Errorf("%s's F shows %q, want %s", p.name, got, wantF)
		}
	}
	sum := read(t, ctx, chromedp.Text(`[data-test=dist-sum-f]`))
	if strings.TrimSpace(sum) != "100,000.00" {
		t.Errorf("合计 F shows %q, want 100,000.00", sum)
	}
	run(t, ctx, "退出编辑 and save",
		chromedp.Click(`[data-test=dist-lock]`),
		chromedp.WaitNotPresent(`[data-test=dist-unlocked]`),
		chromedp.WaitVisible(fmt.Sprintf(`//*[@data-test="dist-f-%d"][contains(.,"37,878.79")]`, partners[0].id)),
		chromedp.Click(`[data-test=dist-calculate]`),
		chromedp.WaitVisible(`//*[@data-test="dist-status"][@data-status="calculated"]`),
		chromedp.Click(`[data-test=dist-save]`),
		chromedp.WaitVisible(`//*[@data-test="dist-status"][@data-status="saved"]`),
		chromedp.WaitVisible(fmt.Sprintf(`//*[@data-test="dist-f-%d"][contains(.,"37,878.79")]`, partners[0].id)),
	)

	// Both batches to approval, through the API: submitted, reviewed by the
	// business admin, their processes agreed in DingTalk.
	batches := w.call(acct, "GET", "/api/v1/projects/"+proj+"/distributions", nil, 200)["items"].([]any)
	if len(batches) != 1 {
		t.Fatalf("常州项目 has %d batches, want the principal one", len(batches))
	}
	principal := idOf(batches[0].(map[string]any)["id"])
	w.approve(acct, biz, proj, principal, "principal_distribution")
	w.approve(acct, biz, proj2, batch, "profit_distribution")

	// 乙 opens 我的分配 on the phone (免登 in the simulator): R6's E and R7's
	// F of 乙's lines, to the fen, each with its date and payout status.
	yi := partners[1]
	run(t, ctx, "H5 我的分配",
		chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile),
		chromedp.Navigate(w.srv.URL+"/m/distributions?dtsim="+url.QueryEscape(w.sim.URL)+"&dtsim_user="+yi.userid),
		chromedp.WaitVisible(`[data-test=h5-distribution-`+principal+`]`),
		chromedp.WaitVisible(`[data-test=h5-distribution-`+batch+`]`),
	)
	shown := read(t, ctx, chromedp.Evaluate[[]h5Line](h5Lines))
	mine := []h5Line{ // one distribution date: the newer batch first
		{Test: "h5-distribution-" + batch, Title: "泰安-锦艺誉峯 · 第1次利润分配", Cells: map[string]string{
			"分配日期": distDate, "利润分配": "22,727.27 元", "本次分配合计": "22,727.27 元", "状态": "待支付"}},
		{Test: "h5-distribution-" + principal, Title: "常州项目 · 本金分配", Cells: map[string]string{
			"分配日期": distDate, "返还本金": "299,320.68 元", "本次分配合计": "299,320.68 元", "状态": "待支付"}},
	}
	if !reflect.DeepEqual(shown, mine) {
		t.Errorf("乙's 我的分配 shows\n%+v\nwant\n%+v", shown, mine)
	}
}
