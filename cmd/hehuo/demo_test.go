package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"hehuo/internal/auth"
	"hehuo/internal/cache/cachetest"
	"hehuo/internal/config"
	"hehuo/internal/db/dbtest"
	"hehuo/internal/demo"
	"hehuo/internal/dtsim/dtsimtest"
	"hehuo/internal/ledger/ledgertest"
	"hehuo/internal/notify"
)

// The demo's project in subscription is set up through the real services,
// the real client and the stream bot against the simulator, as `make demo`
// does at its first start.
func TestDemoPutsAProjectInSubscription(t *testing.T) {
	sim := dtsimtest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	a := openDemo(t, ctx, sim)
	if err := demoValues(ctx, a); err != nil { // as demoCmd does, before the project in subscription
		t.Fatal(err)
	}
	if err := seedDemoSim(ctx, a, sim.Sim, sim.URL); err != nil {
		t.Fatal(err)
	}
	if a.bot == nil {
		t.Fatal("no stream bot for a configured app")
	}
	go a.bot.Run(ctx)

	name, err := demoSubscription(ctx, a, sim.Sim)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := notify.NewDispatcher(a.deps.Notify, notify.WithoutListen()).DrainOnce(ctx); err != nil {
		t.Fatal(err)
	}

	var status string
	var invited int
	if err := a.db.QueryRowxContext(ctx, `SELECT r.status, (SELECT count(*) FROM invitations WHERE round_id = r.id)
		FROM rounds r JOIN projects p ON p.id = r.project_id WHERE p.name = $1`, name).Scan(&status, &invited); err != nil {
		t.Fatal(err)
	}
	if status != "open" || invited != 8 {
		t.Fatalf("demo round: %s with %d invitations, want open with 8", status, invited)
	}
	for i := 1; i <= 8; i++ {
		userid := fmt.Sprintf("demo_partner_%02d", i)
		if n := len(sim.Notices(userid)); n != 1 {
			t.Errorf("%s has %d notices, want the one subscription notice", userid, n)
		}
	}
	if n := len(sim.Notices("demo_partner_09")); n != 0 {
		t.Errorf("an uninvited partner got %d notices", n)
	}
	var titles []string
	for _, m := range sim.RobotMessages() {
		titles = append(titles, m.Conversation+": "+string(m.Msg))
	}
	all := strings.Join(titles, "\n")
	if len(titles) != 2 || !strings.Contains(all, "项目资金峰值") || !strings.Contains(all, "认购通知已发送") ||
		!strings.Contains(all, "环沪城市公司经营会计群") {
		t.Fatalf("robot messages:\n%s", all)
	}
}

