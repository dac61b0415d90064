package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"hehuo/internal/audit"
	"hehuo/internal/auth"
	"hehuo/internal/cache/cachetest"
	"hehuo/internal/civil"
	"hehuo/internal/config"
	"hehuo/internal/db/dbtest"
	"hehuo/internal/dtsim"
	"hehuo/internal/dtsim/dtsimtest"
	"hehuo/internal/org"
	roundsvc "hehuo/internal/round"
	"hehuo/internal/wire"
	"hehuo/microapp"
)

// liveServer is a running Hehuo over the whole service graph (wire.New), against
// a simulated DingTalk, with a JSON client for seeding through the API.
type liveServer struct {
	t    *testing.T
	srv  *httptest.Server
	sim  *dtsimtest.Server
	deps microapp.Deps
	wire *wire.Services // for what the server's background parts do (the stream bot's events)
}

// Each option adjusts the configuration before the services are built (a
// secret key for payout accounts, for example).
func newLiveServer(t *testing.T, options ...func(*config.Config)) *liveServer {
	t.Helper()
	d := dbtest.New(t)
	c := cachetest.New(t)
	sim := dtsimtest.Start(t)
	hs := httptest.NewUnstartedServer(nil)
	cfg := config.Default()
	cfg.HTTP.PublicURL = "http://" + hs.Listener.Addr().String()
	cfg.DingTalk = sim.DingTalkConfig()
	for _, o := range options {
		o(&cfg)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	ws := wire.New(cfg, d, c, log)
	deps := microapp.FromServices(cfg, d, c, log, "e2e", ws)
	if err := auth.EnsureBootstrap(context.Background(), d, "admin-pass-1", "bizadmin-pass-1"); err != nil {
		t.Fatal(err)
	}
	hs.Config.Handler = microapp.New(deps).Handler()
	hs.Start()
	t.Cleanup(hs.Close)
	return &liveServer{t: t, srv: hs, sim: sim, deps: deps, wire: ws}
}

// call sends one API request with a bearer token and wants status want.
func (w *liveServer) call(token, method, path string, body any, want int) map[string]any {
	w.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, w.srv.URL+path, rd)
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
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

// user adds a Hehuo user who is also in the simulated DingTalk, signed in.
func (w *liveServer) user(userid, name string, roles ...string) (int64, string) {
	w.t.Helper()
	w.sim.AddUser(dtsim.User{UserID: userid, Name: name})
	u, err := w.deps.Org.CreateUser(context.Background(), audit.System, org.UserInput{Name: name, DingTalkUserID: userid, Roles: roles})
	if err != nil {
		w.t.Fatal(err)
	}
	token, _, err := w.deps.Auth.SignInUser(context.Background(), u.ID)
	if err != nil {
		w.t.Fatal(err)
	}
	return u.ID, token
}

// session signs the user with DingTalk userid in once more: the browser gets
// its own session, so signing out there leaves the API token valid.
func (w *liveServer) session(userid string) string {
	w.t.Helper()
	var id int64
	if err := w.deps.DB.Get(&id, `SELECT id FROM users WHERE dingtalk_userid = $1`, userid); err != nil {
		w.t.Fatal(err)
	}
	token, _, err := w.deps.Auth.SignInUser(context.Background(), id)
	if err != nil {
		w.t.Fatal(err)
	}
	return token
}

// run does actions in order, each within 20 s; on a failure it names the
// step and shows the page's text, so a broken page says where it broke.
func run(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	for i, a := range actions {
		step, cancel := context.WithTimeout(ctx, 20*time.Second)
		err := chromedp.Do(step, a)
		cancel()
		if err != nil {
			body, _ := chromedp.Run(ctx, chromedp.Text(`body`))
			t.Fatalf("%s, step %d: %v\npage: %s", what, i+1, err, body)
		}
	}
}

func idOf(v any) string { return fmt.Sprint(int64(v.(float64))) }

// projectWithTerms builds 环沪城市公司 with 常州项目, its city accountant
// (granted the city company) and R1's terms, whose city pool is 1,320,000;
// → the admin's and the accountant's tokens and the project id.
func (w *liveServer) projectWithTerms() (admin, acct, proj string) {
	w.t.Helper()
	admin = w.call("", "POST", "/api/v1/auth/password", map[string]string{"username": "admin", "password": "admin-pass-1"}, 200)["token"].(string)
	unit := func(name, kind string, parent any) string {
		return idOf(w.call(admin, "POST", "/api/v1/org-units", map[string]any{"name": name, "kind": kind, "parent_id": parent}, 201)["id"])
	}
	group := unit("锦艺集团", "group", nil)
	property := unit("置业集团", "property", json.Number(group))
	city := unit("环沪城市公司", "city", json.Number(property))
	proj = idOf(w.call(admin, "POST", "/api/v1/projects", map[string]any{
		"name": "常州项目", "city_company_id": json.Number(city), "land_acquired_on": "2019-10-23", "is_open": true,
	}, 201)["id"])

	var acctID int64
	acctID, acct = w.user("acct_huanhu", "沈嘉禾", org.RoleAccountant)
	w.call(admin, "PUT", "/api/v1/org-units/"+city+"/grants",
		map[string]any{"grants": []map[string]any{{"role": "accountant", "user_ids": []int64{acctID}}}}, 200)

	w.call(acct, "PUT", "/api/v1/projects/"+proj+"/establishment", map[string]any{
		"peak_capital": "220000000.00",
		"tier_ratios":  map[string]string{"holding": "0", "property": "0.0331", "city": "0.006", "other": "0"},
		"funding_date": "2024-03-01", "financing_rate": "0.0435",
		"group_cap_ratio": "0.10", "per_person_cap_ratio": "0.01",
		"collection_account": map[string]string{"bank": "工商银行常州分行", "account_name": "常州锦艺合伙企业", "account_number": "1105020309000012345"},
		"version":            0,
	}, 200)
	return admin, acct, proj
}

// Must show: a partner subscribes on the H5 page (390×844, signed in by 免登
// in the simulator's phone), with the page refusing a fractional amount
// before the server sees it; then the city accountant runs 测算 in the
// console and reads the trace of that partner's line — RULES R3's example.
func TestH5SubscriptionAndConsoleAllocationTrace(t *testing.T) {
	ctx := browser(t)
	w := newLiveServer(t)

	_, acct, proj := w.projectWithTerms()

	// R3's four partners in the city tier; 丁 will subscribe on the phone.
	round := idOf(w.call(acct, "POST", "/api/v1/projects/"+proj+"/rounds", map[string]any{"kind": "initial"}, 201)["id"])
	deadline := civil.Of(time.Now().In(civil.Shanghai).AddDate(0, 0, 7)).String()
	type partner struct {
		userid, name      string
		mandatory         bool
		min, max, amount  string
		userID            int64
		token, invitation string
	}
	partners := []*partner{
		{userid: "p_a", name: "甲", mandatory: true, min: "500000", max: "1000000", amount: "500000"},
		{userid: "p_b", name: "乙", mandatory: true, min: "250000", max: "500000", amount: "300000"},
		{userid: "p_c", name: "丙", min: "100000", max: "500000", amount: "400000"},
		{userid: "p_d", name: "丁", min: "100000", max: "500000"},
	}
	for _, p := range partners {
		p.userID, p.token = w.user(p.userid, p.name)
		p.invitation = idOf(w.call(acct, "POST", "/api/v1/rounds/"+round+"/invitations", map[string]any{
			"user_id": p.userID, "tier": "city", "mandatory": p.mandatory,
			"min_amount": p.min, "max_amount": p.max, "deadline": deadline,
		}, 201)["id"])
	}
	w.call(acct, "POST", "/api/v1/rounds/"+round+"/notices/subscription", map[string]any{"test": false}, 200)
	for _, p := range partners[:3] {
		w.call(p.token, "PUT", "/api/v1/me/invitations/"+p.invitation+"/subscription",
			map[string]any{"amount": p.amount, "risk_acknowledged": true}, 200)
	}

	// 丁 on the phone, from the notice's link (/m/rounds/{id}, the same for
	// every recipient), which opens 丁's own invitation in the round.
	d := partners[3]
	page := w.srv.URL + "/m/rounds/" + round + "?dtsim=" + url.QueryEscape(w.sim.URL) + "&dtsim_user=" + d.userid
	// The first action starts the browser for ctx's lifetime, not a step's.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile)); err != nil {
		t.Fatal(err)
	}
	run(t, ctx, "H5 subscription",
		chromedp.Navigate(page),
		chromedp.WaitVisible(`[data-test=h5-invitation]`),
		chromedp.WaitVisible(`//*[@data-test="h5-project"][contains(.,"常州项目")]`),
		chromedp.Poll[chromedp.Void](`location.pathname === "/m/invitations/`+d.invitation+`"`),
		// Live validation: a fractional amount is refused on the page.
		chromedp.SendKeys(`#h5-amount`, "300000.5"),
		chromedp.WaitVisible(`//*[contains(@class,"van-field__error-message")][contains(.,"整数元")]`),
		// Deleting the fraction leaves 300000, which the page accepts.
		chromedp.SendKeys(`#h5-amount`, kb.Backspace+kb.Backspace),
		chromedp.WaitNotPresent(`.van-field__error-message`),
		chromedp.Click(`[data-test=h5-risk]`),
		chromedp.Click(`[data-test=h5-subscribe-submit]:not([disabled])`),
		chromedp.WaitVisible(`[data-test=h5-receipt]`),
	)
	receipt, err := chromedp.Run(ctx, chromedp.Text(`[data-test=h5-receipt-amount]`))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(receipt, "300,000") {
		t.Fatalf("receipt shows %q, want 300,000", receipt)
	}
	mine := w.call(d.token, "GET", "/api/v1/me/invitations", nil, 200)["items"].([]any)[0].(map[string]any)
	if mine["amount"] != "300000.00" || mine["risk_acknowledged"] != true {
		t.Fatalf("丁's invitation after the phone: %v", mine)
	}
	// The history page lists the subscription.
	run(t, ctx, "H5 history",
		chromedp.Click(`[data-test=h5-history-link]`),
		chromedp.WaitVisible(`//*[contains(@class,"h5-history-entry")][contains(.,"300,000")]`),
	)

	// The window closes (which allocates); the accountant reruns 测算 in the console.
	w.call(acct, "POST", "/api/v1/rounds/"+round+"/close", nil, 200)
	lineOf := func(name string) string {
		return `//tr[contains(@class,"allocation-row")][.//*[contains(@class,"allocation-row-name")][normalize-space(.)="` + name + `"]]`
	}
	run(t, ctx, "console 测算",
		chromedp.EmulateViewport(1400, 900),
		// The phone's 免登 left 丁's session cookie (HttpOnly); sign out first.
		chromedp.Navigate(w.srv.URL+"/"),
		chromedp.WaitVisible(`[data-test=logout]`),
		chromedp.Click(`[data-test=logout]`),
		chromedp.WaitVisible(`[data-test=login-username]`),
		chromedp.Evaluate[chromedp.Void](`document.cookie = "hehuo_session=`+w.session("acct_huanhu")+`; path=/"; undefined`),
		chromedp.Navigate(w.srv.URL+"/establishment/subscriptions?project="+proj),
		// Closing ran the first allocation (初次自动测算); it is shown at once,
		// not as a preview, and 测算 recalculates it.
		chromedp.WaitVisible(lineOf("丁")+`//*[@data-test="line-allocated"][normalize-space(.)="222,857.00"]`),
		chromedp.WaitNotPresent(`[data-test=allocation-preview]`),
		chromedp.Click(`[data-test=allocation-calculate]:not(.is-disabled)`),
		chromedp.WaitVisible(lineOf("丁")+`//*[@data-test="line-allocated"][normalize-space(.)="222,857.00"]`),
		chromedp.WaitVisible(lineOf("丙")+`//*[@data-test="line-allocated"][normalize-space(.)="297,143.00"]`),
		chromedp.WaitVisible(lineOf("甲")+`//*[@data-test="line-allocated"][normalize-space(.)="500,000.00"]`),
		chromedp.WaitVisible(lineOf("乙")+`//*[@data-test="line-allocated"][normalize-space(.)="300,000.00"]`),
		// 丁's line expands to its trace.
		chromedp.Click(lineOf("丁")+`//*[contains(@class,"el-table__expand-icon")]`),
		chromedp.WaitVisible(`[data-test=line-trace]`),
	)
	trace, err := chromedp.Run(ctx, chromedp.Text(`[data-test=line-trace]`))
	if err != nil {
		t.Fatal(err)
	}
	// R3: 520,000 left after the mandatory, split 400:300 among the voluntary.
	for _, want := range []string{"222,857", "300,000", "520,000", "700,000", "222,857.142857"} {
		if !strings.Contains(trace, want) {
			t.Errorf("丁's trace %q lacks %q", trace, want)
		}
	}
	tiers, err := chromedp.Run(ctx, chromedp.Text(`[data-test=tier-city]`))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(tiers, "1,320,000") {
		t.Errorf("the city tier shows %q, want its pool 1,320,000", tiers)
	}

	// An edit with its reason marks the line and leaves 857 of the pool over.
	run(t, ctx, "调整",
		chromedp.Click(lineOf("丁")+`//*[@data-test="line-edit"]`),
		chromedp.WaitVisible(`[data-test=line-allocated-input]`),
		chromedp.SendKeys(`[data-test=line-allocated-input]`, kb.End+strings.Repeat(kb.Backspace, 6)+"222000"),
		chromedp.SendKeys(`[data-test=line-reason]`, "本人申请减少"),
		chromedp.Click(`[data-test=line-save]:not(.is-disabled)`),
		chromedp.WaitVisible(lineOf("丁")+`//*[@data-test="line-allocated"][normalize-space(.)="222,000.00"]`),
		chromedp.WaitVisible(lineOf("丁")+`//*[@data-test="line-edited"]`),
		chromedp.WaitVisible(`//*[@data-test="tier-city"]//*[@data-test="tier-balance"][normalize-space(.)="857.00"]`),
	)
	got := w.call(acct, "GET", "/api/v1/rounds/"+round+"/allocation", nil, 200)
	for _, l := range got["lines"].([]any) {
		line := l.(map[string]any)
		if line["allocated"] == "222000.00" && (line["edited"] != true || line["reason"] != "本人申请减少") {
			t.Fatalf("丁's edited line: %v", line)
		}
	}
}

