package dtsim_test

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/open-dingtalk/dingtalk-stream-sdk-go/event"

	"hehuo/internal/dtsim"
	"hehuo/internal/dtsim/dtsimtest"
)

func TestFaultsAreReproducibleAndSpareControlPaths(t *testing.T) {
	outcomes := func(seed int64) string {
		s := dtsimtest.Start(t)
		s.SetSeed(seed)
		s.SetFaults(dtsim.Faults{ErrorRate: 0.3, ThrottleRate: 0.3})
		var b strings.Builder
		for range 30 {
			_, m := call(t, "GET", s.URL+"/gettoken?appkey="+s.App().AppKey+"&appsecret="+s.App().AppSecret, nil, nil)
			fmt.Fprint(&b, errcode(m), " ")
		}
		// The control API never fails.
		for range 20 {
			if status, _ := call(t, "GET", s.URL+"/sim/users", nil, nil); status != 200 {
				t.Fatalf("control API under faults: %d", status)
			}
		}
		return b.String()
	}
	a, b := outcomes(7), outcomes(7)
	if a != b {
		t.Fatalf("same seed, different outcomes:\n%s\n%s", a, b)
	}
	for _, want := range []string{"0 ", "-1 ", "90018 "} {
		if !strings.Contains(a, want) {
			t.Fatalf("outcomes %q lack %q", a, want)
		}
	}
}

func TestFaultShapesOfTheNewFamily(t *testing.T) {
	s := dtsimtest.Start(t)
	body := map[string]string{"appKey": s.App().AppKey, "appSecret": s.App().AppSecret}
	s.SetFaults(dtsim.Faults{ThrottleRate: 1})
	status, m := call(t, "POST", s.URL+"/v1.0/oauth2/accessToken", nil, body)
	if status != 403 || m["code"] != "Forbidden.AccessDenied.QpsLimitForAppkeyAndApi" {
		t.Fatalf("throttled: %d %v", status, m)
	}
	s.SetFaults(dtsim.Faults{ErrorRate: 1})
	status, m = call(t, "POST", s.URL+"/v1.0/oauth2/accessToken", nil, body)
	if status != 500 || m["code"] != "ServiceUnavailable" {
		t.Fatalf("busy: %d %v", status, m)
	}
	s.SetFaults(dtsim.Faults{LatencyMS: 150})
	start := time.Now()
	if status, _ := call(t, "POST", s.URL+"/v1.0/oauth2/accessToken", nil, body); status != 200 {
		t.Fatalf("with latency: %d", status)
	}
	if d := time.Since(start); d < 150*time.Millisecond {
		t.Fatalf("answered in %v, want at least 150ms", d)
	}
	st := s.Stats()
	if st["/v1.0/oauth2/accessToken"] != 3 {
		t.Fatalf("stats %v, want 3 accessToken calls", st)
	}
	s.ResetStats()
	if len(s.Stats()) != 0 {
		t.Fatalf("stats after reset %v", s.Stats())
	}
}

