package microapp_test

import (
	"context"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"hehuo/bot"
	"hehuo/internal/audit"
	"hehuo/internal/civil"
	"hehuo/internal/dtsim"
	"hehuo/internal/notify"
	"hehuo/internal/org"
	"hehuo/internal/workflow"
)

// startBot runs the stream bot against e's simulator, feeding e's own
// workflow inbox, so approval events decided in the simulator reach the
// process center the way they do in production.
func (e *env) startBot() {
	e.t.Helper()
	b := bot.New(e.sim.DingTalkConfig(), bot.Deps{
		DB: e.db, Org: e.deps.Org, Auth: e.deps.Auth, Projects: e.deps.Projects,
		Holdings: e.deps.Holdings, Reports: e.deps.Reports, Inbox: e.wire.Inbox, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx) }()
	e.t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			e.t.Errorf("bot: %v", err)
		}
	})
	wait, stop := context.WithTimeout(ctx, 10*time.Second)
	defer stop()
	if err := e.sim.WaitConnected(wait, 1); err != nil {
		e.t.Fatal(err)
	}
}

// drain sends every due notice of the outbox to the simulator.
func (e *env) drain() {
	e.t.Helper()
	d := notify.NewDispatcher(e.deps.Notify, notify.WithoutListen(), notify.WithResultDelay(time.Hour))
	if _, err := d.DrainOnce(context.Background()); err != nil {
		e.t.Fatalf("drain: %v", err)
	}
}

