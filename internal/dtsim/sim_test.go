package dtsim_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"hehuo/internal/dtsim"
	"hehuo/internal/dtsim/dtsimtest"
)

// clock is a settable time for tests.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func startWithClock(t *testing.T) (*dtsimtest.Server, *clock) {
	c := &clock{t: time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)}
	return dtsimtest.Start(t, func(cfg *dtsim.Config) { cfg.Now = c.Now }), c
}

// call makes one request and decodes the JSON answer into a map.
func call(t *testing.T, method, u string, header map[string]string, body any) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, u, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	var out map[string]any
	raw, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("%s %s: answer %q is not a JSON object", method, u, raw)
	}
	return resp.StatusCode, out
}

func errcode(m map[string]any) int {
	f, _ := m["errcode"].(float64)
	return int(f)
}

// oldToken fetches the app token the old way.
func oldToken(t *testing.T, s *dtsimtest.Server) string {
	t.Helper()
	a := s.App()
	_, m := call(t, "GET", s.URL+"/gettoken?appkey="+a.AppKey+"&appsecret="+a.AppSecret, nil, nil)
	if errcode(m) != 0 {
		t.Fatalf("gettoken: %v", m)
	}
	return m["access_token"].(string)
}

func oldCall(t *testing.T, s *dtsimtest.Server, tok, path string, body any) map[string]any {
	t.Helper()
	status, m := call(t, "POST", s.URL+path+"?access_token="+url.QueryEscape(tok), nil, body)
	if status != 200 {
		t.Fatalf("%s: HTTP %d, old family always answers 200", path, status)
	}
	return m
}

func newCall(t *testing.T, s *dtsimtest.Server, tok, method, path string, body any) (int, map[string]any) {
	t.Helper()
	return call(t, method, s.URL+path, map[string]string{"x-acs-dingtalk-access-token": tok}, body)
}

func TestTokenIsSameOnRefetchAndNewAfterExpiry(t *testing.T) {
	s, clk := startWithClock(t)
	t1 := oldToken(t, s)
	clk.Add(time.Hour)
	status, m := call(t, "POST", s.URL+"/v1.0/oauth2/accessToken", nil, map[string]string{"appKey": s.App().AppKey, "appSecret": s.App().AppSecret})
	if status != 200 || m["accessToken"] != t1 || m["expireIn"].(float64) != 7200 {
		t.Fatalf("refetch while valid: %d %v, want the same token %q and expireIn 7200", status, m, t1)
	}
	// The refetch extended the token: 1 h 59 min later it still works.
	clk.Add(7199 * time.Second)
	if m := oldCall(t, s, t1, "/topapi/v2/user/get", map[string]string{"userid": "nobody"}); errcode(m) != 60121 {
		t.Fatalf("token within its extended life: %v, want 60121 user not found", m)
	}
	clk.Add(2 * time.Second)
	if m := oldCall(t, s, t1, "/topapi/v2/user/get", map[string]string{"userid": "nobody"}); errcode(m) != 42001 {
		t.Fatalf("expired token: %v, want errcode 42001", m)
	}
	if t2 := oldToken(t, s); t2 == t1 {
		t.Fatalf("token after expiry is the old one %q", t1)
	}
}

func TestBadCredentialsAreRefused(t *testing.T) {
	s := dtsimtest.Start(t)
	_, m := call(t, "GET", s.URL+"/gettoken?appkey="+s.App().AppKey+"&appsecret=wrong", nil, nil)
	if errcode(m) == 0 || m["access_token"] != nil {
		t.Fatalf("gettoken with a wrong secret: %v", m)
	}
	status, m := call(t, "POST", s.URL+"/v1.0/oauth2/accessToken", nil, map[string]string{"appKey": "x", "appSecret": "y"})
	if status != 400 || m["code"] != "invalidClientIdOrSecret" {
		t.Fatalf("accessToken with wrong credentials: %d %v", status, m)
	}
}

