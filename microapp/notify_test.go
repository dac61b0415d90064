package microapp_test

import (
	"context"
	"encoding/hex"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/jmoiron/sqlx"

	"hehuo/internal/dtsim"
	"hehuo/internal/notify"
	"hehuo/microapp"
)

// testSecretKey is HEHUO_SECRET_KEY for the tests that store secrets.
var testSecretKey = hex.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))

// withSecretKey serves e again with a secret key configured, over the same
// database, Redis and simulator.
func (e *env) withSecretKey() *env {
	e.t.Helper()
	cfg := e.deps.Config
	cfg.SecretKey = testSecretKey
	deps := e.deps
	deps.Config = cfg
	deps.Notify = notify.NewService(e.db, e.deps.DingTalk, cfg, e.deps.Log)
	s := microapp.New(deps)
	hs := httptest.NewServer(s.Handler())
	e.t.Cleanup(hs.Close)
	e.deps, e.server, e.http = deps, s, hs
	return e
}

// mustNotice enqueues a work notice and returns its id.
func (e *env) mustNotice(key string, recipients ...string) int64 {
	e.t.Helper()
	var id int64
	err := e.db.InTx(context.Background(), func(tx *sqlx.Tx) error {
		var err error
		id, _, err = notify.Enqueue(context.Background(), tx, notify.Notice{
			Kind: notify.KindWorkNotice, Recipients: recipients, Template: "payment_notice", DedupeKey: key,
			Data: map[string]any{"project_name": "常州项目", "round_name": "立项", "due_date": "2026-12-20", "link": "/m/"},
		})
		return err
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return id
}

// fillNotifyPath puts a real template code and notice id into the notify
// routes' paths, for the access matrix.
func fillNotifyPath(p string, noticeID int64) string {
	switch {
	case strings.HasPrefix(p, "/api/v1/notify/templates/:code"):
		p = strings.Replace(p, ":code", "payment_notice", 1)
	case strings.HasPrefix(p, "/api/v1/notify/outbox/:id"):
		p = strings.Replace(p, ":id", itoa(noticeID), 1)
	}
	return p
}

func TestTemplatesListSaveAndPreview(t *testing.T) {
	e := newEnv(t)
	admin := e.admin()
	items := e.must(200, e.do(admin, "GET", "/api/v1/notify/templates", nil)).Body["items"].([]any)
	if len(items) != 16 { // 13 seeded + payments_overdue (00013) + agreement_sign_reminder (00029) + exit_candidates (00032)
		t.Fatalf("%d templates, want 16", len(items))
	}
	tpl := e.must(200, e.do(admin, "GET", "/api/v1/notify/templates/distribution_notice", nil)).Body
	vars := map[string]bool{}
	for _, v := range tpl["variables"].([]any) {
		vars[v.(map[string]any)["name"].(string)] = true
	}
	for _, want := range []string{"project_name", "distribution_name", "distribution_date", "link"} {
		if !vars[want] {
			t.Errorf("variable %s not listed: %v", want, vars)
		}
	}
	e.must(404, e.do(admin, "GET", "/api/v1/notify/templates/nope", nil))

	body := "{{.project_name}}：{{.distribution_name}}，分配日 {{.distribution_date}}"
	saved := e.must(200, e.do(admin, "PUT", "/api/v1/notify/templates/distribution_notice",
		map[string]any{"name": "分配通知", "title": "分配：{{.project_name}}", "body": body, "version": tpl["version"]})).Body
	if saved["body"] != body || saved["version"].(float64) != tpl["version"].(float64)+1 || saved["updated_by"] != "系统管理员" {
		t.Fatalf("saved = %v", saved)
	}
	var audited int
	e.db.Get(&audited, `SELECT count(*) FROM audit_log WHERE action = 'notify_template.update'`)
	if audited != 1 {
		t.Fatalf("%d audit entries, want 1", audited)
	}
	// Stale version, a parse error and an unknown variable are refused and change nothing.
	before := fingerprint(t, e.db)
	if r := e.do(admin, "PUT", "/api/v1/notify/templates/distribution_notice",
		map[string]any{"name": "分配通知", "title": "x", "body": "y", "version": tpl["version"]}); r.Status != 409 || r.errCode() != "stale_version" {
		t.Fatalf("stale: %d %s", r.Status, r.Raw)
	}
	r := e.do(admin, "PUT", "/api/v1/notify/templates/distribution_notice",
		map[string]any{"name": "分配通知", "title": "x", "body": "{{.project_name", "version": saved["version"]})
	if r.Status != 400 || r.errCode() != "template_invalid" || r.Body["error"].(map[string]any)["field"] != "body" {
		t.Fatalf("parse error: %d %s", r.Status, r.Raw)
	}
	r = e.do(admin, "PUT", "/api/v1/notify/templates/distribution_notice",
		map[string]any{"name": "分配通知", "title": "x", "body": "应分配 {{.amount}} 元", "version": saved["version"]})
	if r.Status != 400 || !strings.Contains(string(r.Raw), "变量 amount 不在可用变量之列") {
		t.Fatalf("unknown variable: %d %s", r.Status, r.Raw)
	}
	if fingerprint(t, e.db) != before {
		t.Fatal("refused saves changed the database")
	}

	// Preview with the sample data, then with data given.
	p := e.must(200, e.do(admin, "POST", "/api/v1/notify/templates/distribution_notice/preview", nil)).Body
	if p["text"] != "常州项目：第1次利润分配，分配日 2027-06-30" || p["msg_type"] != "action_card" {
		t.Fatalf("sample preview = %v", p)
	}
	if !strings.HasPrefix(p["url"].(string), "http://") || !strings.Contains(p["url"].(string), "/m/") {
		t.Fatalf("preview url %v is not absolute", p["url"])
	}
	p = e.must(200, e.do(admin, "POST", "/api/v1/notify/templates/distribution_notice/preview", map[string]any{"data": map[string]any{
		"project_name": "靖江[项目](http://x)", "distribution_name": "清算分配", "distribution_date": 20270101, "link": "/m/d/9"}})).Body
	if p["text"] != "靖江［项目］（http://x）：清算分配，分配日 20270101" || !strings.HasSuffix(p["url"].(string), "/m/d/9") {
		t.Fatalf("preview with data = %v", p)
	}
	if r := e.do(admin, "POST", "/api/v1/notify/templates/distribution_notice/preview", map[string]any{"data": map[string]any{"project_name": "x"}}); r.Status != 400 || r.errCode() != "template_invalid" {
		t.Fatalf("preview missing data: %d %s", r.Status, r.Raw)
	}
	// An unsaved edit previews without being saved; a broken one says why.
	p = e.must(200, e.do(admin, "POST", "/api/v1/notify/templates/distribution_notice/preview",
		map[string]any{"title": "草稿 {{.project_name}}", "body": "草稿正文 {{.distribution_date}}"})).Body
	if p["title"] != "草稿 常州项目" || p["text"] != "草稿正文 2027-06-30" {
		t.Fatalf("draft preview = %v", p)
	}
	if r := e.do(admin, "POST", "/api/v1/notify/templates/distribution_notice/preview", map[string]any{"title": "t", "body": "{{.nope}}"}); r.Status != 400 || r.errCode() != "template_invalid" {
		t.Fatalf("broken draft: %d %s", r.Status, r.Raw)
	}
	if got := e.must(200, e.do(admin, "GET", "/api/v1/notify/templates/distribution_notice", nil)).Body["body"]; got != body {
		t.Fatalf("a draft preview changed the template: %v", got)
	}
}

func TestTemplateRoles(t *testing.T) {
	e := newEnv(t)
	biz := e.signIn("hhadmin", bizadminPassword)
	_, auditor := e.mustUser("审计甲", "auditor")
	_, partner := e.mustUser("合伙人乙")
	e.must(200, e.do(biz, "GET", "/api/v1/notify/templates", nil))
	e.must(200, e.do(auditor, "GET", "/api/v1/notify/templates/payment_notice", nil))
	e.must(200, e.do(biz, "POST", "/api/v1/notify/templates/payment_notice/preview", nil))
	for _, c := range []struct {
		token, method, path string
	}{
		{biz, "PUT", "/api/v1/notify/templates/payment_notice"},
		{auditor, "PUT", "/api/v1/notify/templates/payment_notice"},
		{auditor, "POST", "/api/v1/notify/templates/payment_notice/test"},
		{partner, "GET", "/api/v1/notify/templates"},
		{biz, "PUT", "/api/v1/dingtalk/settings"},
		{biz, "POST", "/api/v1/dingtalk/robots"},
		{partner, "GET", "/api/v1/notify/outbox"},
	} {
		if r := e.do(c.token, c.method, c.path, map[string]any{"name": "x", "title": "x", "body": "x", "version": 1}); r.Status != 403 {
			t.Errorf("%s %s: %d, want 403", c.method, c.path, r.Status)
		}
	}
}

// 测试消息 goes to the operator's DingTalk only, straight through the client.
func TestTestSendReachesOnlyTheOperator(t *testing.T) {
	e := newEnv(t)
	e.sim.AddUser(dtsim.User{UserID: "dt_opsadmin", Name: "运维管理员"})
	e.sim.AddUser(dtsim.User{UserID: "dt_bystander", Name: "旁观者"})
	_, ops := e.mustUser("opsadmin", "sysadmin")
	e.mustUser("bystander", "sysadmin")

	// The bootstrap admin has no DingTalk userid.
	r := e.do(e.admin(), "POST", "/api/v1/notify/templates/payment_notice/test", nil)
	if r.Status != 422 || r.errCode() != "dingtalk_userid_missing" || !strings.Contains(string(r.Raw), "未绑定钉钉") {
		t.Fatalf("admin without userid: %d %s", r.Status, r.Raw)
	}

	res := e.must(200, e.do(ops, "POST", "/api/v1/notify/templates/payment_notice/test", nil)).Body
	if res["recipient"] != "dt_opsadmin" {
		t.Fatalf("result = %v", res)
	}
	got := e.sim.Notices("dt_opsadmin")
	if len(got) != 1 || got[0].Dropped {
		t.Fatalf("operator's notices = %+v", got)
	}
	msg := string(got[0].Msg)
	if !strings.Contains(msg, "【测试】缴款通知：常州项目") || !strings.Contains(msg, "action_card") {
		t.Fatalf("notice = %s", msg)
	}
	if n := e.sim.Notices("dt_bystander"); len(n) != 0 {
		t.Fatalf("a bystander got %+v", n)
	}
	// A second test the same day is not identical content, so DingTalk delivers it too.
	e.must(200, e.do(ops, "POST", "/api/v1/notify/templates/test_message/test", nil))
	if got := e.sim.Notices("dt_opsadmin"); len(got) != 2 || got[1].Dropped {
		t.Fatalf("after test_message: %+v", got)
	}
	// Not through the outbox.
	var queued int
	e.db.Get(&queued, `SELECT count(*) FROM notify_outbox`)
	if queued != 0 {
		t.Fatalf("%d outbox rows, want none", queued)
	}
}

func TestRobotsCRUDAndTest(t *testing.T) {
	e := newEnv(t)
	admin := e.admin()
	w := e.mustWorld(admin)
	const token, goodSecret = "robottoken0123456789", "SECgood0123456789abcdef"
	e.sim.AddRobot(dtsim.Robot{Name: "环沪会计群机器人", AccessToken: token, Secret: goodSecret, Conversation: "环沪会计群"})
	hook := e.sim.URL + "/robot/send?access_token=" + token
	robot := map[string]any{"org_unit_id": w.cityA, "name": "环沪会计群", "webhook_url": hook, "secret": goodSecret}

	// Without HEHUO_SECRET_KEY (and not in demo mode) a secret cannot be stored.
	r := e.do(admin, "POST", "/api/v1/dingtalk/robots", robot)
	if r.Status != 422 || r.errCode() != "secret_key_missing" || !strings.Contains(string(r.Raw), "HEHUO_SECRET_KEY") {
		t.Fatalf("no key: %d %s", r.Status, r.Raw)
	}
	e.withSecretKey()

	for _, c := range []struct {
		name  string
		patch map[string]any
		code  string
	}{
		{"http off loopback", map[string]any{"webhook_url": "http://oapi.dingtalk.com/robot/send?access_token=x"}, "robot_webhook_invalid"},
		{"no access token", map[string]any{"webhook_url": "https://oapi.dingtalk.com/robot/send"}, "robot_webhook_invalid"},
		{"not a url", map[string]any{"webhook_url": "robot"}, "robot_webhook_invalid"},
		{"secret without SEC", map[string]any{"secret": "abc0123456789"}, "robot_secret_invalid"},
		{"no name", map[string]any{"name": " "}, "required"},
		{"no org unit", map[string]any{"org_unit_id": nil}, "required"},
	} {
		in := map[string]any{}
		for k, v := range robot {
			in[k] = v
		}
		for k, v := range c.patch {
			in[k] = v
		}
		if r := e.do(admin, "POST", "/api/v1/dingtalk/robots", in); r.Status != 400 || r.errCode() != c.code {
			t.Errorf("%s: %d %s, want 400 %s", c.name, r.Status, r.Raw, c.code)
		}
	}

	created := e.must(201, e.do(admin, "POST", "/api/v1/dingtalk/robots", robot))
	id := int64(created.Body["id"].(float64))
	list := e.must(200, e.do(admin, "GET", "/api/v1/dingtalk/robots", nil))
	for _, raw := range [][]byte{created.Raw, list.Raw} {
		if strings.Contains(string(raw), goodSecret) || strings.Contains(string(raw), token) {
			t.Fatalf("secret or token returned: %s", raw)
		}
	}
	if created.Body["secret_hint"] != "SEC****cdef" || created.Body["org_unit_name"] != "环沪城市公司" || created.Body["enabled"] != true {
		t.Fatalf("created = %s", created.Raw)
	}
	var stored string
	e.db.Get(&stored, `SELECT secret_enc FROM dingtalk_robots WHERE id = $1`, id)
	if stored == "" || strings.Contains(stored, goodSecret) {
		t.Fatalf("secret stored as %q", stored)
	}
	if r := e.do(admin, "POST", "/api/v1/dingtalk/robots", robot); r.Status != 409 || r.errCode() != "robot_exists" {
		t.Fatalf("second robot for the org unit: %d %s", r.Status, r.Raw)
	}

	// The nearest enabled robot up the tree serves a sub-company; none serves city B.
	wh, err := e.deps.Notify.RobotWebhook(context.Background(), w.cityA1)
	if err != nil || wh.URL != hook || wh.Secret != goodSecret {
		t.Fatalf("webhook of city A1 = %+v, %v", wh, err)
	}
	if _, err := e.deps.Notify.RobotWebhook(context.Background(), w.cityB); !errors.Is(err, notify.ErrNoRobot) {
		t.Fatalf("city B: %v, want ErrNoRobot", err)
	}

	// The test message lands in the simulator's group.
	res := e.must(200, e.do(admin, "POST", "/api/v1/dingtalk/robots/"+itoa(id)+"/test", nil)).Body
	if res["ok"] != true {
		t.Fatalf("test = %v", res)
	}
	msgs := e.sim.RobotMessages()
	if len(msgs) != 1 || msgs[0].Conversation != "环沪会计群" || !strings.Contains(string(msgs[0].Msg), "合伙系统测试消息") {
		t.Fatalf("robot messages = %+v", msgs)
	}

	// A wrong secret is refused by DingTalk and reported in Chinese.
	upd := e.must(200, e.do(admin, "PUT", "/api/v1/dingtalk/robots/"+itoa(id),
		map[string]any{"secret": "SECwrong0123456789abcdef", "version": created.Body["version"]})).Body
	if upd["secret_hint"] != "SEC****cdef" || upd["name"] != "环沪会计群" || upd["version"].(float64) != 2 {
		t.Fatalf("updated = %v", upd)
	}
	r = e.do(admin, "POST", "/api/v1/dingtalk/robots/"+itoa(id)+"/test", nil)
	if r.Status != 422 || r.errCode() != "robot_sign_invalid" || !strings.Contains(string(r.Raw), "机器人加签密钥不正确") {
		t.Fatalf("wrong secret: %d %s", r.Status, r.Raw)
	}
	if len(e.sim.RobotMessages()) != 1 {
		t.Fatal("a refused test reached the group")
	}
	// An unknown token is worded too.
	e.must(200, e.do(admin, "PUT", "/api/v1/dingtalk/robots/"+itoa(id),
		map[string]any{"webhook_url": e.sim.URL + "/robot/send?access_token=gone", "secret": goodSecret, "version": 2}))
	if r := e.do(admin, "POST", "/api/v1/dingtalk/robots/"+itoa(id)+"/test", nil); r.Status != 422 || r.errCode() != "robot_token_invalid" {
		t.Fatalf("unknown token: %d %s", r.Status, r.Raw)
	}

	if r := e.do(admin, "PUT", "/api/v1/dingtalk/robots/"+itoa(id), map[string]any{"enabled": false, "version": 1}); r.Status != 409 {
		t.Fatalf("stale robot update: %d %s", r.Status, r.Raw)
	}
	e.must(200, e.do(admin, "PUT", "/api/v1/dingtalk/robots/"+itoa(id), map[string]any{"enabled": false, "version": 3}))
	if _, err := e.deps.Notify.RobotWebhook(context.Background(), w.cityA); !errors.Is(err, notify.ErrNoRobot) {
		t.Fatalf("disabled robot still used: %v", err)
	}

	_, auditor := e.mustUser("审计丁", "auditor")
	e.must(200, e.do(auditor, "GET", "/api/v1/dingtalk/robots", nil))
	e.must(403, e.do(auditor, "DELETE", "/api/v1/dingtalk/robots/"+itoa(id), nil))
	e.must(204, e.do(admin, "DELETE", "/api/v1/dingtalk/robots/"+itoa(id), nil))
	e.must(404, e.do(admin, "DELETE", "/api/v1/dingtalk/robots/"+itoa(id), nil))
	if items := e.must(200, e.do(admin, "GET", "/api/v1/dingtalk/robots", nil)).Body["items"].([]any); len(items) != 0 {
		t.Fatalf("after delete: %v", items)
	}
	var audited int
	e.db.Get(&audited, `SELECT count(*) FROM audit_log WHERE entity = 'dingtalk_robot'`)
	if audited != 5 { // create, 3 updates (the stale one refused), delete
		t.Fatalf("%d robot audit entries, want 5", audited)
	}
	var leaked int
	e.db.Get(&leaked, `SELECT count(*) FROM audit_log WHERE after::text LIKE '%SEC%good%' OR before::text LIKE '%SEC%good%' OR after::text LIKE '%`+token+`%'`)
	if leaked != 0 {
		t.Fatal("the audit log holds a robot secret or token")
	}
}

func TestDingTalkSettings(t *testing.T) {
	e := newEnv(t)
	admin := e.admin()
	s := e.must(200, e.do(admin, "GET", "/api/v1/dingtalk/settings", nil)).Body
	running := s["running"].(map[string]any)
	if running["corp_id"] != "dingdemocorp" || running["app_secret_set"] != true || s["applies_at_restart"] != true {
		t.Fatalf("settings = %v", s)
	}
	if strings.Contains(string(e.do(admin, "GET", "/api/v1/dingtalk/settings", nil).Raw), "demo-app-secret") {
		t.Fatal("the running app secret was returned")
	}
	in := map[string]any{"corp_id": "dingnewcorp", "app_key": "dingnewkey", "agent_id": "200002", "app_secret": "new-app-secret-1",
		"api_base": "https://api.dingtalk.com/", "stream": false, "version": s["version"]}
	if r := e.do(admin, "PUT", "/api/v1/dingtalk/settings", in); r.Status != 422 || r.errCode() != "secret_key_missing" {
		t.Fatalf("secret without key: %d %s", r.Status, r.Raw)
	}
	e.withSecretKey()
	for field, bad := range map[string]any{"agent_id": "abc", "api_base": "ftp://x", "corp_id": "has space"} {
		bin := map[string]any{}
		for k, v := range in {
			bin[k] = v
		}
		bin[field] = bad
		if r := e.do(admin, "PUT", "/api/v1/dingtalk/settings", bin); r.Status != 400 || r.Body["error"].(map[string]any)["field"] != field {
			t.Errorf("bad %s: %d %s", field, r.Status, r.Raw)
		}
	}
	saved := e.must(200, e.do(admin, "PUT", "/api/v1/dingtalk/settings", in))
	if strings.Contains(string(saved.Raw), "new-app-secret-1") {
		t.Fatal("the saved secret was returned")
	}
	sv := saved.Body["saved"].(map[string]any)
	if sv["corp_id"] != "dingnewcorp" || sv["app_secret_set"] != true || sv["api_base"] != "https://api.dingtalk.com" || sv["stream"] != false {
		t.Fatalf("saved = %v", sv)
	}
	// The running client is unchanged until the next start.
	if saved.Body["running"].(map[string]any)["corp_id"] != "dingdemocorp" {
		t.Fatal("running settings changed before a restart")
	}
	if r := e.do(admin, "PUT", "/api/v1/dingtalk/settings", in); r.Status != 409 {
		t.Fatalf("stale settings: %d", r.Status)
	}

	eff, err := notify.EffectiveDingTalk(context.Background(), e.db, e.deps.Config)
	if err != nil {
		t.Fatal(err)
	}
	if eff.CorpID != "dingnewcorp" || eff.AppKey != "dingnewkey" || eff.RobotCode != "dingnewkey" || eff.AppSecret != "new-app-secret-1" ||
		eff.AgentID != "200002" || eff.Stream || eff.APIBase != "https://api.dingtalk.com" || eff.OAPIBase != e.sim.URL {
		t.Fatalf("effective = %+v", eff)
	}
	// Another key cannot open the saved secret: start-up says so instead of using a wrong one.
	other := e.deps.Config
	other.SecretKey = strings.Repeat("ab", 32)
	if _, err := notify.EffectiveDingTalk(context.Background(), e.db, other); err == nil || !strings.Contains(err.Error(), "HEHUO_SECRET_KEY") {
		t.Fatalf("wrong key: %v", err)
	}
	// Keeping the secret (omitted) and clearing it ("").
	in["version"] = saved.Body["version"]
	delete(in, "app_secret")
	kept := e.must(200, e.do(admin, "PUT", "/api/v1/dingtalk/settings", in)).Body
	if kept["saved"].(map[string]any)["app_secret_set"] != true {
		t.Fatal("omitting app_secret cleared it")
	}
	in["version"], in["app_secret"] = kept["version"], ""
	cleared := e.must(200, e.do(admin, "PUT", "/api/v1/dingtalk/settings", in)).Body
	if cleared["saved"].(map[string]any)["app_secret_set"] != false {
		t.Fatal("an empty app_secret did not clear it")
	}
	if eff, _ := notify.EffectiveDingTalk(context.Background(), e.db, e.deps.Config); eff.AppSecret != "demo-app-secret" {
		t.Fatalf("cleared secret: effective secret %q, want the configured one", eff.AppSecret)
	}
}

func TestOutboxConsole(t *testing.T) {
	e := newEnv(t)
	admin := e.admin()
	id := e.mustNotice("pay:1", "dt_a", "dt_b")
	rows := e.must(200, e.do(admin, "GET", "/api/v1/notify/outbox?status=pending", nil)).Body["items"].([]any)
	if len(rows) != 1 || int64(rows[0].(map[string]any)["id"].(float64)) != id || rows[0].(map[string]any)["pending"].(float64) != 2 {
		t.Fatalf("pending = %v", rows)
	}
	if rows := e.must(200, e.do(admin, "GET", "/api/v1/notify/outbox?status=sent", nil)).Body["items"].([]any); len(rows) != 0 {
		t.Fatalf("sent = %v", rows)
	}
	if r := e.do(admin, "GET", "/api/v1/notify/outbox?status=lost", nil); r.Status != 400 {
		t.Fatalf("bad status: %d", r.Status)
	}
	d := e.must(200, e.do(admin, "GET", "/api/v1/notify/outbox/"+itoa(id), nil)).Body
	if ds := d["deliveries"].([]any); len(ds) != 2 || ds[0].(map[string]any)["recipient"] != "dt_a" {
		t.Fatalf("detail = %v", d)
	}
	e.must(404, e.do(admin, "GET", "/api/v1/notify/outbox/999999", nil))
	if r := e.do(admin, "POST", "/api/v1/notify/outbox/"+itoa(id)+"/retry", nil); r.Status != 409 || r.errCode() != "notice_not_retryable" {
		t.Fatalf("retry of a pending notice: %d %s", r.Status, r.Raw)
	}
	// Given up on: a retry queues it again.
	e.db.MustExec(`UPDATE notify_deliveries SET status = 'dead', last_error = 'x' WHERE outbox_id = $1`, id)
	e.db.MustExec(`UPDATE notify_outbox SET status = 'dead', attempts = 8, last_error = 'x' WHERE id = $1`, id)
	_, auditor := e.mustUser("审计戊", "auditor")
	e.must(200, e.do(auditor, "GET", "/api/v1/notify/outbox/"+itoa(id), nil))
	e.must(403, e.do(auditor, "POST", "/api/v1/notify/outbox/"+itoa(id)+"/retry", nil))
	n := e.must(200, e.do(admin, "POST", "/api/v1/notify/outbox/"+itoa(id)+"/retry", nil)).Body["notice"].(map[string]any)
	if n["status"] != "pending" || n["attempts"].(float64) != 0 || n["pending"].(float64) != 2 {
		t.Fatalf("after retry = %v", n)
	}
	st := e.must(200, e.do(admin, "GET", "/api/v1/notify/stats", nil)).Body
	if st["by_status"].(map[string]any)["pending"].(float64) != 1 {
		t.Fatalf("stats = %v", st)
	}
}
