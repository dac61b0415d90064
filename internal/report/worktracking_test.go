package report_test

import (
	"bytes"
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/lib/pq"
	"github.com/xuri/excelize/v2"

	"hehuo/internal/db"
	"hehuo/internal/db/dbtest"
	"hehuo/internal/holding/holdingtest"
	"hehuo/internal/report"
)

func mustExec(t *testing.T, d *db.DB, q string, args ...any) int64 {
	t.Helper()
	var id int64
	if err := d.Get(&id, q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return id
}

// steps maps a project's steps by code.
func steps(it report.WorkItem) map[string]report.WorkStep {
	m := map[string]report.WorkStep{}
	for _, s := range it.Steps {
		m[s.Step] = s
	}
	return m
}

// A project part-way through 立项: each step reads from its own table, with
// who and when for the done ones and a note for the pending ones; a project
// outside the filter is not listed.
func TestWorkTrackingDerivesStepsFromTheTables(t *testing.T) {
	d := dbtest.New(t)
	ctx := context.Background()
	city := mustExec(t, d, `INSERT INTO org_units (name, kind) VALUES ('环沪城市公司', 'city') RETURNING id`)
	batch := mustExec(t, d, `INSERT INTO batches (name) VALUES ('2019年10月') RETURNING id`)
	proj := mustExec(t, d, `INSERT INTO projects (name, city_company_id, batch_id, is_open) VALUES ('常州项目', $1, $2, true) RETURNING id`, city, batch)
	other := mustExec(t, d, `INSERT INTO projects (name, city_company_id) VALUES ('昆明项目', $1) RETURNING id`, city)
	mustExec(t, d, `INSERT INTO audit_log (actor_name, action, entity, entity_id, project_id, after)
		VALUES ('管理员', 'project.create', 'project', $1, $2, '{"is_open": true}') RETURNING id`, itoa(proj), proj)
	mustExec(t, d, `INSERT INTO establishments (project_id, peak_capital, ratio_city) VALUES ($1, 220000000, 0.006) RETURNING project_id`, proj)
	mustExec(t, d, `INSERT INTO audit_log (actor_name, action, entity, entity_id, project_id)
		VALUES ('会计甲', 'establishment.terms.save', 'establishment_terms', $1, $2) RETURNING id`, itoa(proj), proj)
	mustExec(t, d, `INSERT INTO processes (project_id, kind, status, process_code, instance_id, initiator_name, finished_at)
		VALUES ($1, 'peak_capital', 'agreed', 'P', 'inst-1', '会计甲', now()) RETURNING id`, proj)
	u1 := mustExec(t, d, `INSERT INTO users (name) VALUES ('甲') RETURNING id`)
	u2 := mustExec(t, d, `INSERT INTO users (name) VALUES ('乙') RETURNING id`)
	p1 := mustExec(t, d, `INSERT INTO partners (kind, user_id, name) VALUES ('employee', $1, '甲') RETURNING id`, u1)
	p2 := mustExec(t, d, `INSERT INTO partners (kind, user_id, name) VALUES ('employee', $1, '乙') RETURNING id`, u2)
	round := mustExec(t, d, `INSERT INTO rounds (project_id, kind, seq, status, created_by, notices_sent_at, notices_sent_by)
		VALUES ($1, 'initial', 1, 'open', '会计甲', now(), '会计甲') RETURNING id`, proj)
	mustExec(t, d, `INSERT INTO invitations (round_id, partner_id, user_id, tier, min_amount, max_amount, deadline, amount)
		VALUES ($1, $2, $3, 'city', 100000, 500000, '2026-12-31', 300000) RETURNING id`, round, p1, u1)
	mustExec(t, d, `INSERT INTO invitations (round_id, partner_id, user_id, tier, min_amount, max_amount, deadline)
		VALUES ($1, $2, $3, 'city', 100000, 500000, '2026-12-31') RETURNING id`, round, p2, u2)

	s := report.NewService(d)
	items, err := s.WorkTracking(ctx, report.Filter{All: true, BatchID: batch})
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 1 || items[0].ProjectID != proj || items[0].CityCompany != "环沪城市公司" || items[0].Batch != "2019年10月" {
		t.Fatalf("items = %+v", items)
	}
	got := steps(items[0])
	for _, c := range []struct{ step, status, by, note string }{
		{"project_opened", "done", "管理员", ""},
		{"establishment_data", "done", "会计甲", ""},
		{"peak_capital", "done", "会计甲", ""},
		{"partner_list", "done", "会计甲", "2人"},
		{"subscription_notice", "done", "会计甲", ""},
		{"subscription", "pending", "", "1/2 已认购"},
		{"calculation", "pending", "", ""},
		{"submission", "pending", "", ""},
		{"review", "pending", "", ""},
		{"establishment_process", "pending", "", ""},
		{"payment_notice", "pending", "", ""},
		{"payment", "pending", "", ""},
		{"supplementary", "n/a", "", ""},
	} {
		g := got[c.step]
		if g.Status != c.status || g.By != c.by || g.Note != c.note || (c.status == "done") != (g.At != nil) {
			t.Errorf("%s = %+v, want %s by %q note %q", c.step, g, c.status, c.by, c.note)
		}
	}
	if len(items[0].Steps) != 13 || items[0].Steps[0].Label != "项目开通" {
		t.Fatalf("steps = %+v", items[0].Steps)
	}

	// Rejected in review: 送审 pending again, 审核 says why.
	if _, err := d.Exec(`UPDATE rounds SET status = 'calculated', submitted_at = now(), reviewed_at = now(),
		reviewed_by = '业务管理员', review_decision = 'reject', review_reason = '比例不对' WHERE id = $1`, round); err != nil {
		t.Fatal(err)
	}
	items, _ = s.WorkTracking(ctx, report.Filter{All: true, ProjectID: proj})
	got = steps(items[0])
	if got["subscription"].Status != "done" || got["submission"].Status != "pending" || got["submission"].Note != "已驳回，待重新送审" ||
		got["review"].Status != "pending" || got["review"].Note != "驳回：比例不对" {
		t.Fatalf("after reject: %+v", items[0].Steps)
	}

	// A supplementary round makes 补充立项 apply: pending with its state.
	mustExec(t, d, `INSERT INTO rounds (project_id, kind, seq, status) VALUES ($1, 'supplementary', 1, 'open') RETURNING id`, proj)
	items, _ = s.WorkTracking(ctx, report.Filter{All: true, ProjectID: proj})
	if got := steps(items[0])["supplementary"]; got.Status != "pending" || got.Note != "第1次：认购中" {
		t.Fatalf("supplementary = %+v", got)
	}

	// An accountant's scope: only the projects listed.
	items, _ = s.WorkTracking(ctx, report.Filter{IDs: pq.Int64Array{other}})
	if len(items) != 1 || items[0].ProjectID != other || steps(items[0])["project_opened"].Status != "pending" {
		t.Fatalf("scoped = %+v", items)
	}
	if items, _ = s.WorkTracking(ctx, report.Filter{}); len(items) != 0 {
		t.Fatalf("empty scope lists %d projects", len(items))
	}

	// The workbook: one header row, one row per project, the step cells spelled out.
	var buf bytes.Buffer
	if err := s.WorkTrackingXLSX(ctx, report.Filter{All: true}, &buf); err != nil {
		t.Fatal(err)
	}
	x, err := excelize.OpenReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := x.GetRows("工作跟踪表")
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 || rows[0][0] != "项目" || rows[0][3] != "项目开通" || rows[0][14] != "缴款" || rows[0][15] != "补充立项" {
		t.Fatalf("rows = %q", rows)
	}
	if rows[1][0] != "常州项目" || !strings.HasPrefix(rows[1][3], "已完成 管理员\n") || rows[1][8] != "已完成\n1/2 已认购" || rows[1][10] != "待办（城市公司）\n已驳回，待重新送审" || rows[1][14] != "待办（城市公司）" || rows[1][15] != "待办（城市公司）\n第1次：认购中" || rows[2][15] != "不适用" {
		t.Fatalf("project row = %q", rows[1])
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// 缴款通知 and 缴款 read the real tables: the notice sent (by whom, due
// when), and 缴款 done only when every partner has paid their principal in
// full (internal/position), pending with the count while one has paid part.
func TestWorkTrackingPaymentSteps(t *testing.T) {
	d := dbtest.New(t)
	ctx := context.Background()
	city := mustExec(t, d, `INSERT INTO org_units (name, kind) VALUES ('环沪城市公司', 'city') RETURNING id`)
	full := mustExec(t, d, `INSERT INTO projects (name, city_company_id, is_open) VALUES ('常州项目', $1, true) RETURNING id`, city)
	part := mustExec(t, d, `INSERT INTO projects (name, city_company_id, is_open) VALUES ('靖江项目', $1, true) RETURNING id`, city)
	u1 := mustExec(t, d, `INSERT INTO users (name) VALUES ('甲') RETURNING id`)
	u2 := mustExec(t, d, `INSERT INTO users (name) VALUES ('乙') RETURNING id`)
	p1 := holdingtest.Partner(t, d, u1)
	p2 := holdingtest.Partner(t, d, u2)
	pay := func(project, round, partner, user int64, amount, key string) {
		tx := holdingtest.Pay(t, d, project, partner, amount)
		mustExec(t, d, `INSERT INTO payments (round_id, project_id, partner_id, user_id, amount, paid_on, idempotency_key, ledger_transaction_id, created_by)
			VALUES ($1, $2, $3, $4, $5, current_date, $6, $7, '会计甲') RETURNING id`, round, project, partner, user, amount, key, tx.ID)
	}
	r1 := holdingtest.Round(t, d, full, "approved", map[int64]string{p1: "300000", p2: "200000"})
	r2 := holdingtest.Round(t, d, part, "approved", map[int64]string{p1: "300000", p2: "200000"})
	d.MustExec(`UPDATE rounds SET kind = 'initial' WHERE id IN ($1, $2)`, r1, r2) // 立项's own round
	mustExec(t, d, `INSERT INTO payment_notices (round_id, due_date, sent_by) VALUES ($1, '2026-12-31', '业务管理员') RETURNING round_id`, r1)
	pay(full, r1, p1, u1, "300000", "k1")
	pay(full, r1, p2, u2, "200000", "k2")
	pay(part, r2, p1, u1, "300000", "k3")
	pay(part, r2, p2, u2, "150000", "k4")

	items, err := report.NewService(d).WorkTracking(ctx, report.Filter{All: true})
	if err != nil {
		t.Fatal(err)
	}
	byProject := map[int64]map[string]report.WorkStep{}
	for _, it := range items {
		byProject[it.ProjectID] = steps(it)
	}
	if g := byProject[full]["payment_notice"]; g.Status != "done" || g.By != "业务管理员" || g.At == nil || g.Note != "缴款截止 2026-12-31" {
		t.Errorf("缴款通知 of the paid project = %+v", g)
	}
	if g := byProject[full]["payment"]; g.Status != "done" || g.By != "会计甲" || g.At == nil || g.Note != "2/2 人已缴清" {
		t.Errorf("缴款 of the fully paid round = %+v", g)
	}
	if g := byProject[part]["payment_notice"]; g.Status != "pending" {
		t.Errorf("缴款通知 not sent = %+v", g)
	}
	if g := byProject[part]["payment"]; g.Status != "pending" || g.At != nil || g.Note != "1/2 人已缴清" {
		t.Errorf("缴款 of the partly paid round = %+v", g)
	}
}
