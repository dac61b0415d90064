package dingtalk_test

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"hehuo/internal/cache/cachetest"
	"hehuo/internal/dingtalk"
	"hehuo/internal/dtsim"
	"hehuo/internal/dtsim/dtsimtest"
)

const (
	pathToken     = "/v1.0/oauth2/accessToken"
	pathUserGet   = "/topapi/v2/user/get"
	pathAsyncSend = "/topapi/message/corpconversation/asyncsend_v2"
	pathBatchSend = "/v1.0/robot/oToMessages/batchSend"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// newClient starts a simulator and returns a client of its app with a
// private Redis prefix; retries wait 10 ms instead of a second.
func newClient(t testing.TB, opts ...dingtalk.Option) (*dingtalk.Client, *dtsimtest.Server) {
	t.Helper()
	srv := dtsimtest.Start(t)
	all := append([]dingtalk.Option{dingtalk.WithLogger(quiet), dingtalk.WithBackoff(10*time.Millisecond, 3)}, opts...)
	return dingtalk.New(srv.DingTalkConfig(), cachetest.New(t), all...), srv
}

func addUsers(srv *dtsimtest.Server, n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("u%03d", i+1)
		srv.AddUser(dtsim.User{UserID: ids[i], Name: fmt.Sprintf("员工%d", i+1)})
	}
	return ids
}

func asError(t *testing.T, err error) *dingtalk.Error {
	t.Helper()
	var e *dingtalk.Error
	if !errors.As(err, &e) {
		t.Fatalf("err = %v (%T), want a *dingtalk.Error", err, err)
	}
	return e
}

