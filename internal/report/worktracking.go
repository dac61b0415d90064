package report

import (
	"context"
	"fmt"
	"time"

	"github.com/lib/pq"

	"hehuo/internal/position"
)

// Step statuses of the work tracking report.
const (
	StatusDone    = "done"
	StatusPending = "pending"
	StatusNA      = "n/a" // the step does not apply to the project (e.g. no supplementary round)
)

// stepStatusLabels are the step statuses in Chinese (a pending step also
// names its owner on the screen: 待办·经营会计).
var stepStatusLabels = map[string]string{StatusDone: "已完成", StatusPending: "待办", StatusNA: "不适用"}

// WorkStep is one step of a project's lifecycle as 工作跟踪表 shows it: done
// (by whom, when) or pending (waiting on Owner).
type WorkStep struct {
	Step   string `json:"step"`   // stable code, e.g. "peak_capital"
	Label  string `json:"label"`  // what the console shows, e.g. 峰值流程
	Owner  string `json:"owner"`  // who acts at this step (the seed's 操作人员)
	Status string `json:"status"` // done | pending | n/a
	// StatusLabel is Status in Chinese.
	StatusLabel string     `json:"status_label"`
	By          string     `json:"by"`   // who did it; empty unless done
	At          *time.Time `json:"at"`   // when it was done; null unless done
	Note        string     `json:"note"` // e.g. 3/4 已认购, 审批中, 驳回：…
}

// WorkItem is one project's row of 工作跟踪表.
type WorkItem struct {
	ProjectID   int64      `json:"project_id"`
	ProjectName string     `json:"project_name"`
	CityCompany string     `json:"city_company"`
	Batch       string     `json:"batch"`
	Steps       []WorkStep `json:"steps"`
}

// stepDef says how one step is derived. query runs over $1 (the projects'
// ids) and returns (project_id, done, by, at, note) for each project it knows
// something about; a project it returns nothing for is pending. The step's
// tables are listed in needs so that a step whose tables do not exist yet (a
// later issue's) reads as pending rather than failing the report.
type stepDef struct {
	code, label, owner string
	needs              []string
	query              string
	// optional steps are n/a, not pending, for a project the query returns nothing for.
	optional bool
}

// Owners, as the seed's quick guide names who acts.
const (
	ownerSysadmin   = "管理员"
	ownerAccountant = "城市公司"
	ownerPartner    = "合伙人"
	ownerBizadmin   = "业务管理员"
)

// initialRound joins a project's initial round (立项; one per project) as r.
const initialRound = ` FROM projects p JOIN rounds r ON r.project_id = p.id AND r.kind = 'initial' `

// process returns the query of a process step: done when the kind's latest
// instance (for the initial round when onRound) is agreed, by its initiator;
// a running or refused one says so in the note.
func process(kind string, onRound bool) string {
	subject := `0`
	from := ` FROM projects p `
	if onRound {
		subject, from = `r.id`, initialRound
	}
	return `SELECT p.id, x.status = 'agreed', x.initiator_name, x.finished_at,
			CASE x.status WHEN 'agreed' THEN '' WHEN 'running' THEN '审批中' WHEN 'launching' THEN '发起中'
				WHEN 'refused' THEN '审批被拒绝' WHEN 'terminated' THEN '审批已撤销' ELSE '' END` + from + `
		JOIN LATERAL (SELECT * FROM processes x WHERE x.project_id = p.id AND x.kind = '` + kind + `'
			AND x.subject_id = ` + subject + ` AND x.status <> 'reset' ORDER BY x.id DESC LIMIT 1) x ON true
		WHERE p.id = ANY($1)`
}

