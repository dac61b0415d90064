package adjustment

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	"github.com/shopspring/decimal"

	"hehuo/internal/apperr"
	"hehuo/internal/audit"
	"hehuo/internal/calc"
	"hehuo/internal/civil"
	"hehuo/internal/db"
	"hehuo/internal/money"
	"hehuo/internal/notify"
	"hehuo/internal/partner"
	"hehuo/internal/position"
	"hehuo/internal/project"
	"hehuo/internal/workcal"
	"hehuo/internal/workflow"
)

// Status is an adjustment's state: draft → submitted → reviewed →
// in_approval (the adjustment process) → agreed.
type Status string

// The adjustment states.
const (
	StatusDraft      Status = "draft"
	StatusSubmitted  Status = "submitted"
	StatusReviewed   Status = "reviewed"
	StatusInApproval Status = "in_approval"
	StatusAgreed     Status = "agreed"
)

// statusLabels use the round's words for the same steps (待审核, 审核通过).
var statusLabels = map[Status]string{StatusDraft: "草稿", StatusSubmitted: "待审核", StatusReviewed: "审核通过",
	StatusInApproval: "审批中", StatusAgreed: "已生效"}

// Label is the state in Chinese, or the code itself for an unknown state.
func (s Status) Label() string {
	if l, ok := statusLabels[s]; ok {
		return l
	}
	return string(s)
}

func init() { audit.DescribeStates("adjustment", statusLabels) }

// Line is one partner's R5 figures in one tier.
type Line struct {
	PartnerID    int64        `json:"partner_id" db:"partner_id"`
	UserID       *int64       `json:"user_id" db:"user_id"`
	Name         string       `json:"name" db:"name"`
	Tier         string       `json:"tier" db:"tier"`
	OldPrincipal money.Amount `json:"old_principal" db:"old_principal"`
	NewPrincipal money.Amount `json:"new_principal" db:"new_principal"`
	Delta        money.Amount `json:"delta" db:"delta"`
	Paid         money.Amount `json:"paid" db:"paid"`
	TopUp        money.Amount `json:"top_up" db:"top_up"`
	Refund       money.Amount `json:"refund" db:"refund"`
	Settled      money.Amount `json:"settled" db:"settled"`
}

// TierTotal is one tier's A_t → A′_t.
type TierTotal struct {
	Tier     string       `json:"tier"`
	OldTotal money.Amount `json:"old_total"`
	NewTotal money.Amount `json:"new_total"`
	Delta    money.Amount `json:"delta"`
}

// Adjustment is an establishment adjustment (立项调整) with its lines.
type Adjustment struct {
	ID             int64        `json:"id" db:"id"`
	ProjectID      int64        `json:"project_id" db:"project_id"`
	PeakChangeID   int64        `json:"peak_change_id" db:"peak_change_id"`
	OldPeakCapital money.Amount `json:"old_peak_capital" db:"old_peak_capital"`
	NewPeakCapital money.Amount `json:"new_peak_capital" db:"new_peak_capital"`
	Status         Status       `json:"status" db:"status"`
	StatusLabel    string       `json:"status_label" db:"-"`
	ReviewNote     string       `json:"review_note" db:"review_note"`
	ProcessID      *int64       `json:"process_id" db:"process_id"`
	CreatedByName  string       `json:"created_by_name" db:"created_by_name"`
	CreatedAt      time.Time    `json:"created_at" db:"created_at"`
	Version        int          `json:"version" db:"version"`
	RawTrace       []byte       `json:"-" db:"trace"`
	Lines          []Line       `json:"lines" db:"-"`
	Tiers          []TierTotal  `json:"tiers" db:"-"`
	// PoolDelta = Σ A′_t − A_t = Σ delta; TopUps and Refunds are Σ of the
	// lines' top_up and refund.
	PoolDelta money.Amount `json:"pool_delta" db:"-"`
	TopUps    money.Amount `json:"top_ups" db:"-"`
	Refunds   money.Amount `json:"refunds" db:"-"`
	Trace     calc.Trace   `json:"trace" db:"-"`
	// Interest is the capital interest on each partner's top-ups (R5: from
	// the peak change's effective date).
	Interest []TopUpInterest `json:"top_up_interest" db:"-"`
}

// CreateInput is the body of POST /projects/{id}/adjustments: the agreed
// peak change to adjust for (0: the latest agreed one without adjustment).
type CreateInput struct {
	PeakChangeID int64 `json:"peak_change_id"`
}

// holding is a partner's principal in force in a tier before the
// adjustment (position.Tiers).
type holding struct {
	PartnerID int64
	UserID    *int64
	Tier      string
	Old       decimal.Decimal
}