func TestExpireTokensInvalidatesBothFamilies(t *testing.T) {
	s := dtsimtest.Start(t)
	tok := oldToken(t, s)
	s.ExpireTokens()
	if m := oldCall(t, s, tok, "/topapi/v2/user/get", map[string]string{"userid": "u"}); errcode(m) != 40014 {
		t.Fatalf("old family after ExpireTokens: %v, want 40014", m)
	}
	status, m := newCall(t, s, tok, "POST", "/v1.0/oauth2/jsapiTickets", map[string]string{})
	if status != 401 || m["code"] != "InvalidAuthentication" {
		t.Fatalf("new family after ExpireTokens: %d %v, want 401 InvalidAuthentication", status, m)
	}
	if fresh := oldToken(t, s); fresh == tok {
		t.Fatal("gettoken after ExpireTokens returned the revoked token")
	}
}

func TestAuthCodeIsSingleUseAndExpires(t *testing.T) {
	s, clk := startWithClock(t)
	s.AddUser(dtsim.User{UserID: "zhangsan", Name: "张三", Mobile: "13800000001", Title: "财务"})
	tok := oldToken(t, s)
	code, err := s.AuthCode("zhangsan")
	if err != nil {
		t.Fatal(err)
	}
	m := oldCall(t, s, tok, "/topapi/v2/user/getuserinfo", map[string]string{"code": code})
	res, _ := m["result"].(map[string]any)
	if errcode(m) != 0 || res["userid"] != "zhangsan" || res["name"] != "张三" || res["unionid"] != "union-zhangsan" {
		t.Fatalf("getuserinfo: %v", m)
	}
	if m := oldCall(t, s, tok, "/topapi/v2/user/getuserinfo", map[string]string{"code": code}); errcode(m) != 40078 {
		t.Fatalf("reused code: %v, want 40078", m)
	}
	code, _ = s.AuthCode("zhangsan")
	clk.Add(5*time.Minute + time.Second)
	tok = oldToken(t, s)
	if m := oldCall(t, s, tok, "/topapi/v2/user/getuserinfo", map[string]string{"code": code}); errcode(m) != 40078 {
		t.Fatalf("code older than 5 minutes: %v, want 40078", m)
	}
	if _, err := s.AuthCode("ghost"); err == nil {
		t.Fatal("AuthCode of an unknown user succeeded")
	}
	m = oldCall(t, s, tok, "/topapi/v2/user/get", map[string]string{"userid": "zhangsan"})
	res, _ = m["result"].(map[string]any)
	if errcode(m) != 0 || res["mobile"] != "13800000001" || res["title"] != "财务" {
		t.Fatalf("user/get: %v", m)
	}
}

func sendNotice(t *testing.T, s *dtsimtest.Server, tok string, users []string, text string) map[string]any {
	t.Helper()
	return oldCall(t, s, tok, "/topapi/message/corpconversation/asyncsend_v2", map[string]any{
		"agent_id": 100001, "userid_list": strings.Join(users, ","),
		"msg": map[string]any{"msgtype": "markdown", "markdown": map[string]string{"title": "通知", "text": text}},
	})
}