// workSteps are the steps of the seed's 操作步骤 table for 立项 and 缴款, in
// order, then 补充立项 (the seed's 补投认购 / 新增合伙).
var workSteps = []stepDef{
	{code: "project_opened", label: "项目开通", owner: ownerSysadmin, query: `
		SELECT p.id, true, coalesce(who.actor_name, ''), who.at, '' FROM projects p
		LEFT JOIN LATERAL (SELECT a.actor_name, a.at FROM audit_log a
			WHERE a.project_id = p.id AND a.entity = 'project' AND a.after->>'is_open' = 'true'
			ORDER BY a.id LIMIT 1) who ON true
		WHERE p.id = ANY($1) AND p.is_open`},
	// 立项资料: the terms (立项信息) entered; by whoever last saved them.
	{code: "establishment_data", label: "立项资料", owner: ownerAccountant, needs: []string{"establishments"}, query: `
		SELECT p.id, e.peak_capital IS NOT NULL, coalesce(who.actor_name, ''), coalesce(who.at, e.updated_at),
			CASE WHEN e.peak_capital IS NULL THEN '未填资金峰值' ELSE '' END
		FROM projects p JOIN establishments e ON e.project_id = p.id
		LEFT JOIN LATERAL (SELECT a.actor_name, a.at FROM audit_log a
			WHERE a.project_id = p.id AND a.action = 'establishment.terms.save'
			ORDER BY a.id DESC LIMIT 1) who ON true
		WHERE p.id = ANY($1)`},
	{code: "peak_capital", label: "峰值流程", owner: ownerAccountant, needs: []string{"processes"}, query: process("peak_capital", false)},
	{code: "partner_list", label: "合伙名单", owner: ownerAccountant, needs: []string{"rounds", "invitations"}, query: `
		SELECT p.id, count(i.id) > 0, coalesce(max(r.created_by), ''), max(i.created_at), count(i.id) || '人'` + initialRound + `
		LEFT JOIN invitations i ON i.round_id = r.id
		WHERE p.id = ANY($1) GROUP BY p.id`},
	{code: "subscription_notice", label: "认购通知", owner: ownerAccountant, needs: []string{"rounds"}, query: `
		SELECT p.id, r.notices_sent_at IS NOT NULL, coalesce(r.notices_sent_by, ''), r.notices_sent_at, ''` + initialRound + `
		WHERE p.id = ANY($1)`},
	// 认购: done when the window closed (at the deadline or by hand); the
	// note counts who has subscribed so far.
	{code: "subscription", label: "认购", owner: ownerPartner, needs: []string{"rounds", "invitations"}, query: `
		SELECT p.id, r.status NOT IN ('draft', 'open'), coalesce(r.closed_by, ''), r.closed_at,
			count(i.amount) || '/' || count(i.id) || ' 已认购'` + initialRound + `
		LEFT JOIN invitations i ON i.round_id = r.id
		WHERE p.id = ANY($1) GROUP BY p.id, r.id`},
	// 测算: a confirmed (not preview) allocation of the closed round; one
	// computed before the last subscription change is stale.
	{code: "calculation", label: "测算", owner: ownerAccountant, needs: []string{"rounds", "allocations"}, query: `
		SELECT p.id, r.status NOT IN ('draft', 'open', 'closed') AND NOT al.preview, al.computed_by, al.computed_at,
			CASE WHEN al.subscription_seq <> r.subscription_seq THEN '认购已变更，需重新测算'
				WHEN al.preview THEN '预览' ELSE '' END` + initialRound + `
		JOIN allocations al ON al.round_id = r.id
		WHERE p.id = ANY($1)`},
	{code: "submission", label: "送审", owner: ownerAccountant, needs: []string{"rounds"}, query: `
		SELECT p.id, r.status IN ('submitted', 'reviewed', 'in_approval', 'approved'), coalesce(who.actor_name, ''), r.submitted_at,
			CASE WHEN r.review_decision = 'reject' AND r.status = 'calculated' THEN '已驳回，待重新送审' ELSE '' END` + initialRound + `
		LEFT JOIN LATERAL (SELECT a.actor_name FROM audit_log a
			WHERE a.project_id = p.id AND a.entity = 'round' AND a.entity_id = r.id::text AND a.action LIKE '%submit%'
			ORDER BY a.id DESC LIMIT 1) who ON true
		WHERE p.id = ANY($1) AND r.submitted_at IS NOT NULL`},
	{code: "review", label: "审核", owner: ownerBizadmin, needs: []string{"rounds"}, query: `
		SELECT p.id, r.status IN ('reviewed', 'in_approval', 'approved'), coalesce(r.reviewed_by, ''), r.reviewed_at,
			CASE WHEN r.review_decision = 'reject' THEN '驳回：' || r.review_reason ELSE '' END` + initialRound + `
		WHERE p.id = ANY($1) AND r.reviewed_at IS NOT NULL`},
	{code: "establishment_process", label: "立项流程", owner: ownerAccountant, needs: []string{"processes", "rounds"}, query: process("establishment", true)},
	// 缴款通知: the initial round's payment notice sent (by whom, when; the
	// due date in the note).
	{code: "payment_notice", label: "缴款通知", owner: ownerBizadmin, needs: []string{"rounds", "payment_notices"}, query: `
		SELECT p.id, true, n.sent_by, n.sent_at, '缴款截止 ' || n.due_date` + initialRound + `
		JOIN payment_notices n ON n.round_id = r.id
		WHERE p.id = ANY($1)`},
	// 缴款: every partner with principal in force has paid it in full; the
	// figures are internal/position's (see paymentStep), not a query here.
	{code: stepPayment, label: "缴款", owner: ownerAccountant},
	// 补充立项 (新增合伙): only projects that have a supplementary round; the
	// latest one is done once approved, else its state is the note.
	{code: "supplementary", label: "补充立项", owner: ownerAccountant, needs: []string{"rounds"}, optional: true, query: `
		SELECT p.id, r.status = 'approved', coalesce(who.actor_name, ''), r.approved_at,
			'第' || r.seq || '次：' || CASE r.status WHEN 'draft' THEN '待发通知' WHEN 'open' THEN '认购中' WHEN 'closed' THEN '待测算'
				WHEN 'calculated' THEN '待送审' WHEN 'submitted' THEN '待审核' WHEN 'reviewed' THEN '待发起流程'
				WHEN 'in_approval' THEN '审批中' ELSE '已通过' END
		FROM projects p
		JOIN LATERAL (SELECT * FROM rounds r WHERE r.project_id = p.id AND r.kind = 'supplementary' ORDER BY r.seq DESC LIMIT 1) r ON true
		LEFT JOIN LATERAL (SELECT x.initiator_name AS actor_name FROM processes x
			WHERE x.project_id = p.id AND x.kind = 'supplementary' AND x.subject_id = r.id AND x.status = 'agreed' LIMIT 1) who ON true
		WHERE p.id = ANY($1)`},
}

