package distribution

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"hehuo/internal/db"
	"hehuo/internal/establishment"
	"hehuo/internal/position"
	"hehuo/internal/workflow"
)

// Service runs distributions.
type Service struct {
	db  *db.DB
	est *establishment.Service
	pos *position.Service
	now func() time.Time
}

// NewService returns the service and registers the effects of the
// actual_peak, principal_distribution, profit_distribution and liquidation
// processes on wf (nil in tests without a process center).
func NewService(d *db.DB, est *establishment.Service, wf *workflow.Service) *Service {
	s := &Service{db: d, est: est, pos: position.NewService(d, est), now: time.Now}
	if wf != nil {
		s.registerEffects(wf)
	}
	return s
}

// selectBatch reads a batch's own columns (lines apart).
const selectBatch = `SELECT id, project_id, kind, seq, status, distribution_date, record_date, return_ratio, amount,
	amount_entered, net_profit, partnership_ratio, profit_ratio, sales_target_on, collection_target_on, note,
	actual_peak_id, unlocked, review_note, process_id, approved_at, created_by_name, created_at, version
	FROM distribution_batches`

// selectLines reads a batch's lines ($1) with the partner's and payee's names, by 序号.
const selectLines = `SELECT l.seq, l.partner_id, l.user_id, pt.name, l.payee_partner_id, py.name AS payee_name,
	l.a, l.b, l.c, l.c_reason, l.d, l.e, l.f, l.calc_d, l.calc_e, l.calc_f, l.manual, l.manual_by_name, l.manual_at,
	l.trace, l.paid_on, l.paid_amount, pt.exited_on IS NOT NULL AS exited, pt.left_on IS NOT NULL AS left_company
	FROM distribution_lines l JOIN partners pt ON pt.id = l.partner_id JOIN partners py ON py.id = l.payee_partner_id
	WHERE l.batch_id = $1 ORDER BY l.seq, l.partner_id`

// selectLineFigures is selectLines without the trace: the approval
// effects post and check the figures only, and a 10,000-line batch's traces
// are megabytes of JSON to render and read for nothing.
var selectLineFigures = strings.Replace(selectLines, "l.trace,", "'[]'::jsonb AS trace,", 1)

// load reads batch id with its lines on q (a transaction's, to read what
// it wrote; lock: FOR UPDATE of the batch row). A missing batch is 404.
func load(ctx context.Context, q sqlx.QueryerContext, id int64, lock bool) (Batch, error) {
	b, err := loadWith(ctx, q, id, lock, selectLines)
	if err == nil {
		b.describe()
	}
	return b, err
}

// loadFigures is load without the lines' traces (each Trace "[]").
func loadFigures(ctx context.Context, q sqlx.QueryerContext, id int64, lock bool) (Batch, error) {
	b, err := loadWith(ctx, q, id, lock, selectLineFigures)
	if err == nil {
		b.describe()
	}
	return b, err
}

// loadWith reads the batch and its lines by query lines (selectLines or
// selectLineFigures), not described yet (its callers describe it once,
// when it is complete). The lines are scanned by hand, not by sqlx: with
// ten thousand lines, sqlx's reflection per row and per column and its
// slice growth by reflection were most of the Go time of every step.
func loadWith(ctx context.Context, q sqlx.QueryerContext, id int64, lock bool, lines string) (Batch, error) {
	b, err := loadRow(ctx, q, id, lock)
	if err != nil {
		return b, err
	}
	rows, err := q.QueryContext(ctx, lines, id)
	if err != nil {
		return Batch{}, fmt.Errorf("distribution %d lines: %w", id, err)
	}
	defer rows.Close()
	b.Lines = []Line{}
	for rows.Next() {
		var l Line
		// In selectLines' column order.
		if err := rows.Scan(&l.Seq, &l.PartnerID, &l.UserID, &l.Name, &l.PayeeID, &l.PayeeName,
			&l.A, &l.B, &l.C, &l.CReason, &l.D, &l.E, &l.F, &l.CalcD, &l.CalcE, &l.CalcF,
			&l.Manual, &l.ManualByName, &l.ManualAt, &l.Trace, &l.PaidOn, &l.PaidAmount,
			&l.Flags.Exited, &l.Flags.Left); err != nil {
			return Batch{}, fmt.Errorf("distribution %d lines: %w", id, err)
		}
		b.Lines = append(b.Lines, l)
	}
	if err := rows.Err(); err != nil {
		return Batch{}, fmt.Errorf("distribution %d lines: %w", id, err)
	}
	return b, nil
}

// loadRow reads batch id's own columns, without its lines (lock: FOR
// UPDATE): for the writes that change the batch but none of its lines,
// which need not read ten thousand lines to move a status. A missing batch
// is 404.
func loadRow(ctx context.Context, q sqlx.QueryerContext, id int64, lock bool) (Batch, error) {
	var b Batch
	query := selectBatch + ` WHERE id = $1`
	if lock {
		query += ` FOR UPDATE`
	}
	if err := sqlx.GetContext(ctx, q, &b, query, id); err != nil {
		if db.IsNoRows(err) {
			return Batch{}, ErrNotFound
		}
		return Batch{}, fmt.Errorf("distribution %d: %w", id, err)
	}
	return b, nil
}

// describe fills the labels, the title and the 合计 row.
func (b *Batch) describe() {
	b.KindLabel = b.Kind.Label()
	b.StatusLabel = b.Status.Label()
	// 手工: the batch is open for hand entry, or a line was entered by hand
	// (the mark stays after the batch is locked again).
	manual := b.Unlocked
	for _, l := range b.Lines {
		manual = manual || l.Manual
	}
	b.Title = b.Kind.Title(b.Seq, manual)
	var t Totals
	for _, l := range b.Lines {
		t.A.Decimal = t.A.Add(l.A.Decimal)
		t.B.Decimal = t.B.Add(l.B.Decimal)
		t.C.Decimal = t.C.Add(l.C.Decimal)
		t.D.Decimal = t.D.Add(l.D.Decimal)
		t.E.Decimal = t.E.Add(l.E.Decimal)
		t.F.Decimal = t.F.Add(l.F.Decimal)
		t.Total.Decimal = t.Total.Add(l.Total.Decimal)
	}
	b.Totals = t
	b.describePayouts()
}

// Title is a batch's name on the stage bar and the OA form: 本金分配,
// 第n次利润分配, 清算分配, with (手工) when entered by hand.
func (k Kind) Title(seq int, manual bool) string {
	t := k.Label()
	switch k {
	case KindProfit:
		t = fmt.Sprintf("第%d次利润分配", seq)
	case KindPrincipal:
		if seq > 1 {
			t = fmt.Sprintf("第%d次本金分配", seq)
		}
	}
	if manual {
		t += "(手工)"
	}
	return t
}

// registerEffects registers the process effects (effects.go); a kind whose
// effect is not built stays unavailable in the process center.
func (s *Service) registerEffects(wf *workflow.Service) {
	for k, e := range map[workflow.Kind]workflow.Effect{
		workflow.KindActualPeak:            s.actualPeakEffect(),
		workflow.KindPrincipalDistribution: s.batchEffect(KindPrincipal),
		workflow.KindProfitDistribution:    s.batchEffect(KindProfit),
		workflow.KindLiquidation:           s.batchEffect(KindLiquidation),
	} {
		if e.Prepare != nil {
			wf.Register(k, e)
		}
	}
}
