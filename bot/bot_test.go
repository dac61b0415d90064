package bot_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"hehuo/bot"
	"hehuo/internal/audit"
	"hehuo/internal/auth"
	"hehuo/internal/cache/cachetest"
	"hehuo/internal/db"
	"hehuo/internal/db/dbtest"
	"hehuo/internal/dingtalk"
	"hehuo/internal/dtsim"
	"hehuo/internal/dtsim/dtsimtest"
	"hehuo/internal/holding"
	"hehuo/internal/holding/holdingtest"
	"hehuo/internal/ledger/ledgertest"
	"hehuo/internal/org"
	"hehuo/internal/project"
	"hehuo/internal/report"
	"hehuo/internal/workflow"
)

const publicURL = "https://hehuo.example.com"

// env is a bot connected to a simulator, over a database of its own.
type env struct {
	sim   *dtsimtest.Server
	db    *db.DB
	org   *org.Service
	auth  *auth.Service
	inbox *workflow.Inbox
	bot   *bot.Bot
	city  int64
}

func start(t *testing.T) *env {
	t.Helper()
	sim := dtsimtest.Start(t, func(c *dtsim.Config) { c.RedeliveryDelay = 200 * time.Millisecond })
	d := dbtest.New(t)
	ledgertest.ReconcileAtCleanup(t, d)
	c := cachetest.New(t)
	e := &env{sim: sim, db: d, org: org.NewService(d), inbox: workflow.NewInbox(d),
		auth: auth.NewService(d, c, auth.Options{SessionTTL: time.Hour, MaxFailures: 5, LockDuration: time.Minute})}
	e.bot = bot.New(sim.DingTalkConfig(), bot.Deps{
		DB: d, Org: e.org, Auth: e.auth, Projects: project.NewService(d),
		Holdings: holding.NewService(d, nil), Reports: report.NewService(d), Inbox: e.inbox, PublicURL: publicURL,
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.bot.Run(ctx) }()
	// Registered after the simulator's cleanup, so it runs before it.
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	wait, stop := context.WithTimeout(ctx, 10*time.Second)
	defer stop()
	if err := sim.WaitConnected(wait, 1); err != nil {
		t.Fatal(err)
	}
	e.city = holdingtest.CityCompany(t, d, "昆明城市公司")
	return e
}

// user creates a Hehuo user with a DingTalk userid, known to the simulator too.
func (e *env) user(t *testing.T, userid, name string, roles ...string) org.User {
	t.Helper()
	e.sim.AddUser(dtsim.User{UserID: userid, Name: name})
	u, err := e.org.CreateUser(context.Background(), audit.System, org.UserInput{Name: name, DingTalkUserID: userid, Roles: roles})
	if err != nil {
		t.Fatalf("create user %s: %v", userid, err)
	}
	return u
}

// say sends text to the bot as userid and returns the reply.
func (e *env) say(t *testing.T, userid, conversationType, text string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r, err := e.sim.BotMessage(ctx, userid, conversationType, text)
	if err != nil {
		t.Fatalf("%s says %q: %v", userid, text, err)
	}
	return r
}

func TestMyHoldingsRoundTrip(t *testing.T) {
	e := start(t)
	u := e.user(t, "zhangsan", "张三")
	other := e.user(t, "lisi", "李四")
	a := holdingtest.Project(t, e.db, e.city, "滇池壹号")
	b := holdingtest.Project(t, e.db, e.city, "春城花园")
	// The ledger's partner is partners.id, not users.id.
	pu, po := holdingtest.Partner(t, e.db, u.ID), holdingtest.Partner(t, e.db, other.ID)
	holdingtest.Pay(t, e.db, a, pu, "100000.00")
	holdingtest.Pay(t, e.db, a, pu, "23456.78")
	holdingtest.ReturnPrincipal(t, e.db, a, pu, "20000.50")
	holdingtest.PayProfit(t, e.db, a, pu, "3210.01")
	holdingtest.Pay(t, e.db, b, pu, "1234567.89")
	holdingtest.Pay(t, e.db, b, po, "777777.77")

	// Full-width spaces around the command are ignored.
	r := e.say(t, "zhangsan", "1", "\u3000我的跟投\u3000")
	for _, want := range []string{
		"**滇池壹号**", "认缴本金：123,456.78 元", "已缴：123,456.78 元", "已返还本金：20,000.50 元", "已分配收益：3,210.01 元",
		"**春城花园**", "认缴本金：1,234,567.89 元", "已缴：1,234,567.89 元", "已返还本金：0.00 元", "已分配收益：0.00 元",
		publicURL + "/m/",
	} {
		if !strings.Contains(r, want) {
			t.Errorf("reply lacks %q:\n%s", want, r)
		}
	}
	if strings.Contains(r, "777,777.77") {
		t.Errorf("reply shows another partner's stake:\n%s", r)
	}
	if strings.Index(r, "滇池壹号") > strings.Index(r, "春城花园") {
		t.Errorf("projects not in project order:\n%s", r)
	}

	r = e.say(t, "lisi", "1", "我的跟投")
	if !strings.Contains(r, "777,777.77") || strings.Contains(r, "滇池壹号") {
		t.Errorf("李四's reply:\n%s", r)
	}
}

// 我的跟投 after a distribution (issue 11): the principal returned is what
// the approved batch took off the principal account (A′, capital interest
// included), the profit received only what was paid out.
func TestMyHoldingsAfterADistribution(t *testing.T) {
	e := start(t)
	u := e.user(t, "zhaoliu", "赵六")
	p := holdingtest.Project(t, e.db, e.city, "泰安-锦艺誉峯")
	pu := holdingtest.Partner(t, e.db, u.ID)
	holdingtest.Pay(t, e.db, p, pu, "100000.00")
	holdingtest.Distribute(t, e.db, p, pu, "80000.00", "-1234.56", "0", true)
	holdingtest.Distribute(t, e.db, p, pu, "0", "0", "65990.21", true)
	holdingtest.Distribute(t, e.db, p, pu, "0", "0", "1000.00", false) // approved, not paid yet
	r := e.say(t, "zhaoliu", "1", "我的跟投")
	for _, want := range []string{"**泰安-锦艺誉峯**", "已缴：100,000.00 元", "已返还本金：80,000.00 元", "已分配收益：65,990.21 元"} {
		if !strings.Contains(r, want) {
			t.Errorf("reply lacks %q:\n%s", want, r)
		}
	}
}

func TestMyHoldingsWithoutStakes(t *testing.T) {
	e := start(t)
	e.user(t, "wangwu", "王五")
	r := e.say(t, "wangwu", "1", "我的跟投")
	if !strings.Contains(r, "您目前没有跟投的项目") {
		t.Errorf("reply:\n%s", r)
	}
}

var digits = regexp.MustCompile(`[0-9]`)

func TestMyHoldingsInGroupAsksForPrivateChat(t *testing.T) {
	e := start(t)
	u := e.user(t, "zhangsan", "张三")
	a := holdingtest.Project(t, e.db, e.city, "滇池壹号")
	holdingtest.Pay(t, e.db, a, holdingtest.Partner(t, e.db, u.ID), "100000.00")

	for _, text := range []string{"我的跟投", "@事业合伙助手 我的跟投"} {
		r := e.say(t, "zhangsan", "2", text)
		if !strings.Contains(r, "单聊") || !strings.Contains(r, "隐私") {
			t.Errorf("%q in a group: reply %q, want the private-chat hint", text, r)
		}
		if digits.MatchString(r) || strings.Contains(r, "滇池壹号") {
			t.Errorf("%q in a group: reply shows figures or projects: %q", text, r)
		}
	}
}

func TestUnknownSenderIsNotEnabled(t *testing.T) {
	e := start(t)
	e.sim.AddUser(dtsim.User{UserID: "stranger", Name: "路人"})
	for _, text := range []string{"我的跟投", "进度 滇池壹号"} {
		if r := e.say(t, "stranger", "1", text); r != "未开通事业合伙系统，请联系管理员" {
			t.Errorf("%q from an unknown sender: %q", text, r)
		}
	}
	// A resigned user is not enabled either.
	u := e.user(t, "gone", "离职者")
	status := org.StatusResigned
	if _, err := e.org.UpdateUser(context.Background(), audit.System, u.ID, org.UserPatch{EmploymentStatus: &status, Version: u.Version}); err != nil {
		t.Fatal(err)
	}
	if r := e.say(t, "gone", "1", "我的跟投"); r != "未开通事业合伙系统，请联系管理员" {
		t.Errorf("resigned user: %q", r)
	}
}

func TestProgressOnlyWithinScope(t *testing.T) {
	e := start(t)
	acc := e.user(t, "kuaiji", "会计甲", org.RoleAccountant)
	e.user(t, "partner", "合伙人乙")
	a := holdingtest.Project(t, e.db, e.city, "滇池壹号")
	b := holdingtest.Project(t, e.db, e.city, "滇池贰号")
	holdingtest.Project(t, e.db, e.city, "春城花园")
	for _, id := range []int64{a, b} {
		if _, err := e.auth.SetGrants(context.Background(), audit.System, auth.Target{ProjectID: &id},
			[]auth.Grant{{Role: org.RoleAccountant, UserIDs: []int64{acc.ID}}}); err != nil {
			t.Fatal(err)
		}
	}
	// 滇池壹号 has an approved round of two partners; one paid in full, one in part.
	p1 := holdingtest.Partner(t, e.db, e.user(t, "p1", "合伙人一").ID)
	p2 := holdingtest.Partner(t, e.db, e.user(t, "p2", "合伙人二").ID)
	holdingtest.Round(t, e.db, a, "approved", map[int64]string{p1: "500000", p2: "300000"})
	holdingtest.Pay(t, e.db, a, p1, "500000")
	holdingtest.Pay(t, e.db, a, p2, "100000.50")

	r := e.say(t, "kuaiji", "1", "进度 滇池壹号")
	for _, want := range []string{"滇池壹号 · 项目进度", "城市公司：昆明城市公司", "状态：已开放",
		"合伙名单：", "认购：", "测算：", "缴款通知：", // the steps of 工作跟踪表
		"已分配 800,000.00 元，已缴 600,000.50 元，未缴 199,999.50 元，缴清 1/2 人"} {
		if !strings.Contains(r, want) {
			t.Errorf("进度 of a granted project lacks %q:\n%s", want, r)
		}
	}
	// No space after the command works too, and so does an @mention in a group;
	// part of a name that names one project finds it.
	if r2 := e.say(t, "kuaiji", "2", "@事业合伙助手　进度滇池贰"); !strings.Contains(r2, "滇池贰号 · 项目进度") {
		t.Errorf("进度滇池贰 in a group:\n%s", r2)
	}
	cases := []struct{ who, text, want string }{
		{"kuaiji", "进度 春城花园", "未找到项目「春城花园」。请发送「进度 项目全称」，只能查看您负责的项目。"},     // exists, not granted
		{"kuaiji", "进度 不存在的项目", "未找到项目「不存在的项目」。请发送「进度 项目全称」，只能查看您负责的项目。"}, // does not exist: same answer
		{"kuaiji", "进度 滇池", "未找到项目「滇池」。您是否要找：滇池壹号、滇池贰号？"},                 // partial, two of the sender's match
		{"partner", "进度 滇池壹号", "您没有该项目的权限"},                               // partners have no project scope
		{"kuaiji", "进度", "请发送「进度 项目名」，例如：进度 滇池壹号"},                        // an example the sender may see
	}
	for _, c := range cases {
		if r := e.say(t, c.who, "1", c.text); r != c.want {
			t.Errorf("%s: %q → %q, want %q", c.who, c.text, r, c.want)
		}
	}
}

func TestHelpAndUnknownCommand(t *testing.T) {
	e := start(t)
	e.user(t, "kuaiji", "会计甲", org.RoleAccountant)
	e.user(t, "partner", "合伙人乙")
	if r := e.say(t, "kuaiji", "1", "帮助"); !strings.Contains(r, "进度 项目名") || !strings.Contains(r, "我的跟投") {
		t.Errorf("accountant's help:\n%s", r)
	}
	if r := e.say(t, "partner", "1", "帮助"); strings.Contains(r, "进度") || !strings.Contains(r, "我的跟投") {
		t.Errorf("partner's help:\n%s", r)
	}
	if r := e.say(t, "partner", "1", "今天天气怎么样"); r != "没有听懂。发送「帮助」查看可用命令。" {
		t.Errorf("unknown command: %q", r)
	}
}

// approval starts an OA approval in the simulator through the real client.
func (e *env) approval(t *testing.T, originator string) string {
	t.Helper()
	e.sim.AddUser(dtsim.User{UserID: originator, Name: "发起人"})
	c := dingtalk.New(e.sim.DingTalkConfig(), cachetest.New(t))
	id, err := c.StartApproval(context.Background(), dingtalk.ApprovalRequest{
		ProcessCode: "PROC-PEAK", OriginatorUserID: originator,
		Form: []dingtalk.FormValue{{Name: "项目", Value: "滇池壹号"}}})
	if err != nil {
		t.Fatalf("start approval: %v", err)
	}
	return id
}

// handled counts the rows the test handler wrote, one per handled event.
func handledRows(t *testing.T, d *db.DB) []string {
	t.Helper()
	var ids []string
	if err := d.Select(&ids, `SELECT instance_id FROM handled ORDER BY seq`); err != nil {
		t.Fatal(err)
	}
	return ids
}

// registerRecorder makes the inbox's bpms_instance_change handler write one
// row per finished instance in the inbox transaction; fail makes chosen
// calls fail. Start events are accepted and not counted.
func registerRecorder(t *testing.T, e *env, fail func(call int32) bool) *atomic.Int32 {
	t.Helper()
	if _, err := e.db.Exec(`CREATE TABLE handled (seq bigserial, instance_id text NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	var calls atomic.Int32
	e.inbox.Register(workflow.EventInstanceChange, func(ctx context.Context, tx *sqlx.Tx, ev workflow.Event) error {
		var data struct {
			ProcessInstanceID string `json:"processInstanceId"`
			Type              string `json:"type"`
			Result            string `json:"result"`
		}
		if err := json.Unmarshal(ev.Payload, &data); err != nil {
			return err
		}
		if data.Type != "finish" {
			return nil // the instance's start event
		}
		n := calls.Add(1)
		if _, err := tx.ExecContext(ctx, `INSERT INTO handled (instance_id) VALUES ($1)`, data.ProcessInstanceID+":"+data.Result); err != nil {
			return err
		}
		if fail != nil && fail(n) {
			return errors.New("process center busy")
		}
		return nil
	})
	return &calls
}

// eventually polls cond for up to 10 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// acked reports whether the simulator got a SUCCESS ack for an event.
func acked(sim *dtsimtest.Server, eventID string) (acked bool, deliveries int) {
	for _, ev := range sim.Events() {
		if ev.ID == eventID {
			return ev.Acked, ev.Deliveries
		}
	}
	return false, 0
}

func TestApprovalEventDeliveredTwiceHandledOnce(t *testing.T) {
	e := start(t)
	calls := registerRecorder(t, e, nil)
	instance := e.approval(t, "faqiren")
	eventID, err := e.sim.Decide(instance, "agree")
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "the first delivery acked", func() bool { ok, _ := acked(e.sim, eventID); return ok })
	if err := e.sim.Redeliver(eventID); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the redelivery acked", func() bool { ok, n := acked(e.sim, eventID); return ok && n >= 2 })

	if c := calls.Load(); c != 1 {
		t.Errorf("handler ran %d times, want 1", c)
	}
	if got := handledRows(t, e.db); len(got) != 1 || got[0] != instance+":agree" {
		t.Errorf("handled rows %v, want [%s:agree]", got, instance)
	}
	var n int
	if err := e.db.Get(&n, `SELECT count(*) FROM dingtalk_events WHERE event_id = $1 AND handled_at IS NOT NULL`, eventID); err != nil || n != 1 {
		t.Errorf("inbox rows for the event: %d, %v; want 1 handled", n, err)
	}
	// The task event that came with the decision is stored too, with no handler.
	var tasks int
	e.db.Get(&tasks, `SELECT count(*) FROM dingtalk_events WHERE event_type = 'bpms_task_change' AND handled_at IS NOT NULL`)
	if tasks != 1 {
		t.Errorf("%d task events stored, want 1", tasks)
	}
}

func TestApprovalEventHandlerFailingOnceIsRedelivered(t *testing.T) {
	e := start(t)
	calls := registerRecorder(t, e, func(call int32) bool { return call == 1 })
	instance := e.approval(t, "faqiren")
	eventID, err := e.sim.Decide(instance, "refuse")
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "the event acked after a redelivery", func() bool { ok, _ := acked(e.sim, eventID); return ok })
	_, deliveries := acked(e.sim, eventID)
	if deliveries < 2 {
		t.Errorf("event delivered %d times, want a redelivery after LATER", deliveries)
	}
	if c := calls.Load(); c != 2 {
		t.Errorf("handler ran %d times, want 2 (failed, then handled)", c)
	}
	// The failed attempt's row was rolled back with it.
	if got := handledRows(t, e.db); len(got) != 1 || got[0] != instance+":refuse" {
		t.Errorf("handled rows %v, want [%s:refuse]", got, instance)
	}
	ev, err := e.inbox.Get(context.Background(), eventID)
	if err != nil || ev.HandledAt == nil || ev.Attempts != 2 {
		t.Errorf("inbox row %+v, %v: want handled after 2 attempts", ev, err)
	}
}

func TestReconnectsAfterStreamDrop(t *testing.T) {
	e := start(t)
	calls := registerRecorder(t, e, nil)
	if !e.bot.Connected() {
		t.Fatal("Connected() = false while the simulator has the connection")
	}
	// The SDK may reconnect faster than a poll can see it disconnected, so
	// the drop is noticed by the fresh registration it makes.
	const open = "/v1.0/gateway/connections/open"
	opened := e.sim.Stats()[open]
	e.sim.DropStreams()
	eventually(t, "a fresh connections/open after the drop", func() bool { return e.sim.Stats()[open] > opened })
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := e.sim.WaitConnected(ctx, 1); err != nil {
		t.Fatal(err)
	}
	eventually(t, "Connected() again", e.bot.Connected)

	instance := e.approval(t, "faqiren")
	eventID, err := e.sim.Decide(instance, "agree")
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "the event after the reconnect acked", func() bool { ok, _ := acked(e.sim, eventID); return ok })
	if c := calls.Load(); c != 1 {
		t.Errorf("handler ran %d times, want 1", c)
	}
	e.user(t, "zhangsan", "张三")
	if r := e.say(t, "zhangsan", "1", "我的跟投"); !strings.Contains(r, "我的跟投") {
		t.Errorf("bot message after reconnect: %q", r)
	}
}

// deliverCard sends an interactive card to zhangsan's robot chat through
// the real client.
func deliverCard(t *testing.T, e *env, outTrackID string) {
	t.Helper()
	c := dingtalk.New(e.sim.DingTalkConfig(), cachetest.New(t))
	err := c.DeliverCard(context.Background(), dingtalk.Card{
		TemplateID: "tpl-subscribe", OutTrackID: outTrackID,
		Data: map[string]string{"status": "待确认"}, UserID: "zhangsan"})
	if err != nil {
		t.Fatalf("deliver card %s: %v", outTrackID, err)
	}
}

func TestCardCallbackRoutedByPrefix(t *testing.T) {
	e := start(t)
	e.sim.AddUser(dtsim.User{UserID: "zhangsan", Name: "张三"})
	var got []bot.CardCallback
	e.bot.OnCard("subscription:", func(ctx context.Context, c bot.CardCallback) (bot.CardResponse, error) {
		got = append(got, c)
		return bot.CardResponse{CardData: map[string]string{"status": "已确认"}, PrivateData: map[string]string{"mine": c.Param("amount")}}, nil
	})
	e.bot.OnCard("subscription:vip:", func(ctx context.Context, c bot.CardCallback) (bot.CardResponse, error) {
		return bot.CardResponse{CardData: map[string]string{"status": "VIP"}}, nil
	})
	e.bot.OnCard("payout:", func(ctx context.Context, c bot.CardCallback) (bot.CardResponse, error) {
		return bot.CardResponse{}, errors.New("should not be called")
	})
	deliverCard(t, e, "subscription:12:7")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := e.sim.CardCallback(ctx, "zhangsan", "subscription:12:7", map[string]string{"action": "confirm", "amount": "50000"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].OutTrackID != "subscription:12:7" || got[0].UserID != "zhangsan" || got[0].Param("amount") != "50000" {
		t.Fatalf("handler got %+v", got)
	}
	if len(got[0].ActionIDs) != 1 || got[0].ActionIDs[0] != "btn_confirm" {
		t.Errorf("action ids %v", got[0].ActionIDs)
	}
	var r struct {
		CardData        struct{ CardParamMap map[string]string }
		UserPrivateData struct{ CardParamMap map[string]string }
	}
	if err := json.Unmarshal(resp, &r); err != nil {
		t.Fatalf("response %s: %v", resp, err)
	}
	if r.CardData.CardParamMap["status"] != "已确认" || r.UserPrivateData.CardParamMap["mine"] != "50000" {
		t.Errorf("response %s", resp)
	}
	var card dtsim.Card
	for _, c := range e.sim.Cards() {
		if c.OutTrackID == "subscription:12:7" {
			card = c
		}
	}
	if card.CardParamMap["status"] != "已确认" {
		t.Errorf("card after the callback: %+v", card)
	}

	// The longest prefix wins.
	deliverCard(t, e, "subscription:vip:1")
	resp, err = e.sim.CardCallback(ctx, "zhangsan", "subscription:vip:1", map[string]string{"action": "confirm"})
	if err != nil || !strings.Contains(string(resp), "VIP") {
		t.Errorf("vip card: %s, %v", resp, err)
	}
	// A card nobody handles fails instead of pretending success.
	deliverCard(t, e, "unknown:1")
	if _, err := e.sim.CardCallback(ctx, "zhangsan", "unknown:1", nil); err == nil {
		t.Error("callback of an unhandled card succeeded")
	}
}

func TestEventsOutsideTheInboxAreAckedAndDropped(t *testing.T) {
	e := start(t)
	calls := registerRecorder(t, e, nil)
	ids := map[string]string{
		"another event type": e.sim.PushEvent("user_add_org", map[string]any{"UserId": []string{"u1"}}),
		"payload not JSON":   e.sim.PushEvent(workflow.EventInstanceChange, json.RawMessage(`not json`)),
	}
	for what, id := range ids {
		eventually(t, what+" acked", func() bool { ok, _ := acked(e.sim, id); return ok })
		if _, n := acked(e.sim, id); n != 1 {
			t.Errorf("%s delivered %d times, want once (SUCCESS, never LATER)", what, n)
		}
		if _, err := e.inbox.Get(context.Background(), id); err == nil {
			t.Errorf("%s stored in the inbox", what)
		}
	}
	if c := calls.Load(); c != 0 {
		t.Errorf("handler ran %d times", c)
	}
}

func TestEventsOfAnotherCorpAreIgnored(t *testing.T) {
	sim := dtsimtest.Start(t)
	d := dbtest.New(t)
	inbox := workflow.NewInbox(d)
	cfg := sim.DingTalkConfig()
	cfg.CorpID = "dingothercorp" // the app we run as is not the simulator's corp
	b := bot.New(cfg, bot.Deps{DB: d, Org: org.NewService(d), Inbox: inbox, Holdings: holding.NewService(d, nil)})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	id := sim.PushEvent(workflow.EventInstanceChange, map[string]any{"processInstanceId": "pi-x", "type": "finish", "result": "agree"})
	eventually(t, "the event acked", func() bool { ok, _ := acked(sim, id); return ok })
	if _, err := inbox.Get(context.Background(), id); err == nil {
		t.Error("another corp's event stored in the inbox")
	}
}

func TestRunRefusesMissingCredentials(t *testing.T) {
	d := dbtest.New(t)
	cfg := dtsimtest.Start(t).DingTalkConfig()
	cfg.AppSecret = ""
	b := bot.New(cfg, bot.Deps{DB: d, Inbox: workflow.NewInbox(d)})
	if err := b.Run(context.Background()); err == nil {
		t.Fatal("Run without an app secret: want an error")
	}
	if b.Connected() {
		t.Error("Connected() without a connection")
	}
}

// At debug level the SDK logs the connections/open request on the wire,
// AppSecret included; the log adapter redacts it (and the ticket).
func TestDebugLogNeverShowsTheAppSecret(t *testing.T) {
	sim := dtsimtest.Start(t)
	d := dbtest.New(t)
	var buf syncBuffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	cfg := sim.DingTalkConfig()
	b := bot.New(cfg, bot.Deps{DB: d, Org: org.NewService(d), Inbox: workflow.NewInbox(d), Holdings: holding.NewService(d, nil), Log: log})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	wait, stop := context.WithTimeout(ctx, 10*time.Second)
	defer stop()
	if err := sim.WaitConnected(wait, 1); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if !strings.Contains(out, "connections/open") || !strings.Contains(out, "clientSecret") {
		t.Fatalf("the debug log does not show the wire request:\n%s", out)
	}
	if strings.Contains(out, cfg.AppSecret) {
		t.Fatalf("the debug log shows the AppSecret:\n%s", out)
	}
}

// syncBuffer is a bytes.Buffer safe for the SDK's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