func TestControlAPI(t *testing.T) {
	s := dtsimtest.Start(t, fastRedelivery)
	status, m := call(t, "POST", s.URL+"/sim/users", nil, map[string]any{"userid": "zhangsan", "name": "张三", "mobile": "13800000001", "dept_id": 1, "title": "出纳"})
	if status != 200 || m["unionid"] != "union-zhangsan" {
		t.Fatalf("add user: %d %v", status, m)
	}
	if status, m := call(t, "POST", s.URL+"/sim/users", nil, map[string]any{"userid": ""}); status != 400 || m["message"] == "" {
		t.Fatalf("add user without id: %d %v", status, m)
	}
	_, m = call(t, "GET", s.URL+"/sim/users", nil, nil)
	if items := m["items"].([]any); len(items) != 1 {
		t.Fatalf("users %v", m)
	}
	status, m = call(t, "POST", s.URL+"/sim/authcode", nil, map[string]string{"userid": "zhangsan"})
	code, _ := m["code"].(string)
	if status != 200 || code == "" {
		t.Fatalf("authcode: %d %v", status, m)
	}
	if status, _ := call(t, "POST", s.URL+"/sim/authcode", nil, map[string]string{"userid": "ghost"}); status != 404 {
		t.Fatalf("authcode of an unknown user: %d", status)
	}
	tok := oldToken(t, s)
	if m := oldCall(t, s, tok, "/topapi/v2/user/getuserinfo", map[string]string{"code": code}); errcode(m) != 0 {
		t.Fatalf("control API code rejected: %v", m)
	}
	// CORS for the phone page and the H5 shim.
	req, _ := http.NewRequest("OPTIONS", s.URL+"/sim/authcode", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 204 || resp.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Fatalf("preflight: %v %v", resp, err)
	}

	sendNotice(t, s, tok, []string{"zhangsan"}, "## 缴款提醒")
	_, m = call(t, "GET", s.URL+"/sim/notices?userid=zhangsan", nil, nil)
	items := m["items"].([]any)
	if len(items) != 1 || !strings.Contains(fmt.Sprint(items[0]), "缴款提醒") || items[0].(map[string]any)["dropped"] != false {
		t.Fatalf("notices %v", m)
	}

	_, m = newCall(t, s, tok, "POST", "/v1.0/workflow/processInstances", map[string]any{"processCode": "PROC-X", "originatorUserId": "zhangsan",
		"formComponentValues": []map[string]string{{"name": "金额", "value": "1.00"}}})
	id := m["instanceId"].(string)
	_, m = call(t, "GET", s.URL+"/sim/approvals?status=RUNNING", nil, nil)
	items = m["items"].([]any)
	if len(items) != 1 || items[0].(map[string]any)["instance_id"] != id || items[0].(map[string]any)["originator"] != "zhangsan" {
		t.Fatalf("running approvals %v", m)
	}
	if status, m := call(t, "POST", s.URL+"/sim/approvals/"+id+"/refuse", nil, nil); status != 200 || m["event_id"] == "" {
		t.Fatalf("refuse: %d %v", status, m)
	}
	if status, _ := call(t, "POST", s.URL+"/sim/approvals/"+id+"/agree", nil, nil); status != 409 {
		t.Fatalf("agree after refuse: %d, want 409", status)
	}
	if a := s.Approvals(""); a[0].Status != "COMPLETED" || a[0].Result != "refuse" {
		t.Fatalf("approval after refuse %+v", a[0])
	}

	if status, _ := call(t, "POST", s.URL+"/sim/faults", nil, map[string]any{"error_rate": 2}); status != 400 {
		t.Fatalf("error_rate 2: %d, want 400", status)
	}
	if status, _ := call(t, "POST", s.URL+"/sim/faults", nil, map[string]any{"error_rate": 1}); status != 200 {
		t.Fatal("set faults")
	}
	if _, m := call(t, "GET", s.URL+"/gettoken", nil, nil); errcode(m) != -1 {
		t.Fatalf("gettoken under error_rate 1: %v", m)
	}
	call(t, "POST", s.URL+"/sim/faults", nil, map[string]any{})
	_, m = call(t, "GET", s.URL+"/sim/stats", nil, nil)
	if m["/gettoken"].(float64) < 2 {
		t.Fatalf("stats %v", m)
	}

	// The bot chat box.
	startSDK(t, s, func(context.Context, *event.EventHeader, []byte) (event.EventProcessStatusType, error) {
		return event.EventProcessStatusKSuccess, nil
	})
	status, m = call(t, "POST", s.URL+"/sim/bot/messages", nil, map[string]string{"userid": "zhangsan", "conversation_type": "1", "text": "进度 锦艺一期"})
	if status != 200 || m["reply"] != "你好，张三：进度 锦艺一期" {
		t.Fatalf("bot message: %d %v", status, m)
	}
	_, m = call(t, "GET", s.URL+"/sim/robot-messages", nil, nil)
	if items := m["items"].([]any); len(items) != 2 {
		t.Fatalf("robot messages %v", m)
	}
	resp, err = http.Get(s.URL + "/")
	if err != nil || resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("web page: %v %v", resp, err)
	}
}

