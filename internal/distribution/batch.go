package distribution

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	"github.com/shopspring/decimal"

	"hehuo/internal/apperr"
	"hehuo/internal/audit"
	"hehuo/internal/civil"
	"hehuo/internal/db"
	"hehuo/internal/money"
	"hehuo/internal/partner"
	"hehuo/internal/position"
	"hehuo/internal/project"
	"hehuo/internal/text"
)

// SetClock replaces the clock (tests).
func (s *Service) SetClock(now func() time.Time) { s.now = now }

// CreateInput is the body of POST /projects/{id}/distributions. Every field
// but kind may be left blank and filled later (PATCH); calculate names what
// is still blank. Amounts and ratios are strings, read by the shared parsers.
type CreateInput struct {
	Kind string `json:"kind"`
	BatchFields
}

// BatchFields are a batch's inputs. In a PATCH an absent field (null) is
// left as it is and "" clears it.
type BatchFields struct {
	DistributionDate   *string `json:"distribution_date"`    // 分配日期
	RecordDate         *string `json:"record_date"`          // 股权登记日: the stakes held that day share the profit
	ReturnRatio        *string `json:"return_ratio"`         // 本次返还比例 of a principal batch, 0 < r ≤ 1
	Amount             *string `json:"amount"`               // X of a profit or liquidation batch entered directly
	NetProfit          *string `json:"net_profit"`           // 锦艺方预计净利润
	ProfitRatio        *string `json:"profit_ratio"`         // 本次分配比例, 0 ≤ r ≤ 1
	SalesTargetOn      *string `json:"sales_target_on"`      // 销售去化达标时间
	CollectionTargetOn *string `json:"collection_target_on"` // 销售回款达标时间
	Note               *string `json:"note"`                 // 情况说明
}

// UpdateInput is the body of PATCH /distributions/{id}.
type UpdateInput struct {
	Version int `json:"version"`
	BatchFields
}

// VersionInput carries the version the client saw.
type VersionInput struct {
	Version int `json:"version"`
}

// editable are the states whose inputs may change: anything up to saved,
// and a batch the reviewer returned. An edit sends the batch back to draft.
var editable = map[Status]bool{StatusDraft: true, StatusCalculated: true, StatusSaved: true, StatusRejected: true}

var errLocked = apperr.Rule("distribution_locked", "", "该分配批次已提交审核或审批，不能修改")

// fieldSet is what a BatchFields asks to set: the column and its value
// (nil clears it).
type fieldSet struct {
	col string
	val any
}