// stepPayment is the step whose state comes from the money positions.
const stepPayment = "payment"

// paymentStep fills 缴款 for the projects of items from internal/position:
// done when every partner with principal in force has paid it in full (by
// whoever confirmed the latest receipt, then), pending with how many have
// paid in full so far.
func (s *Service) paymentStep(ctx context.Context, items []WorkItem, ids []int64, index map[int64]int) error {
	j := -1
	for k, d := range workSteps {
		if d.code == stepPayment {
			j = k
		}
	}
	positions, err := s.pos.Positions(ctx, nil, position.Query{ProjectIDs: ids})
	if err != nil {
		return fmt.Errorf("work tracking payment: %w", err)
	}
	type tally struct{ partners, paid int }
	per := map[int64]*tally{}
	for _, p := range positions {
		if !p.Principal.IsPositive() {
			continue
		}
		t := per[p.ProjectID]
		if t == nil {
			t = &tally{}
			per[p.ProjectID] = t
		}
		t.partners++
		if p.FullyPaid() {
			t.paid++
		}
	}
	// Who confirmed the latest receipt, and when: the step's by and at.
	var last []struct {
		ProjectID int64     `db:"project_id"`
		By        string    `db:"created_by"`
		At        time.Time `db:"created_at"`
	}
	if err := s.db.SelectContext(ctx, &last, `SELECT DISTINCT ON (project_id) project_id, created_by, created_at
		FROM payments WHERE project_id = ANY($1) AND reversal_transaction_id IS NULL
		ORDER BY project_id, created_at DESC, id DESC`, pq.Int64Array(ids)); err != nil {
		return fmt.Errorf("work tracking payment: %w", err)
	}
	for id, t := range per {
		i, ok := index[id]
		if !ok {
			continue
		}
		st := &items[i].Steps[j]
		st.Note = fmt.Sprintf("%d/%d 人已缴清", t.paid, t.partners)
		if t.paid == t.partners {
			st.Status = StatusDone
		}
	}
	for _, l := range last {
		if i, ok := index[l.ProjectID]; ok && items[i].Steps[j].Status == StatusDone {
			at := l.At
			items[i].Steps[j].By, items[i].Steps[j].At = l.By, &at
		}
	}
	return nil
}