func TestWorkNoticeLimitsAndDedupe(t *testing.T) {
	s := dtsimtest.Start(t)
	s.AddUser(dtsim.User{UserID: "u1", Name: "一"})
	s.AddUser(dtsim.User{UserID: "u2", Name: "二"})
	tok := oldToken(t, s)

	many := make([]string, 101)
	for i := range many {
		many[i] = fmt.Sprintf("u%d", i)
	}
	if m := sendNotice(t, s, tok, many, "x"); errcode(m) != 40035 {
		t.Fatalf("101 userids: %v, want errcode 40035", m)
	}
	m := sendNotice(t, s, tok, []string{"u1", "u2", "ghost"}, "## 认购确认")
	if errcode(m) != 0 {
		t.Fatalf("asyncsend_v2: %v", m)
	}
	first := int64(m["task_id"].(float64))
	m = sendNotice(t, s, tok, []string{"u1"}, "## 认购确认")
	second := int64(m["task_id"].(float64))
	if errcode(m) != 0 || second == first {
		t.Fatalf("second send of the same content: %v (must still answer 0 with a new task)", m)
	}
	got := s.Notices("u1")
	if len(got) != 2 || got[0].Dropped || !got[1].Dropped || got[1].Reason != "143106" {
		t.Fatalf("u1's notices %+v, want the second dropped with 143106", got)
	}
	if len(s.Notices("u2")) != 1 {
		t.Fatalf("u2's notices %+v", s.Notices("u2"))
	}
	m = oldCall(t, s, tok, "/topapi/message/corpconversation/getsendresult", map[string]any{"agent_id": "100001", "task_id": second})
	res := m["send_result"].(map[string]any)
	fl := res["forbidden_list"].([]any)
	if len(fl) != 1 || fl[0].(map[string]any)["code"] != "143106" || fl[0].(map[string]any)["userid"] != "u1" {
		t.Fatalf("getsendresult of the duplicate: %v", m)
	}
	m = oldCall(t, s, tok, "/topapi/message/corpconversation/getsendresult", map[string]any{"agent_id": 100001, "task_id": first})
	res = m["send_result"].(map[string]any)
	if fmt.Sprint(res["invalid_user_id_list"]) != "[ghost]" || fmt.Sprint(res["unread_user_id_list"]) != "[u1 u2]" {
		t.Fatalf("getsendresult of the first: %v", m)
	}
	if m := oldCall(t, s, tok, "/topapi/message/corpconversation/asyncsend_v2", map[string]any{"agent_id": 999, "userid_list": "u1",
		"msg": map[string]any{"msgtype": "text", "text": map[string]string{"content": "hi"}}}); errcode(m) == 0 {
		t.Fatalf("wrong agent_id accepted: %v", m)
	}
}

func TestWorkNoticeDailyCap(t *testing.T) {
	s := dtsimtest.Start(t)
	s.AddUser(dtsim.User{UserID: "u1", Name: "一"})
	tok := oldToken(t, s)
	for i := range 501 {
		if m := sendNotice(t, s, tok, []string{"u1"}, fmt.Sprintf("第%d条", i)); errcode(m) != 0 {
			t.Fatalf("send %d: %v", i, m)
		}
	}
	got := s.Notices("u1")
	if len(got) != 501 || got[499].Dropped || !got[500].Dropped || got[500].Reason != "143105" {
		t.Fatalf("501st notice %+v, want dropped with 143105 and the 500th delivered", got[500])
	}
}

func robotURL(s *dtsimtest.Server, token, secret string, ts int64) string {
	u := s.URL + "/robot/send?access_token=" + token
	if secret != "" {
		u += fmt.Sprintf("&timestamp=%d&sign=%s", ts, url.QueryEscape(dtsim.Sign(secret, ts)))
	}
	return u
}

func TestCustomRobotSignAndRateLimit(t *testing.T) {
	s, clk := startWithClock(t)
	s.AddRobot(dtsim.Robot{Name: "财务群机器人", AccessToken: "tok1", Secret: "SECabc", Conversation: "财务群"})
	body := map[string]any{"msgtype": "text", "text": map[string]string{"content": "付款提醒"}}
	now := clk.Now().UnixMilli()

	if _, m := call(t, "POST", robotURL(s, "tok1", "SECabc", now), nil, body); errcode(m) != 0 {
		t.Fatalf("good sign: %v", m)
	}
	if _, m := call(t, "POST", robotURL(s, "tok1", "SECwrong", now), nil, body); errcode(m) != 310000 {
		t.Fatalf("bad sign: %v, want 310000", m)
	}
	if _, m := call(t, "POST", robotURL(s, "tok1", "SECabc", now-2*time.Hour.Milliseconds()), nil, body); errcode(m) != 310000 {
		t.Fatalf("timestamp 2 h old: %v, want 310000", m)
	}
	if _, m := call(t, "POST", robotURL(s, "nope", "", 0), nil, body); errcode(m) != 300001 {
		t.Fatalf("unknown token: %v, want 300001", m)
	}
	msgs := s.RobotMessages()
	if len(msgs) != 1 || msgs[0].Robot != "财务群机器人" || msgs[0].Conversation != "财务群" || !strings.Contains(string(msgs[0].Msg), "付款提醒") {
		t.Fatalf("robot messages %+v", msgs)
	}
	for i := 1; i < 20; i++ {
		if _, m := call(t, "POST", robotURL(s, "tok1", "SECabc", now), nil, body); errcode(m) != 0 {
			t.Fatalf("message %d of the minute: %v", i+1, m)
		}
	}
	if _, m := call(t, "POST", robotURL(s, "tok1", "SECabc", now), nil, body); errcode(m) != 130101 {
		t.Fatalf("21st message in a minute: %v, want 130101", m)
	}
	// Over the limit the robot stays throttled for 10 minutes.
	clk.Add(5 * time.Minute)
	if _, m := call(t, "POST", robotURL(s, "tok1", "SECabc", clk.Now().UnixMilli()), nil, body); errcode(m) != 130101 {
		t.Fatalf("5 minutes after throttling: %v, want 130101", m)
	}
	clk.Add(6 * time.Minute)
	if _, m := call(t, "POST", robotURL(s, "tok1", "SECabc", clk.Now().UnixMilli()), nil, body); errcode(m) != 0 {
		t.Fatalf("11 minutes after throttling: %v", m)
	}
}

