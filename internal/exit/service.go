package exit

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	"github.com/shopspring/decimal"

	"hehuo/internal/apperr"
	"hehuo/internal/audit"
	"hehuo/internal/calc"
	"hehuo/internal/civil"
	"hehuo/internal/db"
	"hehuo/internal/establishment"
	"hehuo/internal/money"
	"hehuo/internal/partner"
	"hehuo/internal/position"
	"hehuo/internal/workflow"
)

// Service runs exits.
type Service struct {
	db  *db.DB
	est *establishment.Service
	pos *position.Service
	now func() time.Time
}

// NewService returns the exit service and registers the exit process's
// effect on wf (nil in tests without a process center).
func NewService(d *db.DB, est *establishment.Service, wf *workflow.Service) *Service {
	s := &Service{db: d, est: est, pos: position.NewService(d, est), now: time.Now}
	if wf != nil {
		wf.Register(workflow.KindExit, s.effect())
	}
	return s
}

// Errors of the exits.
var (
	ErrNotFound        = apperr.NotFound("exit_not_found", "退出测算不存在")
	ErrRequestNotFound = apperr.NotFound("exit_request_not_found", "退出申请不存在")
	errOutOfScope      = apperr.NotFound("project_not_found", "无权查看该合伙人持有的项目")
	errNoStake         = apperr.Rule("exit_no_stake", "user_id", "该合伙人没有在投本金，无需退出测算")
	errTypeInvalid     = apperr.Invalid("exit_type_invalid", "exit_type",
		"退出类型须为 resignation（离职）、dismissal（辞退）、retirement（退休）、transfer（调动）或 death（身故）")
)

// Policies returns R9's price table, in the order of the form.
func (s *Service) Policies(ctx context.Context) ([]Policy, error) {
	var out []Policy
	if err := s.db.SelectContext(ctx, &out, `SELECT exit_type, holding_return, version, updated_at FROM exit_policies`); err != nil {
		return nil, fmt.Errorf("exit policies: %w", err)
	}
	order := map[calc.ExitType]int{}
	for i, t := range calc.ExitTypes() {
		order[t] = i
	}
	sort.Slice(out, func(i, j int) bool { return order[out[i].Type] < order[out[j].Type] })
	for i := range out {
		out[i].TypeLabel = out[i].Type.Label()
	}
	return out, nil
}

// SavePolicy edits one row of the price table (sysadmin), audited; a stale
// version is 409.
func (s *Service) SavePolicy(ctx context.Context, a audit.Actor, typ string, in PolicyInput) (Policy, error) {
	t := calc.ExitType(typ)
	if !t.Valid() {
		return Policy{}, errTypeInvalid
	}
	if in.HoldingReturn == nil {
		return Policy{}, apperr.Invalid("holding_return_required", "holding_return", "请选择是否计持有收益")
	}
	var out Policy
	err := s.db.InTx(ctx, func(tx *sqlx.Tx) error {
		var before Policy
		if err := tx.GetContext(ctx, &before, `SELECT exit_type, holding_return, version, updated_at FROM exit_policies
			WHERE exit_type = $1 FOR UPDATE`, t); err != nil {
			return fmt.Errorf("exit policy %s: %w", t, err)
		}
		if before.Version != in.Version {
			return apperr.Conflict("stale_version", "退出政策已被他人修改，请刷新后重试")
		}
		if err := tx.GetContext(ctx, &out, `UPDATE exit_policies SET holding_return = $2, version = version + 1, updated_by = $3,
			updated_at = now() WHERE exit_type = $1 RETURNING exit_type, holding_return, version, updated_at`,
			t, *in.HoldingReturn, a.ID); err != nil {
			return fmt.Errorf("save exit policy %s: %w", t, err)
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "exit_policy.update", Entity: "exit_policy", EntityID: string(t),
			Before: map[string]any{"holding_return": before.HoldingReturn, "version": before.Version},
			After:  map[string]any{"holding_return": out.HoldingReturn, "version": out.Version}})
	})
	out.TypeLabel = out.Type.Label()
	return out, err
}