// eventually polls cond for up to 10 s.
func (e *env) eventually(what string, cond func() bool) {
	e.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			e.t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// partnerUser is a Hehuo user known to DingTalk (the simulator) by userid.
func (e *env) partnerUser(userid, name, grade string) int64 {
	e.t.Helper()
	e.sim.AddUser(dtsim.User{UserID: userid, Name: name})
	u, err := e.deps.Org.CreateUser(context.Background(), audit.System, org.UserInput{Name: name, DingTalkUserID: userid, Grade: grade})
	if err != nil {
		e.t.Fatal(err)
	}
	return u.ID
}

// signInByAuthCode signs userid in the way the H5 page does inside DingTalk (免登).
func (e *env) signInByAuthCode(userid string) string {
	e.t.Helper()
	code, err := e.sim.AuthCode(userid)
	if err != nil {
		e.t.Fatal(err)
	}
	r := e.must(200, e.do("", "POST", "/api/v1/auth/dingtalk", map[string]string{"auth_code": code}))
	return r.Body["token"].(string)
}

func num(v any) int64 {
	f, _ := v.(float64)
	return int64(f)
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

func dec(t *testing.T, v any) decimal.Decimal {
	t.Helper()
	d, err := decimal.NewFromString(str(v))
	if err != nil {
		t.Fatalf("amount %v: %v", v, err)
	}
	return d
}

// robotMessages counts the robot messages into conv whose body mentions all of words.
func (e *env) robotMessages(conv string, words ...string) int {
	n := 0
	for _, m := range e.sim.RobotMessages() {
		if m.Conversation != conv {
			continue
		}
		ok := true
		for _, w := range words {
			ok = ok && strings.Contains(string(m.Msg), w)
		}
		if ok {
			n++
		}
	}
	return n
}

// process reads a process instance.
func (e *env) process(token string, id int64) map[string]any {
	e.t.Helper()
	return e.must(200, e.do(token, "GET", "/api/v1/processes/"+itoa(id), nil)).Body
}

// decide agrees or refuses a running approval in the simulator and waits
// until Hehuo has applied the result; it returns the event's id.
func (e *env) decide(token string, processID int64, instanceID, result string) string {
	e.t.Helper()
	ev, err := e.sim.Decide(instanceID, result)
	if err != nil {
		e.t.Fatal(err)
	}
	want := map[string]string{"agree": "agreed", "refuse": "refused"}[result]
	e.eventually("process "+itoa(processID)+" "+want, func() bool { return str(e.process(token, processID)["status"]) == want })
	return ev
}

// flowWorld is the project of the flow tests: city A's 常州项目 with a
// robot in the city company's group and a city accountant who signs in by
// DingTalk auth code.
type flowWorld struct {
	world
	admin, biz, acct string
	proj             string
}

const flowConv = "环沪会计群"

func (e *env) flowWorld() flowWorld {
	e.t.Helper()
	ctx := context.Background()
	e.withSecretKey() // robot secrets are stored encrypted
	f := flowWorld{admin: e.admin(), biz: e.signIn("hhadmin", bizadminPassword)}
	f.world = e.mustWorld(f.admin)
	f.proj = itoa(f.projA)

	// The city company's group robot, where every alert of the project goes.
	e.sim.AddRobot(dtsim.Robot{Name: "环沪会计群机器人", AccessToken: "flowrobottoken0123456789", Secret: "SECflow0123456789abcdef", Conversation: flowConv})
	e.must(201, e.do(f.admin, "POST", "/api/v1/dingtalk/robots", map[string]any{
		"org_unit_id": f.cityA, "name": flowConv, "secret": "SECflow0123456789abcdef",
		"webhook_url": e.sim.URL + "/robot/send?access_token=flowrobottoken0123456789",
	}))

	// The city accountant, granted city A, works the project; in DingTalk too.
	e.sim.AddUser(dtsim.User{UserID: "acct_huanhu", Name: "环沪会计"})
	acctUser, err := e.deps.Org.CreateUser(ctx, audit.System, org.UserInput{Name: "环沪会计", DingTalkUserID: "acct_huanhu", Roles: []string{"accountant"}})
	if err != nil {
		e.t.Fatal(err)
	}
	e.must(200, e.do(f.admin, "PUT", "/api/v1/org-units/"+itoa(f.cityA)+"/grants",
		map[string]any{"grants": []map[string]any{{"role": "accountant", "user_ids": []int64{acctUser.ID}}}}))
	f.acct = e.signInByAuthCode("acct_huanhu")
	return f
}

// termsAndPeak enters R1's example terms and gets peak_capital approved in
// the simulator; it checks the pools and the lock.
func (e *env) termsAndPeak(f flowWorld) {
	t := e.t
	t.Helper()
	terms := e.must(200, e.do(f.acct, "PUT", "/api/v1/projects/"+f.proj+"/establishment", map[string]any{
		"peak_capital": "220000000.00",
		"tier_ratios":  map[string]string{"holding": "0", "property": "0.0331", "city": "0.006", "other": "0"},
		"funding_date": "2024-03-01", "financing_rate": "0.0435",
		"group_cap_ratio": "0.10", "per_person_cap_ratio": "0.01",
		"collection_account": map[string]string{"bank": "工商银行常州分行", "account_name": "常州锦艺合伙企业", "account_number": "1105020309000012345"},
		"version":            0,
	})).Body
	pools, _ := terms["pools"].(map[string]any)
	if !dec(t, pools["city"]).Equal(decimal.NewFromInt(1320000)) || !dec(t, terms["total"]).Equal(decimal.NewFromInt(8602000)) {
		t.Fatalf("terms = %v", terms)
	}
	peak := e.must(201, e.do(f.acct, "POST", "/api/v1/projects/"+f.proj+"/processes", map[string]any{
		"kind": "peak_capital", "subject_id": 0, "form": map[string]string{"情况说明": "常州项目资金峰值确认"},
	})).Body
	peakID, peakInst := num(peak["id"]), str(peak["instance_id"])
	if str(peak["status"]) != "running" || peakInst == "" {
		t.Fatalf("peak launch = %v", peak)
	}
	e.decide(f.acct, peakID, peakInst, "agree")
	if got := e.must(200, e.do(f.acct, "GET", "/api/v1/projects/"+f.proj+"/establishment", nil)).Body; got["peak_locked"] != true {
		t.Fatalf("after peak_capital agreed: %v", got)
	}
}

// flowPartner is one of RULES R3's four partners in the city tier.
type flowPartner struct {
	userid, name, grade string
	mandatory           bool
	min, max, amount    string
	allocated           int64
	id                  int64
	token               string
}

// calculatedRound runs 3–6 of the flow: the initial round with R3's four
// invitations, notices into four DingTalk inboxes (one robot alert), the
// partners' sign-in by auth code and subscriptions, closed by hand and
// calculated — R3's example to the yuan. It returns the round's id.
func (e *env) calculatedRound(f flowWorld) (string, []*flowPartner) {
	t := e.t
	t.Helper()
	round := e.must(201, e.do(f.acct, "POST", "/api/v1/projects/"+f.proj+"/rounds", map[string]any{"kind": "initial"})).Body
	rid := itoa(num(round["id"]))
	deadline := civil.Of(time.Now().In(civil.Shanghai).AddDate(0, 0, 7)).String()
	partners := []*flowPartner{
		{userid: "p_a", name: "甲", grade: "M5", mandatory: true, min: "500000", max: "1000000", amount: "500000", allocated: 500000},
		{userid: "p_b", name: "乙", grade: "M3", mandatory: true, min: "250000", max: "500000", amount: "300000", allocated: 300000},
		{userid: "p_c", name: "丙", min: "100000", max: "500000", amount: "400000", allocated: 297143},
		{userid: "p_d", name: "丁", min: "100000", max: "500000", amount: "300000", allocated: 222857},
	}
	for _, p := range partners {
		p.id = e.partnerUser(p.userid, p.name, p.grade)
		e.must(201, e.do(f.acct, "POST", "/api/v1/rounds/"+rid+"/invitations", map[string]any{
			"user_id": p.id, "tier": "city", "mandatory": p.mandatory,
			"min_amount": p.min, "max_amount": p.max, "deadline": deadline,
		}))
	}

	// Notices: one work notice in each of the four inboxes, one robot alert.
	e.must(200, e.do(f.acct, "POST", "/api/v1/rounds/"+rid+"/notices/subscription", map[string]any{"test": false}))
	e.drain()
	for _, p := range partners {
		ns := e.sim.Notices(p.userid)
		if len(ns) != 1 || !strings.Contains(string(ns[0].Msg), "常州项目") || !strings.Contains(string(ns[0].Msg), "/m/rounds/"+rid) {
			t.Fatalf("%s's notices: %+v, want one about 常州项目 linking into the H5 page", p.userid, ns)
		}
	}
	if n := e.robotMessages(flowConv, "认购通知"); n != 1 {
		t.Fatalf("robot alerts of the notices: %d, want 1", n)
	}

	// Each partner signs in by auth code and subscribes on their invitation.
	for _, p := range partners {
		p.token = e.signInByAuthCode(p.userid)
		mine := e.must(200, e.do(p.token, "GET", "/api/v1/me/invitations", nil)).Body["items"].([]any)
		if len(mine) != 1 {
			t.Fatalf("%s sees %d invitations", p.userid, len(mine))
		}
		inv := itoa(num(mine[0].(map[string]any)["id"]))
		e.must(200, e.do(p.token, "PUT", "/api/v1/me/invitations/"+inv+"/subscription",
			map[string]any{"amount": p.amount, "risk_acknowledged": true}))
	}

	// Closed by hand, calculated: R3's example to the yuan.
	e.must(200, e.do(f.acct, "POST", "/api/v1/rounds/"+rid+"/close", nil))
	alloc := e.must(200, e.do(f.acct, "POST", "/api/v1/rounds/"+rid+"/allocation", nil)).Body
	byUser := map[int64]map[string]any{}
	for _, l := range alloc["lines"].([]any) {
		line := l.(map[string]any)
		byUser[num(line["user_id"])] = line
	}
	for _, p := range partners {
		line := byUser[p.id]
		if line == nil || !dec(t, line["allocated"]).Equal(decimal.NewFromInt(p.allocated)) || line["edited"] != false {
			t.Fatalf("%s: line %v, want allocated %d", p.name, line, p.allocated)
		}
	}
	if alloc["trace"] == nil {
		t.Fatal("allocation without its trace")
	}
	return rid, partners
}

func mustInt(t *testing.T, s string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// Must show: the whole of 立项 over HTTP against the simulator — terms →
// peak_capital approved in DingTalk → a round of four invitations (R3's
// A–D in the city tier) → notices in four DingTalk inboxes → four partners
// sign in by auth code and subscribe → R3's allocation to the yuan →
// submit → reject → resubmit → approve → establishment launched and agreed,
// its event delivered twice → the round approved once, one robot alert for
// each step. Along the way 工作跟踪表 follows, and launching establishment
// before the review approved it is refused with nothing changed.
func TestFlowEstablishmentToApprovedRound(t *testing.T) {
	e := newEnv(t)
	e.startBot()
	f := e.flowWorld()
	admin, biz, acct, proj, conv := f.admin, f.biz, f.acct, f.proj, flowConv
	_ = admin

	// 1–2. Terms (R1's example: the city pool is 1,320,000); peak_capital
	// launched, agreed in DingTalk, the terms locked; one robot alert.
	e.termsAndPeak(f)
	e.drain()
	if n := e.robotMessages(conv, "常州项目"); n != 1 {
		t.Fatalf("robot messages after the peak result: %d, want 1: %+v", n, e.sim.RobotMessages())
	}

	// 3–6. The initial round with R3's four partners, notices, subscriptions,
	// closed by hand and calculated to the yuan.
	rid, partners := e.calculatedRound(f)
	roundID := mustInt(t, rid)

	// 7. Submitted; establishment may not be launched before the review approves.
	e.must(200, e.do(acct, "POST", "/api/v1/rounds/"+rid+"/submit", nil))
	before := fingerprint(t, e.db)
	approvals := len(e.sim.Approvals(""))
	early := e.do(acct, "POST", "/api/v1/projects/"+proj+"/processes", map[string]any{"kind": "establishment", "subject_id": roundID})
	if early.Status != 409 && early.Status != 422 || early.errCode() == "" {
		t.Fatalf("establishment before review: %d %s", early.Status, early.Raw)
	}
	if fingerprint(t, e.db) != before || len(e.sim.Approvals("")) != approvals {
		t.Fatal("the refused launch changed something")
	}

	// 8. Rejected in review, resubmitted, approved; each decision one robot alert.
	r := e.must(200, e.do(biz, "POST", "/api/v1/rounds/"+rid+"/review", map[string]any{"decision": "reject", "reason": "请核对强投人员"})).Body
	if str(r["status"]) != "calculated" {
		t.Fatalf("after reject: %v", r)
	}
	e.must(200, e.do(acct, "POST", "/api/v1/rounds/"+rid+"/submit", nil))
	r = e.must(200, e.do(biz, "POST", "/api/v1/rounds/"+rid+"/review", map[string]any{"decision": "approve", "reason": ""})).Body
	if str(r["status"]) != "reviewed" {
		t.Fatalf("after approve: %v", r)
	}
	e.drain()
	if n := e.robotMessages(conv, "方案审核"); n != 2 || e.robotMessages(conv, "方案审核", "请核对强投人员") != 1 {
		t.Fatalf("robot alerts of the review decisions: %d, want 2, the rejection with its reason", n)
	}

	// 9. establishment: launched (round in approval), agreed, the event twice.
	est := e.must(201, e.do(acct, "POST", "/api/v1/projects/"+proj+"/processes", map[string]any{
		"kind": "establishment", "subject_id": roundID, "form": map[string]string{"情况说明": "常州项目事业合伙立项"},
	})).Body
	estID, estInst := num(est["id"]), str(est["instance_id"])
	// The OA form in DingTalk carries the project and what the user typed.
	form := map[string]string{}
	for _, a := range e.sim.Approvals("RUNNING") {
		if a.InstanceID == estInst {
			for _, v := range a.Form {
				form[v.Name] = v.Value
			}
		}
	}
	if form["项目名称"] != "常州项目" || form["情况说明"] != "常州项目事业合伙立项" {
		t.Fatalf("establishment OA form = %v", form)
	}
	if got := str(e.must(200, e.do(acct, "GET", "/api/v1/rounds/"+rid, nil)).Body["status"]); got != "in_approval" {
		t.Fatalf("round while the establishment process runs: %s", got)
	}
	robotsBefore := len(e.sim.RobotMessages())
	ev := e.decide(acct, estID, estInst, "agree")
	if err := e.sim.Redeliver(ev); err != nil {
		t.Fatal(err)
	}
	e.eventually("the second delivery", func() bool {
		for _, x := range e.sim.Events() {
			if x.ID == ev {
				return x.Deliveries >= 2
			}
		}
		return false
	})
	time.Sleep(300 * time.Millisecond) // the duplicate's ack follows its delivery
	// A third delivery, handed to the inbox directly, is a duplicate too.
	for _, x := range e.sim.Events() {
		if x.ID == ev {
			if res, err := e.wire.Inbox.Accept(context.Background(), x.ID, x.Type, "", x.Data); err != nil || res != workflow.Duplicate {
				t.Fatalf("third delivery: %v, %v; want a duplicate", res, err)
			}
		}
	}
	e.drain()

	got := e.must(200, e.do(acct, "GET", "/api/v1/rounds/"+rid, nil)).Body
	if str(got["status"]) != "approved" {
		t.Fatalf("round after establishment agreed: %v", got)
	}
	var approvedTimes int
	e.db.Get(&approvedTimes, `SELECT count(*) FROM audit_log WHERE entity = 'round' AND entity_id = $1 AND after->>'status' = 'approved'`, rid)
	if approvedTimes != 1 {
		t.Fatalf("round approved %d times in the audit log, want 1", approvedTimes)
	}
	if n := len(e.sim.RobotMessages()) - robotsBefore; n != 1 {
		t.Fatalf("robot alerts for the establishment result: %d, want 1: %+v", n, e.sim.RobotMessages()[robotsBefore:])
	}

	if e.robotMessages(conv, "事业合伙立项", "同意") != 1 || e.robotMessages(conv, "项目资金峰值", "同意") != 1 {
		t.Fatalf("BPM result alerts: %+v", e.sim.RobotMessages())
	}
	// Each step's alert once, all in the city company's group: the peak
	// result, the notices, two review decisions, the establishment result.
	if all := e.sim.RobotMessages(); len(all) != 5 || e.robotMessages(conv) != 5 {
		t.Fatalf("robot messages: %d, want 5: %+v", len(all), all)
	}

	// The approved allocation is each partner's subscribed principal (我的跟投).
	for _, p := range partners {
		hs := e.must(200, e.do(p.token, "GET", "/api/v1/me/holdings", nil)).Body["items"].([]any)
		if len(hs) != 1 || !dec(t, hs[0].(map[string]any)["principal"]).Equal(decimal.NewFromInt(p.allocated)) {
			t.Fatalf("%s holdings = %v, want principal %d", p.name, hs, p.allocated)
		}
	}

	// 10. 工作跟踪表: every step of 立项 up to the approval is done.
	report := e.must(200, e.do(acct, "GET", "/api/v1/reports/work-tracking?project_id="+proj, nil)).Body["items"].([]any)
	for _, s := range report[0].(map[string]any)["steps"].([]any) {
		st := s.(map[string]any)
		want := "done"
		switch {
		case strings.HasPrefix(str(st["step"]), "payment"):
			want = "pending" // the payment issue's
		case st["step"] == "supplementary":
			want = "n/a" // no supplementary round
		}
		if st["status"] != want || want == "done" && (str(st["by"]) == "" || st["at"] == nil) {
			t.Errorf("work tracking step %v", st)
		}
	}
}

// Robot alert: a round whose deadline passed closes by itself (CloseDue, the
// scheduler's job) and posts exactly one alert to the city company's group
// counting the mandatory partners without a subscription — not the ones who
// subscribed nor the voluntary ones — linking to the round, not again on the
// next run.
func TestFlowMandatoryMissingAtTheDeadline(t *testing.T) {
	e := newEnv(t)
	e.startBot()
	ctx := context.Background()
	f := e.flowWorld()
	e.termsAndPeak(f)
	e.drain()
	before := len(e.sim.RobotMessages())

	round := e.must(201, e.do(f.acct, "POST", "/api/v1/projects/"+f.proj+"/rounds", map[string]any{"kind": "initial"})).Body
	rid := itoa(num(round["id"]))
	today := civil.Of(time.Now().In(civil.Shanghai))
	invite := func(userid, name, grade string, mandatory bool, min string) {
		id := e.partnerUser(userid, name, grade)
		e.must(201, e.do(f.acct, "POST", "/api/v1/rounds/"+rid+"/invitations", map[string]any{
			"user_id": id, "tier": "city", "mandatory": mandatory, "min_amount": min, "max_amount": "600000", "deadline": today.String(),
		}))
	}
	invite("m_yes", "强投已认", "M5", true, "500000")
	invite("m_no", "强投未认", "M5", true, "500000")
	invite("v_no", "自愿未认", "", false, "100000")
	e.must(200, e.do(f.acct, "POST", "/api/v1/rounds/"+rid+"/notices/subscription", map[string]any{"test": false}))
	tok := e.signInByAuthCode("m_yes")
	inv := itoa(num(e.must(200, e.do(tok, "GET", "/api/v1/me/invitations", nil)).Body["items"].([]any)[0].(map[string]any)["id"]))
	e.must(200, e.do(tok, "PUT", "/api/v1/me/invitations/"+inv+"/subscription", map[string]any{"amount": "500000", "risk_acknowledged": true}))
	e.drain()
	afterNotices := len(e.sim.RobotMessages())

	// Not due before the deadline's end of day; due the day after.
	if n, err := e.deps.Rounds.CloseDue(ctx, today.EndExclusive().Add(-time.Second)); err != nil || n != 0 {
		t.Fatalf("CloseDue on the deadline: %d, %v", n, err)
	}
	if n, err := e.deps.Rounds.CloseDue(ctx, today.EndExclusive().Add(time.Minute)); err != nil || n != 1 {
		t.Fatalf("CloseDue after the deadline: %d, %v", n, err)
	}
	if n, err := e.deps.Rounds.CloseDue(ctx, today.EndExclusive().Add(time.Hour)); err != nil || n != 0 {
		t.Fatalf("CloseDue again: %d, %v", n, err)
	}
	e.drain()
	e.drain()
	// Closed at the deadline, and allocated at once (初次自动测算).
	if got := str(e.must(200, e.do(f.acct, "GET", "/api/v1/rounds/"+rid, nil)).Body["status"]); got != "calculated" {
		t.Fatalf("round after its deadline: %s, want calculated", got)
	}
	msgs := e.sim.RobotMessages()[afterNotices:]
	// One mandatory partner is missing and named (the voluntary one does not
	// count); the link opens the round's 合伙名单 in the console.
	if len(msgs) != 1 || !strings.Contains(string(msgs[0].Msg), "强投名单中尚有 **1** 人未认购：强投未认。") ||
		strings.Contains(string(msgs[0].Msg), "自愿未认") || strings.Contains(string(msgs[0].Msg), "强投已认") ||
		!strings.Contains(string(msgs[0].Msg), "/establishment/partners?project="+f.proj+`\u0026round=`+rid) || msgs[0].Conversation != flowConv {
		t.Fatalf("alerts at the deadline: %+v (before notices %d)", msgs, before)
	}
}

// establishment refused in DingTalk: the round goes back to calculated (one
// robot alert, 工作跟踪表 says so); it is submitted and approved in review
// again, the refused instance is reset by the system admin, and the
// relaunched one is agreed — the round approved once.
func TestFlowEstablishmentRefusedThenRelaunched(t *testing.T) {
	e := newEnv(t)
	e.startBot()
	f := e.flowWorld()
	e.termsAndPeak(f)
	rid, _ := e.calculatedRound(f)
	roundID := mustInt(t, rid)
	submitAndApprove := func() {
		e.must(200, e.do(f.acct, "POST", "/api/v1/rounds/"+rid+"/submit", nil))
		e.must(200, e.do(f.biz, "POST", "/api/v1/rounds/"+rid+"/review", map[string]any{"decision": "approve"}))
	}
	launch := func() (int64, string) {
		p := e.must(201, e.do(f.acct, "POST", "/api/v1/projects/"+f.proj+"/processes", map[string]any{
			"kind": "establishment", "subject_id": roundID, "form": map[string]string{"情况说明": "常州项目事业合伙立项"},
		})).Body
		return num(p["id"]), str(p["instance_id"])
	}
	submitAndApprove()
	e.drain()
	robots := len(e.sim.RobotMessages())

	first, inst := launch()
	e.decide(f.acct, first, inst, "refuse")
	e.drain()
	if got := str(e.must(200, e.do(f.acct, "GET", "/api/v1/rounds/"+rid, nil)).Body["status"]); got != "calculated" {
		t.Fatalf("round after establishment refused: %s", got)
	}
	if n := len(e.sim.RobotMessages()) - robots; n != 1 {
		t.Fatalf("robot alerts for the refusal: %d, want 1", n)
	}
	steps := e.must(200, e.do(f.acct, "GET", "/api/v1/reports/work-tracking?project_id="+f.proj, nil)).Body["items"].([]any)[0].(map[string]any)["steps"].([]any)
	for _, s := range steps {
		st := s.(map[string]any)
		if st["step"] == "establishment_process" && (st["status"] != "pending" || st["note"] != "审批被拒绝") {
			t.Fatalf("work tracking after the refusal: %v", st)
		}
		if st["step"] == "submission" && st["status"] != "pending" {
			t.Fatalf("work tracking 送审 after the refusal: %v", st)
		}
	}

	// Again through review; the refused instance is reset, then relaunched.
	submitAndApprove()
	if r := e.do(f.acct, "POST", "/api/v1/processes/"+itoa(first)+"/reset", nil); r.Status != 403 {
		t.Fatalf("reset by the accountant: %d %s", r.Status, r.Raw)
	}
	e.must(200, e.do(f.admin, "POST", "/api/v1/processes/"+itoa(first)+"/reset", nil))
	second, inst2 := launch()
	e.decide(f.acct, second, inst2, "agree")
	if got := str(e.must(200, e.do(f.acct, "GET", "/api/v1/rounds/"+rid, nil)).Body["status"]); got != "approved" {
		t.Fatalf("round after the relaunch was agreed: %s", got)
	}
	var approved int
	e.db.Get(&approved, `SELECT count(*) FROM audit_log WHERE entity = 'round' AND entity_id = $1 AND after->>'status' = 'approved'`, rid)
	if approved != 1 {
		t.Fatalf("round approved %d times", approved)
	}
}
