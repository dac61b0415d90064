package distribution

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/shopspring/decimal"

	"hehuo/internal/apperr"
	"hehuo/internal/attachment"
	"hehuo/internal/audit"
	"hehuo/internal/cache/cachetest"
	"hehuo/internal/civil"
	"hehuo/internal/config"
	"hehuo/internal/db"
	"hehuo/internal/db/dbtest"
	"hehuo/internal/dingtalk"
	"hehuo/internal/dtsim"
	"hehuo/internal/dtsim/dtsimtest"
	"hehuo/internal/establishment"
	"hehuo/internal/holding/holdingtest"
	"hehuo/internal/ledger"
	"hehuo/internal/ledger/ledgertest"
	"hehuo/internal/money"
	"hehuo/internal/notify"
	"hehuo/internal/org"
	"hehuo/internal/position"
	"hehuo/internal/project"
	"hehuo/internal/workflow"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// fixture is RULES R1/R3/R4's project (peak 220,000,000; the city tier of
// R3 paid in full on R4's dates, funding 2024-03-01 at 4.35%) with the
// process center over real Postgres and Redis talking to the DingTalk
// simulator; approval events reach its inbox by deliver, as the stream
// bot hands them over.
type fixture struct {
	t         *testing.T
	ctx       context.Context
	d         *db.DB
	sim       *dtsimtest.Server
	inbox     *workflow.Inbox
	wf        *workflow.Service
	notify    *notify.Service
	s         *Service
	city      int64
	project   int64
	actor     audit.Actor
	partners  []int64
	delivered map[string]bool
}