// The demo's project mid-distribution (泰安-锦艺誉峯) is set up through the
// real services and the stream bot against the simulator, as `make demo`
// does at its first start: opening balances of twelve partners, the actual
// peak agreed, the principal batch agreed and paid out, the first profit
// batch awaiting review; the ledger reconciles, and a second run changes
// nothing.
func TestDemoPutsAProjectMidDistribution(t *testing.T) {
	sim := dtsimtest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	a := openDemo(t, ctx, sim)
	if err := auth.EnsureBootstrap(ctx, a.db, "admin-pass-1", "bizadmin-pass-1"); err != nil { // as demoCmd does
		t.Fatal(err)
	}
	if err := demoValues(ctx, a); err != nil {
		t.Fatal(err)
	}
	if err := seedDemoSim(ctx, a, sim.Sim, sim.URL); err != nil {
		t.Fatal(err)
	}
	go a.bot.Run(ctx)
	if _, err := demoSubscription(ctx, a, sim.Sim); err != nil { // as demoCmd does, first
		t.Fatal(err)
	}
	name, err := demoDistribution(ctx, a, sim.Sim)
	if err != nil || name != "泰安-锦艺誉峯" {
		t.Fatalf("demo distribution: %q %v", name, err)
	}
	// Minority shareholders (小股东) with approved stakes in two projects.
	if err := demoShareholders(ctx, a); err != nil {
		t.Fatalf("demo shareholders: %v", err)
	}
	var approved int
	if err := a.db.GetContext(ctx, &approved, `SELECT count(DISTINCT project_id) FROM shareholder_registrations
		WHERE status = 'approved'`); err != nil || approved != 2 {
		t.Fatalf("demo projects with approved minority shareholders: %d %v", approved, err)
	}
	// One exited partner (退投): quoted, agreed (承接) and paid.
	if err := demoExit(ctx, a, sim.Sim); err != nil {
		t.Fatalf("demo exit: %v", err)
	}
	var exits int
	if err := a.db.GetContext(ctx, &exits, `SELECT count(*) FROM exits e JOIN partners p ON p.id = e.partner_id
		WHERE e.status = 'paid' AND p.exited_on IS NOT NULL AND p.left_on IS NOT NULL`); err != nil || exits != 1 {
		t.Fatalf("demo exits paid: %d %v", exits, err)
	}
	ledgertest.AssertReconciles(t, a.db)
	// The approved rounds have their agreements; one is signed, with its PDF's hash.
	if n, err := demoAgreements(ctx, a, sim.Sim); err != nil || n == 0 {
		t.Fatalf("demo agreements: %d %v", n, err)
	}
	var signed int
	if err := a.db.GetContext(ctx, &signed, `SELECT count(*) FROM agreement_signoffs s JOIN agreements g ON g.id = s.agreement_id
		WHERE s.document_sha256 = g.sha256`); err != nil || signed != 1 {
		t.Fatalf("demo sign-offs: %d %v", signed, err)
	}
	var batches []struct {
		Kind   string `db:"kind"`
		Status string `db:"status"`
		Lines  int    `db:"lines"`
		Paid   int    `db:"paid"`
	}
	if err := a.db.SelectContext(ctx, &batches, `SELECT b.kind, b.status, count(l.*) AS lines, count(l.paid_on) AS paid
		FROM distribution_batches b JOIN projects p ON p.id = b.project_id LEFT JOIN distribution_lines l ON l.batch_id = b.id
		WHERE p.name = $1 GROUP BY b.id ORDER BY b.id`, name); err != nil {
		t.Fatal(err)
	}
	if len(batches) != 2 || batches[0].Kind != "principal" || batches[0].Status != "paid" || batches[0].Lines != 12 || batches[0].Paid != 12 ||
		batches[1].Kind != "profit" || batches[1].Status != "submitted" || batches[1].Lines != 12 {
		t.Fatalf("demo batches: %+v", batches)
	}
	var peaks int
	if err := a.db.GetContext(ctx, &peaks, `SELECT count(*) FROM actual_peaks a JOIN projects p ON p.id = a.project_id
		WHERE p.name = $1 AND a.status = 'agreed'`, name); err != nil || peaks != 1 {
		t.Fatalf("agreed actual peaks: %d %v", peaks, err)
	}
	// Every partner got the principal back: the principal accounts are empty.
	var held string
	if err := a.db.GetContext(ctx, &held, `SELECT coalesce(sum(b.balance), 0)::text FROM ledger_balances b
		JOIN ledger_accounts la ON la.id = b.account_id JOIN projects p ON p.id = la.project_id
		WHERE p.name = $1 AND la.kind = 'principal'`, name); err != nil || held != "0.00" {
		t.Fatalf("principal held after the demo's principal batch: %s %v", held, err)
	}
	// Again (a restart on the same data): nothing changes.
	var before int
	a.db.GetContext(ctx, &before, `SELECT count(*) FROM audit_log`)
	if _, err := demoDistribution(ctx, a, sim.Sim); err != nil {
		t.Fatal(err)
	}
	if _, err := demoAgreements(ctx, a, sim.Sim); err != nil {
		t.Fatal(err)
	}
	if err := demoExit(ctx, a, sim.Sim); err != nil {
		t.Fatal(err)
	}
	// 小股东: two projects with approved registrations, one paid shareholder distribution; again: nothing.
	if err := demoMinority(ctx, a); err != nil {
		t.Fatalf("demo minority: %v", err)
	}
	var minority struct {
		Projects int `db:"projects"`
		Paid     int `db:"paid"`
	}
	if err := a.db.GetContext(ctx, &minority, `SELECT
		(SELECT count(DISTINCT project_id) FROM shareholder_registrations WHERE status = 'approved') AS projects,
		(SELECT count(*) FROM shareholder_distributions WHERE status = 'paid') AS paid`); err != nil ||
		minority.Projects < 2 || minority.Paid != 1 {
		t.Fatalf("demo minority: %+v %v", minority, err)
	}
	ledgertest.AssertReconciles(t, a.db)
	a.db.GetContext(ctx, &before, `SELECT count(*) FROM audit_log`)
	if err := demoMinority(ctx, a); err != nil {
		t.Fatal(err)
	}
	if err := demoShareholders(ctx, a); err != nil {
		t.Fatal(err)
	}
	var after int
	a.db.GetContext(ctx, &after, `SELECT count(*) FROM audit_log`)
	if after != before {
		t.Fatalf("a second run wrote %d audit entries", after-before)
	}

	// The project in the holding period: two periods disclosed, the first
	// sent to its partners, the second waiting in 披露审核; again: nothing.
	for run := 0; run < 2; run++ {
		if name, err := demoDisclosure(ctx, a, sim.Sim); err != nil || name != "马鞍山-林语春风" {
			t.Fatalf("demo disclosure: %q %v", name, err)
		}
	}
	var states []string
	if err := a.db.SelectContext(ctx, &states, `SELECT d.status FROM disclosures d JOIN projects p ON p.id = d.project_id
		WHERE p.name = '马鞍山-林语春风' ORDER BY d.id`); err != nil || len(states) != 2 || states[0] != "sent" || states[1] != "agreed" {
		t.Fatalf("demo disclosures: %v %v", states, err)
	}
	// The partners brought by opening balances hold the project: they read the first period.
	var jia int64
	if err := a.db.GetContext(ctx, &jia, `SELECT id FROM users WHERE dingtalk_userid = 'demo_partner_21'`); err != nil {
		t.Fatal(err)
	}
	if mine, err := a.deps.Disclosures.Mine(ctx, jia); err != nil || len(mine) != 1 || mine[0].Periods != 1 {
		t.Fatalf("demo partner's disclosures: %+v %v", mine, err)
	}
	ledgertest.AssertReconciles(t, a.db)
}