// Quote runs 离职退休测算 (R9) for the partner who is user in.UserID and
// stores it: one line per project where the partner holds principal
// outstanding P > 0, with P and I from internal/position, H from the
// partner's payments still outstanding at the project's financing cost
// rate when the type's policy pays it, and the payout. Nothing is written
// when it refuses: an unknown type, a date outside the window or before
// the partner's last payment in a project held, a partner with no stake,
// the caller's own line (403), a project outside the caller's scope (404).
// An earlier quote of the partner still quoted is superseded.
func (s *Service) Quote(ctx context.Context, a audit.Actor, sc Scope, in QuoteInput) (Exit, error) {
	t := calc.ExitType(in.ExitType)
	if !t.Valid() {
		return Exit{}, errTypeInvalid
	}
	if in.UserID <= 0 {
		return Exit{}, apperr.Invalid("user_id_required", "user_id", "请选择合伙人")
	}
	if in.ExitDate == "" {
		return Exit{}, apperr.Invalid("exit_date_required", "exit_date", "请填写退出日期")
	}
	date, err := civil.ParseField(in.ExitDate, "exit_date", "退出日期")
	if err != nil {
		return Exit{}, err
	}
	var id int64
	err = s.db.InTx(ctx, func(tx *sqlx.Tx) error {
		partnerID, ok, err := partner.ForUser(ctx, tx, in.UserID)
		if err != nil {
			return err
		}
		if !ok {
			return errNoStake
		}
		// Serialise the quotes of one partner.
		if _, err := tx.ExecContext(ctx, `SELECT id FROM partners WHERE id = $1 FOR UPDATE`, partnerID); err != nil {
			return fmt.Errorf("lock partner: %w", err)
		}
		if err := partner.RefuseOwnLine(ctx, tx, a, partnerID); err != nil {
			return err
		}
		lines, holding, source, err := s.quoteLines(ctx, tx, sc, partnerID, t, date)
		if err != nil {
			return err
		}
		var active bool
		if err := tx.GetContext(ctx, &active, `SELECT EXISTS (SELECT 1 FROM exits WHERE partner_id = $1 AND status IN ('in_approval', 'agreed'))`,
			partnerID); err != nil {
			return fmt.Errorf("active exits: %w", err)
		}
		if active {
			return apperr.Conflict("exit_in_progress", "该合伙人已有审批中或已承接的退出，不能重新测算")
		}
		var request *int64
		if in.RequestID != 0 {
			r, err := loadRequest(ctx, tx, in.RequestID, true)
			if err != nil {
				return err
			}
			if r.PartnerID != partnerID {
				return apperr.Rule("exit_request_other_partner", "request_id", "该退出申请不是此合伙人的")
			}
			if r.Status == RequestDone || r.Status == RequestRejected {
				return apperr.Rule("exit_request_closed", "request_id", "该退出申请已%s", r.Status.Label())
			}
			request = &r.ID
		}
		var superseded []int64
		if err := tx.SelectContext(ctx, &superseded, `UPDATE exits SET status = 'superseded', version = version + 1, updated_at = now()
			WHERE partner_id = $1 AND status = 'quoted' RETURNING id`, partnerID); err != nil {
			return fmt.Errorf("supersede quotes: %w", err)
		}
		total := decimal.Zero
		for _, l := range lines {
			total = total.Add(l.Payout.Decimal)
		}
		if err := tx.GetContext(ctx, &id, `INSERT INTO exits (partner_id, user_id, exit_type, exit_date, holding_return, rate_source,
			total, request_id, created_by, created_by_name) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id`,
			partnerID, in.UserID, t, date, holding, source, total, request, a.ID, a.Name); err != nil {
			return fmt.Errorf("insert exit: %w", err)
		}
		for _, l := range lines {
			if _, err := tx.ExecContext(ctx, `INSERT INTO exit_lines (exit_id, project_id, partner_id, p, i, h, payout, rate, trace)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, id, l.ProjectID, partnerID, l.P, l.I, l.H, l.Payout, l.Rate, []byte(l.Trace)); err != nil {
				return fmt.Errorf("insert exit line: %w", err)
			}
		}
		if request != nil {
			if _, err := tx.ExecContext(ctx, `UPDATE exit_requests SET status = 'quoted', exit_id = $2, version = version + 1,
				updated_at = now() WHERE id = $1`, *request, id); err != nil {
				return fmt.Errorf("request quoted: %w", err)
			}
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "exit.quote", Entity: "exit", EntityID: id,
			After: map[string]any{"partner_id": partnerID, "exit_type": t, "exit_date": date, "total": money.Format(total),
				"status": StatusQuoted, "superseded": superseded, "request_id": request}})
	})
	if err != nil {
		return Exit{}, err
	}
	return s.Get(ctx, nil, id)
}

// quoteLines prices partnerID's stake in every project where P > 0.
func (s *Service) quoteLines(ctx context.Context, tx *sqlx.Tx, sc Scope, partnerID int64, t calc.ExitType, date civil.Date) ([]Line, bool, string, error) {
	ps, err := s.pos.Positions(ctx, tx, position.Query{PartnerID: partnerID, Interest: true})
	if err != nil {
		return nil, false, "", err
	}
	var held []position.Position
	var ids []int64
	for _, p := range ps {
		if p.Held().IsPositive() {
			held = append(held, p)
			ids = append(ids, p.ProjectID)
		}
	}
	if len(held) == 0 {
		return nil, false, "", errNoStake
	}
	for _, p := range held {
		if sc != nil && !sc.Contains(p.ProjectID) {
			return nil, false, "", errOutOfScope
		}
	}
	policy := calc.ExitPolicy{Type: t}
	if err := tx.GetContext(ctx, &policy.HoldingReturn, `SELECT holding_return FROM exit_policies WHERE exit_type = $1`, t); err != nil {
		return nil, false, "", fmt.Errorf("exit policy %s: %w", t, err)
	}
	pays, err := s.pos.PartnerPayments(ctx, tx, partnerID)
	if err != nil {
		return nil, false, "", err
	}
	terms := map[int64]establishment.Funding{}
	if s.est != nil {
		if terms, err = s.est.FundingTerms(ctx, tx, ids); err != nil {
			return nil, false, "", err
		}
	}
	source := RateNone
	if policy.HoldingReturn {
		source = RateFinancingCost
	}
	var out []Line
	for _, p := range held {
		pp := pays[p.ProjectID]
		if !pp.Last.IsZero() && date.Before(pp.Last) {
			return nil, false, "", apperr.Rule("exit_date_before_payment", "exit_date", "退出日期 %s 早于该合伙人在「%s」的最后一次缴款日 %s",
				date, p.ProjectName, pp.Last)
		}
		rate := decimal.Zero
		var ratePtr *decimal.Decimal
		if policy.HoldingReturn {
			f := terms[p.ProjectID]
			if f.Rate == nil {
				return nil, false, "", apperr.Rule("exit_rate_missing", "exit_type", "「%s」尚无资金成本利率，不能计算持有收益", p.ProjectName)
			}
			rate = *f.Rate
			ratePtr = f.Rate
		}
		q, err := calc.ExitQuote(policy, p.Held(), decimal.Min(p.Interest, decimal.Zero), pp.Outstanding, date, rate)
		if err != nil {
			return nil, false, "", err
		}
		trace, err := json.Marshal(q.Trace)
		if err != nil {
			return nil, false, "", err
		}
		out = append(out, Line{ProjectID: p.ProjectID, ProjectName: p.ProjectName, P: money.AmountOf(q.P), I: money.AmountOf(q.I),
			H: money.AmountOf(q.H), Payout: money.AmountOf(q.Payout), Rate: ratePtr, Trace: trace})
	}
	return out, policy.HoldingReturn, source, nil
}

// selectExit reads exits with the partner's name and org unit.
const selectExit = `SELECT e.id, e.partner_id, e.user_id, pt.name AS partner_name, coalesce(ou.name, '') AS org_unit, e.exit_type,
	e.exit_date, e.holding_return, e.rate_source, e.status, e.total, e.request_id, e.process_id, e.launch_project_id, e.agreed_at,
	e.paid_on, e.paid_amount, e.payout_tx_id, e.created_by_name, e.created_at, e.version
	FROM exits e JOIN partners pt ON pt.id = e.partner_id JOIN users u ON u.id = e.user_id LEFT JOIN org_units ou ON ou.id = u.org_unit_id`

const selectLines = `SELECT x.id, x.project_id, pr.name AS project_name, x.p, x.i, x.h, x.payout, x.rate, x.trace, x.ledger_tx_id
	FROM exit_lines x JOIN projects pr ON pr.id = x.project_id WHERE x.exit_id = $1 ORDER BY x.project_id`

// Get returns exit id with its lines (q nil: the pool).
func (s *Service) Get(ctx context.Context, q sqlx.QueryerContext, id int64) (Exit, error) {
	if q == nil {
		q = s.db
	}
	var e Exit
	err := sqlx.GetContext(ctx, q, &e, selectExit+` WHERE e.id = $1`, id)
	if db.IsNoRows(err) {
		return e, ErrNotFound
	}
	if err != nil {
		return e, fmt.Errorf("exit %d: %w", id, err)
	}
	if err := sqlx.SelectContext(ctx, q, &e.Lines, selectLines, id); err != nil {
		return e, fmt.Errorf("exit %d lines: %w", id, err)
	}
	if err := s.takenOver(ctx, q, &e); err != nil {
		return e, err
	}
	e.describe()
	return e, nil
}

// takenOver names the platform company on an agreed or paid exit.
func (s *Service) takenOver(ctx context.Context, q sqlx.QueryerContext, e *Exit) error {
	if e.Status != StatusAgreed && e.Status != StatusPaid {
		return nil
	}
	id, err := partner.Platform(ctx, q)
	if err != nil {
		return err
	}
	p, err := partner.Get(ctx, q, id)
	if err != nil {
		return err
	}
	e.TakenOverBy = p.Name
	return nil
}

// InScope reports whether every project of exit id is in sc (a quote is
// seen whole or not at all); a missing exit is 404.
func (s *Service) InScope(ctx context.Context, sc Scope, id int64) error {
	var projects pq.Int64Array
	if err := s.db.GetContext(ctx, &projects, `SELECT coalesce(array_agg(project_id), '{}') FROM exit_lines WHERE exit_id = $1`, id); err != nil {
		return fmt.Errorf("exit %d projects: %w", id, err)
	}
	var exists bool
	if err := s.db.GetContext(ctx, &exists, `SELECT EXISTS (SELECT 1 FROM exits WHERE id = $1)`, id); err != nil {
		return fmt.Errorf("exit %d: %w", id, err)
	}
	if !exists {
		return ErrNotFound
	}
	for _, p := range projects {
		if !sc.Contains(p) {
			return ErrNotFound
		}
	}
	return nil
}

// List returns the exits the caller may see (every project of the quote
// in scope), newest first, with their lines; superseded quotes only when
// all is set.
func (s *Service) List(ctx context.Context, sc Scope, all bool) ([]Exit, error) {
	var out []Exit
	where := ` WHERE e.status <> 'superseded'`
	if all {
		where = ``
	}
	if err := s.db.SelectContext(ctx, &out, selectExit+where+` ORDER BY e.id DESC`); err != nil {
		return nil, fmt.Errorf("exits: %w", err)
	}
	if len(out) == 0 {
		return []Exit{}, nil
	}
	ids := make(pq.Int64Array, len(out))
	for i, e := range out {
		ids[i] = e.ID
	}
	var lines []struct {
		ExitID int64 `db:"exit_id"`
		Line
	}
	if err := s.db.SelectContext(ctx, &lines, `SELECT x.exit_id, x.id, x.project_id, pr.name AS project_name, x.p, x.i, x.h, x.payout,
		x.rate, x.trace, x.ledger_tx_id FROM exit_lines x JOIN projects pr ON pr.id = x.project_id
		WHERE x.exit_id = ANY($1) ORDER BY x.exit_id, x.project_id`, ids); err != nil {
		return nil, fmt.Errorf("exit lines: %w", err)
	}
	byExit := map[int64][]Line{}
	for _, l := range lines {
		byExit[l.ExitID] = append(byExit[l.ExitID], l.Line)
	}
	var platform string
	if id, err := partner.Platform(ctx, s.db); err == nil {
		if p, err := partner.Get(ctx, s.db, id); err == nil {
			platform = p.Name
		}
	}
	kept := []Exit{}
	for _, e := range out {
		e.Lines = byExit[e.ID]
		visible := len(e.Lines) > 0
		for _, l := range e.Lines {
			visible = visible && (sc == nil || sc.Contains(l.ProjectID))
		}
		if !visible {
			continue
		}
		if e.Status == StatusAgreed || e.Status == StatusPaid {
			e.TakenOverBy = platform
		}
		e.describe()
		kept = append(kept, e)
	}
	return kept, nil
}