// parse reads the fields f sets for a batch of kind k.
func (f BatchFields) parse(k Kind) ([]fieldSet, error) {
	var out []fieldSet
	date := func(p *string, col, label string) error {
		if p == nil {
			return nil
		}
		if *p == "" {
			out = append(out, fieldSet{col, nil})
			return nil
		}
		d, err := civil.ParseField(*p, col, label)
		if err != nil {
			return err
		}
		out = append(out, fieldSet{col, d})
		return nil
	}
	ratio := func(p *string, col, label string, zeroOK bool) error {
		if p == nil {
			return nil
		}
		if *p == "" {
			out = append(out, fieldSet{col, nil})
			return nil
		}
		r, err := money.ParseNumber(*p)
		low := r.IsPositive() || (zeroOK && r.IsZero())
		if err != nil || !low || r.GreaterThan(decimal.NewFromInt(1)) || r.Exponent() < -6 {
			bound := "大于0且不超过1"
			if zeroOK {
				bound = "介于0和1之间"
			}
			return apperr.Invalid(col+"_invalid", col, "%s须%s，最多六位小数（例如 0.8 表示 80%%）", label, bound)
		}
		out = append(out, fieldSet{col, r})
		return nil
	}
	amount := func(p *string, col, label string) (bool, error) {
		if p == nil {
			return false, nil
		}
		if *p == "" {
			out = append(out, fieldSet{col, nil})
			return true, nil
		}
		x, err := money.Parse(*p)
		if err != nil {
			if e := apperr.As(err); e != nil {
				return false, apperr.Invalid(e.Code, col, "%s：%s", label, e.Message)
			}
			return false, err
		}
		if x.IsNegative() {
			return false, apperr.Invalid(col+"_invalid", col, "%s不能为负数", label)
		}
		out = append(out, fieldSet{col, x})
		return true, nil
	}
	notFor := func(p *string, col, label string) error {
		if p != nil && *p != "" {
			return apperr.Invalid("field_not_applicable", col, "%s不适用于%s", label, k.Label())
		}
		return nil
	}
	if err := date(f.DistributionDate, "distribution_date", "分配日期"); err != nil {
		return nil, err
	}
	if err := date(f.RecordDate, "record_date", "股权登记日"); err != nil {
		return nil, err
	}
	if k == KindPrincipal {
		if err := ratio(f.ReturnRatio, "return_ratio", "本次返还比例", false); err != nil {
			return nil, err
		}
		for _, x := range []struct {
			p           *string
			col, labels string
		}{{f.Amount, "amount", "本次分配金额"}, {f.NetProfit, "net_profit", "锦艺方预计净利润"}, {f.ProfitRatio, "profit_ratio", "本次分配比例"},
			{f.SalesTargetOn, "sales_target_on", "销售去化达标时间"}, {f.CollectionTargetOn, "collection_target_on", "销售回款达标时间"}} {
			if err := notFor(x.p, x.col, x.labels); err != nil {
				return nil, err
			}
		}
	} else {
		if err := notFor(f.ReturnRatio, "return_ratio", "本次返还比例"); err != nil {
			return nil, err
		}
		set, err := amount(f.Amount, "amount", "本次分配金额")
		if err != nil {
			return nil, err
		}
		if set {
			// Entered directly (noted as such on the form), or cleared: X is then computed.
			out = append(out, fieldSet{"amount_entered", f.Amount != nil && *f.Amount != ""})
		}
		if _, err := amount(f.NetProfit, "net_profit", "锦艺方预计净利润"); err != nil {
			return nil, err
		}
		if err := ratio(f.ProfitRatio, "profit_ratio", "本次分配比例", true); err != nil {
			return nil, err
		}
		if err := date(f.SalesTargetOn, "sales_target_on", "销售去化达标时间"); err != nil {
			return nil, err
		}
		if err := date(f.CollectionTargetOn, "collection_target_on", "销售回款达标时间"); err != nil {
			return nil, err
		}
	}
	if f.Note != nil {
		n, err := text.CleanNote(*f.Note, "note", "情况说明", false, 2000)
		if err != nil {
			return nil, err
		}
		out = append(out, fieldSet{"note", n})
	}
	return out, nil
}

func actorName(a audit.Actor) string {
	if a.Name == "" {
		return audit.System.Name
	}
	return a.Name
}

// holder is a partner holding a stake in the project, as a batch's line
// starts: A and B from the position (principal batches), the stake weight
// for profit.
type holder struct {
	PartnerID int64
	UserID    *int64
	Held      decimal.Decimal // Paid − Returned: principal outstanding (A)
	Interest  decimal.Decimal // capital interest not yet deducted (B, ≤ 0)
	Stake     decimal.Decimal // principal as allocated, before any return (R7's weight)
}

// holders lists the partners holding a stake in the project by partner id:
// for a principal batch those with principal outstanding, for a profit batch
// those with a stake, for a liquidation either.
func (s *Service) holders(ctx context.Context, q sqlx.QueryerContext, projectID int64, k Kind) ([]holder, error) {
	ps, err := s.pos.Positions(ctx, q, position.Query{ProjectIDs: []int64{projectID}, Interest: k != KindProfit})
	if err != nil {
		return nil, err
	}
	var out []holder
	for _, p := range ps {
		h := holder{PartnerID: p.PartnerID, UserID: p.UserID, Held: p.Held(), Interest: decimal.Min(p.Interest, decimal.Zero),
			Stake: stakeOf(p)}
		if h.Held.IsNegative() {
			h.Held = decimal.Zero
		}
		hasPrincipal, hasStake := h.Held.IsPositive(), h.Stake.IsPositive()
		if (k == KindPrincipal && hasPrincipal) || (k == KindProfit && hasStake) || (k == KindLiquidation && (hasPrincipal || hasStake)) {
			out = append(out, h)
		}
	}
	return out, nil
}