func TestQRSignInFlow(t *testing.T) {
	s := dtsimtest.Start(t)
	s.AddUser(dtsim.User{UserID: "zhangsan", Name: "张三", Mobile: "13800000001"})
	a := s.App()
	page := s.URL + "/oauth2/auth?" + url.Values{"redirect_uri": {"http://hehuo.test/auth/dingtalk/callback"}, "response_type": {"code"},
		"client_id": {a.AppKey}, "scope": {"openid corpid"}, "state": {"st-1"}, "prompt": {"consent"}}.Encode()
	resp, err := http.Get(page)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("auth page: %v %v", resp, err)
	}
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err = noFollow.PostForm(s.URL+"/oauth2/auth", url.Values{"redirect_uri": {"http://hehuo.test/auth/dingtalk/callback"},
		"client_id": {a.AppKey}, "state": {"st-1"}, "userid": {"zhangsan"}})
	if err != nil || resp.StatusCode != http.StatusFound {
		t.Fatalf("choose user: %v %v", resp, err)
	}
	loc, _ := url.Parse(resp.Header.Get("Location"))
	code := loc.Query().Get("authCode")
	if loc.Host != "hehuo.test" || loc.Query().Get("state") != "st-1" || code == "" {
		t.Fatalf("redirect to %s", loc)
	}
	body := map[string]string{"clientId": a.AppKey, "clientSecret": a.AppSecret, "code": code, "grantType": "authorization_code"}
	status, m := call(t, "POST", s.URL+"/v1.0/oauth2/userAccessToken", nil, body)
	utok, _ := m["accessToken"].(string)
	if status != 200 || utok == "" || m["corpId"] != a.CorpID || m["expireIn"].(float64) != 7200 {
		t.Fatalf("userAccessToken: %d %v", status, m)
	}
	if status, _ := call(t, "POST", s.URL+"/v1.0/oauth2/userAccessToken", nil, body); status != 400 {
		t.Fatalf("reused OAuth code: %d, want 400", status)
	}
	status, m = call(t, "GET", s.URL+"/v1.0/contact/users/me", map[string]string{"x-acs-dingtalk-access-token": utok}, nil)
	if status != 200 || m["unionId"] != "union-zhangsan" || m["nick"] != "张三" || m["mobile"] != "13800000001" {
		t.Fatalf("users/me: %d %v", status, m)
	}
	if status, _ := call(t, "GET", s.URL+"/v1.0/contact/users/me", map[string]string{"x-acs-dingtalk-access-token": "bad"}, nil); status != 401 {
		t.Fatalf("users/me with a bad token: %d", status)
	}
	tok := oldToken(t, s)
	m = oldCall(t, s, tok, "/topapi/user/getbyunionid", map[string]string{"unionid": "union-zhangsan"})
	if errcode(m) != 0 || m["result"].(map[string]any)["userid"] != "zhangsan" {
		t.Fatalf("getbyunionid: %v", m)
	}
	if m := oldCall(t, s, tok, "/topapi/user/getbyunionid", map[string]string{"unionid": "nope"}); errcode(m) != 60121 {
		t.Fatalf("getbyunionid of a stranger: %v", m)
	}
}

func TestDepartmentSync(t *testing.T) {
	s := dtsimtest.Start(t)
	s.AddDepartment(dtsim.Department{ID: 10, Name: "财务部"})
	s.AddDepartment(dtsim.Department{ID: 11, ParentID: 10, Name: "结算组"})
	for i := range 150 {
		s.AddUser(dtsim.User{UserID: fmt.Sprintf("f%03d", i), Name: fmt.Sprintf("财务%d", i), DeptID: 10})
	}
	s.AddUser(dtsim.User{UserID: "boss", Name: "老板"})
	tok := oldToken(t, s)
	m := oldCall(t, s, tok, "/topapi/v2/department/listsub", map[string]any{"dept_id": 1})
	if fmt.Sprint(m["result"]) != "[map[auto_add_user:false create_dept_group:false dept_id:10 name:财务部 parent_id:1]]" {
		t.Fatalf("listsub root: %v", m)
	}
	m = oldCall(t, s, tok, "/topapi/v2/department/listsub", map[string]any{"dept_id": 10})
	if r := m["result"].([]any); len(r) != 1 || r[0].(map[string]any)["name"] != "结算组" {
		t.Fatalf("listsub 10: %v", m)
	}
	if m := oldCall(t, s, tok, "/topapi/v2/department/listsub", map[string]any{"dept_id": 99}); errcode(m) != 60003 {
		t.Fatalf("listsub of a missing dept: %v", m)
	}
	var ids []string
	cursor := 0
	for page := 0; ; page++ {
		m := oldCall(t, s, tok, "/topapi/v2/user/list", map[string]any{"dept_id": 10, "cursor": cursor, "size": 100})
		res := m["result"].(map[string]any)
		for _, u := range res["list"].([]any) {
			ids = append(ids, u.(map[string]any)["userid"].(string))
		}
		if res["has_more"] != true {
			break
		}
		cursor = int(res["next_cursor"].(float64))
	}
	if len(ids) != 150 || ids[0] != "f000" || ids[149] != "f149" {
		t.Fatalf("paged users: %d, first %v", len(ids), ids[:1])
	}
	if m := oldCall(t, s, tok, "/topapi/v2/user/list", map[string]any{"dept_id": 10, "cursor": 0, "size": 101}); errcode(m) == 0 {
		t.Fatalf("size 101 accepted: %v", m)
	}
	// Work notices to a department reach its sub-departments too.
	s.AddUser(dtsim.User{UserID: "g1", Name: "组员", DeptID: 11})
	oldCall(t, s, tok, "/topapi/message/corpconversation/asyncsend_v2", map[string]any{"agent_id": "100001", "dept_id_list": "10",
		"msg": map[string]any{"msgtype": "text", "text": map[string]string{"content": "全部门通知"}}})
	if len(s.Notices("g1")) != 1 || len(s.Notices("boss")) != 0 {
		t.Fatal("department notice did not reach exactly the department tree")
	}
}

