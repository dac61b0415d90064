package microapp_test

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"hehuo/internal/audit"
	"hehuo/internal/config"
	"hehuo/internal/dingtalk"
	"hehuo/internal/dtsim"
	"hehuo/internal/org"
	"hehuo/microapp"
)

const notEnabledMessage = "未开通事业合伙系统，请联系管理员"

// dingTalkUser puts one employee into the simulated DingTalk and, with
// inHehuo, a Hehuo user with the same userid; it returns the Hehuo id (0 if none).
func (e *env) dingTalkUser(userid, name string, inHehuo bool, roles ...string) int64 {
	e.t.Helper()
	e.sim.AddUser(dtsim.User{UserID: userid, Name: name})
	if !inHehuo {
		return 0
	}
	u, err := e.deps.Org.CreateUser(context.Background(), audit.System, org.UserInput{Name: name, DingTalkUserID: userid, Roles: roles})
	if err != nil {
		e.t.Fatal(err)
	}
	return u.ID
}

func (e *env) authCode(userid string) string {
	e.t.Helper()
	code, err := e.sim.AuthCode(userid)
	if err != nil {
		e.t.Fatal(err)
	}
	return code
}

// get sends a GET without following redirects, with an optional session cookie.
func (e *env) get(path, cookie string) *http.Response {
	e.t.Helper()
	req, _ := http.NewRequest("GET", e.http.URL+path, nil)
	if cookie != "" {
		req.AddCookie(&http.Cookie{Name: "hehuo_session", Value: cookie})
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := c.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res
}

// browser is an HTTP client with its own cookies that does not follow redirects.
func (e *env) browser() func(path string) *http.Response {
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return func(path string) *http.Response {
		e.t.Helper()
		res, err := c.Get(e.http.URL + path)
		if err != nil {
			e.t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return res
	}
}

func sessionCookie(res *http.Response) string {
	for _, c := range res.Cookies() {
		if c.Name == "hehuo_session" && c.MaxAge >= 0 {
			return c.Value
		}
	}
	return ""
}

// Must show: inside DingTalk a Hehuo user signs in with a 免登 auth code and
// the session works; the code is single use.
func TestDingTalkSignInByAuthCode(t *testing.T) {
	e := newEnv(t)
	id := e.dingTalkUser("zhangsan", "张三", true)
	code := e.authCode("zhangsan")

	r := e.must(200, e.do("", "POST", "/api/v1/auth/dingtalk", map[string]string{"auth_code": code}))
	token, _ := r.Body["token"].(string)
	if token == "" {
		t.Fatalf("no token: %s", r.Raw)
	}
	if u := r.Body["user"].(map[string]any); int64(u["id"].(float64)) != id || u["name"] != "张三" {
		t.Fatalf("signed in as %v, want user %d 张三", u, id)
	}
	if !strings.Contains(r.Header.Get("Set-Cookie"), "hehuo_session="+token) {
		t.Fatalf("no session cookie: %q", r.Header.Get("Set-Cookie"))
	}
	me := e.must(200, e.do(token, "GET", "/api/v1/me", nil))
	if int64(me.Body["id"].(float64)) != id {
		t.Fatalf("me = %s, want user %d", me.Raw, id)
	}

	// The same code again, a made-up code, and no code at all.
	for _, c := range []struct {
		code    string
		status  int
		errCode string
		what    string
	}{
		{code, 401, "auth_code_invalid", "a used code"},
		{"no-such-code", 401, "auth_code_invalid", "an unknown code"},
		{"  ", 400, "auth_code_required", "an empty code"},
		{strings.Repeat("x", 500), 401, "auth_code_invalid", "an overlong code"},
	} {
		got := e.do("", "POST", "/api/v1/auth/dingtalk", map[string]string{"auth_code": c.code})
		if got.Status != c.status || got.errCode() != c.errCode {
			t.Errorf("%s: %d %s, want %d %s", c.what, got.Status, got.Raw, c.status, c.errCode)
		}
		if msg, _ := got.Body["error"].(map[string]any)["message"].(string); msg == "" || msg[0] < 0x80 {
			t.Errorf("%s: message %q is not Chinese", c.what, msg)
		}
	}
}

// A DingTalk employee without a Hehuo account, one who has left, and one a
// sync disabled are all refused with the same 403 and message.
func TestDingTalkSignInRefusesUsersNotEnabled(t *testing.T) {
	e := newEnv(t)
	admin := e.admin()
	e.dingTalkUser("stranger", "路人甲", false)
	resigned := e.dingTalkUser("resigned", "离职乙", true)
	disabled := e.dingTalkUser("disabled", "停用丙", true)

	u := e.must(200, e.do(admin, "GET", "/api/v1/users/"+itoa(resigned), nil))
	e.must(200, e.do(admin, "PATCH", "/api/v1/users/"+itoa(resigned),
		map[string]any{"employment_status": "resigned", "version": u.Body["version"]}))
	// A session that started before the sync disabled the user ends with it.
	before := e.must(200, e.do("", "POST", "/api/v1/auth/dingtalk", map[string]string{"auth_code": e.authCode("disabled")})).Body["token"].(string)
	if _, err := e.db.Exec(`UPDATE users SET disabled_at = now() WHERE id = $1`, disabled); err != nil {
		t.Fatal(err)
	}

	for _, userid := range []string{"stranger", "resigned", "disabled"} {
		got := e.do("", "POST", "/api/v1/auth/dingtalk", map[string]string{"auth_code": e.authCode(userid)})
		if got.Status != 403 || got.errCode() != "user_not_enabled" {
			t.Fatalf("%s: %d %s, want 403 user_not_enabled", userid, got.Status, got.Raw)
		}
		if msg := got.Body["error"].(map[string]any)["message"]; msg != notEnabledMessage {
			t.Fatalf("%s: message %q, want %q", userid, msg, notEnabledMessage)
		}
		if got.Header.Get("Set-Cookie") != "" {
			t.Fatalf("%s: a refused sign-in set a cookie", userid)
		}
	}
	if got := e.do(before, "GET", "/api/v1/me", nil); got.Status != 403 {
		t.Fatalf("session of a disabled user: %d %s, want 403", got.Status, got.Raw)
	}
}

// Must show: PC sign-in by DingTalk QR code, end to end — our redirect to
// DingTalk's page, the user's choice there, the callback, the cookie.
func TestDingTalkQRSignIn(t *testing.T) {
	e := newEnv(t)
	id := e.dingTalkUser("lisi", "李四", true, "accountant")
	e.dingTalkUser("stranger", "路人甲", false)

	browser := e.browser()
	start := func(next string) (state string) {
		t.Helper()
		res := browser("/api/v1/auth/dingtalk/qr?next=" + url.QueryEscape(next))
		if res.StatusCode != 302 {
			t.Fatalf("qr start: %d, want 302", res.StatusCode)
		}
		loc, err := url.Parse(res.Header.Get("Location"))
		if err != nil || !strings.HasPrefix(loc.String(), e.sim.URL+"/oauth2/auth?") {
			t.Fatalf("qr start redirects to %q, want the simulator's /oauth2/auth", res.Header.Get("Location"))
		}
		q := loc.Query()
		if q.Get("client_id") != e.sim.App().AppKey || q.Get("response_type") != "code" ||
			!strings.HasSuffix(q.Get("redirect_uri"), "/api/v1/auth/dingtalk/callback") || len(q.Get("state")) < 16 {
			t.Fatalf("login URL %s lacks client_id, response_type, redirect_uri or state", loc)
		}
		// DingTalk's page answers and lists the employees to "scan" as.
		page, err := http.Get(loc.String())
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(page.Body)
		page.Body.Close()
		if page.StatusCode != 200 || !strings.Contains(string(body), "李四") {
			t.Fatalf("simulator sign-in page: %d %s", page.StatusCode, body)
		}
		return q.Get("state")
	}
	callback := func(state, userid string) *http.Response {
		t.Helper()
		code, err := e.sim.OAuthCode(userid)
		if err != nil {
			t.Fatal(err)
		}
		return browser("/api/v1/auth/dingtalk/callback?authCode=" + url.QueryEscape(code) + "&state=" + url.QueryEscape(state))
	}

	state := start("/admin/accounts?tab=users")
	res := callback(state, "lisi")
	if res.StatusCode != 302 || res.Header.Get("Location") != "/admin/accounts?tab=users" {
		t.Fatalf("callback: %d to %q, want 302 to the next page", res.StatusCode, res.Header.Get("Location"))
	}
	cookie := sessionCookie(res)
	if cookie == "" {
		t.Fatal("callback set no session cookie")
	}
	if me := e.get("/api/v1/me", cookie); me.StatusCode != 200 {
		t.Fatalf("me with the QR session cookie: %d", me.StatusCode)
	}
	if me := e.must(200, e.do(cookie, "GET", "/api/v1/me", nil)); int64(me.Body["id"].(float64)) != id {
		t.Fatalf("QR session belongs to %s, want user %d", me.Raw, id)
	}

	refused := func(what string, res *http.Response, code string) {
		t.Helper()
		if res.StatusCode != 302 || res.Header.Get("Location") != "/login?error="+code {
			t.Errorf("%s: %d to %q, want 302 to /login?error=%s", what, res.StatusCode, res.Header.Get("Location"), code)
		}
		if sessionCookie(res) != "" {
			t.Errorf("%s: a refused sign-in set a cookie", what)
		}
	}
	// The state is single use, and one we never issued is refused.
	refused("replayed state", callback(state, "lisi"), "state_invalid")
	refused("made-up state", callback("0123456789abcdef0123456789abcdef", "lisi"), "state_invalid")
	refused("no state", browser("/api/v1/auth/dingtalk/callback?authCode=x"), "state_invalid")
	// A callback URL made in one browser does not sign in another (login
	// CSRF), and the state is used up by the attempt.
	state = start("/")
	code, _ := e.sim.OAuthCode("lisi")
	refused("another browser", e.browser()("/api/v1/auth/dingtalk/callback?authCode="+code+"&state="+state), "state_invalid")
	refused("state tried elsewhere", callback(state, "lisi"), "state_invalid")
	// A bad code with a good state, DingTalk's own refusal, and a stranger.
	refused("bad code", browser("/api/v1/auth/dingtalk/callback?authCode=nope&state="+start("/")), "auth_code_invalid")
	refused("dingtalk error", browser("/api/v1/auth/dingtalk/callback?error=access_denied&state="+start("/")), "auth_code_invalid")
	refused("stranger", callback(start("/"), "stranger"), "user_not_enabled")

	// Only a relative path of this site is a place to go afterwards.
	for _, next := range []string{"//evil.example/x", "https://evil.example/", "/\\evil.example", "javascript:alert(1)", "/\t/evil.example", ""} {
		res := callback(start(next), "lisi")
		if res.StatusCode != 302 || res.Header.Get("Location") != "/" {
			t.Errorf("next %q: redirected to %q, want /", next, res.Header.Get("Location"))
		}
	}
}

// The dd.config for a page of ours is signed with the app's jsapi ticket;
// a URL of another site is refused.
func TestJSAPIConfig(t *testing.T) {
	e := newEnv(t)
	_, token := e.mustUser("合伙人甲")
	page := "http://" + config.Default().HTTP.Addr + "/m/?corpid=dingdemocorp"

	r := e.must(200, e.do(token, "GET", "/api/v1/dingtalk/jsapi-config?url="+url.QueryEscape(page+"#/home"), nil))
	b := r.Body
	app := e.sim.App()
	if b["agentId"] != app.AgentID || b["corpId"] != app.CorpID || b["type"] != float64(0) {
		t.Fatalf("config %s does not name the app (agent %s, corp %s)", r.Raw, app.AgentID, app.CorpID)
	}
	if list, _ := b["jsApiList"].([]any); len(list) == 0 {
		t.Fatalf("empty jsApiList: %s", r.Raw)
	}
	ticket := e.sim.JSAPITicket()
	if ticket == "" {
		t.Fatal("the simulator issued no jsapi ticket")
	}
	// DingTalk signs the URL without its #fragment.
	sum := sha1.Sum([]byte("jsapi_ticket=" + ticket + "&noncestr=" + b["nonceStr"].(string) +
		"&timestamp=" + b["timeStamp"].(string) + "&url=" + page))
	if want := hex.EncodeToString(sum[:]); b["signature"] != want {
		t.Fatalf("signature %v, want %s", b["signature"], want)
	}

	for _, bad := range []string{"", "/m/", "ftp://" + config.Default().HTTP.Addr + "/m/", "http://evil.example/m/",
		"http://user@" + config.Default().HTTP.Addr + "/m/", "http://127.0.0.1:9999/m/"} {
		got := e.do(token, "GET", "/api/v1/dingtalk/jsapi-config?url="+url.QueryEscape(bad), nil)
		if got.Status != 400 || got.errCode() != "url_invalid" {
			t.Errorf("url %q: %d %s, want 400 url_invalid", bad, got.Status, got.Raw)
		}
	}
	if got := e.do("", "GET", "/api/v1/dingtalk/jsapi-config?url="+url.QueryEscape(page), nil); got.Status != 401 {
		t.Errorf("without a session: %d, want 401", got.Status)
	}
}

// The H5 app learns which DingTalk app to ask for an auth code, before sign-in.
func TestDingTalkAppIsPublic(t *testing.T) {
	e := newEnv(t)
	b := e.must(200, e.do("", "GET", "/api/v1/dingtalk/app", nil)).Body
	app := e.sim.App()
	if b["corpId"] != app.CorpID || b["clientId"] != app.AppKey || b["agentId"] != app.AgentID {
		t.Fatalf("app = %v, want corp %s client %s agent %s", b, app.CorpID, app.AppKey, app.AgentID)
	}
	if _, leaked := b["appSecret"]; leaked {
		t.Fatal("the app secret is public")
	}
}

type syncReport struct{ created, updated, disabled, unchanged, departments int }

func (e *env) sync(token string) syncReport {
	e.t.Helper()
	b := e.must(200, e.do(token, "POST", "/api/v1/users/sync", nil)).Body
	n := func(k string) int { return int(b[k].(float64)) }
	return syncReport{n("created"), n("updated"), n("disabled"), n("unchanged"), n("departments")}
}

// Must show: 从钉钉同步 creates new employees, updates changed ones (also a
// user made by hand, matched by mobile), disables those who left, and a
// second run changes nothing.
func TestUsersSync(t *testing.T) {
	e := newEnv(t)
	admin := e.admin()
	ctx := context.Background()
	e.sim.AddDepartment(dtsim.Department{ID: 10, Name: "财务部"})
	e.sim.AddDepartment(dtsim.Department{ID: 11, ParentID: 10, Name: "资金组"})
	e.sim.AddUser(dtsim.User{UserID: "zhangsan", Name: "张三", Mobile: "13800000001", Title: "总经理", JobNumber: "A001"})
	e.sim.AddUser(dtsim.User{UserID: "lisi", Name: "李四", Mobile: "13800000002", DeptID: 10, Title: "会计"})
	e.sim.AddUser(dtsim.User{UserID: "wangwu", Name: "王五", Mobile: "13800000003", DeptID: 11, Title: "出纳", JobNumber: "C003"})

	zhang, err := e.deps.Org.CreateUser(ctx, audit.System, org.UserInput{Name: "张三", DingTalkUserID: "zhangsan", Title: "副总经理", Mobile: "13800000001"})
	if err != nil {
		t.Fatal(err)
	}
	li, err := e.deps.Org.CreateUser(ctx, audit.System, org.UserInput{Name: "李四", Mobile: "13800000002", Roles: []string{"accountant"}})
	if err != nil {
		t.Fatal(err)
	}
	// Made by hand with a userid DingTalk does not list, never synced: not the sync's to disable.
	manual, err := e.deps.Org.CreateUser(ctx, audit.System, org.UserInput{Name: "手工丁", DingTalkUserID: "manual"})
	if err != nil {
		t.Fatal(err)
	}
	var adminBefore org.User
	if err := e.db.Get(&adminBefore, `SELECT id, name, version FROM users WHERE username = 'admin'`); err != nil {
		t.Fatal(err)
	}

	if got, want := e.sync(admin), (syncReport{created: 1, updated: 2, departments: 3}); got != want {
		t.Fatalf("first sync: %+v, want %+v", got, want)
	}
	user := func(id int64) org.User {
		t.Helper()
		u, err := e.deps.Org.User(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	if u := user(zhang.ID); u.Title != "总经理" || u.JobNumber != "A001" {
		t.Fatalf("张三 not updated: %+v", u)
	}
	if u := user(li.ID); u.DingTalkUserID == nil || *u.DingTalkUserID != "lisi" || u.Title != "会计" || !u.HasRole("accountant") {
		t.Fatalf("李四 not matched by mobile, or lost a role: %+v", u)
	}
	var wang org.User
	if err := e.db.Get(&wang, `SELECT id, name, mobile, job_number, title, employment_status FROM users WHERE dingtalk_userid = 'wangwu'`); err != nil {
		t.Fatalf("王五 not created: %v", err)
	}
	if wang.Name != "王五" || wang.Mobile != "13800000003" || wang.JobNumber != "C003" || wang.Title != "出纳" {
		t.Fatalf("王五 created as %+v", wang)
	}
	if u := user(wang.ID); len(u.Roles) != 0 || u.Disabled {
		t.Fatalf("a new user has roles %v or is disabled", u.Roles)
	}
	var depts string
	e.db.Get(&depts, `SELECT dingtalk_dept_ids::text FROM users WHERE id = $1`, wang.ID)
	if depts != "{11}" {
		t.Fatalf("王五's DingTalk departments %s, want {11}", depts)
	}

	if got, want := e.sync(admin), (syncReport{unchanged: 3, departments: 3}); got != want {
		t.Fatalf("second sync: %+v, want all unchanged %+v", got, want)
	}

	// 王五 can sign in; then he leaves DingTalk's tree and is disabled, session and all.
	wangToken := e.must(200, e.do("", "POST", "/api/v1/auth/dingtalk", map[string]string{"auth_code": e.authCode("wangwu")})).Body["token"].(string)
	e.sim.AddUser(dtsim.User{UserID: "wangwu", Name: "王五", Mobile: "13800000003", DeptID: 99, Title: "出纳", JobNumber: "C003"})
	if got, want := e.sync(admin), (syncReport{disabled: 1, unchanged: 2, departments: 3}); got != want {
		t.Fatalf("sync after 王五 left: %+v, want %+v", got, want)
	}
	if u := user(wang.ID); !u.Disabled {
		t.Fatal("王五 left DingTalk but is not disabled")
	}
	if got := e.do(wangToken, "GET", "/api/v1/me", nil); got.Status != 403 {
		t.Fatalf("session of a disabled user: %d, want 403", got.Status)
	}
	if got := e.do("", "POST", "/api/v1/auth/dingtalk", map[string]string{"auth_code": e.authCode("wangwu")}); got.errCode() != "user_not_enabled" {
		t.Fatalf("disabled user signs in: %d %s", got.Status, got.Raw)
	}
	if got, want := e.sync(admin), (syncReport{unchanged: 2, departments: 3}); got != want {
		t.Fatalf("sync with 王五 still gone: %+v, want %+v", got, want)
	}
	// Back in a department: enabled again.
	e.sim.AddUser(dtsim.User{UserID: "wangwu", Name: "王五", Mobile: "13800000003", DeptID: 11, Title: "出纳", JobNumber: "C003"})
	if got, want := e.sync(admin), (syncReport{updated: 1, unchanged: 2, departments: 3}); got != want {
		t.Fatalf("sync after 王五 came back: %+v, want %+v", got, want)
	}
	e.must(200, e.do("", "POST", "/api/v1/auth/dingtalk", map[string]string{"auth_code": e.authCode("wangwu")}))

	if u := user(manual.ID); u.Disabled || u.Version != manual.Version {
		t.Fatalf("a never-synced user was touched: %+v", u)
	}
	var adminAfter org.User
	e.db.Get(&adminAfter, `SELECT id, name, version FROM users WHERE username = 'admin'`)
	if adminAfter.Version != adminBefore.Version {
		t.Fatal("the sync touched the bootstrap admin")
	}
	// Every run is audited with its report; every changed user too.
	var runs, changes int
	e.db.Get(&runs, `SELECT count(*) FROM audit_log WHERE action = 'directory.sync' AND actor_name = '系统管理员'`)
	e.db.Get(&changes, `SELECT count(*) FROM audit_log WHERE action LIKE 'user.sync_%'`)
	if runs != 5 || changes != 5 {
		t.Fatalf("audit: %d sync runs and %d user changes, want 5 and 5", runs, changes)
	}
}

// Only the system admin syncs users.
func TestUsersSyncIsForTheSysadmin(t *testing.T) {
	e := newEnv(t)
	biz := e.signIn("hhadmin", bizadminPassword)
	_, acct := e.mustUser("会计乙", "accountant")
	before := fingerprint(t, e.db)
	for _, token := range []string{biz, acct} {
		if got := e.do(token, "POST", "/api/v1/users/sync", nil); got.Status != 403 {
			t.Fatalf("sync by a non-sysadmin: %d %s, want 403", got.Status, got.Raw)
		}
	}
	if fingerprint(t, e.db) != before {
		t.Fatal("a refused sync changed the database")
	}
}

// An empty address book (a missing permission, most likely) is refused
// rather than disabling everyone.
func TestUsersSyncRefusesAnEmptyDirectory(t *testing.T) {
	e := newEnv(t)
	got := e.do(e.admin(), "POST", "/api/v1/users/sync", nil)
	if got.Status != 422 || got.errCode() != "directory_empty" {
		t.Fatalf("empty directory: %d %s, want 422 directory_empty", got.Status, got.Raw)
	}
}

// When DingTalk cannot be reached, or no app is configured, the answer says
// so with 503 instead of a generic failure.
func TestDingTalkUnavailable(t *testing.T) {
	e := newEnv(t)
	admin := e.admin()
	_, token := e.mustUser("合伙人甲")

	down := httptest.NewServer(http.NotFoundHandler())
	down.Close() // nothing listens there any more
	deps := e.deps
	deps.Config.DingTalk = e.sim.DingTalkConfig()
	deps.Config.DingTalk.APIBase, deps.Config.DingTalk.OAPIBase = down.URL, down.URL
	deps.DingTalk = dingtalk.New(deps.Config.DingTalk, e.deps.Cache, dingtalk.WithLogger(e.deps.Log))
	unconfigured := e.deps
	unconfigured.Config.DingTalk = config.Default().DingTalk
	page := url.QueryEscape("http://" + config.Default().HTTP.Addr + "/m/")

	for name, d := range map[string]microapp.Deps{"dingtalk_unavailable": deps, "dingtalk_not_configured": unconfigured} {
		hs := httptest.NewServer(microapp.New(d).Handler())
		t.Cleanup(hs.Close)
		e2 := *e
		e2.http = hs
		for _, c := range []struct {
			token, method, path string
			body                any
		}{
			{"", "POST", "/api/v1/auth/dingtalk", map[string]string{"auth_code": "x"}},
			{token, "GET", "/api/v1/dingtalk/jsapi-config?url=" + page, nil},
			{admin, "POST", "/api/v1/users/sync", nil},
		} {
			got := e2.do(c.token, c.method, c.path, c.body)
			if got.Status != 503 || got.errCode() != name {
				t.Errorf("%s %s with %s: %d %s, want 503 %s", c.method, c.path, name, got.Status, got.Raw, name)
			}
		}
		if res := e2.get("/api/v1/auth/dingtalk/qr", ""); name == "dingtalk_not_configured" &&
			res.Header.Get("Location") != "/login?error=dingtalk_not_configured" {
			t.Errorf("qr start without an app: redirected to %q", res.Header.Get("Location"))
		}
	}
}