// stakeOf is a partner's weight in a profit split (R7: principal as
// allocated, before any return): the principal in force when committed by
// an allocation, else what the partner paid in (stakes brought as opening
// balances).
func stakeOf(p position.Position) decimal.Decimal {
	if p.Committed {
		return p.Principal
	}
	return decimal.Max(p.PaidIn(), decimal.Zero)
}

// CreateBatch opens a batch of the project: seq is the next of its kind,
// one batch is open per project at a time (409 distribution_open), one
// liquidation ever (422 liquidation_exists). One line per partner holding a
// stake, by partner id, with A and B from the position.
func (s *Service) CreateBatch(ctx context.Context, a audit.Actor, projectID int64, in CreateInput) (Batch, error) {
	k := Kind(in.Kind)
	if !k.Valid() {
		return Batch{}, apperr.Invalid("kind_invalid", "kind", "分配类型须为 principal（本金分配）、profit（利润分配）或 liquidation（清算分配）")
	}
	sets, err := in.parse(k)
	if err != nil {
		return Batch{}, err
	}
	var out Batch
	err = s.db.InTx(ctx, func(tx *sqlx.Tx) error {
		if err := project.Writable(ctx, tx, projectID); err != nil {
			return err
		}
		var st struct {
			Open        bool `db:"open"`
			Liquidation bool `db:"liquidation"`
			Seq         int  `db:"seq"`
		}
		if err := tx.GetContext(ctx, &st, `SELECT
			EXISTS (SELECT 1 FROM distribution_batches WHERE project_id = $1 AND status NOT IN ('approved', 'paid')) AS open,
			EXISTS (SELECT 1 FROM distribution_batches WHERE project_id = $1 AND kind = 'liquidation') AS liquidation,
			coalesce((SELECT max(seq) FROM distribution_batches WHERE project_id = $1 AND kind = $2), 0) + 1 AS seq`,
			projectID, k); err != nil {
			return fmt.Errorf("open batches: %w", err)
		}
		if st.Liquidation {
			return apperr.Rule("liquidation_exists", "kind", "该项目已有清算分配，不能再发起分配")
		}
		if st.Open {
			return errOpen
		}
		hs, err := s.holders(ctx, tx, projectID, k)
		if err != nil {
			return err
		}
		ids := make([]int64, len(hs))
		for i, h := range hs {
			ids[i] = h.PartnerID
		}
		if err := partner.RefuseOwnLine(ctx, tx, a, ids...); err != nil {
			return err
		}
		var id int64
		if err := tx.GetContext(ctx, &id, `INSERT INTO distribution_batches (project_id, kind, seq, created_by, created_by_name)
			VALUES ($1, $2, $3, $4, $5) RETURNING id`, projectID, k, st.Seq, a.ID, actorName(a)); err != nil {
			if _, dup := db.IsUniqueViolation(err); dup {
				return errOpen
			}
			return fmt.Errorf("insert distribution: %w", err)
		}
		if err := setFields(ctx, tx, id, sets); err != nil {
			return err
		}
		// One statement for every line (a batch may have ten thousand).
		partners, users, as, bs := make([]int64, len(hs)), make([]sql.NullInt64, len(hs)), make([]string, len(hs)), make([]string, len(hs))
		for i, h := range hs {
			a, b := decimal.Zero, decimal.Zero
			if k != KindProfit {
				a, b = h.Held, h.Interest
			}
			partners[i], as[i], bs[i] = h.PartnerID, a.String(), b.String()
			if h.UserID != nil {
				users[i] = sql.NullInt64{Int64: *h.UserID, Valid: true}
			}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO distribution_lines (batch_id, partner_id, user_id, payee_partner_id, seq, a, b)
			SELECT $1, x.p, x.u, x.p, x.seq, x.a, x.b
			FROM unnest($2::bigint[], $3::bigint[], $4::numeric[], $5::numeric[]) WITH ORDINALITY AS x (p, u, a, b, seq)`,
			id, pq.Array(partners), pq.Array(users), pq.Array(as), pq.Array(bs)); err != nil {
			return fmt.Errorf("insert distribution lines: %w", err)
		}
		if out, err = get(ctx, tx, id, false); err != nil {
			return err
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "distribution.create", Entity: "distribution", EntityID: id,
			ProjectID: &projectID, After: out.summary()})
	})
	return out, err
}

var errOpen = apperr.Conflict("distribution_open", "该项目已有进行中的分配批次，请先完成或删除")

// setFields writes the parsed fields of a batch.
func setFields(ctx context.Context, tx *sqlx.Tx, id int64, sets []fieldSet) error {
	for _, f := range sets {
		// Column names come from parse, never from the client.
		if _, err := tx.ExecContext(ctx, `UPDATE distribution_batches SET `+f.col+` = $2 WHERE id = $1`, id, f.val); err != nil {
			return fmt.Errorf("set %s: %w", f.col, err)
		}
	}
	return nil
}

// summary is what the audit log keeps of a batch: its inputs, state and totals.
func (b Batch) summary() map[string]any {
	return map[string]any{"kind": b.Kind, "seq": b.Seq, "status": b.Status, "version": b.Version,
		"distribution_date": b.DistributionDate, "record_date": b.RecordDate, "return_ratio": b.ReturnRatio,
		"amount": b.Amount, "amount_entered": b.AmountEntered, "net_profit": b.NetProfit, "profit_ratio": b.ProfitRatio,
		"partnership_ratio": b.PartnershipRatio, "sales_target_on": b.SalesTargetOn, "collection_target_on": b.CollectionTargetOn,
		"note": b.Note, "actual_peak_id": b.ActualPeakID, "unlocked": b.Unlocked, "review_note": b.ReviewNote,
		"lines": len(b.Lines), "totals": b.Totals}
}

// get is load with each line's 分配合计 across the project's batches up to
// this one: Σ D of principal batches, Σ F of profit batches, Σ D + F of a
// liquidation (不含其它: C is not a distribution).
func get(ctx context.Context, q sqlx.QueryerContext, id int64, lock bool) (Batch, error) {
	return getWith(ctx, q, id, lock, selectLines)
}

func getWith(ctx context.Context, q sqlx.QueryerContext, id int64, lock bool, lines string) (Batch, error) {
	b, err := loadWith(ctx, q, id, lock, lines)
	if err != nil {
		return b, err
	}
	var totals []struct {
		PartnerID int64           `db:"partner_id"`
		Total     decimal.Decimal `db:"total"`
	}
	if err := sqlx.SelectContext(ctx, q, &totals, `SELECT l.partner_id,
			sum(CASE b.kind WHEN 'principal' THEN l.d WHEN 'profit' THEN l.f ELSE l.d + l.f END) AS total
		FROM distribution_lines l JOIN distribution_batches b ON b.id = l.batch_id
		WHERE b.project_id = $1 AND b.id <= $2 GROUP BY l.partner_id`, b.ProjectID, b.ID); err != nil {
		return b, fmt.Errorf("distribution %d totals: %w", id, err)
	}
	byPartner := make(map[int64]decimal.Decimal, len(totals))
	for _, t := range totals {
		byPartner[t.PartnerID] = t.Total
	}
	for i := range b.Lines {
		b.Lines[i].Total = money.AmountOf(byPartner[b.Lines[i].PartnerID])
		if b.Lines[i].Trace == nil {
			b.Lines[i].Trace = []byte("[]")
		}
	}
	b.describe()
	return b, nil
}

// partners are the partners a batch's lines concern: each line's partner
// and payee (segregation of duties covers both).
func (b Batch) partners() []int64 {
	out := make([]int64, 0, len(b.Lines)*2)
	for _, l := range b.Lines {
		out = append(out, l.PartnerID)
		if l.PayeeID != l.PartnerID {
			out = append(out, l.PayeeID)
		}
	}
	return out
}

// Get returns the batch with its lines, each with its 分配合计.
func (s *Service) Get(ctx context.Context, id int64) (Batch, error) { return get(ctx, s.db, id, false) }

// ProjectOf is the project of batch id (for the routes' scope check).
func (s *Service) ProjectOf(ctx context.Context, id int64) (int64, error) {
	var p int64
	err := sqlx.GetContext(ctx, s.db, &p, `SELECT project_id FROM distribution_batches WHERE id = $1`, id)
	if db.IsNoRows(err) {
		return 0, ErrNotFound
	}
	return p, err
}

// ErrNotFound answers a batch that does not exist (or is outside the caller's scope).
var ErrNotFound = apperr.NotFound("distribution_not_found", "分配批次不存在")

// List returns the project's batches with their lines in the order of the
// stage bar: 本金分配, 第n次利润分配 by n, 清算分配 last.
func (s *Service) List(ctx context.Context, projectID int64) ([]Batch, error) {
	var ids []int64
	if err := sqlx.SelectContext(ctx, s.db, &ids, `SELECT id FROM distribution_batches WHERE project_id = $1
		ORDER BY CASE kind WHEN 'principal' THEN 0 WHEN 'profit' THEN 1 ELSE 2 END, seq, id`, projectID); err != nil {
		return nil, fmt.Errorf("distributions: %w", err)
	}
	out := []Batch{}
	for _, id := range ids {
		b, err := s.Get(ctx, id)
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}

// begin opens a write on batch id inside tx: the batch locked (404 when
// missing), the project writable, the client's version checked (> 0; 409
// when stale), and the actor refused when the batch holds their own line.
func begin(ctx context.Context, tx *sqlx.Tx, a audit.Actor, id int64, version int) (Batch, error) {
	return beginWith(ctx, tx, a, id, version, selectLines)
}

// beginFigures is begin with the lines' traces left out (Trace "[]"), for a
// write that reads its lines back afterwards (Calculate): the old traces
// would be read only to be thrown away.
func beginFigures(ctx context.Context, tx *sqlx.Tx, a audit.Actor, id int64, version int) (Batch, error) {
	return beginWith(ctx, tx, a, id, version, selectLineFigures)
}

func beginWith(ctx context.Context, tx *sqlx.Tx, a audit.Actor, id int64, version int, lines string) (Batch, error) {
	b, err := getWith(ctx, tx, id, true, lines)
	if err != nil {
		return b, err
	}
	if err := project.Writable(ctx, tx, b.ProjectID); err != nil {
		return b, err
	}
	if version > 0 && version != b.Version {
		return b, apperr.ErrStaleVersion
	}
	if err := partner.RefuseOwnLine(ctx, tx, a, b.partners()...); err != nil {
		return b, err
	}
	return b, nil
}

// finish bumps the version with set (more columns, $2…), reads the batch
// back and records action. The lines are those of before: every caller but
// Calculate (finishLines) changes the batch's own columns only, and the
// batch is locked since begin, so reading its lines again would return the
// same rows (ten thousand of them in a large batch).
func finish(ctx context.Context, tx *sqlx.Tx, a audit.Actor, before Batch, action, set string, args ...any) (Batch, error) {
	return finishWith(ctx, tx, a, before, false, action, set, args...)
}

// finishLines is finish for a write that changed the lines too: the batch
// is read back with them.
func finishLines(ctx context.Context, tx *sqlx.Tx, a audit.Actor, before Batch, action, set string, args ...any) (Batch, error) {
	return finishWith(ctx, tx, a, before, true, action, set, args...)
}

func finishWith(ctx context.Context, tx *sqlx.Tx, a audit.Actor, before Batch, lines bool, action, set string, args ...any) (Batch, error) {
	q := `UPDATE distribution_batches SET version = version + 1, updated_at = now()` + set + ` WHERE id = $1`
	if _, err := tx.ExecContext(ctx, q, append([]any{before.ID}, args...)...); err != nil {
		return Batch{}, fmt.Errorf("%s: %w", action, err)
	}
	var after Batch
	var err error
	if lines {
		after, err = get(ctx, tx, before.ID, false)
	} else if after, err = loadRow(ctx, tx, before.ID, false); err == nil {
		after.Lines = slices.Clone(before.Lines) // describe writes each line's payout state
		after.describe()
	}
	if err != nil {
		return after, err
	}
	return after, audit.Record(ctx, tx, a, audit.Entry{Action: action, Entity: "distribution", EntityID: before.ID,
		ProjectID: &before.ProjectID, Before: before.summary(), After: after.summary()})
}

// UpdateBatch changes a batch's inputs (dates, ratio, amount, …) while it
// is editable; the batch goes back to draft, to be calculated again.
func (s *Service) UpdateBatch(ctx context.Context, a audit.Actor, id int64, in UpdateInput) (Batch, error) {
	if in.Version <= 0 {
		return Batch{}, apperr.Invalid("version_required", "version", "缺少版本号")
	}
	var out Batch
	err := s.db.InTx(ctx, func(tx *sqlx.Tx) error {
		b, err := begin(ctx, tx, a, id, in.Version)
		if err != nil {
			return err
		}
		if !editable[b.Status] {
			return errLocked
		}
		sets, err := in.parse(b.Kind)
		if err != nil {
			return err
		}
		if err := setFields(ctx, tx, id, sets); err != nil {
			return err
		}
		out, err = finish(ctx, tx, a, b, "distribution.update", `, status = 'draft', saved_hash = ''`)
		return err
	})
	return out, err
}

// DeleteBatch deletes a draft batch (删除当前批次) with its lines; any other
// state is 422 distribution_not_draft.
func (s *Service) DeleteBatch(ctx context.Context, a audit.Actor, id int64) error {
	return s.db.InTx(ctx, func(tx *sqlx.Tx) error {
		b, err := begin(ctx, tx, a, id, 0)
		if err != nil {
			return err
		}
		if b.Status != StatusDraft {
			return apperr.Rule("distribution_not_draft", "", "只能删除待测算的分配批次（当前：%s）", b.Status.Label())
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM distribution_batches WHERE id = $1`, id); err != nil {
			return fmt.Errorf("delete distribution: %w", err)
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "distribution.delete", Entity: "distribution", EntityID: id,
			ProjectID: &b.ProjectID, Before: b.summary()})
	})
}