// The 合伙名单 tab end to end in the console: the accountant creates the
// initial round, uploads a bad sheet (nothing imported, the errors by row and
// column), adds a partner through the dialog (user search, limits,
// deadline), sends the subscription notice (the round opens and the notice is
// queued for the partner's DingTalk), and the partner's phone shows the
// invitation with a 待认购 badge. A 测算 on the open round is a preview that
// a later subscription makes stale. After the window closes and the
// allocation is submitted, the business admin sends it back with a reason in
// 方案审核, then approves it and follows 发起立项流程 to 流程.
func TestConsolePartnerListNoticeAndReview(t *testing.T) {
	ctx := browser(t)
	w := newLiveServer(t)
	_, acct, proj := w.projectWithTerms()
	_, dToken := w.user("p_d", "丁")

	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1400, 900)); err != nil {
		t.Fatal(err)
	}
	deadline := civil.Of(time.Now().In(civil.Shanghai).AddDate(0, 0, 7)).String()
	// A partner list with an unknown 工号 (row 2) and a row without one, with a fractional minimum (row 3).
	badSheet := writeSheet(t, "合伙名单.xlsx", roundsvc.ImportColumns, [][]any{
		{"E9999", "无此人", "城市公司", "否", "100000", "500000", deadline},
		{"", "丁", "城市公司", "否", "100000.5", "500000", deadline},
	})
	status := func(s string) chromedp.Action[chromedp.Void] {
		return chromedp.WaitVisible(`[data-test=round-status][data-status=` + s + `]`)
	}
	run(t, ctx, "合伙名单",
		chromedp.Navigate(w.srv.URL+"/login"),
		chromedp.Evaluate[chromedp.Void](`document.cookie = "hehuo_session=`+w.session("acct_huanhu")+`; path=/"; undefined`),
		chromedp.Navigate(w.srv.URL+"/establishment/partners?project="+proj),
		chromedp.WaitVisible(`[data-test=round-empty]`),
		chromedp.Click(`[data-test=round-new-initial]`),
		status("draft"),
		// A bad sheet: nothing imported, each bad cell named by row and column.
		chromedp.Click(`[data-test=invitation-import]`),
		chromedp.WaitVisible(`[data-test=invitation-import-file]`),
		chromedp.SetUploadFiles(`[data-test=invitation-import-file] input[type=file]`, []string{badSheet}),
		chromedp.Click(`[data-test=invitation-import-submit]:not(.is-disabled)`),
		chromedp.WaitVisible(`//*[@data-test="invitation-import-errors"]//tr[td[normalize-space(.)="2"]][td[normalize-space(.)="工号"]]`),
		chromedp.WaitVisible(`//*[@data-test="invitation-import-errors"]//tr[td[normalize-space(.)="3"]]`),
		chromedp.Click(`//*[contains(@class,"el-dialog")][.//*[@data-test="invitation-import-submit"]]//button[normalize-space(.)="关闭"]`),
		chromedp.WaitNotVisible(`[data-test=invitation-import-submit]`),
		chromedp.Click(`[data-test=invitation-new]`),
		chromedp.WaitVisible(`[data-test=invitation-min]`),
		// The partner is found by a remote search of the users.
		chromedp.Click(`[data-test=invitation-user]`),
		chromedp.SendKeys(`[data-test=invitation-user] input`, "丁"),
		chromedp.WaitVisible(`//*[@data-test="invitation-user"]//li[contains(@class,"el-select-dropdown__item")][contains(.,"丁")]`),
		chromedp.Sleep(200*time.Millisecond), // the dropdown's zoom-in transition
		chromedp.Click(`//*[@data-test="invitation-user"]//li[contains(@class,"el-select-dropdown__item")][contains(.,"丁")]`),
		chromedp.WaitVisible(`//*[@data-test="invitation-user"]//*[contains(@class,"el-select__selected-item")][contains(.,"丁")]`),
		chromedp.SendKeys(`[data-test=invitation-min]`, "100000"),
		chromedp.SendKeys(`[data-test=invitation-max]`, "500000"),
		chromedp.SendKeys(`[data-test=invitation-deadline]`, deadline+"\r"),
		chromedp.Click(`[data-test=invitation-save]`),
		chromedp.WaitVisible(`//*[@data-test="invitation-table"]//*[contains(@class,"invitation-row-name")][normalize-space(.)="丁"]`),
		chromedp.Click(`[data-test=notice-send]`),
		chromedp.WaitVisible(`.el-message-box__btns .el-button--primary`),
		chromedp.Click(`.el-message-box__btns .el-button--primary`),
		status("open"),
	)
	var queued int
	if err := w.deps.DB.Get(&queued, `SELECT count(*) FROM notify_outbox WHERE template = 'subscription_notice'`); err != nil {
		t.Fatal(err)
	}
	if queued != 1 {
		t.Fatalf("subscription notices queued: %d, want 1", queued)
	}
	var invited int
	if err := w.deps.DB.Get(&invited, `SELECT count(*) FROM invitations`); err != nil {
		t.Fatal(err)
	}
	if invited != 1 {
		t.Fatalf("invitations: %d, want 丁's only (the bad sheet imported nothing)", invited)
	}

	// The partner's phone: the open invitation, flagged for action.
	mine := w.call(dToken, "GET", "/api/v1/me/invitations", nil, 200)["items"].([]any)
	if len(mine) != 1 {
		t.Fatalf("丁 sees %d invitations, want 1", len(mine))
	}
	inv := idOf(mine[0].(map[string]any)["id"])
	run(t, ctx, "H5 home",
		chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile),
		chromedp.Navigate(w.srv.URL+"/m/?dtsim="+url.QueryEscape(w.sim.URL)+"&dtsim_user=p_d"),
		chromedp.WaitVisible(`[data-test=h5-action-badge]`),
		chromedp.WaitVisible(`//*[@data-test="h5-invitation-`+inv+`"][contains(.,"常州项目")][contains(.,"待认购")]`),
	)

	// 测算 while the window is open is a preview; a subscription after it
	// makes it stale, and the tab says so.
	signInAs := func(token string) chromedp.Action[chromedp.Void] {
		return chromedp.Steps(
			chromedp.EmulateViewport(1400, 900),
			chromedp.Navigate(w.srv.URL+"/"),
			chromedp.WaitVisible(`[data-test=logout]`),
			chromedp.Click(`[data-test=logout]`),
			chromedp.WaitVisible(`[data-test=login-username]`),
			chromedp.Evaluate[chromedp.Void](`document.cookie = "hehuo_session=`+token+`; path=/"; undefined`),
		)
	}
	run(t, ctx, "预览测算",
		signInAs(w.session("acct_huanhu")),
		chromedp.Navigate(w.srv.URL+"/establishment/subscriptions?project="+proj),
		chromedp.WaitVisible(`[data-test=allocation-empty]`),
		chromedp.Click(`[data-test=allocation-calculate]:not(.is-disabled)`),
		chromedp.WaitVisible(`[data-test=allocation-preview]`),
	)
	w.call(dToken, "PUT", "/api/v1/me/invitations/"+inv+"/subscription", map[string]any{"amount": "300000", "risk_acknowledged": true}, 200)
	run(t, ctx, "stale",
		chromedp.Reload(),
		chromedp.WaitVisible(`[data-test=allocation-stale]`),
	)

	// Closed, calculated and submitted; the admin sends it back.
	rounds := w.call(acct, "GET", "/api/v1/projects/"+proj+"/rounds", nil, 200)["items"].([]any)
	round := idOf(rounds[0].(map[string]any)["id"])
	w.call(acct, "POST", "/api/v1/rounds/"+round+"/close", nil, 200)
	w.call(acct, "POST", "/api/v1/rounds/"+round+"/allocation", nil, 200)
	w.call(acct, "POST", "/api/v1/rounds/"+round+"/submit", nil, 200)

	run(t, ctx, "方案审核",
		chromedp.EmulateViewport(1400, 900),
		chromedp.Navigate(w.srv.URL+"/"),
		chromedp.WaitVisible(`[data-test=logout]`),
		chromedp.Click(`[data-test=logout]`),
		chromedp.WaitVisible(`[data-test=login-username]`),
		chromedp.SendKeys(`[data-test=login-username]`, "hhadmin"),
		chromedp.SendKeys(`[data-test=login-password]`, "bizadmin-pass-1"),
		chromedp.Click(`[data-test=login-submit]`),
		chromedp.WaitVisible(`[data-test=logout]`),
		chromedp.Navigate(w.srv.URL+"/establishment/review?project="+proj),
		status("submitted"),
		chromedp.WaitVisible(`//*[@data-test="review-table"]//td[contains(.,"300,000.00")]`),
		chromedp.Click(`[data-test=review-reject]`),
		chromedp.WaitVisible(`[data-test=review-reason]`),
		chromedp.SendKeys(`[data-test=review-reason]`, "请核对强投人员"),
		chromedp.Click(`[data-test=review-reject-confirm]`),
		status("calculated"),
		chromedp.WaitVisible(`//*[@data-test="review-decision"][normalize-space(.)="退回"]`),
	)
	got := w.call(acct, "GET", "/api/v1/rounds/"+round, nil, 200)
	if got["review_decision"] != "reject" || got["review_reason"] != "请核对强投人员" {
		t.Fatalf("round after the review: %v", got)
	}

	// Submitted again and approved: the way to the establishment process opens.
	w.call(acct, "POST", "/api/v1/rounds/"+round+"/submit", nil, 200)
	run(t, ctx, "审核通过",
		chromedp.Reload(),
		status("submitted"),
		chromedp.WaitVisible(`//*[@data-test="round-status"][contains(.,"待审核")]`),
		chromedp.Click(`[data-test=review-approve]`),
		chromedp.WaitVisible(`.el-message-box__btns .el-button--primary`),
		chromedp.Click(`.el-message-box__btns .el-button--primary`),
		status("reviewed"),
		chromedp.WaitVisible(`//*[@data-test="review-decision"][normalize-space(.)="通过"]`),
		clickUntil(`[data-test=review-launch]`, `[data-test=process-table]`),
	)
	if loc, err := chromedp.Run(ctx, chromedp.Location()); err != nil || !strings.Contains(loc, "/process?") || !strings.Contains(loc, "kind=establishment") {
		t.Fatalf("发起立项流程 led to %q (%v), want 流程 with kind=establishment", loc, err)
	}
	// The launch dialog names the round's state in Chinese, not its code.
	run(t, ctx, "launch dialog",
		chromedp.WaitVisible(`//*[@data-test="launch-round"]//*[contains(.,"立项（审核通过）")]`),
	)
}