// R3's city tier and R4's payment dates, and R4's B for each.
var (
	r3Principal = []string{"500000", "300000", "297143", "222857"}
	r4PaidOn    = []string{"2024-03-01", "2024-03-20", "2024-04-15", "2024-03-31"}
	r4B         = []string{"0", "-679.32", "-1593.58", "-796.79"}
)

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	d := dbtest.New(t)
	sim := dtsimtest.Start(t)
	cfg := config.Default()
	cfg.HTTP.PublicURL = "http://hehuo.test"
	cfg.SecretKey = strings.Repeat("ab", 32)
	cfg.DingTalk = sim.DingTalkConfig()
	dt := dingtalk.New(cfg.DingTalk, cachetest.New(t), dingtalk.WithRateLimit(0),
		dingtalk.WithBackoff(5*time.Millisecond, 3), dingtalk.WithLogger(quiet))
	inbox := workflow.NewInbox(d)
	wf := workflow.NewService(d, dt, inbox, cfg, quiet)
	est := establishment.NewService(d, nil)
	f := &fixture{t: t, ctx: ctx, d: d, sim: sim, inbox: inbox, wf: wf, notify: notify.NewService(d, dt, cfg, quiet),
		s: NewService(d, est, wf), delivered: map[string]bool{}}
	f.city = holdingtest.CityCompany(t, d, "环沪城市公司")
	f.project = holdingtest.Project(t, d, f.city, "泰安-锦艺誉峯")
	if _, err := est.PutTerms(ctx, audit.System, f.project, establishment.TermsInput{
		PeakCapital: "220000000", TierRatios: establishment.TierRatios{Holding: "0", Property: "0.0331", City: "0.006", Other: "0"},
		FundingDate: civil.Date{Year: 2024, Month: 3, Day: 1}, FinancingRate: "0.0435",
	}); err != nil {
		t.Fatal(err)
	}
	must(t, exec(d, `UPDATE establishments SET peak_locked_at = now() WHERE project_id = $1`, f.project))
	f.actor = f.user("dt_kuaiji", "环沪会计")
	alloc := map[int64]string{}
	for i, name := range []string{"甲", "乙", "丙", "丁"} {
		u, err := org.NewService(d).CreateUser(ctx, audit.System, org.UserInput{Name: name})
		must(t, err)
		p := holdingtest.Partner(t, d, u.ID)
		f.partners = append(f.partners, p)
		alloc[p] = r3Principal[i]
	}
	round := holdingtest.Round(t, d, f.project, "approved", alloc)
	for i, p := range f.partners {
		tx := holdingtest.Pay(t, d, f.project, p, r3Principal[i])
		must(t, exec(d, `INSERT INTO payments (round_id, project_id, partner_id, amount, paid_on, idempotency_key, ledger_transaction_id, created_by)
			VALUES ($1, $2, $3, $4, $5, $6, $7, '会计')`, round, f.project, p, r3Principal[i], r4PaidOn[i], "pay-"+r4PaidOn[i], tx.ID))
	}
	sim.AddRobot(dtsim.Robot{Name: "环沪群", AccessToken: "tok-city", Secret: "SECcitysecret123", Conversation: "环沪经营会计群"})
	str := func(v string) *string { return &v }
	if _, err := f.notify.CreateRobot(ctx, audit.System, notify.RobotInput{OrgUnitID: &f.city, Name: str("环沪群"),
		WebhookURL: str(sim.URL + "/robot/send?access_token=tok-city"), Secret: str("SECcitysecret123")}); err != nil {
		t.Fatal(err)
	}
	ledgertest.ReconcileAtCleanup(t, d)
	return f
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func exec(d *db.DB, q string, args ...any) error {
	_, err := d.Exec(q, args...)
	return err
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

func (f *fixture) user(userid, name string) audit.Actor {
	f.t.Helper()
	var id int64
	must(f.t, f.d.Get(&id, `INSERT INTO users (name, dingtalk_userid) VALUES ($1, $2) RETURNING id`, name, userid))
	f.sim.AddUser(dtsim.User{UserID: userid, Name: name})
	return audit.Actor{ID: &id, Name: name}
}

func (f *fixture) launch(kind workflow.Kind, subject int64, slots map[string][]int64) (workflow.Instance, error) {
	return f.wf.Launch(f.ctx, f.actor, f.project, workflow.LaunchInput{Kind: kind, SubjectID: subject, Slots: slots})
}

// decide agrees or refuses a running approval in the simulator and hands
// the event to the inbox; it returns the event's id.
func (f *fixture) decide(inst workflow.Instance, result string) string {
	f.t.Helper()
	ev, err := f.sim.Decide(inst.InstanceID, result)
	must(f.t, err)
	f.deliver()
	return ev
}

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

// line is a batch line as a test writes it: a, b, c, d, e, f.
type line [6]string

// batch writes a batch of the project by SQL, in status, with one line per
// fixture partner (nil lines: none), as the batch service leaves it.
func (f *fixture) batch(kind Kind, seq int, status Status, ratio string, unlocked bool, lines []line) int64 {
	f.t.Helper()
	var id int64
	var r *string
	if ratio != "" {
		r = &ratio
	}
	must(f.t, f.d.Get(&id, `INSERT INTO distribution_batches (project_id, kind, seq, status, distribution_date, record_date, return_ratio,
		unlocked, note, created_by_name) VALUES ($1, $2, $3, $4, '2024-12-20', '2024-12-01', $5, $6, '按测算表分配', '环沪会计') RETURNING id`,
		f.project, kind, seq, status, r, unlocked))
	for i, l := range lines {
		must(f.t, exec(f.d, `INSERT INTO distribution_lines (batch_id, partner_id, payee_partner_id, seq, a, b, c, c_reason, d, e, f)
			VALUES ($1, $2, $2, $3, $4, $5, $6, CASE WHEN $6::numeric <> 0 THEN '调整' ELSE '' END, $7, $8, $9)`,
			id, f.partners[i], i+1, l[0], l[1], l[2], l[3], l[4], l[5]))
	}
	return id
}

func (f *fixture) status(id int64) Status {
	f.t.Helper()
	b, err := load(f.ctx, f.d, id, false)
	must(f.t, err)
	return b.Status
}

// balances are the project's ledger balances by account code.
func (f *fixture) balances() map[string]decimal.Decimal {
	f.t.Helper()
	var rows []struct {
		Code    string          `db:"code"`
		Balance decimal.Decimal `db:"balance"`
	}
	must(f.t, f.d.Select(&rows, `SELECT a.code, b.balance FROM ledger_accounts a JOIN ledger_balances b ON b.account_id = a.id
		WHERE a.project_id = $1`, f.project))
	out := map[string]decimal.Decimal{}
	for _, r := range rows {
		out[r.Code] = r.Balance
	}
	return out
}

func (f *fixture) positions() map[int64]position.Position {
	f.t.Helper()
	ps, err := f.s.pos.Positions(f.ctx, nil, position.Query{ProjectIDs: []int64{f.project}, Interest: true})
	must(f.t, err)
	out := map[int64]position.Position{}
	for _, p := range ps {
		out[p.PartnerID] = p
	}
	return out
}

func formValue(form []dtsim.FormValue, name string) string {
	for _, v := range form {
		if v.Name == name {
			return v.Value
		}
	}
	return "<missing>"
}

func (f *fixture) runningForm(instanceID string) []dtsim.FormValue {
	f.t.Helper()
	for _, a := range f.sim.Approvals(dtsim.StatusRunning) {
		if a.InstanceID == instanceID {
			return a.Form
		}
	}
	f.t.Fatalf("no running approval %s", instanceID)
	return nil
}

func d(s string) decimal.Decimal { return money.MustParse(s) }

// R6's principal lines at 100% from R4: D = A + B, E = D.
func r6Lines() []line {
	out := make([]line, 4)
	for i := range out {
		a, b := d(r3Principal[i]), d(r4B[i])
		dd := a.Add(b)
		out[i] = line{a.StringFixed(2), b.StringFixed(2), "0", dd.StringFixed(2), dd.StringFixed(2), "0"}
	}
	return out
}

// 实际资金峰值确认 through DingTalk: bad inputs refused, one open at a time,
// the OA form with 资金峰值-实际 beside the establishment's peak and the
// files, refused back to draft, relaunched after a reset and agreed; then
// a new one may be recorded (repeatable).
func TestActualPeakThroughDingTalk(t *testing.T) {
	f := newFixture(t)
	for _, c := range []struct {
		in   ActualPeakInput
		want string
	}{
		{ActualPeakInput{ActualPeakCapital: ""}, "actual_peak_capital_invalid"},
		{ActualPeakInput{ActualPeakCapital: "-1"}, "actual_peak_capital_invalid"},
		{ActualPeakInput{ActualPeakCapital: "0"}, "actual_peak_capital_invalid"},
		{ActualPeakInput{ActualPeakCapital: "1e9"}, "actual_peak_capital_invalid"},
		{ActualPeakInput{ActualPeakCapital: "215000000.001"}, "amount_too_precise"},
		{ActualPeakInput{ActualPeakCapital: "215000000", Reason: "<b>"}, "text_invalid"},
	} {
		if _, err := f.s.CreateActualPeak(f.ctx, f.actor, f.project, c.in); code(err) != c.want && !(c.want == "text_invalid" && apperr.KindOf(err) == apperr.KindInvalid) {
			t.Errorf("%+v: %v, want %s", c.in, err, c.want)
		}
	}
	if n := count(t, f.d, `SELECT count(*) FROM actual_peaks`); n != 0 {
		t.Fatalf("%d actual peaks after bad inputs", n)
	}
	p, err := f.s.CreateActualPeak(f.ctx, f.actor, f.project, ActualPeakInput{ActualPeakCapital: "215000000.50", Reason: "按实际投入确认"})
	must(t, err)
	if p.Status != PeakDraft || p.StatusLabel != "待发起" || !p.ActualPeakCapital.Equal(d("215000000.50")) || p.CreatedByName != "环沪会计" {
		t.Fatalf("created %+v", p)
	}
	if _, err := f.s.CreateActualPeak(f.ctx, f.actor, f.project, ActualPeakInput{ActualPeakCapital: "1"}); code(err) != "actual_peak_open" {
		t.Fatalf("second open: %v", err)
	}

	att, err := attachment.NewService(f.d).Upload(f.ctx, f.actor, f.project, "资金峰值测算.pdf", strings.NewReader("%PDF-1.4\n%%EOF\n"))
	must(t, err)
	inst, err := f.wf.Launch(f.ctx, f.actor, f.project, workflow.LaunchInput{Kind: workflow.KindActualPeak, SubjectID: p.ID, AttachmentIDs: []int64{att.ID}})
	must(t, err)
	form := f.runningForm(inst.InstanceID)
	for name, want := range map[string]string{"资金峰值-实际": "215000000.50", "原资金峰值": "220000000.00", "情况说明": "按实际投入确认", "项目名称": "泰安-锦艺誉峯"} {
		if got := formValue(form, name); got != want {
			t.Errorf("form %s = %q, want %q", name, got, want)
		}
	}
	if v := formValue(form, "附件"); !strings.Contains(v, "资金峰值测算.pdf http://hehuo.test/api/v1/attachments/") {
		t.Errorf("form 附件 = %q", v)
	}
	peaks, err := f.s.ActualPeaks(f.ctx, f.project)
	must(t, err)
	if len(peaks) != 1 || peaks[0].Status != PeakInApproval || peaks[0].ProcessID == nil || *peaks[0].ProcessID != inst.ID {
		t.Fatalf("in approval: %+v", peaks)
	}
	if _, err := f.wf.Launch(f.ctx, f.actor, f.project, workflow.LaunchInput{Kind: workflow.KindActualPeak, SubjectID: p.ID}); code(err) != "process_running" {
		t.Errorf("second launch: %v", err)
	}

	// Refused: back to draft; relaunched after the reset, agreed once.
	f.decide(inst, "refuse")
	if peaks, _ = f.s.ActualPeaks(f.ctx, f.project); peaks[0].Status != PeakDraft || peaks[0].AgreedAt != nil {
		t.Fatalf("after refusal: %+v", peaks[0])
	}
	got, err := f.wf.Get(f.ctx, inst.ID)
	must(t, err)
	_, err = f.wf.Reset(f.ctx, f.actor, inst.ID, got.Version)
	must(t, err)
	inst, err = f.wf.Launch(f.ctx, f.actor, f.project, workflow.LaunchInput{Kind: workflow.KindActualPeak, SubjectID: p.ID})
	must(t, err)
	ev := f.decide(inst, "agree")
	if res := f.redeliver(ev); res != workflow.Duplicate {
		t.Errorf("redelivery %v", res)
	}
	agreed, err := AgreedActualPeak(f.ctx, f.d, f.project)
	must(t, err)
	if agreed == nil || agreed.ID != p.ID || agreed.Status != PeakAgreed || agreed.AgreedAt == nil || agreed.StatusLabel != "已确认" {
		t.Fatalf("agreed: %+v", agreed)
	}
	if n := count(t, f.d, `SELECT count(*) FROM audit_log WHERE entity = 'actual_peak' AND entity_id = $1`, p.ID); n != 5 {
		t.Errorf("%d audit entries (create, in approval, returned, in approval, agreed), want 5", n)
	}
	// Repeatable: another confirmation may follow the agreed one.
	if _, err := f.s.CreateActualPeak(f.ctx, f.actor, f.project, ActualPeakInput{ActualPeakCapital: "216000000"}); err != nil {
		t.Fatalf("a new confirmation after the agreed one: %v", err)
	}
	// Another project's confirmation is not this project's subject.
	other := holdingtest.Project(t, f.d, f.city, "靖江项目")
	if _, err := f.wf.Launch(f.ctx, f.actor, other, workflow.LaunchInput{Kind: workflow.KindActualPeak, SubjectID: p.ID}); code(err) != "actual_peak_not_found" {
		t.Errorf("another project's subject: %v", err)
	}
}

func count(t *testing.T, d *db.DB, q string, args ...any) int {
	t.Helper()
	var n int
	must(t, d.Get(&n, q, args...))
	return n
}

// R6 through DingTalk: a reviewed principal batch (R6's example, 100%)
// launches with its form and named attachment slots, is agreed, and posts
// once — the event handed over twice and the effect run twice post one
// transaction — to the fen: principal +A, interest −Σ|B|, payable −E. The
// interest is deducted: every partner's capital interest not yet deducted
// is 0 afterwards, so a second principal batch's B is 0 (R6: once). One
// robot alert reaches the city company's group.
func TestPrincipalBatchAgreedPostsOnce(t *testing.T) {
	f := newFixture(t)
	// R4's B before: what the batch deducts.
	before := f.positions()
	for i, p := range f.partners {
		if !before[p].Interest.Equal(d(r4B[i])) {
			t.Fatalf("interest of %d before = %s, want %s", i, before[p].Interest, r4B[i])
		}
	}
	id := f.batch(KindPrincipal, 1, StatusSaved, "1", false, r6Lines())
	if _, err := f.launch(workflow.KindPrincipalDistribution, id, nil); code(err) != "distribution_not_reviewed" {
		t.Fatalf("launch of a saved batch: %v", err)
	}
	must(t, exec(f.d, `UPDATE distribution_batches SET status = 'reviewed' WHERE id = $1`, id))
	if _, err := f.launch(workflow.KindProfitDistribution, id, nil); code(err) != "distribution_kind_mismatch" {
		t.Fatalf("launch as a profit batch: %v", err)
	}
	if _, err := f.launch(workflow.KindPrincipalDistribution, id, map[string][]int64{"其它附件": {1}}); code(err) != "attachment_slot_unknown" {
		t.Fatalf("unknown slot: %v", err)
	}
	// A staff member holding a line of the batch never launches it.
	var own int64
	must(t, f.d.Get(&own, `UPDATE users SET dingtalk_userid = 'dt_jia' WHERE id = (SELECT user_id FROM partners WHERE id = $1) RETURNING id`, f.partners[0]))
	f.sim.AddUser(dtsim.User{UserID: "dt_jia", Name: "甲"})
	if _, err := f.wf.Launch(f.ctx, audit.Actor{ID: &own, Name: "甲"}, f.project, workflow.LaunchInput{Kind: workflow.KindPrincipalDistribution, SubjectID: id}); code(err) != "own_line" {
		t.Fatalf("launch by a partner of the batch: %v", err)
	}
	flow, err := attachment.NewService(f.d).Upload(f.ctx, f.actor, f.project, "现金流量表.pdf", strings.NewReader("%PDF-1.4\n%%EOF\n"))
	must(t, err)
	inst, err := f.launch(workflow.KindPrincipalDistribution, id, map[string][]int64{"项目现金流量表": {flow.ID}})
	must(t, err)
	if f.status(id) != StatusInApproval {
		t.Fatalf("after launch: %s", f.status(id))
	}
	form := f.runningForm(inst.InstanceID)
	for name, want := range map[string]string{
		"本次分配节点": "本金分配", "本次返还比例": "100.000%", "预计分配时间": "2024-12-20", "分配人数": "4",
		"合计-事业合伙本金(A)": "1320000.00", "合计-资金利息(B)": "-3069.69", "合计-其它(C)": "0.00",
		"合计-本金分配不含其它(D)": "1316930.31", "合计-本金分配含其它(E)": "1316930.31", "情况说明": "按测算表分配",
		"股东投入与分配明细表（签字版材料）": "—", "项目动态利润测算": "—", "取得方式": "招拍挂",
	} {
		if got := formValue(form, name); got != want {
			t.Errorf("form %s = %q, want %q", name, got, want)
		}
	}
	if v := formValue(form, "项目现金流量表"); !strings.Contains(v, "现金流量表.pdf http://hehuo.test/api/v1/attachments/") {
		t.Errorf("slot 项目现金流量表 = %q", v)
	}
	detail, err := f.wf.Detail(f.ctx, inst.ID)
	must(t, err)
	// The upload in its slot, and the generated calculation sheet (export.go).
	if len(detail.Attachments) != 2 || detail.Attachments[0].Slot != "项目现金流量表" || detail.Attachments[1].Role == "upload" ||
		!strings.HasSuffix(detail.Attachments[1].Name, "本金分配计算表.xlsx") || detail.Title != "事业合伙投资-本金分配审批" || detail.Label != "本金分配" {
		t.Errorf("detail %+v", detail)
	}

	ev := f.decide(inst, "agree")
	if res := f.redeliver(ev); res != workflow.Duplicate {
		t.Errorf("redelivery %v", res)
	}
	// The effect itself run again (as a replay would) posts nothing more.
	must(t, f.d.InTx(f.ctx, func(tx *sqlx.Tx) error { return f.s.approve(f.ctx, tx, inst) }))
	b, err := load(f.ctx, f.d, id, false)
	must(t, err)
	if b.Status != StatusApproved || b.ApprovedAt == nil || b.StatusLabel != "已审批待支付" {
		t.Fatalf("after agreement: %+v", b)
	}
	if n := count(t, f.d, `SELECT count(*) FROM ledger_transactions WHERE idempotency_key = $1`, ApprovalKey(id)); n != 1 {
		t.Fatalf("%d approval transactions, want 1", n)
	}
	if n := count(t, f.d, `SELECT count(*) FROM distribution_batches WHERE id = $1 AND ledger_tx_id =
		(SELECT id FROM ledger_transactions WHERE idempotency_key = $2)`, id, ApprovalKey(id)); n != 1 {
		t.Errorf("the batch does not name its ledger transaction")
	}
	bal := f.balances()
	p := f.project
	want := map[string]string{
		ledger.Bank(p):     "1320000.00", // paid in, not paid out yet
		ledger.Interest(p): "-3069.69",
	}
	for i, k := range f.partners {
		want[ledger.Principal(p, k)] = "0.00"
		want[ledger.Payable(p, k)] = d(r3Principal[i]).Add(d(r4B[i])).Neg().StringFixed(2)
	}
	want[ledger.Payable(p, f.partners[0])] = "-500000.00"
	for acc, w := range want {
		if got := bal[acc]; !got.Equal(d(w)) {
			t.Errorf("balance %s = %s, want %s", acc, got, w)
		}
	}
	if got := bal[ledger.Payable(p, f.partners[3])]; !got.Equal(d("-222060.21")) {
		t.Errorf("D's payable %s, want -222060.21 (R6)", got)
	}
	if _, ok := bal[ledger.Other(p, f.partners[0])]; ok {
		t.Errorf("a zero C was posted")
	}
	ledgertest.AssertReconciles(t, f.d)

	after := f.positions()
	for i, k := range f.partners {
		pp := after[k]
		if !pp.Interest.IsZero() || !pp.Returned.Equal(d(r3Principal[i])) {
			t.Errorf("partner %d after: interest %s (want 0: deducted once), returned %s", i, pp.Interest, pp.Returned)
		}
	}
	// One robot alert (the partners' 分配通知 go out too: notices.go).
	_, err = notify.NewDispatcher(f.notify, notify.WithResultDelay(0)).DrainOnce(f.ctx)
	must(t, err)
	msgs := f.sim.RobotMessages()
	if len(msgs) != 1 || msgs[0].Conversation != "环沪经营会计群" {
		t.Fatalf("robot alerts: %+v", msgs)
	}
	if s := string(msgs[0].Msg); !strings.Contains(s, "本金分配") || !strings.Contains(s, "同意") {
		t.Errorf("robot alert %s", s)
	}
}

// A refused (or terminated) batch process returns the batch to saved and
// posts nothing.
func TestBatchRefusedReturnsToSaved(t *testing.T) {
	f := newFixture(t)
	id := f.batch(KindPrincipal, 1, StatusReviewed, "1", false, r6Lines())
	inst, err := f.launch(workflow.KindPrincipalDistribution, id, nil)
	must(t, err)
	f.decide(inst, "refuse")
	if st := f.status(id); st != StatusSaved {
		t.Fatalf("after refusal: %s", st)
	}
	if n := count(t, f.d, `SELECT count(*) FROM ledger_transactions WHERE idempotency_key = $1`, ApprovalKey(id)); n != 0 {
		t.Fatalf("a refused batch posted %d transactions", n)
	}
}

// R7 (profit 1, entered by hand) and the process center's 利润分配1, 2:
// the form of 事业合伙投资-利润1分配审批 with the tier table, agreed: bank
// +X, profit −F to the fen. Then a partial principal batch (80%) and the
// liquidation returning the rest with profit: every principal is 0, the
// project is settled and read-only, a second liquidation refused.
func TestProfitAndLiquidation(t *testing.T) {
	f := newFixture(t)
	r7 := []string{"37878.79", "22727.27", "22510.83", "16883.11"}
	profit := make([]line, 4)
	for i := range profit {
		profit[i] = line{"0", "0", "0", "0", "0", r7[i]}
	}
	id := f.batch(KindProfit, 1, StatusReviewed, "", true, profit)
	inst, err := f.launch(workflow.KindProfitDistribution, id, nil)
	must(t, err)
	form := f.runningForm(inst.InstanceID)
	for name, want := range map[string]string{
		"本次分配节点": "第1次利润分配(手工)", "本次分配金额": "100000.00", "合伙投资占比": "0.600%", "预计分配时间": "2024-12-20",
		"锦艺方预计净利润": "—", "本次分配比例": "—", "销售去化达标时间": "—",
		"本次分配信息-控股集团": "0.000%；—", "本次分配信息-置业集团": "0.000%；—", "本次分配信息-城市公司": "0.600%；100000.00",
		"本次分配信息-其它": "0.000%；—", "本次分配信息-合计": "0.600%；100000.00",
	} {
		if got := formValue(form, name); got != want {
			t.Errorf("form %s = %q, want %q", name, got, want)
		}
	}
	detail, err := f.wf.Detail(f.ctx, inst.ID)
	must(t, err)
	if detail.Title != "事业合伙投资-利润1分配审批" || detail.Label != "利润分配1" {
		t.Errorf("detail title %q label %q", detail.Title, detail.Label)
	}
	f.decide(inst, "agree")
	bal := f.balances()
	for i, k := range f.partners {
		if got := bal[ledger.Profit(f.project, k)]; !got.Equal(d(r7[i]).Neg()) {
			t.Errorf("profit of %d = %s, want -%s", i, got, r7[i])
		}
	}
	if got := bal[ledger.Bank(f.project)]; !got.Equal(d("1420000.00")) {
		t.Errorf("bank %s, want 1,320,000 + 100,000", got)
	}

	// 利润分配2 is its own row.
	id2 := f.batch(KindProfit, 2, StatusReviewed, "", false, profit)
	inst2, err := f.launch(workflow.KindProfitDistribution, id2, nil)
	must(t, err)
	f.decide(inst2, "agree")
	list, err := f.wf.List(f.ctx, f.project, true, false)
	must(t, err)
	var labels []string
	for _, k := range list {
		if k.Kind == workflow.KindProfitDistribution {
			for _, r := range k.Processes {
				labels = append(labels, r.Label+":"+r.Title)
			}
		}
	}
	if strings.Join(labels, ",") != "利润分配1:事业合伙投资-利润1分配审批,利润分配2:事业合伙投资-利润2分配审批" {
		t.Errorf("process center rows %v", labels)
	}

	// 80% of principal, B deducted.
	partial := make([]line, 4)
	for i := range partial {
		a, b := d(r3Principal[i]), d(r4B[i])
		back := money.RoundFen(a.Mul(d("0.8")))
		dd := back.Add(b)
		partial[i] = line{a.StringFixed(2), b.StringFixed(2), "0", dd.StringFixed(2), dd.StringFixed(2), "0"}
	}
	pid := f.batch(KindPrincipal, 1, StatusReviewed, "0.8", false, partial)
	pinst, err := f.launch(workflow.KindPrincipalDistribution, pid, nil)
	must(t, err)
	f.decide(pinst, "agree")

	// A liquidation leaving principal behind is refused; returning the
	// rest (B already deducted: 0) with the profit entered, agreed.
	rest := make([]line, 4)
	short := make([]line, 4)
	for i := range rest {
		left := d(r3Principal[i]).Sub(money.RoundFen(d(r3Principal[i]).Mul(d("0.8"))))
		rest[i] = line{left.StringFixed(2), "0", "0", left.StringFixed(2), left.StringFixed(2), r7[i]}
		short[i] = rest[i]
	}
	short[3] = line{"1", "0", "0", "1", "1", r7[3]}
	lid := f.batch(KindLiquidation, 1, StatusReviewed, "", false, short)
	if _, err := f.launch(workflow.KindLiquidation, lid, nil); code(err) != "liquidation_principal_remaining" {
		t.Fatalf("liquidation leaving principal: %v", err)
	}
	must(t, exec(f.d, `DELETE FROM distribution_lines WHERE batch_id = $1`, lid))
	must(t, exec(f.d, `DELETE FROM distribution_batches WHERE id = $1`, lid))
	lid = f.batch(KindLiquidation, 1, StatusReviewed, "", false, rest)
	linst, err := f.launch(workflow.KindLiquidation, lid, nil)
	must(t, err)
	f.decide(linst, "agree")
	for i, k := range f.partners {
		pp := f.positions()[k]
		if held := pp.Paid.Sub(pp.Returned); !held.IsZero() || !pp.Interest.IsZero() {
			t.Errorf("partner %d after liquidation: principal held %s, interest %s", i, held, pp.Interest)
		}
	}
	ledgertest.AssertReconciles(t, f.d)
	if err := project.Writable(f.ctx, f.d, f.project); code(err) != "project_settled" {
		t.Fatalf("after liquidation the project is writable: %v", err)
	}
	if n := count(t, f.d, `SELECT count(*) FROM audit_log WHERE action = 'project.settle' AND entity_id = $1`, f.project); n != 1 {
		t.Errorf("%d settle entries", n)
	}
	if _, err := f.s.CreateActualPeak(f.ctx, f.actor, f.project, ActualPeakInput{ActualPeakCapital: "1"}); code(err) != "project_settled" {
		t.Errorf("a write after settlement: %v", err)
	}
	// A second liquidation: the project is read-only, and the schema
	// keeps one liquidation per project.
	if _, err := f.launch(workflow.KindLiquidation, lid, nil); code(err) != "project_settled" {
		t.Errorf("second liquidation launch: %v", err)
	}
	if err := exec(f.d, `INSERT INTO distribution_batches (project_id, kind, seq, status, created_by_name) VALUES ($1, 'liquidation', 2, 'draft', 'x')`, f.project); err == nil {
		t.Errorf("a second liquidation was stored")
	}
}

// Postings of one line of each kind, to the fen, balanced; zero amounts
// left out; a payee receiving two lines gets one payable posting.
func TestPostings(t *testing.T) {
	b := Batch{ProjectID: 7, Kind: KindLiquidation, Lines: []Line{
		{PartnerID: 1, PayeeID: 1, A: money.AmountOf(d("300000")), B: money.AmountOf(d("-679.32")), C: money.AmountOf(d("-100.5")),
			D: money.AmountOf(d("299320.68")), E: money.AmountOf(d("299220.18")), F: money.AmountOf(d("22727.27"))},
		{PartnerID: 2, PayeeID: 9, A: money.AmountOf(d("500000")), D: money.AmountOf(d("500000")), E: money.AmountOf(d("500000"))},
		{PartnerID: 3, PayeeID: 9, A: money.AmountOf(d("1")), D: money.AmountOf(d("1")), E: money.AmountOf(d("1")), F: money.AmountOf(d("0.01"))},
	}}
	got := map[string]string{}
	sum := decimal.Zero
	for _, p := range Postings(b) {
		got[p.Account] = p.Amount.StringFixed(2)
		sum = sum.Add(p.Amount)
	}
	want := map[string]string{
		"principal:7:1": "300000.00", "interest:7": "-679.32", "other:7:1": "-100.50", "payable:7:1": "-299220.18",
		"principal:7:2": "500000.00", "principal:7:3": "1.00", "payable:7:9": "-500001.00",
		"bank:7": "22727.28", "profit:7:1": "-22727.27", "profit:7:9": "-0.01",
	}
	if len(got) != len(want) || !sum.IsZero() {
		t.Fatalf("postings %v (Σ %s)", got, sum)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %s, want %s", k, got[k], v)
		}
	}
	b.Kind = KindProfit
	if ps := Postings(b); len(ps) != 3 { // bank, profit:1, profit:9
		t.Errorf("profit postings %v", ps)
	}
}
