package workflow_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/xuri/excelize/v2"

	"hehuo/internal/apperr"
	"hehuo/internal/attachment"
	"hehuo/internal/audit"
	"hehuo/internal/cache/cachetest"
	"hehuo/internal/config"
	"hehuo/internal/db"
	"hehuo/internal/db/dbtest"
	"hehuo/internal/dingtalk"
	"hehuo/internal/dtsim"
	"hehuo/internal/dtsim/dtsimtest"
	"hehuo/internal/notify"
	"hehuo/internal/workflow"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// fixture is a process center over real Postgres and Redis, talking to a
// simulated DingTalk through the real client; events reach its inbox by
// deliver (as the stream bot would hand them over).
type fixture struct {
	t            *testing.T
	ctx          context.Context
	d            *db.DB
	sim          *dtsimtest.Server
	dt           *dingtalk.Client
	inbox        *workflow.Inbox
	wf           *workflow.Service
	notify       *notify.Service
	city         int64
	project      int64
	actor        audit.Actor
	delivered    map[string]bool
	refuse       bool // the test effect's Prepare refuses
	failLaunched bool // the test effect's Launched refuses
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	d := dbtest.New(t)
	sim := dtsimtest.Start(t)
	cfg := config.Default()
	cfg.HTTP.PublicURL = "http://hehuo.test"
	cfg.SecretKey = strings.Repeat("ab", 32)
	cfg.DingTalk = sim.DingTalkConfig()
	cfg.DingTalk.ProcessCodes = map[string]string{"disclosure": "PROC-DISCLOSE-9"}
	dt := dingtalk.New(cfg.DingTalk, cachetest.New(t), dingtalk.WithRateLimit(0),
		dingtalk.WithBackoff(5*time.Millisecond, 3), dingtalk.WithLogger(quiet))
	inbox := workflow.NewInbox(d)
	f := &fixture{t: t, ctx: ctx, d: d, sim: sim, dt: dt, inbox: inbox,
		wf: workflow.NewService(d, dt, inbox, cfg, quiet), notify: notify.NewService(d, dt, cfg, quiet),
		delivered: map[string]bool{}}
	if _, err := d.Exec(`CREATE TABLE effect_runs (process_id bigint, what text, instance_id text)`); err != nil {
		t.Fatal(err)
	}
	must(t, d.Get(&f.city, `INSERT INTO org_units (name, kind) VALUES ('环沪城市公司', 'city') RETURNING id`))
	must(t, d.Get(&f.project, `INSERT INTO projects (name, city_company_id, acquisition_method, is_open) VALUES ('泰安-锦艺誉峯', $1, '招拍挂', true) RETURNING id`, f.city))
	f.actor = f.user("dt_faqiren", "张会计")
	sim.AddRobot(dtsim.Robot{Name: "环沪群", AccessToken: "tok-city", Secret: "SECcitysecret123", Conversation: "环沪经营会计群"})
	str := func(v string) *string { return &v }
	if _, err := f.notify.CreateRobot(ctx, audit.System, notify.RobotInput{OrgUnitID: &f.city, Name: str("环沪群"),
		WebhookURL: str(sim.URL + "/robot/send?access_token=tok-city"), Secret: str("SECcitysecret123")}); err != nil {
		t.Fatal(err)
	}
	effect := func(kind workflow.Kind) workflow.Effect {
		run := func(what string) func(ctx context.Context, tx *sqlx.Tx, inst workflow.Instance) error {
			return func(ctx context.Context, tx *sqlx.Tx, inst workflow.Instance) error {
				_, err := tx.ExecContext(ctx, `INSERT INTO effect_runs VALUES ($1, $2, $3)`, inst.ID, what, inst.InstanceID)
				return err
			}
		}
		return workflow.Effect{
			Prepare: func(ctx context.Context, tx *sqlx.Tx, l workflow.Launch) (workflow.Form, error) {
				if f.refuse {
					return workflow.Form{}, apperr.Rule("establishment_terms_missing", "", "请先填写立项信息")
				}
				return workflow.Form{Fields: []workflow.FormField{{Name: "资金峰值", Value: "120,000,000.00"}, {Name: "跟投总额", Value: "3,972,000.00"}}}, nil
			},
			Launched: func(ctx context.Context, tx *sqlx.Tx, inst workflow.Instance) error {
				if f.failLaunched {
					return apperr.Conflict("round_not_reviewed", "方案不在待立项状态")
				}
				return run("launched")(ctx, tx, inst)
			},
			Agreed: run("agreed"),
			Ended:  run("ended"),
			Sheet: func(ctx context.Context, q sqlx.QueryerContext, inst workflow.Instance) (string, []byte, error) {
				x := excelize.NewFile()
				x.SetCellValue("Sheet1", "A1", "资金峰值")
				var b bytes.Buffer
				err := x.Write(&b)
				return "泰安-锦艺誉峯_资金峰值计算表.xlsx", b.Bytes(), err
			},
		}
	}
	f.wf.Register(workflow.KindPeakCapital, effect(workflow.KindPeakCapital))
	f.wf.Register(workflow.KindDisclosure, effect(workflow.KindDisclosure))
	return f
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// user makes a Hehuo user with a DingTalk account in the simulator.
func (f *fixture) user(userid, name string) audit.Actor {
	f.t.Helper()
	var id int64
	must(f.t, f.d.Get(&id, `INSERT INTO users (name, dingtalk_userid) VALUES ($1, $2) RETURNING id`, name, userid))
	f.sim.AddUser(dtsim.User{UserID: userid, Name: name})
	return audit.Actor{ID: &id, Name: name}
}

func (f *fixture) launch(kind workflow.Kind, subject int64, form map[string]string, atts ...int64) (workflow.Instance, error) {
	return f.wf.Launch(f.ctx, f.actor, f.project, workflow.LaunchInput{Kind: kind, SubjectID: subject, Form: form, AttachmentIDs: atts})
}

// deliver hands every approval event not yet delivered to the inbox.
func (f *fixture) deliver() {
	f.t.Helper()
	for _, ev := range f.sim.Events() {
		if ev.Type != workflow.EventInstanceChange || f.delivered[ev.ID] {
			continue
		}
		if _, err := f.inbox.Accept(f.ctx, ev.ID, ev.Type, f.sim.App().CorpID, ev.Data); err != nil {
			f.t.Fatalf("deliver %s: %v", ev.ID, err)
		}
		f.delivered[ev.ID] = true
	}
}

// redeliver hands an event to the inbox again, as DingTalk may.
func (f *fixture) redeliver(eventID string) workflow.Result {
	f.t.Helper()
	for _, ev := range f.sim.Events() {
		if ev.ID == eventID {
			res, err := f.inbox.Accept(f.ctx, ev.ID, ev.Type, f.sim.App().CorpID, ev.Data)
			must(f.t, err)
			return res
		}
	}
	f.t.Fatalf("no event %s", eventID)
	return 0
}

func (f *fixture) runs(id int64, what string) int {
	var n int
	must(f.t, f.d.Get(&n, `SELECT count(*) FROM effect_runs WHERE process_id = $1 AND what = $2`, id, what))
	return n
}

func (f *fixture) count(query string, args ...any) int {
	f.t.Helper()
	var n int
	must(f.t, f.d.Get(&n, query, args...))
	return n
}

func formValue(form []dtsim.FormValue, name string) string {
	for _, v := range form {
		if v.Name == name {
			return v.Value
		}
	}
	return "<missing>"
}

func code(err error) string {
	if e := apperr.As(err); e != nil {
		return e.Code
	}
	if err != nil {
		return err.Error()
	}
	return ""
}

func TestLaunchAgreedOnceWithOneRobotAlert(t *testing.T) {
	f := newFixture(t)
	att, err := attachment.NewService(f.d).Upload(f.ctx, f.actor, f.project, "董事会决议.pdf", strings.NewReader("%PDF-1.4\n%%EOF\n"))
	must(t, err)
	inst, err := f.launch(workflow.KindPeakCapital, 0, map[string]string{"情况说明": "按立项信息发起资金峰值审批"}, att.ID)
	must(t, err)
	if inst.Status != workflow.StatusRunning || inst.InstanceID == "" || inst.ProcessCode != "PROC-HEHUO-PEAK_CAPITAL" {
		t.Fatalf("launched %+v", inst)
	}
	running := f.sim.Approvals(dtsim.StatusRunning)
	if len(running) != 1 || running[0].InstanceID != inst.InstanceID || running[0].Originator != "dt_faqiren" {
		t.Fatalf("simulator approvals %+v", running)
	}
	form := running[0].Form
	for name, want := range map[string]string{
		"流水号": workflow.BusinessKey(inst.ID), "发起人": "张会计", "项目名称": "泰安-锦艺誉峯", "取得方式": "招拍挂",
		"资金峰值": "120,000,000.00", "跟投总额": "3,972,000.00", "情况说明": "按立项信息发起资金峰值审批",
	} {
		if got := formValue(form, name); got != want {
			t.Errorf("form %s = %q, want %q", name, got, want)
		}
	}
	if v := formValue(form, "附件"); !strings.Contains(v, "董事会决议.pdf http://hehuo.test/api/v1/attachments/") {
		t.Errorf("form 附件 = %q", v)
	}
	if v := formValue(form, "计算表"); !strings.Contains(v, "资金峰值计算表.xlsx http://hehuo.test/api/v1/attachments/") {
		t.Errorf("form 计算表 = %q", v)
	}
	if n := f.runs(inst.ID, "launched"); n != 1 {
		t.Errorf("Launched ran %d times", n)
	}
	detail, err := f.wf.Detail(f.ctx, inst.ID)
	must(t, err)
	if len(detail.Attachments) != 2 || detail.Attachments[0].Role != "upload" || detail.Attachments[1].Role != "sheet" || detail.BPMURL == "" {
		t.Errorf("detail attachments %+v, bpm %q", detail.Attachments, detail.BPMURL)
	}

	f.deliver() // the start event changes nothing
	eventID, err := f.sim.Decide(inst.InstanceID, "agree")
	must(t, err)
	f.deliver()
	got, err := f.wf.Get(f.ctx, inst.ID)
	must(t, err)
	if got.Status != workflow.StatusAgreed || got.Result != "agree" || got.FinishedAt == nil {
		t.Fatalf("after agree: %+v", got)
	}
	if res := f.redeliver(eventID); res != workflow.Duplicate {
		t.Errorf("redelivery: %v, want Duplicate", res)
	}
	if n := f.runs(inst.ID, "agreed"); n != 1 {
		t.Errorf("Agreed ran %d times, want 1", n)
	}
	if n := f.runs(inst.ID, "ended"); n != 0 {
		t.Errorf("Ended ran %d times, want 0", n)
	}
	sent, err := notify.NewDispatcher(f.notify, notify.WithResultDelay(0)).DrainOnce(f.ctx)
	must(t, err)
	msgs := f.sim.RobotMessages()
	if sent != 1 || len(msgs) != 1 || msgs[0].Conversation != "环沪经营会计群" {
		t.Fatalf("robot alerts: sent %d, %+v", sent, msgs)
	}
	if s := string(msgs[0].Msg); !strings.Contains(s, "项目资金峰值") || !strings.Contains(s, "同意") || !strings.Contains(s, "泰安-锦艺誉峯") {
		t.Errorf("robot alert %s", s)
	}
	if _, err := f.launch(workflow.KindPeakCapital, 0, nil); code(err) != "process_already_agreed" {
		t.Errorf("launch after agreement: %v", err)
	}
	if n := f.count(`SELECT count(*) FROM audit_log WHERE entity = 'process' AND entity_id = $1`, inst.ID); n != 3 {
		t.Errorf("%d audit entries (launch, launched, agreed), want 3", n)
	}
	// The configured processCode is used.
	dis, err := f.launch(workflow.KindDisclosure, 7, nil)
	must(t, err)
	if dis.ProcessCode != "PROC-DISCLOSE-9" {
		t.Errorf("disclosure process code %s", dis.ProcessCode)
	}
}

func TestRefusedEndsAndResetAllowsRelaunch(t *testing.T) {
	f := newFixture(t)
	inst, err := f.launch(workflow.KindPeakCapital, 0, nil)
	must(t, err)
	_, err = f.sim.Decide(inst.InstanceID, "refuse")
	must(t, err)
	f.deliver()
	got, _ := f.wf.Get(f.ctx, inst.ID)
	if got.Status != workflow.StatusRefused || f.runs(inst.ID, "ended") != 1 || f.runs(inst.ID, "agreed") != 0 {
		t.Fatalf("after refuse: %+v, ended %d", got, f.runs(inst.ID, "ended"))
	}
	if _, err := f.launch(workflow.KindPeakCapital, 0, nil); code(err) != "process_needs_reset" {
		t.Fatalf("launch before reset: %v", err)
	}
	if _, err := f.wf.Reset(f.ctx, f.actor, inst.ID, got.Version+1); code(err) != "stale_version" {
		t.Errorf("stale reset: %v", err)
	}
	reset, err := f.wf.Reset(f.ctx, f.actor, inst.ID, got.Version)
	must(t, err)
	if reset.Status != workflow.StatusReset {
		t.Fatalf("reset: %+v", reset)
	}
	if _, err := f.wf.Reset(f.ctx, f.actor, inst.ID, 0); code(err) != "process_not_resettable" {
		t.Errorf("second reset: %v", err)
	}
	again, err := f.launch(workflow.KindPeakCapital, 0, nil)
	must(t, err)
	if again.ID == inst.ID || again.Status != workflow.StatusRunning {
		t.Fatalf("relaunch %+v", again)
	}
	if _, err := f.wf.Reset(f.ctx, f.actor, again.ID, 0); code(err) != "process_not_resettable" {
		t.Errorf("reset of a running process: %v", err)
	}
	// Terminated (撤销) ends too.
	_, err = f.sim.Terminate(again.InstanceID)
	must(t, err)
	f.deliver()
	got, _ = f.wf.Get(f.ctx, again.ID)
	if got.Status != workflow.StatusTerminated || f.runs(again.ID, "ended") != 1 {
		t.Fatalf("after terminate: %+v", got)
	}
	// Both stay in the list's history.
	list, err := f.wf.List(f.ctx, f.project, true, true)
	must(t, err)
	if list[0].Kind != workflow.KindPeakCapital || len(list[0].Processes) != 2 ||
		!contains(list[0].Processes[1].Actions, workflow.ActionReset) || contains(list[0].Actions, workflow.ActionLaunch) {
		t.Errorf("list %+v", list[0])
	}
	if len(list) != len(workflow.Kinds) {
		t.Errorf("list has %d kinds, want %d", len(list), len(workflow.Kinds))
	}
	sent, err := notify.NewDispatcher(f.notify, notify.WithResultDelay(0)).DrainOnce(f.ctx)
	must(t, err)
	if sent != 2 {
		t.Errorf("%d robot alerts, want 2 (refused, terminated)", sent)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// DingTalk busy: the row stays launching with its error and nothing was
// created; launching again creates the one instance.
func TestLaunchWhileDingTalkFailsThenRetry(t *testing.T) {
	f := newFixture(t)
	_, err := f.dt.AccessToken(f.ctx)
	must(t, err)
	f.sim.SetFaults(dtsim.Faults{ErrorRate: 1})
	inst, err := f.launch(workflow.KindPeakCapital, 0, nil)
	f.sim.SetFaults(dtsim.Faults{})
	if apperr.KindOf(err) != apperr.KindUnavailable || inst.ID == 0 {
		t.Fatalf("launch with DingTalk down: %v (%+v)", err, inst)
	}
	got, _ := f.wf.Get(f.ctx, inst.ID)
	if got.Status != workflow.StatusLaunching || got.LaunchError == "" || len(f.sim.Approvals("")) != 0 {
		t.Fatalf("after failure: %+v, %d approvals", got, len(f.sim.Approvals("")))
	}
	again, err := f.launch(workflow.KindPeakCapital, 0, nil)
	must(t, err)
	if again.ID != inst.ID || again.Status != workflow.StatusRunning || len(f.sim.Approvals("")) != 1 {
		t.Fatalf("retry: %+v, %d approvals", again, len(f.sim.Approvals("")))
	}
	if f.runs(inst.ID, "launched") != 1 {
		t.Errorf("Launched ran %d times", f.runs(inst.ID, "launched"))
	}
}

// DingTalk created the instance but the answer was lost: the retry finds
// it by its 流水号 and does not create a second one.
func TestRetryFindsTheInstanceALostAnswerCreated(t *testing.T) {
	f := newFixture(t)
	_, err := f.dt.AccessToken(f.ctx)
	must(t, err)
	// Another launch of the same template by the same originator, to be
	// told apart by the 流水号.
	other, err := f.launch(workflow.KindPeakCapital, 0, nil)
	must(t, err)
	_, err = f.sim.Terminate(other.InstanceID)
	must(t, err)
	f.deliver()
	_, err = f.wf.Reset(f.ctx, f.actor, other.ID, 0)
	must(t, err)

	f.sim.SetFaults(dtsim.Faults{LostAnswerRate: 1})
	inst, err := f.launch(workflow.KindPeakCapital, 0, nil)
	f.sim.SetFaults(dtsim.Faults{})
	if err == nil {
		t.Fatal("launch with a lost answer: want an error")
	}
	if n := len(f.sim.Approvals("")); n != 2 {
		t.Fatalf("%d approvals, want 2 (the lost answer's was created)", n)
	}
	got, _ := f.wf.Get(f.ctx, inst.ID)
	if got.Status != workflow.StatusLaunching {
		t.Fatalf("after a lost answer: %+v", got)
	}
	again, err := f.wf.Retry(f.ctx, f.actor, inst.ID)
	must(t, err)
	created := f.sim.Approvals(dtsim.StatusRunning)
	if len(f.sim.Approvals("")) != 2 || len(created) != 1 || again.InstanceID != created[0].InstanceID || again.Status != workflow.StatusRunning {
		t.Fatalf("retry: %+v; approvals %+v", again, f.sim.Approvals(""))
	}
	if _, err := f.wf.Retry(f.ctx, f.actor, inst.ID); code(err) != "process_not_launching" {
		t.Errorf("retry of a running process: %v", err)
	}
}

func TestPrepareRefusalStoresNothing(t *testing.T) {
	f := newFixture(t)
	f.refuse = true
	before := f.count(`SELECT count(*) FROM audit_log`)
	_, err := f.launch(workflow.KindPeakCapital, 0, map[string]string{"情况说明": "x"})
	if e := apperr.As(err); e == nil || e.Kind != apperr.KindRule || e.Code != "establishment_terms_missing" {
		t.Fatalf("launch: %v, want the Prepare refusal (422)", err)
	}
	if _, err := f.wf.Preview(f.ctx, f.actor, f.project, workflow.LaunchInput{Kind: workflow.KindPeakCapital}); code(err) != "establishment_terms_missing" {
		t.Errorf("preview: %v", err)
	}
	if n := f.count(`SELECT count(*) FROM processes`); n != 0 {
		t.Errorf("%d processes stored", n)
	}
	if n := f.count(`SELECT count(*) FROM audit_log`); n != before {
		t.Errorf("audit grew by %d", n-before)
	}
	if len(f.sim.Approvals("")) != 0 {
		t.Error("DingTalk was called")
	}
}

func TestPreviewShowsTheFormAndStoresNothing(t *testing.T) {
	f := newFixture(t)
	form, err := f.wf.Preview(f.ctx, f.actor, f.project, workflow.LaunchInput{Kind: workflow.KindPeakCapital, Form: map[string]string{"情况说明": "说明"}})
	must(t, err)
	names := []string{}
	for _, x := range form {
		names = append(names, x.Name)
	}
	if strings.Join(names, ",") != "流水号,发起人,发起部门,项目名称,取得方式,资金峰值,跟投总额,情况说明,附件" {
		t.Errorf("preview fields %v", names)
	}
	if n := f.count(`SELECT count(*) FROM processes`); n != 0 {
		t.Errorf("preview stored %d processes", n)
	}
}

func TestLaunchRefusals(t *testing.T) {
	f := newFixture(t)
	var otherProject int64
	must(t, f.d.Get(&otherProject, `INSERT INTO projects (name, city_company_id, is_open) VALUES ('昆明-城市之光', $1, true) RETURNING id`, f.city))
	foreign, err := attachment.NewService(f.d).Upload(f.ctx, f.actor, otherProject, "a.pdf", strings.NewReader("%PDF-1.4\n%%EOF\n"))
	must(t, err)
	var noDingTalk int64
	must(t, f.d.Get(&noDingTalk, `INSERT INTO users (name) VALUES ('无钉钉') RETURNING id`))
	cases := []struct {
		name  string
		actor audit.Actor
		in    workflow.LaunchInput
		code  string
	}{
		{"angle bracket", f.actor, workflow.LaunchInput{Kind: workflow.KindPeakCapital, Form: map[string]string{"情况说明": "<script>"}}, "angle_brackets"},
		{"reserved label", f.actor, workflow.LaunchInput{Kind: workflow.KindPeakCapital, Form: map[string]string{"流水号": "HH-1"}}, "form_field_reserved"},
		{"unknown kind", f.actor, workflow.LaunchInput{Kind: "bonus"}, "process_kind_unknown"},
		{"kind not built", f.actor, workflow.LaunchInput{Kind: workflow.KindExit}, "process_kind_unavailable"},
		{"other project's file", f.actor, workflow.LaunchInput{Kind: workflow.KindPeakCapital, AttachmentIDs: []int64{foreign.ID}}, "attachment_not_found"},
		{"no DingTalk account", audit.Actor{ID: &noDingTalk, Name: "无钉钉"}, workflow.LaunchInput{Kind: workflow.KindPeakCapital}, "initiator_without_dingtalk"},
		{"another project as subject", f.actor, workflow.LaunchInput{Kind: workflow.KindPeakCapital, SubjectID: otherProject}, "subject_invalid"},
	}
	before := f.count(`SELECT count(*) FROM audit_log`)
	for _, c := range cases {
		_, err := f.wf.Launch(f.ctx, c.actor, f.project, c.in)
		if code(err) != c.code || apperr.As(err).Message == "" {
			t.Errorf("%s: %v, want %s", c.name, err, c.code)
		}
	}
	if n := f.count(`SELECT count(*) FROM processes`); n != 0 {
		t.Errorf("%d processes stored", n)
	}
	if n := f.count(`SELECT count(*) FROM audit_log`); n != before {
		t.Errorf("audit grew by %d", n-before)
	}
}

// 项目资金峰值 is about the project: launched naming the project as its
// subject it is the same subject as 0, so a second launch either way is
// refused and the report finds it (the demo once launched it one way and the
// console the other, and 工作跟踪表 read 峰值流程 待办 after it was agreed).
func TestPerProjectKindHasOneSubject(t *testing.T) {
	f := newFixture(t)
	inst, err := f.launch(workflow.KindPeakCapital, f.project, nil)
	must(t, err)
	if inst.SubjectID != 0 {
		t.Fatalf("subject = %d, want 0 (the project)", inst.SubjectID)
	}
	if _, err := f.launch(workflow.KindPeakCapital, 0, nil); code(err) == "" {
		t.Fatalf("a second 项目资金峰值 of the project was launched")
	}
	if n := f.count(`SELECT count(*) FROM processes`); n != 1 {
		t.Fatalf("%d processes, want 1", n)
	}
}

// Launches of one subject at the same time make one instance.
func TestConcurrentLaunchesMakeOneInstance(t *testing.T) {
	f := newFixture(t)
	var wg sync.WaitGroup
	errs := make([]error, 12)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = f.launch(workflow.KindPeakCapital, 0, nil)
		}()
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case apperr.KindOf(err) != apperr.KindConflict:
			t.Errorf("concurrent launch: %v, want a conflict", err)
		}
	}
	if ok != 1 || len(f.sim.Approvals("")) != 1 || f.count(`SELECT count(*) FROM processes`) != 1 {
		t.Errorf("%d launches succeeded, %d approvals, want 1 and 1", ok, len(f.sim.Approvals("")))
	}
}