// Create computes R5 for an agreed peak change of the project and stores
// the lines. The old principal of a partner in a tier is what the approved
// rounds allocated plus the deltas of earlier agreed adjustments; paid is
// what the ledger holds on the partner's principal account, assigned to the
// partner's tiers in the order of calc.Tiers (a partner in two tiers has
// one account).
func (s *Service) Create(ctx context.Context, a audit.Actor, projectID int64, in CreateInput) (Adjustment, error) {
	var out Adjustment
	err := s.db.InTx(ctx, func(tx *sqlx.Tx) error {
		if err := project.Writable(ctx, tx, projectID); err != nil {
			return err
		}
		var pc PeakChange
		var err error
		if in.PeakChangeID != 0 {
			pc, err = lockPeak(ctx, tx, in.PeakChangeID, projectID)
		} else {
			var id int64
			err = tx.GetContext(ctx, &id, `SELECT id FROM peak_changes p WHERE project_id = $1 AND status = 'agreed'
				AND NOT EXISTS (SELECT 1 FROM adjustments a WHERE a.peak_change_id = p.id) ORDER BY id DESC LIMIT 1`, projectID)
			if db.IsNoRows(err) {
				return apperr.Rule("peak_change_not_agreed", "peak_change_id", "没有已审批通过、尚未调整的峰值变更")
			}
			if err == nil {
				pc, err = lockPeak(ctx, tx, id, projectID)
			}
		}
		if err != nil {
			return err
		}
		if pc.Status != PeakAgreed {
			return apperr.Rule("peak_change_not_agreed", "peak_change_id", "峰值变更尚未审批通过")
		}
		var exists bool
		if err := tx.GetContext(ctx, &exists, `SELECT EXISTS (SELECT 1 FROM adjustments WHERE peak_change_id = $1)`, pc.ID); err != nil {
			return fmt.Errorf("adjustment exists: %w", err)
		}
		if exists {
			return apperr.Conflict("adjustment_exists", "该峰值变更已有立项调整")
		}
		tiers, err := s.pos.Tiers(ctx, tx, projectID)
		if err != nil {
			return fmt.Errorf("principal before adjustment: %w", err)
		}
		hs := make([]holding, len(tiers))
		for i, t := range tiers {
			hs[i] = holding{PartnerID: t.PartnerID, UserID: t.UserID, Tier: t.Tier, Old: t.Principal}
		}
		if len(hs) == 0 {
			return apperr.Rule("no_principal", "peak_change_id", "项目尚无已审批的认购明细，无需调整")
		}
		// Paid is what the partner paid in and was not refunded (position.PaidIn).
		positions, err := s.pos.Positions(ctx, tx, position.Query{ProjectIDs: []int64{projectID}})
		if err != nil {
			return err
		}
		paidLeft := map[int64]decimal.Decimal{}
		for _, p := range positions {
			paidLeft[p.PartnerID] = p.PaidIn()
		}
		var id int64
		if err := tx.GetContext(ctx, &id, `INSERT INTO adjustments (project_id, peak_change_id, old_peak_capital, new_peak_capital,
			created_by, created_by_name) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
			projectID, pc.ID, pc.OldPeakCapital, pc.NewPeakCapital, a.ID, actorName(a)); err != nil {
			return fmt.Errorf("insert adjustment: %w", err)
		}
		var trace calc.Trace
		for _, tier := range calc.Tiers {
			var tierHs []holding
			var in []calc.Holding
			for _, h := range hs {
				if h.Tier != string(tier) {
					continue
				}
				paid := decimal.Min(decimal.Max(paidLeft[h.PartnerID], decimal.Zero), h.Old)
				if lastTier(hs, h) {
					paid = decimal.Max(paidLeft[h.PartnerID], decimal.Zero)
				}
				paidLeft[h.PartnerID] = paidLeft[h.PartnerID].Sub(paid)
				tierHs = append(tierHs, h)
				in = append(in, calc.Holding{PartnerID: h.PartnerID, Old: h.Old, Paid: paid})
			}
			if len(in) == 0 {
				continue
			}
			r, err := calc.Adjust(pc.OldPeakCapital.Decimal, pc.NewPeakCapital.Decimal, in)
			if err != nil {
				return err
			}
			for _, st := range r.Trace {
				st.Figure = string(tier) + "." + st.Figure
				trace = append(trace, st)
			}
			for i, l := range r.Lines {
				if _, err := tx.ExecContext(ctx, `INSERT INTO adjustment_lines (adjustment_id, partner_id, user_id, tier, old_principal,
					new_principal, delta, paid, top_up, refund) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
					id, l.PartnerID, tierHs[i].UserID, tier, l.Old, l.New, l.Delta, l.Paid, l.TopUp, l.Refund); err != nil {
					return fmt.Errorf("insert adjustment line: %w", err)
				}
			}
		}
		tb, _ := json.Marshal(trace)
		if _, err := tx.ExecContext(ctx, `UPDATE adjustments SET trace = $2 WHERE id = $1`, id, tb); err != nil {
			return fmt.Errorf("adjustment trace: %w", err)
		}
		if out, err = get(ctx, tx, id); err != nil {
			return err
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "adjustment.create", Entity: "adjustment", EntityID: id,
			ProjectID: &projectID, After: map[string]any{"peak_change_id": pc.ID, "lines": out.Lines, "pool_delta": out.PoolDelta}})
	})
	return out, err
}