// Unlock (解锁编辑, the business admin) lets the accountant enter amounts by
// hand (R8) while the batch is editable.
func (s *Service) Unlock(ctx context.Context, a audit.Actor, id int64, in VersionInput) (Batch, error) {
	var out Batch
	err := s.db.InTx(ctx, func(tx *sqlx.Tx) error {
		b, err := begin(ctx, tx, a, id, in.Version)
		if err != nil {
			return err
		}
		if !editable[b.Status] {
			return errLocked
		}
		if b.Unlocked {
			out = b
			return nil
		}
		out, err = finish(ctx, tx, a, b, "distribution.unlock", `, unlocked = true, unlocked_by = $2, unlocked_at = now()`, a.ID)
		return err
	})
	return out, err
}

// Lock (退出编辑) ends manual entry; the amounts typed stay, marked manual.
func (s *Service) Lock(ctx context.Context, a audit.Actor, id int64, in VersionInput) (Batch, error) {
	var out Batch
	err := s.db.InTx(ctx, func(tx *sqlx.Tx) error {
		b, err := begin(ctx, tx, a, id, in.Version)
		if err != nil {
			return err
		}
		if !b.Unlocked {
			out = b
			return nil
		}
		out, err = finish(ctx, tx, a, b, "distribution.lock", `, unlocked = false`)
		return err
	})
	return out, err
}