// WorkTracking builds 工作跟踪表: per project of f, each lifecycle step done
// (by whom, when) or pending, derived from the business tables themselves.
func (s *Service) WorkTracking(ctx context.Context, f Filter) ([]WorkItem, error) {
	ps, err := s.projects(ctx, f)
	if err != nil {
		return nil, err
	}
	items := make([]WorkItem, len(ps))
	ids := make(pq.Int64Array, len(ps))
	index := map[int64]int{}
	for i, p := range ps {
		items[i] = WorkItem{ProjectID: p.ID, ProjectName: p.Name, CityCompany: p.CityCompany, Steps: make([]WorkStep, len(workSteps))}
		if p.Batch != nil {
			items[i].Batch = *p.Batch
		}
		for j, d := range workSteps {
			st := StatusPending
			if d.optional {
				st = StatusNA
			}
			items[i].Steps[j] = WorkStep{Step: d.code, Label: d.label, Owner: d.owner, Status: st}
		}
		ids[i] = p.ID
		index[p.ID] = i
	}
	if len(ps) == 0 {
		return items, nil
	}
	for j, d := range workSteps {
		if d.query == "" {
			continue
		}
		ok, err := s.tablesExist(ctx, d.needs)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		rows, err := s.db.QueryxContext(ctx, d.query, ids)
		if err != nil {
			return nil, fmt.Errorf("work tracking %s: %w", d.code, err)
		}
		for rows.Next() {
			var (
				id       int64
				done     bool
				by, note string
				at       *time.Time
			)
			if err := rows.Scan(&id, &done, &by, &at, &note); err != nil {
				rows.Close()
				return nil, fmt.Errorf("work tracking %s: %w", d.code, err)
			}
			if i, ok := index[id]; ok {
				st := &items[i].Steps[j]
				st.Note, st.Status = note, StatusPending
				if done {
					st.Status, st.By, st.At = StatusDone, by, at
				}
			}
		}
		if err := rows.Err(); err != nil {
			rows.Close()
			return nil, fmt.Errorf("work tracking %s: %w", d.code, err)
		}
		rows.Close()
	}
	if err := s.paymentStep(ctx, items, ids, index); err != nil {
		return nil, err
	}
	for i := range items {
		for j := range items[i].Steps {
			items[i].Steps[j].StatusLabel = stepStatusLabels[items[i].Steps[j].Status]
		}
	}
	return items, nil
}

// tablesExist reports whether every table of names exists.
func (s *Service) tablesExist(ctx context.Context, names []string) (bool, error) {
	if len(names) == 0 {
		return true, nil
	}
	var n int
	err := s.db.GetContext(ctx, &n, `SELECT count(*) FROM unnest($1::text[]) t WHERE to_regclass(t) IS NOT NULL`, pq.StringArray(names))
	if err != nil {
		return false, fmt.Errorf("work tracking tables: %w", err)
	}
	return n == len(names), nil
}