// lastTier reports whether h is the partner's last tier in calc.Tiers
// order: whatever paid is left lands there.
func lastTier(hs []holding, h holding) bool {
	last := ""
	for _, x := range hs {
		if x.PartnerID == h.PartnerID && tierIndex(x.Tier) > tierIndex(last) {
			last = x.Tier
		}
	}
	return last == h.Tier
}

func tierIndex(t string) int {
	for i, x := range calc.Tiers {
		if string(x) == t {
			return i
		}
	}
	return -1
}

const selectAdjustment = `SELECT id, project_id, peak_change_id, old_peak_capital, new_peak_capital, status, review_note,
	process_id, created_by_name, created_at, version, trace FROM adjustments`

// Get returns the adjustment with its lines; one of another project is 404.
func (s *Service) Get(ctx context.Context, id int64) (Adjustment, error) {
	a, err := get(ctx, s.db, id)
	if err != nil {
		return a, err
	}
	return a, s.interest(ctx, s.db, &a)
}

// ProjectOf is the project of adjustment id (for the routes' scope check).
func (s *Service) ProjectOf(ctx context.Context, id int64) (int64, error) {
	var p int64
	err := sqlx.GetContext(ctx, s.db, &p, `SELECT project_id FROM adjustments WHERE id = $1`, id)
	if db.IsNoRows(err) {
		return 0, errNotFound
	}
	return p, err
}

var errNotFound = apperr.NotFound("adjustment_not_found", "立项调整不存在")

// writable refuses a write on an adjustment of a project that is not open or
// is settled (project.Writable); a missing adjustment is 404.
func writable(ctx context.Context, tx *sqlx.Tx, id int64) error {
	var projectID int64
	err := tx.GetContext(ctx, &projectID, `SELECT project_id FROM adjustments WHERE id = $1`, id)
	if db.IsNoRows(err) {
		return errNotFound
	}
	if err != nil {
		return fmt.Errorf("project of adjustment %d: %w", id, err)
	}
	return project.Writable(ctx, tx, projectID)
}