func TestJSAPITicket(t *testing.T) {
	s := dtsimtest.Start(t)
	tok := oldToken(t, s)
	_, m := call(t, "GET", s.URL+"/get_jsapi_ticket?access_token="+tok, nil, nil)
	if errcode(m) != 0 || m["ticket"] == "" || m["ticket"] != s.JSAPITicket() {
		t.Fatalf("get_jsapi_ticket: %v", m)
	}
	status, n := newCall(t, s, tok, "POST", "/v1.0/oauth2/jsapiTickets", map[string]string{})
	if status != 200 || n["jsapiTicket"] != m["ticket"] {
		t.Fatalf("jsapiTickets: %d %v, want the same ticket", status, n)
	}
}

func TestControlAPIRobotsTokensEventsAndCards(t *testing.T) {
	s := dtsimtest.Start(t, fastRedelivery)
	s.AddUser(dtsim.User{UserID: "zhaoliu", Name: "赵六"})
	status, m := call(t, "POST", s.URL+"/sim/robots", nil, map[string]string{"name": "经营会计群机器人", "access_token": "rt1"})
	if status != 200 || m["webhook"] != "/robot/send?access_token=rt1" {
		t.Fatalf("add robot: %d %v", status, m)
	}
	if status, _ := call(t, "POST", s.URL+"/sim/robots", nil, map[string]string{"name": "x"}); status != 400 {
		t.Fatalf("robot without token: %d", status)
	}
	if _, m := call(t, "POST", s.URL+"/robot/send?access_token=rt1", nil, map[string]any{"msgtype": "text", "text": map[string]string{"content": "hi"}}); errcode(m) != 0 {
		t.Fatalf("unsigned robot added by the control API: %v", m)
	}
	if _, m := call(t, "GET", s.URL+"/sim/robots", nil, nil); len(m["items"].([]any)) != 1 {
		t.Fatalf("robots %v", m)
	}

	tok := oldToken(t, s)
	if status, _ := call(t, "POST", s.URL+"/sim/tokens/expire", nil, map[string]any{}); status != 200 {
		t.Fatal("expire tokens")
	}
	if m := oldCall(t, s, tok, "/topapi/v2/user/get", map[string]string{"userid": "zhaoliu"}); errcode(m) != 40014 {
		t.Fatalf("after /sim/tokens/expire: %v", m)
	}

	r := &received{got: make(chan struct{}, 100)}
	startSDK(t, s, func(_ context.Context, h *event.EventHeader, data []byte) (event.EventProcessStatusType, error) {
		r.add(h, data)
		return event.EventProcessStatusKSuccess, nil
	})
	id := s.PushEvent("bpms_instance_change", map[string]string{"processInstanceId": "x"})
	r.wait(t, 1)
	if status, _ := call(t, "POST", s.URL+"/sim/events/"+id+"/redeliver", nil, map[string]any{}); status != 200 {
		t.Fatal("redeliver")
	}
	r.wait(t, 2)
	if r.events[1].EventId != id {
		t.Fatalf("redelivered %s, want %s", r.events[1].EventId, id)
	}
	if status, _ := call(t, "POST", s.URL+"/sim/events/nope/redeliver", nil, map[string]any{}); status != 404 {
		t.Fatalf("redeliver of an unknown event: %d", status)
	}

	tok = oldToken(t, s)
	newCall(t, s, tok, "POST", "/v1.0/card/instances/createAndDeliver", map[string]any{
		"cardTemplateId": "tpl.schema", "outTrackId": "card-9", "callbackType": "STREAM",
		"cardData": map[string]any{"cardParamMap": map[string]string{"status": "pending"}}, "openSpaceId": "dtv1.card//IM_GROUP.cid-group-demo",
	})
	status, m = call(t, "POST", s.URL+"/sim/cards/card-9/callback", nil, map[string]any{"userid": "zhaoliu", "params": map[string]string{"action": "refuse"}})
	if status != 200 || !strings.Contains(fmt.Sprint(m["response"]), "refused by zhaoliu") {
		t.Fatalf("card callback: %d %v", status, m)
	}
	_, m = call(t, "GET", s.URL+"/sim/cards", nil, nil)
	if items := m["items"].([]any); len(items) != 1 || items[0].(map[string]any)["card_param_map"].(map[string]any)["status"] != "refused by zhaoliu" {
		t.Fatalf("cards %v", m)
	}
	if status, _ := call(t, "POST", s.URL+"/sim/cards/nope/callback", nil, map[string]any{"userid": "zhaoliu"}); status != 502 {
		t.Fatalf("callback on an unknown card: %d", status)
	}
}