func TestTokenFetchedOnceByConcurrentCalls(t *testing.T) {
	srv := dtsimtest.Start(t)
	addUsers(srv, 1)
	c := cachetest.New(t)
	// Two instances sharing Redis: singleflight covers each, the Redis lock both.
	a := dingtalk.New(srv.DingTalkConfig(), c, dingtalk.WithLogger(quiet), dingtalk.WithRateLimit(0))
	b := dingtalk.New(srv.DingTalkConfig(), c, dingtalk.WithLogger(quiet), dingtalk.WithRateLimit(0))
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for i := range 100 {
		cl := a
		if i%2 == 1 {
			cl = b
		}
		wg.Go(func() {
			if _, err := cl.User(ctx, "u001"); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	st := srv.Stats()
	if st[pathToken] != 1 {
		t.Errorf("token requests = %d, want 1", st[pathToken])
	}
	if st[pathUserGet] != 100 {
		t.Errorf("user/get calls = %d, want 100", st[pathUserGet])
	}
}

func TestExpiredTokenIsRefreshedOnce(t *testing.T) {
	cl, srv := newClient(t)
	addUsers(srv, 1)
	ctx := context.Background()
	if _, err := cl.User(ctx, "u001"); err != nil {
		t.Fatal(err)
	}
	srv.ExpireTokens()
	srv.ResetStats()
	u, err := cl.User(ctx, "u001") // old family: 40014
	if err != nil {
		t.Fatalf("User after ExpireTokens: %v", err)
	}
	if u.Name != "员工1" {
		t.Errorf("name = %q", u.Name)
	}
	st := srv.Stats()
	if st[pathToken] != 1 || st[pathUserGet] != 2 {
		t.Errorf("token requests = %d, user/get calls = %d; want 1 and 2", st[pathToken], st[pathUserGet])
	}
	srv.ExpireTokens()
	srv.ResetStats()
	if _, err := cl.SendGroupMessage(ctx, "cid-group-demo", dingtalk.Text("hi")); err != nil { // new family: HTTP 401
		t.Fatalf("SendGroupMessage after ExpireTokens: %v", err)
	}
	if st := srv.Stats(); st[pathToken] != 1 {
		t.Errorf("token requests = %d, want 1", st[pathToken])
	}
}

func TestBadCredentialsAreNotRetried(t *testing.T) {
	srv := dtsimtest.Start(t)
	cfg := srv.DingTalkConfig()
	cfg.AppSecret = "wrong"
	cl := dingtalk.New(cfg, cachetest.New(t), dingtalk.WithLogger(quiet), dingtalk.WithBackoff(time.Millisecond, 3))
	_, err := cl.User(context.Background(), "u001")
	if e := asError(t, err); e.Code != "invalidClientIdOrSecret" {
		t.Errorf("code = %q, want invalidClientIdOrSecret", e.Code)
	}
	if n := srv.Stats()[pathToken]; n != 1 {
		t.Errorf("token requests = %d, want 1", n)
	}
}

func TestWorkNoticeTo250UsersTakesThreeCalls(t *testing.T) {
	cl, srv := newClient(t)
	ids := addUsers(srv, 250)
	msg := dingtalk.Markdown("认购通知", "## 项目A 开放认购")
	// Repeats and blanks are dropped, not sent twice.
	tasks, err := cl.SendWorkNotice(context.Background(), append(ids, "u001", " "), msg)
	if err != nil {
		t.Fatal(err)
	}
	if got := srv.Stats()[pathAsyncSend]; got != 3 {
		t.Errorf("asyncsend_v2 calls = %d, want 3", got)
	}
	if len(tasks) != 3 || len(tasks[0].UserIDs) != 100 || len(tasks[1].UserIDs) != 100 || len(tasks[2].UserIDs) != 50 {
		t.Fatalf("tasks = %d (%v), want 100+100+50 users", len(tasks), tasks)
	}
	taskOf := map[string]int64{}
	for _, tk := range tasks {
		for _, u := range tk.UserIDs {
			taskOf[u] = tk.TaskID
		}
	}
	for _, u := range ids {
		ns := srv.Notices(u)
		if len(ns) != 1 || ns[0].Dropped || ns[0].TaskID != taskOf[u] {
			t.Fatalf("notices of %s = %+v, want one of task %d", u, ns, taskOf[u])
		}
		var got struct {
			Markdown struct{ Title, Text string }
		}
		json.Unmarshal(ns[0].Msg, &got)
		if got.Markdown.Title != "认购通知" || got.Markdown.Text != "## 项目A 开放认购" {
			t.Fatalf("notice of %s = %s", u, ns[0].Msg)
		}
	}
	res, err := cl.NoticeResult(context.Background(), tasks[2].TaskID)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Unread) != 50 || len(res.Forbidden)+len(res.ForbiddenList) != 0 {
		t.Errorf("result = %+v, want 50 unread", res)
	}
}

func TestWorkNoticeSameContentTwiceIsForbidden(t *testing.T) {
	cl, srv := newClient(t)
	addUsers(srv, 2)
	ctx := context.Background()
	msg := dingtalk.Text("缴款通知：项目A")
	if _, err := cl.SendWorkNotice(ctx, []string{"u001"}, msg); err != nil {
		t.Fatal(err)
	}
	tasks, err := cl.SendWorkNotice(ctx, []string{"u001", "u002"}, msg)
	if err != nil {
		t.Fatal(err)
	}
	res, err := cl.NoticeResult(ctx, tasks[0].TaskID)
	if err != nil {
		t.Fatal(err)
	}
	want := []dingtalk.Forbidden{{Code: "143106", UserID: "u001"}}
	if len(res.ForbiddenList) != 1 || res.ForbiddenList[0] != want[0] || len(res.Unread) != 1 || res.Unread[0] != "u002" {
		t.Errorf("result = %+v, want u001 forbidden 143106 and u002 unread", res)
	}
}

// failAfter is an http transport that makes the simulator fail every call
// once n calls to path went through, to interrupt a multi-call send.
type failAfter struct {
	srv  *dtsimtest.Server
	path string
	n    int
	mu   sync.Mutex
}

func (f *failAfter) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(r)
	f.mu.Lock()
	defer f.mu.Unlock()
	if r.URL.Path == f.path {
		if f.n--; f.n == 0 {
			f.srv.SetFaults(dtsim.Faults{ErrorRate: 1})
		}
	}
	return resp, err
}

func TestWorkNoticeReportsPartialProgress(t *testing.T) {
	srv := dtsimtest.Start(t)
	ids := addUsers(srv, 150)
	hc := &http.Client{Transport: &failAfter{srv: srv, path: pathAsyncSend, n: 1}}
	cl := dingtalk.New(srv.DingTalkConfig(), cachetest.New(t), dingtalk.WithLogger(quiet),
		dingtalk.WithBackoff(time.Millisecond, 2), dingtalk.WithHTTPClient(hc))
	tasks, err := cl.SendWorkNotice(context.Background(), ids, dingtalk.Text("分配通知"))
	if err == nil || !dingtalk.IsTemporary(err) {
		t.Fatalf("err = %v, want a temporary error", err)
	}
	if len(tasks) != 1 || len(tasks[0].UserIDs) != 100 || tasks[0].UserIDs[0] != "u001" {
		t.Fatalf("tasks = %v, want the first 100 users sent", tasks)
	}
	if got := srv.Stats()[pathAsyncSend]; got != 4 { // 1 sent + 1 failed + 2 retries
		t.Errorf("asyncsend_v2 calls = %d, want 4", got)
	}
	if len(srv.Notices("u101")) != 0 || len(srv.Notices("u100")) != 1 {
		t.Error("u001–u100 should have the notice and u101–u150 not")
	}
}

func TestWorkNoticeTooLongIsRefusedBeforeSending(t *testing.T) {
	cl, srv := newClient(t)
	addUsers(srv, 1)
	_, err := cl.SendWorkNotice(context.Background(), []string{"u001"}, dingtalk.Text(strings.Repeat("长", 700)))
	if err == nil || !strings.Contains(err.Error(), "2048") {
		t.Fatalf("err = %v, want the 2048-byte limit", err)
	}
	if got := srv.Stats()[pathAsyncSend]; got != 0 {
		t.Errorf("asyncsend_v2 calls = %d, want 0", got)
	}
}

func TestWebhookSignature(t *testing.T) {
	cl, srv := newClient(t)
	srv.AddRobot(dtsim.Robot{Name: "城市公司A会计群", AccessToken: "robot-a", Secret: "SECgood", Conversation: "cid-a"})
	wh := dingtalk.Webhook{URL: srv.URL + "/robot/send?access_token=robot-a", Secret: "SECwrong"}
	ctx := context.Background()
	err := cl.SendWebhook(ctx, wh, dingtalk.Text("到账汇总"))
	e := asError(t, err)
	if e.Code != "310000" || !dingtalk.IsRobotSignature(err) || dingtalk.IsTemporary(err) {
		t.Errorf("err = %v, want 310000, a robot signature error, not temporary", err)
	}
	if !strings.Contains(err.Error(), "robot signature refused (sign not match): check the robot secret") {
		t.Errorf("message = %q, want it to name the robot secret", err.Error())
	}
	if strings.Contains(err.Error(), "SECwrong") {
		t.Errorf("message %q leaks the secret", err.Error())
	}
	if n := len(srv.RobotMessages()); n != 0 {
		t.Fatalf("robot messages = %d, want 0", n)
	}

	wh.Secret = "SECgood"
	if err := cl.SendWebhook(ctx, wh, dingtalk.Markdown("到账", "#### 今日到账 @u001"), &dingtalk.At{UserIDs: []string{"u001"}}); err != nil {
		t.Fatal(err)
	}
	msgs := srv.RobotMessages()
	if len(msgs) != 1 || msgs[0].Robot != "城市公司A会计群" || msgs[0].Conversation != "cid-a" {
		t.Fatalf("robot messages = %+v", msgs)
	}
	var body struct {
		MsgType  string
		Markdown struct{ Title, Text string }
		At       struct{ AtUserIds []string }
	}
	json.Unmarshal(msgs[0].Msg, &body)
	if body.MsgType != "markdown" || body.Markdown.Text != "#### 今日到账 @u001" || len(body.At.AtUserIds) != 1 {
		t.Errorf("robot message = %s", msgs[0].Msg)
	}

	err = cl.SendWebhook(ctx, dingtalk.Webhook{URL: srv.URL + "/robot/send?access_token=nope"}, dingtalk.Text("x"))
	if e := asError(t, err); e.Code != "300001" {
		t.Errorf("unknown robot: code = %q, want 300001", e.Code)
	}
	if err := cl.SendWebhook(ctx, dingtalk.Webhook{URL: "robot-a"}, dingtalk.Text("x")); err == nil {
		t.Error("a webhook URL that is not absolute should be refused")
	}
}

func TestThrottledCallsSucceedThroughRetries(t *testing.T) {
	cl, srv := newClient(t, dingtalk.WithRateLimit(0))
	addUsers(srv, 30)
	srv.SetSeed(7)
	srv.SetFaults(dtsim.Faults{ThrottleRate: 0.3})
	ctx := context.Background()
	for i := range 30 {
		id := fmt.Sprintf("u%03d", i+1)
		if _, err := cl.User(ctx, id); err != nil {
			t.Fatalf("User %s: %v", id, err)
		}
		if _, err := cl.SendRobotToUsers(ctx, []string{id}, dingtalk.Text("hi")); err != nil {
			t.Fatalf("SendRobotToUsers %s: %v", id, err)
		}
	}
	st := srv.Stats()
	if st[pathUserGet] <= 30 || st[pathBatchSend] <= 30 {
		t.Errorf("user/get = %d, batchSend = %d: want retries beyond 30 each", st[pathUserGet], st[pathBatchSend])
	}
}

func TestThrottledForGoodGivesUpAfterThreeRetries(t *testing.T) {
	cl, srv := newClient(t)
	addUsers(srv, 1)
	ctx := context.Background()
	if _, err := cl.AccessToken(ctx); err != nil {
		t.Fatal(err)
	}
	srv.SetFaults(dtsim.Faults{ThrottleRate: 1})
	_, err := cl.User(ctx, "u001")
	if !dingtalk.IsThrottled(err) || asError(t, err).Code != "90018" {
		t.Errorf("old family: err = %v, want 90018 throttled", err)
	}
	_, err = cl.SendRobotToUsers(ctx, []string{"u001"}, dingtalk.Text("x"))
	if e := asError(t, err); !dingtalk.IsThrottled(err) || e.HTTPStatus != http.StatusForbidden {
		t.Errorf("new family: err = %v, want HTTP 403 throttled", err)
	}
	st := srv.Stats()
	if st[pathUserGet] != 4 || st[pathBatchSend] != 4 {
		t.Errorf("user/get = %d, batchSend = %d; want 4 each (1 + 3 retries)", st[pathUserGet], st[pathBatchSend])
	}
	if got := callCount(t, cl, pathUserGet, "throttled"); got != 4 {
		t.Errorf("metric calls{api=user/get,outcome=throttled} = %v, want 4", got)
	}
}

// callCount reads the client's call counter for api and outcome.
func callCount(t *testing.T, cl *dingtalk.Client, api, outcome string) float64 {
	t.Helper()
	reg := prometheus.NewRegistry()
	reg.MustRegister(cl.Collector())
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["api"] == api && labels["outcome"] == outcome {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}

func TestBusyIsRetried(t *testing.T) {
	cl, srv := newClient(t, dingtalk.WithRateLimit(0))
	addUsers(srv, 1)
	srv.SetSeed(3)
	srv.SetFaults(dtsim.Faults{ErrorRate: 0.3})
	ctx := context.Background()
	for range 20 {
		if _, err := cl.User(ctx, "u001"); err != nil {
			t.Fatal(err)
		}
		if _, err := cl.SendGroupMessage(ctx, "cid-group-demo", dingtalk.Text("x")); err != nil {
			t.Fatal(err)
		}
	}
}

func TestSignInByAuthCode(t *testing.T) {
	cl, srv := newClient(t)
	srv.AddUser(dtsim.User{UserID: "manager4220", Name: "张三", Admin: true})
	code, err := srv.AuthCode("manager4220")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	u, err := cl.UserByAuthCode(ctx, code)
	if err != nil {
		t.Fatal(err)
	}
	if want := (dingtalk.UserInfo{UserID: "manager4220", Name: "张三", UnionID: "union-manager4220", IsAdmin: true}); u != want {
		t.Errorf("user = %+v, want %+v", u, want)
	}
	_, err = cl.UserByAuthCode(ctx, code)
	if !dingtalk.IsInvalidAuthCode(err) {
		t.Errorf("reused code: err = %v, want IsInvalidAuthCode", err)
	}
	if _, err := cl.UserByAuthCode(ctx, "made-up"); !dingtalk.IsInvalidAuthCode(err) {
		t.Errorf("unknown code: err = %v, want IsInvalidAuthCode", err)
	}
}

func TestUserDetailAndNotFound(t *testing.T) {
	cl, srv := newClient(t)
	srv.AddDepartment(dtsim.Department{ID: 10, ParentID: 1, Name: "财务部"})
	srv.AddUser(dtsim.User{UserID: "u1", Name: "李四", Mobile: "13800000001", DeptID: 10, Title: "会计", JobNumber: "A001", ManagerUserID: "boss"})
	ctx := context.Background()
	u, err := cl.User(ctx, "u1")
	if err != nil {
		t.Fatal(err)
	}
	if u.UserID != "u1" || u.Name != "李四" || u.Mobile != "13800000001" || u.Title != "会计" || u.JobNumber != "A001" ||
		u.ManagerUserID != "boss" || u.UnionID != "union-u1" || !u.Active || len(u.DeptIDs) != 1 || u.DeptIDs[0] != 10 {
		t.Errorf("user = %+v", u)
	}
	_, err = cl.User(ctx, "nobody")
	if !dingtalk.IsUserNotFound(err) {
		t.Errorf("err = %v, want IsUserNotFound", err)
	}
}

func TestRobotToUsersIn20s(t *testing.T) {
	cl, srv := newClient(t)
	ids := addUsers(srv, 45)
	keys, err := cl.SendRobotToUsers(context.Background(), ids, dingtalk.Markdown("催缴", "请尽快缴款"))
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 3 || srv.Stats()[pathBatchSend] != 3 {
		t.Errorf("keys = %d, batchSend calls = %d; want 3 and 3", len(keys), srv.Stats()[pathBatchSend])
	}
	got := map[string]bool{}
	for _, m := range srv.RobotMessages() {
		got[m.Conversation] = true
	}
	for _, id := range ids {
		if !got["oto:"+id] {
			t.Fatalf("%s did not get the message", id)
		}
	}
}

func TestGroupMessage(t *testing.T) {
	cl, srv := newClient(t)
	key, err := cl.SendGroupMessage(context.Background(), "cid-group-demo", dingtalk.ActionCard("审批结果", "已同意", "查看", "https://h/x"))
	if err != nil || key == "" {
		t.Fatalf("key = %q, err = %v", key, err)
	}
	msgs := srv.RobotMessages()
	if len(msgs) != 1 || msgs[0].Robot != srv.App().RobotCode || msgs[0].Conversation != "cid-group-demo" {
		t.Fatalf("robot messages = %+v", msgs)
	}
	var m struct {
		MsgKey   string
		MsgParam map[string]string
	}
	json.Unmarshal(msgs[0].Msg, &m)
	if m.MsgKey != "sampleActionCard" || m.MsgParam["singleURL"] != "https://h/x" {
		t.Errorf("message = %s", msgs[0].Msg)
	}
}

func TestApprovalStartAndGet(t *testing.T) {
	cl, srv := newClient(t)
	addUsers(srv, 2)
	ctx := context.Background()
	form := []dingtalk.FormValue{{Name: "项目", Value: "项目A"}, {Name: "资金峰值", Value: "120000000.00"}}
	id, err := cl.StartApproval(ctx, dingtalk.ApprovalRequest{ProcessCode: "PROC-PEAK", OriginatorUserID: "u001", Form: form,
		Approvers: []dingtalk.Approver{{ActionType: "NONE", UserIDs: []string{"u002"}}}})
	if err != nil {
		t.Fatal(err)
	}
	running := srv.Approvals(dtsim.StatusRunning)
	if len(running) != 1 || running[0].InstanceID != id || running[0].ProcessCode != "PROC-PEAK" || running[0].Originator != "u001" {
		t.Fatalf("simulator approvals = %+v", running)
	}
	a, err := cl.Approval(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if a.InstanceID != id || a.Status != "RUNNING" || a.Result != "" || a.OriginatorUserID != "u001" ||
		a.CreateTime.IsZero() || !a.FinishTime.IsZero() || len(a.Form) != 2 || a.Form[1] != form[1] {
		t.Errorf("approval = %+v", a)
	}
	if _, err := srv.Decide(id, "agree"); err != nil {
		t.Fatal(err)
	}
	a, err = cl.Approval(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if a.Status != "COMPLETED" || a.Result != "agree" || a.FinishTime.IsZero() {
		t.Errorf("decided approval = %+v", a)
	}
	if _, err := cl.StartApproval(ctx, dingtalk.ApprovalRequest{ProcessCode: "PROC-PEAK"}); err == nil {
		t.Error("an approval without originator should be refused")
	}
}

func TestJSAPIConfigSignatureVerifies(t *testing.T) {
	cl, srv := newClient(t)
	ctx := context.Background()
	page := "http://hehuo.example.com:8080/m/?corpid=dingdemocorp"
	cfg, err := cl.JSAPIConfig(ctx, page+"#/home")
	if err != nil {
		t.Fatal(err)
	}
	ticket := srv.JSAPITicket()
	if ticket == "" {
		t.Fatal("the simulator issued no ticket")
	}
	sum := sha1.Sum([]byte("jsapi_ticket=" + ticket + "&noncestr=" + cfg.NonceStr + "&timestamp=" + cfg.TimeStamp + "&url=" + page))
	if want := hex.EncodeToString(sum[:]); cfg.Signature != want {
		t.Errorf("signature = %s, want %s", cfg.Signature, want)
	}
	app := srv.App()
	if cfg.AgentID != app.AgentID || cfg.CorpID != app.CorpID || cfg.Type != 0 || cfg.NonceStr == "" || len(cfg.JSAPIList) == 0 {
		t.Errorf("config = %+v", cfg)
	}
	if _, err := cl.JSAPIConfig(ctx, page); err != nil {
		t.Fatal(err)
	}
	if n := srv.Stats()["/get_jsapi_ticket"]; n != 1 {
		t.Errorf("ticket requests = %d, want 1 (cached)", n)
	}
}

func TestPCSignIn(t *testing.T) {
	cl, srv := newClient(t)
	srv.AddUser(dtsim.User{UserID: "u1", Name: "王五", Mobile: "13900000000"})
	login, err := url.Parse(cl.LoginURL("https://hehuo.example.com/api/v1/auth/dingtalk/callback", "st-1"))
	if err != nil {
		t.Fatal(err)
	}
	q := login.Query()
	if login.Path != "/oauth2/auth" || q.Get("client_id") != srv.App().AppKey || q.Get("state") != "st-1" ||
		q.Get("response_type") != "code" || q.Get("scope") != "openid" || q.Get("prompt") != "consent" ||
		q.Get("redirect_uri") != "https://hehuo.example.com/api/v1/auth/dingtalk/callback" {
		t.Errorf("login url = %s", login)
	}
	code, err := srv.OAuthCode("u1")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	tok, err := cl.UserAccessToken(ctx, code)
	if err != nil {
		t.Fatal(err)
	}
	me, err := cl.Me(ctx, tok)
	if err != nil {
		t.Fatal(err)
	}
	if me.Nick != "王五" || me.UnionID != "union-u1" || me.Mobile != "13900000000" {
		t.Errorf("me = %+v", me)
	}
	id, err := cl.UserIDByUnionID(ctx, me.UnionID)
	if err != nil || id != "u1" {
		t.Errorf("userid = %q, %v; want u1", id, err)
	}
	if _, err := cl.UserAccessToken(ctx, code); !dingtalk.IsInvalidAuthCode(err) {
		t.Errorf("reused code: err = %v, want IsInvalidAuthCode", err)
	}
	if _, err := cl.Me(ctx, "not-a-token"); err == nil {
		t.Error("a bad user token should be refused")
	}
}

func TestDirectory(t *testing.T) {
	cl, srv := newClient(t)
	srv.AddDepartment(dtsim.Department{ID: 10, ParentID: 1, Name: "财务部"})
	srv.AddDepartment(dtsim.Department{ID: 11, ParentID: 1, Name: "投资部"})
	srv.AddDepartment(dtsim.Department{ID: 12, ParentID: 10, Name: "资金组"})
	for i := range 230 {
		srv.AddUser(dtsim.User{UserID: fmt.Sprintf("f%03d", i), Name: "员工", DeptID: 10})
	}
	srv.AddUser(dtsim.User{UserID: "g1", Name: "组员", DeptID: 12})
	ctx := context.Background()
	ds, err := cl.Departments(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 2 || ds[0] != (dingtalk.Department{ID: 10, ParentID: 1, Name: "财务部"}) || ds[1].ID != 11 {
		t.Errorf("departments = %+v", ds)
	}
	users, err := cl.DepartmentUsers(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, u := range users {
		seen[u.UserID] = true
	}
	if len(users) != 230 || len(seen) != 230 || seen["g1"] {
		t.Errorf("users = %d (%d distinct, sub-department member included: %v), want 230", len(users), len(seen), seen["g1"])
	}
	if n := srv.Stats()["/topapi/v2/user/list"]; n != 3 {
		t.Errorf("user/list calls = %d, want 3 pages", n)
	}
}

func TestShortLivedTokenIsRefreshedBeforeItDies(t *testing.T) {
	srv := dtsimtest.Start(t, func(c *dtsim.Config) { c.TokenTTL = 2 * time.Second })
	addUsers(srv, 1)
	cl := dingtalk.New(srv.DingTalkConfig(), cachetest.New(t), dingtalk.WithLogger(quiet))
	ctx := context.Background()
	for range 3 {
		if _, err := cl.User(ctx, "u001"); err != nil {
			t.Fatal(err)
		}
		time.Sleep(600 * time.Millisecond)
	}
	// Cached for half its 2 s life, so refetched once on the way, and never
	// refused: no call had to be repeated.
	if st := srv.Stats(); st[pathToken] != 2 || st[pathUserGet] != 3 {
		t.Errorf("token requests = %d, user/get calls = %d; want 2 and 3", st[pathToken], st[pathUserGet])
	}
}

func TestClockSetsSignedTimestamps(t *testing.T) {
	fixed := time.Date(2026, 11, 26, 9, 30, 0, 0, time.UTC)
	cl, _ := newClient(t, dingtalk.WithClock(func() time.Time { return fixed }))
	cfg, err := cl.JSAPIConfig(context.Background(), "https://h/m/")
	if err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprint(fixed.Unix()); cfg.TimeStamp != want {
		t.Errorf("timeStamp = %s, want %s", cfg.TimeStamp, want)
	}
}

func TestDeliverCard(t *testing.T) {
	cl, srv := newClient(t)
	addUsers(srv, 1)
	ctx := context.Background()
	err := cl.DeliverCard(ctx, dingtalk.Card{TemplateID: "tpl-subscribe", OutTrackID: "subscription:12:7", UserID: "u001",
		Data: map[string]string{"status": "待确认"}, PrivateData: map[string]map[string]string{"u001": {"amount": "50000.00"}}})
	if err != nil {
		t.Fatal(err)
	}
	err = cl.DeliverCard(ctx, dingtalk.Card{TemplateID: "tpl-result", OutTrackID: "approval:9", OpenConversationID: "cid-group-demo",
		AtUserIDs: map[string]string{"u001": "员工1"}})
	if err != nil {
		t.Fatal(err)
	}
	cards := srv.Cards()
	if len(cards) != 2 {
		t.Fatalf("cards = %+v", cards)
	}
	c := cards[0]
	if c.OutTrackID != "subscription:12:7" || c.TemplateID != "tpl-subscribe" || c.OpenSpaceID != "dtv1.card//IM_ROBOT.u001" ||
		c.CallbackType != "STREAM" || c.CardParamMap["status"] != "待确认" || c.PrivateData["u001"]["amount"] != "50000.00" {
		t.Errorf("one-to-one card = %+v", c)
	}
	if cards[1].OpenSpaceID != "dtv1.card//IM_GROUP.cid-group-demo" {
		t.Errorf("group card = %+v", cards[1])
	}
	if err := cl.DeliverCard(ctx, dingtalk.Card{TemplateID: "t", OutTrackID: "x"}); err == nil {
		t.Error("a card for neither a user nor a group should be refused")
	}
}