// List returns the project's adjustments, newest first, with their lines.
func (s *Service) List(ctx context.Context, projectID int64) ([]Adjustment, error) {
	var ids []int64
	if err := sqlx.SelectContext(ctx, s.db, &ids, `SELECT id FROM adjustments WHERE project_id = $1 ORDER BY id DESC`, projectID); err != nil {
		return nil, fmt.Errorf("adjustments: %w", err)
	}
	out := []Adjustment{}
	for _, id := range ids {
		a, err := s.Get(ctx, id)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}

func get(ctx context.Context, q sqlx.QueryerContext, id int64) (Adjustment, error) {
	var a Adjustment
	if err := sqlx.GetContext(ctx, q, &a, selectAdjustment+` WHERE id = $1`, id); err != nil {
		if db.IsNoRows(err) {
			return a, errNotFound
		}
		return a, fmt.Errorf("adjustment %d: %w", id, err)
	}
	a.StatusLabel = a.Status.Label()
	if err := json.Unmarshal(a.RawTrace, &a.Trace); err != nil {
		return a, fmt.Errorf("adjustment %d trace: %w", id, err)
	}
	if err := sqlx.SelectContext(ctx, q, &a.Lines, `SELECT l.partner_id, l.user_id, COALESCE(u.name, '') AS name, l.tier,
		l.old_principal, l.new_principal, l.delta, l.paid, l.top_up, l.refund, l.settled
		FROM adjustment_lines l LEFT JOIN users u ON u.id = l.user_id WHERE l.adjustment_id = $1
		ORDER BY array_position($2::text[], l.tier), l.partner_id`, id, pq.StringArray(tierNames())); err != nil {
		return a, fmt.Errorf("adjustment %d lines: %w", id, err)
	}
	if a.Lines == nil {
		a.Lines = []Line{}
	}
	totals := map[string]*TierTotal{}
	var pool, ups, downs decimal.Decimal
	for _, l := range a.Lines {
		t, ok := totals[l.Tier]
		if !ok {
			t = &TierTotal{Tier: l.Tier}
			totals[l.Tier] = t
		}
		t.OldTotal.Decimal = t.OldTotal.Add(l.OldPrincipal.Decimal)
		t.NewTotal.Decimal = t.NewTotal.Add(l.NewPrincipal.Decimal)
		t.Delta.Decimal = t.Delta.Add(l.Delta.Decimal)
		pool = pool.Add(l.Delta.Decimal)
		ups = ups.Add(l.TopUp.Decimal)
		downs = downs.Add(l.Refund.Decimal)
	}
	a.Tiers = []TierTotal{}
	for _, tier := range calc.Tiers {
		if t, ok := totals[string(tier)]; ok {
			a.Tiers = append(a.Tiers, *t)
		}
	}
	a.PoolDelta, a.TopUps, a.Refunds = money.AmountOf(pool), money.AmountOf(ups), money.AmountOf(downs)
	return a, nil
}

func tierNames() []string {
	out := make([]string, len(calc.Tiers))
	for i, t := range calc.Tiers {
		out[i] = string(t)
	}
	return out
}

// transition moves the adjustment from one of from to to, checking the
// client's version when given (> 0), with its audit entry.
func transition(ctx context.Context, tx *sqlx.Tx, a audit.Actor, id int64, version int, from []Status, to Status, action string, set string, args ...any) (Adjustment, error) {
	if _, err := tx.ExecContext(ctx, `SELECT 1 FROM adjustments WHERE id = $1 FOR UPDATE`, id); err != nil {
		return Adjustment{}, fmt.Errorf("lock adjustment: %w", err)
	}
	before, err := get(ctx, tx, id)
	if err != nil {
		return before, err
	}
	if version > 0 && version != before.Version {
		return before, apperr.ErrStaleVersion
	}
	ok := false
	for _, f := range from {
		ok = ok || before.Status == f
	}
	if !ok {
		return before, apperr.Conflict("adjustment_status", "立项调整当前状态（%s）不能执行此操作", before.Status.Label())
	}
	q := `UPDATE adjustments SET status = $2, version = version + 1, updated_at = now()` + set + ` WHERE id = $1`
	if _, err := tx.ExecContext(ctx, q, append([]any{id, to}, args...)...); err != nil {
		return before, fmt.Errorf("%s: %w", action, err)
	}
	after, err := get(ctx, tx, id)
	if err != nil {
		return after, err
	}
	return after, audit.Record(ctx, tx, a, audit.Entry{Action: action, Entity: "adjustment", EntityID: id, ProjectID: &before.ProjectID,
		Before: map[string]any{"status": before.Status, "version": before.Version}, After: map[string]any{"status": after.Status, "version": after.Version}})
}

// VersionInput carries the version the client saw.
type VersionInput struct {
	Version int `json:"version"`
}

// Submit sends a draft adjustment to review (提交).
func (s *Service) Submit(ctx context.Context, a audit.Actor, id int64, in VersionInput) (Adjustment, error) {
	var out Adjustment
	err := s.db.InTx(ctx, func(tx *sqlx.Tx) error {
		if err := writable(ctx, tx, id); err != nil {
			return err
		}
		var err error
		out, err = transition(ctx, tx, a, id, in.Version, []Status{StatusDraft}, StatusSubmitted, "adjustment.submit", "")
		return err
	})
	return out, err
}

// ReviewInput is the business admin's decision (审核).
type ReviewInput struct {
	Approve bool   `json:"approve"`
	Note    string `json:"note"`
	Version int    `json:"version"`
}

// Review approves a submitted adjustment (reviewed, ready for the process)
// or returns it to draft with a note.
func (s *Service) Review(ctx context.Context, a audit.Actor, id int64, in ReviewInput) (Adjustment, error) {
	to, action := StatusDraft, "adjustment.review_return"
	if in.Approve {
		to, action = StatusReviewed, "adjustment.review_approve"
	} else if in.Note == "" {
		return Adjustment{}, apperr.Invalid("review_note_required", "note", "退回时请填写审核意见")
	}
	var out Adjustment
	err := s.db.InTx(ctx, func(tx *sqlx.Tx) error {
		if err := writable(ctx, tx, id); err != nil {
			return err
		}
		// Segregation of duties: a reviewer holding a line of the
		// adjustment, or who submitted it, is refused.
		var lines []int64
		if err := tx.SelectContext(ctx, &lines, `SELECT DISTINCT partner_id FROM adjustment_lines WHERE adjustment_id = $1`, id); err != nil {
			return fmt.Errorf("adjustment %d partners: %w", id, err)
		}
		if err := partner.RefuseOwnLine(ctx, tx, a, lines...); err != nil {
			return err
		}
		if err := partner.RefuseOwnSubmission(ctx, tx, a, "adjustment", id, "adjustment.submit"); err != nil {
			return err
		}
		var err error
		out, err = transition(ctx, tx, a, id, in.Version, []Status{StatusSubmitted}, to, action, `, review_note = $3`, in.Note)
		return err
	})
	return out, err
}

// adjustmentEffect: launched on a reviewed adjustment; agreed, the top-up
// and refund notices go out to the partners concerned.
func (s *Service) adjustmentEffect() workflow.Effect {
	return workflow.Effect{
		Prepare: func(ctx context.Context, tx *sqlx.Tx, l workflow.Launch) (workflow.Form, error) {
			adj, err := get(ctx, tx, l.SubjectID)
			if err != nil {
				return workflow.Form{}, err
			}
			if adj.ProjectID != l.ProjectID {
				return workflow.Form{}, errNotFound
			}
			if adj.Status != StatusReviewed {
				return workflow.Form{}, apperr.Conflict("adjustment_not_reviewed", "立项调整须审核通过后才能发起流程")
			}
			f := []workflow.FormField{
				{Name: "原资金峰值", Value: adj.OldPeakCapital.String()},
				{Name: "新资金峰值", Value: adj.NewPeakCapital.String()},
				{Name: "跟投总额变动", Value: adj.PoolDelta.String()},
				{Name: "补缴合计", Value: adj.TopUps.String()},
				{Name: "退款合计", Value: adj.Refunds.String()},
			}
			return workflow.Form{Fields: f}, nil
		},
		Launched: func(ctx context.Context, tx *sqlx.Tx, inst workflow.Instance) error {
			_, err := transition(ctx, tx, audit.System, inst.SubjectID, 0, []Status{StatusReviewed}, StatusInApproval,
				"adjustment.in_approval", `, process_id = $3`, inst.ID)
			return err
		},
		Agreed: func(ctx context.Context, tx *sqlx.Tx, inst workflow.Instance) error {
			adj, err := transition(ctx, tx, audit.System, inst.SubjectID, 0, []Status{StatusReviewed, StatusInApproval}, StatusAgreed,
				"adjustment.agreed", `, process_id = $3`, inst.ID)
			if err != nil {
				return err
			}
			return s.notifyPartners(ctx, tx, adj)
		},
		Ended: func(ctx context.Context, tx *sqlx.Tx, inst workflow.Instance) error {
			_, err := transition(ctx, tx, audit.System, inst.SubjectID, 0, []Status{StatusInApproval}, StatusReviewed,
				"adjustment.returned", "")
			return err
		},
	}
}

// notifyPartners sends the 变更缴款通知 to every partner with a top-up or
// refund, once per adjustment.
func (s *Service) notifyPartners(ctx context.Context, tx *sqlx.Tx, adj Adjustment) error {
	var recipients []string
	if err := tx.SelectContext(ctx, &recipients, `SELECT DISTINCT u.dingtalk_userid FROM adjustment_lines l JOIN users u ON u.id = l.user_id
		WHERE l.adjustment_id = $1 AND (l.top_up > 0 OR l.refund > 0) AND u.dingtalk_userid IS NOT NULL ORDER BY 1`, adj.ID); err != nil {
		return fmt.Errorf("adjustment recipients: %w", err)
	}
	if len(recipients) == 0 {
		return nil
	}
	projectName, err := project.Name(ctx, tx, adj.ProjectID)
	if err != nil {
		return err
	}
	// Due like a payment notice: 20 working days by the work calendar.
	dueOn, err := workcal.AddWorkingDays(ctx, tx, civil.Today(s.now()), 20)
	if err != nil {
		return err
	}
	due := dueOn.String()
	_, _, err = notify.Enqueue(ctx, tx, notify.Notice{Kind: notify.KindWorkNotice, Recipients: recipients, ProjectID: &adj.ProjectID,
		Template: "adjustment_notice", DedupeKey: fmt.Sprintf("adjustment:%d:notice", adj.ID),
		Data: map[string]any{"project_name": projectName, "adjustment_name": "立项调整", "due_date": due,
			"link": "/m/me"}}) // 个人中心 lists the top-up or refund due
	return err
}