func TestJSAPISignatureCheck(t *testing.T) {
	s := dtsimtest.Start(t)
	if err := s.VerifyJSAPI("http://h/m/", "n", "1", "x"); err == nil {
		t.Fatal("verified before any ticket was fetched")
	}
	tok := oldToken(t, s)
	_, m := call(t, "GET", s.URL+"/get_jsapi_ticket?access_token="+tok, nil, nil)
	ticket := m["ticket"].(string)
	page := "http://hehuo.test:8080/m/?corpid=dingdemocorp"
	sum := sha1.Sum([]byte("jsapi_ticket=" + ticket + "&noncestr=abc&timestamp=1690000000&url=" + page))
	sig := hex.EncodeToString(sum[:])
	if err := s.VerifyJSAPI(page+"#/home", "abc", "1690000000", sig); err != nil {
		t.Fatalf("good signature (fragment ignored): %v", err)
	}
	if err := s.VerifyJSAPI(page, "abd", "1690000000", sig); err == nil {
		t.Fatal("a signature over another nonce verified")
	}
	body := map[string]string{"url": page, "nonceStr": "abc", "timeStamp": "1690000000", "signature": sig, "corpId": "dingdemocorp", "agentId": "100001"}
	if status, m := call(t, "POST", s.URL+"/sim/jsapi/verify", nil, body); status != 200 || m["ok"] != true {
		t.Fatalf("verify: %d %v", status, m)
	}
	body["corpId"] = "dingother"
	if status, _ := call(t, "POST", s.URL+"/sim/jsapi/verify", nil, body); status != 400 {
		t.Fatalf("verify with another corp: %d", status)
	}
}

func TestApprovalExecuteAndTerminateThroughTheAPI(t *testing.T) {
	s := dtsimtest.Start(t)
	s.AddUser(dtsim.User{UserID: "lisi", Name: "李四"})
	tok := oldToken(t, s)
	start := func() string {
		_, m := newCall(t, s, tok, "POST", "/v1.0/workflow/processInstances", map[string]any{"processCode": "P", "originatorUserId": "lisi"})
		return m["instanceId"].(string)
	}
	a, b := start(), start()
	status, m := newCall(t, s, tok, "POST", "/v1.0/workflow/processInstances/execute", map[string]any{"processInstanceId": a, "result": "agree", "actionerUserId": "lisi", "taskId": 1})
	if status != 200 || m["result"] != true {
		t.Fatalf("execute: %d %v", status, m)
	}
	if status, _ := newCall(t, s, tok, "POST", "/v1.0/workflow/processInstances/execute", map[string]any{"processInstanceId": a, "result": "agree", "actionerUserId": "lisi"}); status != 400 {
		t.Fatalf("execute twice: %d", status)
	}
	if status, _ := newCall(t, s, tok, "POST", "/v1.0/workflow/processInstances/terminate", map[string]any{"processInstanceId": b, "isSystem": true}); status != 200 {
		t.Fatalf("terminate: %d", status)
	}
	got := map[string]string{}
	for _, x := range s.Approvals("") {
		got[x.InstanceID] = x.Status + "/" + x.Result
	}
	if got[a] != "COMPLETED/agree" || got[b] != "TERMINATED/" {
		t.Fatalf("approvals %v", got)
	}
}

func TestUnknownPathsAnswerInTheirFamilysShape(t *testing.T) {
	s := dtsimtest.Start(t)
	if status, m := call(t, "POST", s.URL+"/v1.0/nothing/here", nil, map[string]string{}); status != 404 || m["code"] != "InvalidAction.NotFound" {
		t.Fatalf("new family: %d %v", status, m)
	}
	if status, m := call(t, "POST", s.URL+"/topapi/nothing", nil, map[string]string{}); status != 200 || errcode(m) != 404 {
		t.Fatalf("old family: %d %v", status, m)
	}
	if status, m := call(t, "GET", s.URL+"/sim/nothing", nil, nil); status != 404 || m["message"] == "" {
		t.Fatalf("control API: %d %v", status, m)
	}
}