func TestAppRobotMessages(t *testing.T) {
	s := dtsimtest.Start(t)
	s.AddUser(dtsim.User{UserID: "u1", Name: "一"})
	tok := oldToken(t, s)
	users := make([]string, 21)
	for i := range users {
		users[i] = "u1"
	}
	param := `{"content":"你好"}`
	status, m := newCall(t, s, tok, "POST", "/v1.0/robot/oToMessages/batchSend", map[string]any{"robotCode": s.App().RobotCode, "userIds": users, "msgKey": "sampleText", "msgParam": param})
	if status != 400 || m["code"] != "invalidParameter.userIds.overMax" {
		t.Fatalf("21 userIds: %d %v", status, m)
	}
	status, m = newCall(t, s, tok, "POST", "/v1.0/robot/oToMessages/batchSend", map[string]any{"robotCode": s.App().RobotCode, "userIds": []string{"u1", "ghost"}, "msgKey": "sampleText", "msgParam": param})
	if status != 200 || fmt.Sprint(m["invalidStaffIdList"]) != "[ghost]" || m["processQueryKey"] == "" {
		t.Fatalf("batchSend: %d %v", status, m)
	}
	status, m = newCall(t, s, tok, "POST", "/v1.0/robot/groupMessages/send", map[string]any{"robotCode": s.App().RobotCode, "openConversationId": "cid-group-demo", "msgKey": "sampleMarkdown", "msgParam": `{"title":"t","text":"## 进度"}`})
	if status != 200 || m["processQueryKey"] == nil {
		t.Fatalf("groupMessages/send: %d %v", status, m)
	}
	status, m = newCall(t, s, tok, "POST", "/v1.0/robot/groupMessages/send", map[string]any{"robotCode": "other", "openConversationId": "cid", "msgKey": "sampleText", "msgParam": param})
	if status != 400 || m["code"] != "invalidParameter.robotCode.auth" {
		t.Fatalf("wrong robotCode: %d %v", status, m)
	}
	status, m = newCall(t, s, tok, "POST", "/v1.0/robot/groupMessages/send", map[string]any{"robotCode": s.App().RobotCode, "openConversationId": "cid", "msgKey": "sampleText", "msgParam": "not json"})
	if status != 400 || m["code"] != "invalidParameter.msgParam.invalid" {
		t.Fatalf("bad msgParam: %d %v", status, m)
	}
	msgs := s.RobotMessages()
	if len(msgs) != 2 || msgs[0].Conversation != "oto:u1" || msgs[1].Conversation != "cid-group-demo" || msgs[1].Robot != s.App().RobotCode {
		t.Fatalf("robot messages %+v", msgs)
	}
	if !strings.Contains(string(msgs[1].Msg), `"msgKey":"sampleMarkdown"`) || !strings.Contains(string(msgs[1].Msg), "## 进度") {
		t.Fatalf("recorded group message %s", msgs[1].Msg)
	}
}