// Every demo project has plausible 基础信息, 关键节点 and 盈利指标, and the
// rate table has a history, once the demo is loaded.
func TestDemoValues(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	a := openDemo(t, ctx, nil)
	if err := demoValues(ctx, a); err != nil {
		t.Fatal(err)
	}
	var projects, withBasic, withIndicators, milestones, rates int
	if err := a.db.QueryRowxContext(ctx, `SELECT (SELECT count(*) FROM projects),
		(SELECT count(*) FROM establishments WHERE address <> '' AND saleable_value > 0),
		(SELECT count(*) FROM establishments WHERE net_profit > 0 AND irr IS NOT NULL),
		(SELECT count(*) FROM milestones), (SELECT count(*) FROM financing_rates)`).Scan(&projects, &withBasic, &withIndicators, &milestones, &rates); err != nil {
		t.Fatal(err)
	}
	if projects != 7 || withBasic != 7 || withIndicators != 7 || milestones != 7*9 || rates != 3 {
		t.Fatalf("projects %d, with 基础信息 %d, with 盈利指标 %d, milestones %d, rates %d", projects, withBasic, withIndicators, milestones, rates)
	}
}

// The simulator of `hehuo demo` keeps its state in the demo database: what
// one run left (a user, a robot message, a running approval) is there at the
// next start.
func TestDemoSimulatorStateSurvivesRestart(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	a := openDemo(t, ctx, nil)

	first := dtsimtest.Start(t)
	// A corp with one user and an approval still running (what a run of the
	// demo leaves; the snapshot itself is tested with real calls in dtsim).
	if err := first.Restore([]byte(`{"version":1,"users":[{"userid":"demo_x","name":"演示甲"}],
		"approvals":[{"instance_id":"inst-1","process_code":"PROC-DEMO","title":"演示审批","originator":"demo_x","status":"RUNNING"}]}`)); err != nil {
		t.Fatal(err)
	}
	run, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { keepDemoSim(run, a, first.Sim); close(done) }()
	stop() // the demo stops: the state is saved once more
	<-done

	second := dtsimtest.Start(t)
	if err := restoreDemoSim(ctx, a, second.Sim); err != nil {
		t.Fatal(err)
	}
	if us := second.Users(); len(us) != 1 || us[0].Name != "演示甲" {
		t.Fatalf("users after restart: %+v", us)
	}
	if running := second.Approvals("RUNNING"); len(running) != 1 || running[0].Title != "演示审批" {
		t.Fatalf("approvals after restart: %+v", running)
	}
}

// openDemo opens the app as `hehuo demo` does, on a fresh database and its
// own Redis prefix (and the simulator when sim is not nil), closed at the
// end of the test, with the demo group loaded.
func openDemo(t *testing.T, ctx context.Context, sim *dtsimtest.Server) *app {
	t.Helper()
	d := dbtest.New(t)
	cfg := config.Default()
	cfg.Demo = true
	cfg.Database.URL = dbtest.URL(t, d)
	cfg.Redis.URL = cachetest.URL()
	cfg.Redis.Prefix = fmt.Sprintf("hehuotest:%s:%d:", t.Name(), time.Now().UnixNano())
	if sim != nil {
		cfg.DingTalk = sim.DingTalkConfig()
	}
	cfg.Log.Level = "error"
	a, err := open(ctx, cfg, false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.close)
	if _, err := demo.Load(ctx, demo.Services{DB: a.db, Org: a.deps.Org, Auth: a.deps.Auth, Projects: a.deps.Projects}); err != nil {
		t.Fatal(err)
	}
	return a
}