// An event for an instance Hehuo did not launch is recorded and ignored.
func TestUnknownInstanceEventIsRecordedAndIgnored(t *testing.T) {
	f := newFixture(t)
	id := f.sim.PushEvent(workflow.EventInstanceChange, map[string]any{
		"processInstanceId": "not-ours", "processCode": "PROC-OTHER", "type": "finish", "result": "agree"})
	f.deliver()
	if n := f.count(`SELECT count(*) FROM process_unknown_events WHERE event_id = $1 AND instance_id = 'not-ours'`, id); n != 1 {
		t.Errorf("unknown event rows %d", n)
	}
	ev, err := f.inbox.Get(f.ctx, id)
	if err != nil || ev.HandledAt == nil {
		t.Errorf("event %+v, %v: want handled", ev, err)
	}
}

// The approver decides on an instance whose creation answer was lost, before
// any retry: the event is kept as unknown, and the retry that finds the
// instance applies it — agreed, the effect once, one alert.
func TestDecisionBeforeTheRetryIsAppliedWhenFound(t *testing.T) {
	f := newFixture(t)
	_, err := f.dt.AccessToken(f.ctx)
	must(t, err)
	f.sim.SetFaults(dtsim.Faults{LostAnswerRate: 1})
	inst, err := f.launch(workflow.KindPeakCapital, 0, nil)
	f.sim.SetFaults(dtsim.Faults{})
	if err == nil {
		t.Fatal("want the lost answer's error")
	}
	created := f.sim.Approvals(dtsim.StatusRunning)
	if len(created) != 1 {
		t.Fatalf("%d approvals", len(created))
	}
	_, err = f.sim.Decide(created[0].InstanceID, "agree")
	must(t, err)
	f.deliver()
	if n := f.count(`SELECT count(*) FROM process_unknown_events WHERE instance_id = $1`, created[0].InstanceID); n != 1 {
		t.Fatalf("early finish kept %d times, want 1", n)
	}
	got, err := f.wf.Retry(f.ctx, f.actor, inst.ID)
	must(t, err)
	if got.Status != workflow.StatusAgreed || got.InstanceID != created[0].InstanceID {
		t.Fatalf("after retry %+v", got)
	}
	if f.runs(inst.ID, "agreed") != 1 || f.runs(inst.ID, "launched") != 1 || len(f.sim.Approvals("")) != 1 {
		t.Errorf("agreed %d, launched %d, approvals %d", f.runs(inst.ID, "agreed"), f.runs(inst.ID, "launched"), len(f.sim.Approvals("")))
	}
	if n := f.count(`SELECT count(*) FROM notify_outbox WHERE dedupe_key = $1`, "process:"+itoa(inst.ID)+":result"); n != 1 {
		t.Errorf("%d alerts", n)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// The scheduler resumes a launch DingTalk refused earlier: one instance.
func TestResumeLaunching(t *testing.T) {
	f := newFixture(t)
	_, err := f.dt.AccessToken(f.ctx)
	must(t, err)
	f.sim.SetFaults(dtsim.Faults{ErrorRate: 1})
	inst, _ := f.launch(workflow.KindPeakCapital, 0, nil)
	f.sim.SetFaults(dtsim.Faults{})
	if n, err := f.wf.ResumeLaunching(f.ctx, time.Hour); err != nil || n != 0 {
		t.Fatalf("resume of a fresh failure: %d, %v; want 0 (not old enough)", n, err)
	}
	if _, err := f.d.Exec(`UPDATE processes SET updated_at = now() - interval '10 minutes' WHERE id = $1`, inst.ID); err != nil {
		t.Fatal(err)
	}
	n, err := f.wf.ResumeLaunching(f.ctx, 5*time.Minute)
	if err != nil || n != 1 {
		t.Fatalf("resume: %d, %v", n, err)
	}
	got, _ := f.wf.Get(f.ctx, inst.ID)
	if got.Status != workflow.StatusRunning || len(f.sim.Approvals("")) != 1 {
		t.Errorf("after resume %+v, %d approvals", got, len(f.sim.Approvals("")))
	}
}

// Launched refusing after DingTalk created the instance: the row stays
// launching with the refusal; the next launch finds that instance.
func TestLaunchedRefusalKeepsTheRowForARetry(t *testing.T) {
	f := newFixture(t)
	f.failLaunched = true
	inst, err := f.launch(workflow.KindPeakCapital, 0, nil)
	if code(err) != "round_not_reviewed" {
		t.Fatalf("launch: %v", err)
	}
	got, _ := f.wf.Get(f.ctx, inst.ID)
	if got.Status != workflow.StatusLaunching || !strings.Contains(got.LaunchError, "round_not_reviewed") || len(f.sim.Approvals("")) != 1 {
		t.Fatalf("after the refusal %+v, %d approvals", got, len(f.sim.Approvals("")))
	}
	f.failLaunched = false
	again, err := f.launch(workflow.KindPeakCapital, 0, nil)
	must(t, err)
	if again.ID != inst.ID || again.Status != workflow.StatusRunning || len(f.sim.Approvals("")) != 1 || f.runs(inst.ID, "launched") != 1 {
		t.Errorf("retry %+v, %d approvals", again, len(f.sim.Approvals("")))
	}
}

// A kind's effect may name each instance (利润分配1, 2 … on the list, the
// OA form 事业合伙投资-利润n分配审批) and give its subject's 情况说明; the
// kind's named attachment slots show in the form under their labels, a
// slot the kind does not have is refused; the robot alert names the
// instance.
func TestInstanceLabelsTitlesAndSlots(t *testing.T) {
	f := newFixture(t)
	f.wf.Register(workflow.KindProfitDistribution, workflow.Effect{
		Prepare: func(ctx context.Context, tx *sqlx.Tx, l workflow.Launch) (workflow.Form, error) {
			n := strconv.FormatInt(l.SubjectID, 10)
			return workflow.Form{Fields: []workflow.FormField{{Name: "本次分配金额", Value: "131980.42"}}, Note: "批次说明",
				Label: "利润分配" + n, Title: "事业合伙投资-利润" + n + "分配审批"}, nil
		},
	})
	if info, _ := workflow.KindProfitDistribution.Info(); len(info.Slots) != 3 || info.Slots[0] != "股东投入与分配明细表（签字版材料）" {
		t.Fatalf("slots %v", info.Slots)
	}
	att, err := attachment.NewService(f.d).Upload(f.ctx, f.actor, f.project, "现金流量表.pdf", strings.NewReader("%PDF-1.4\n%%EOF\n"))
	must(t, err)
	in := workflow.LaunchInput{Kind: workflow.KindProfitDistribution, SubjectID: 1, Slots: map[string][]int64{"签字版": {att.ID}}}
	if _, err := f.wf.Launch(f.ctx, f.actor, f.project, in); code(err) != "attachment_slot_unknown" {
		t.Fatalf("unknown slot: %v", err)
	}
	in.Slots = map[string][]int64{"项目现金流量表": {att.ID}}
	first, err := f.wf.Launch(f.ctx, f.actor, f.project, in)
	must(t, err)
	second, err := f.wf.Launch(f.ctx, f.actor, f.project, workflow.LaunchInput{Kind: workflow.KindProfitDistribution, SubjectID: 2,
		Form: map[string]string{"情况说明": "手工填写的说明"}})
	must(t, err)
	form := f.sim.Approvals(dtsim.StatusRunning)[0].Form
	for name, want := range map[string]string{"情况说明": "批次说明", "股东投入与分配明细表（签字版材料）": "—", "项目动态利润测算": "—", "附件": "—"} {
		if got := formValue(form, name); got != want {
			t.Errorf("form %s = %q, want %q", name, got, want)
		}
	}
	if v := formValue(form, "项目现金流量表"); !strings.Contains(v, "现金流量表.pdf http://hehuo.test/api/v1/attachments/") {
		t.Errorf("slot = %q", v)
	}
	if got := formValue(f.sim.Approvals(dtsim.StatusRunning)[1].Form, "情况说明"); got != "手工填写的说明" {
		t.Errorf("typed 情况说明 = %q", got)
	}
	d, err := f.wf.Detail(f.ctx, first.ID)
	must(t, err)
	if d.Label != "利润分配1" || d.Title != "事业合伙投资-利润1分配审批" || len(d.Attachments) != 1 || d.Attachments[0].Slot != "项目现金流量表" {
		t.Errorf("detail %+v", d)
	}
	list, err := f.wf.List(f.ctx, f.project, true, false)
	must(t, err)
	var rows []string
	for _, k := range list {
		for _, r := range k.Processes {
			rows = append(rows, r.Label+"/"+r.Title)
		}
	}
	if strings.Join(rows, ",") != "利润分配1/事业合伙投资-利润1分配审批,利润分配2/事业合伙投资-利润2分配审批" {
		t.Errorf("rows %v", rows)
	}
	// Another kind keeps the kind's own name.
	peak, err := f.launch(workflow.KindPeakCapital, 0, nil)
	must(t, err)
	if peak.Label != "项目资金峰值" || peak.Title != "事业合伙投资-项目资金峰值审批" {
		t.Errorf("peak_capital named %q %q", peak.Label, peak.Title)
	}
	_, err = f.sim.Decide(second.InstanceID, "agree")
	must(t, err)
	f.deliver()
	_, err = notify.NewDispatcher(f.notify, notify.WithResultDelay(0)).DrainOnce(f.ctx)
	must(t, err)
	if msgs := f.sim.RobotMessages(); len(msgs) != 1 || !strings.Contains(string(msgs[0].Msg), "利润分配2") {
		t.Errorf("robot alert %+v", msgs)
	}
}
