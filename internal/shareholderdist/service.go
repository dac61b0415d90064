package shareholderdist

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/shopspring/decimal"

	"hehuo/internal/apperr"
	"hehuo/internal/audit"
	"hehuo/internal/civil"
	"hehuo/internal/config"
	"hehuo/internal/db"
	"hehuo/internal/money"
	"hehuo/internal/partner"
	"hehuo/internal/project"
	"hehuo/internal/shareholder"
	"hehuo/internal/text"
)

// Service keeps the shareholder distributions.
type Service struct {
	db  *db.DB
	cfg config.Config
	now func() time.Time
}

// NewService returns the service; cfg gives the secret key the bank
// payout file unseals the shareholders' accounts with.
func NewService(d *db.DB, cfg config.Config) *Service {
	return &Service{db: d, cfg: cfg, now: time.Now}
}

const selectBatch = `SELECT id, project_id, seq, distribution_date, amount, note, status, submitted_by, submitted_at,
	reviewed_by_name, reviewed_at, review_reason, created_by_name, created_at, version FROM shareholder_distributions`

const selectLines = `SELECT l.shareholder_id, l.registration_id, s.name, l.stake::text AS stake, l.amount, l.paid_on, l.ledger_tx_id
	FROM shareholder_distribution_lines l JOIN minority_shareholders s ON s.id = l.shareholder_id
	WHERE l.distribution_id = $1 ORDER BY l.shareholder_id`

// load reads a batch with its lines (masked accounts included); lock takes
// the row for update.
func load(ctx context.Context, q sqlx.QueryerContext, id int64, lock bool) (Batch, error) {
	var b Batch
	query := selectBatch + ` WHERE id = $1`
	if lock {
		query += ` FOR UPDATE`
	}
	err := sqlx.GetContext(ctx, q, &b, query, id)
	if db.IsNoRows(err) {
		return b, ErrNotFound
	}
	if err != nil {
		return b, fmt.Errorf("read shareholder distribution %d: %w", id, err)
	}
	if err := sqlx.SelectContext(ctx, q, &b.Lines, selectLines, id); err != nil {
		return b, fmt.Errorf("read shareholder distribution lines: %w", err)
	}
	for i := range b.Lines {
		sh, err := shareholder.Get(ctx, q, b.Lines[i].ShareholderID)
		if err != nil {
			return b, err
		}
		b.Lines[i].AccountMasked, b.Lines[i].Bank = sh.AccountMasked, sh.Bank
	}
	b.describe()
	return b, nil
}

// describe fills the labels, the title, each line's payout state and Σ paid.
func (b *Batch) describe() {
	b.StatusLabel = b.Status.Label()
	b.Title = fmt.Sprintf("第%d次股东分配", b.Seq)
	paid := decimal.Zero
	for i := range b.Lines {
		st := LineUnpaid
		if b.Lines[i].PaidOn != nil {
			st = LinePaid
			paid = paid.Add(b.Lines[i].Amount.Decimal)
		}
		b.Lines[i].Stake = trimStake(b.Lines[i].Stake)
		b.Lines[i].Status, b.Lines[i].StatusLabel = st, st.Label()
	}
	b.Paid = money.AmountOf(paid)
	if b.Lines == nil {
		b.Lines = []Line{}
	}
}

// trimStake writes a stake fraction without trailing zeros ("0.150000" → "0.15").
func trimStake(s string) string {
	d, err := decimal.NewFromString(s)
	if err != nil {
		return s
	}
	return d.String()
}

// summary is what the audit log keeps of a batch.
func (b Batch) summary() map[string]any {
	lines := make([]map[string]any, len(b.Lines))
	for i, l := range b.Lines {
		lines[i] = map[string]any{"shareholder_id": l.ShareholderID, "stake": l.Stake, "amount": l.Amount}
	}
	return map[string]any{"seq": b.Seq, "distribution_date": b.DistributionDate, "amount": b.Amount, "status": b.Status,
		"review_reason": b.ReviewReason, "version": b.Version, "lines": lines}
}

// ProjectOf returns the project a batch belongs to (for the HTTP scope check).
func (s *Service) ProjectOf(ctx context.Context, id int64) (int64, error) {
	var p int64
	err := s.db.GetContext(ctx, &p, `SELECT project_id FROM shareholder_distributions WHERE id = $1`, id)
	if db.IsNoRows(err) {
		return 0, ErrNotFound
	}
	return p, err
}

// Get returns one batch with its lines.
func (s *Service) Get(ctx context.Context, id int64) (Batch, error) {
	return load(ctx, s.db, id, false)
}

// List returns a project's batches, newest first.
func (s *Service) List(ctx context.Context, projectID int64) ([]Batch, error) {
	var ids []int64
	if err := s.db.SelectContext(ctx, &ids, `SELECT id FROM shareholder_distributions WHERE project_id = $1 ORDER BY seq DESC`, projectID); err != nil {
		return nil, fmt.Errorf("list shareholder distributions: %w", err)
	}
	out := make([]Batch, 0, len(ids))
	for _, id := range ids {
		b, err := load(ctx, s.db, id, false)
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}

// checkAmount refuses a missing, non-positive or sub-fen amount.
func checkAmount(a money.Amount, field string) error {
	if !a.IsPositive() {
		return apperr.Invalid("amount_invalid", field, "分配金额须大于 0")
	}
	if !money.IsFen(a.Decimal) {
		return apperr.Invalid("amount_invalid", field, "金额最多两位小数")
	}
	return nil
}

// split divides amount among the stakes pro rata, by largest remainder to
// the fen (money.SplitFen: Σ parts = amount, ties to the lower shareholder id).
func split(amount decimal.Decimal, stakes []shareholder.Stake) ([]decimal.Decimal, error) {
	w := make([]money.Weight, len(stakes))
	for i, st := range stakes {
		w[i] = money.Weight{ID: st.ShareholderID, Value: st.Stake}
	}
	return money.SplitFen(amount, w)
}

// Create opens a batch (新建分配批次) for the project's approved
// registrations: one line each, the amount split pro rata to stake. A
// project without an approved registration is 422 no_approved_shareholders.
func (s *Service) Create(ctx context.Context, a audit.Actor, projectID int64, in CreateInput) (Batch, error) {
	if in.DistributionDate.IsZero() {
		return Batch{}, apperr.Invalid("distribution_date_required", "distribution_date", "请填写分配日期")
	}
	if err := in.DistributionDate.InWindow("distribution_date", "分配日期"); err != nil {
		return Batch{}, err
	}
	if err := checkAmount(in.Amount, "amount"); err != nil {
		return Batch{}, err
	}
	note, err := text.CleanNote(in.Note, "note", "备注", false, 500)
	if err != nil {
		return Batch{}, err
	}
	var out Batch
	err = s.db.InTx(ctx, func(tx *sqlx.Tx) error {
		if err := project.Writable(ctx, tx, projectID); err != nil {
			return err
		}
		// One batch at a time per project gets its number.
		if _, err := tx.ExecContext(ctx, `SELECT id FROM projects WHERE id = $1 FOR UPDATE`, projectID); err != nil {
			return fmt.Errorf("lock project: %w", err)
		}
		stakes, err := shareholder.ApprovedStakes(ctx, tx, projectID)
		if err != nil {
			return err
		}
		if len(stakes) == 0 {
			return ErrNoShareholders
		}
		parts, err := split(in.Amount.Decimal, stakes)
		if err != nil {
			return err
		}
		var id int64
		if err := tx.GetContext(ctx, &id, `INSERT INTO shareholder_distributions (project_id, seq, distribution_date, amount, note,
			created_by, created_by_name)
			VALUES ($1, (SELECT coalesce(max(seq), 0) + 1 FROM shareholder_distributions WHERE project_id = $1), $2, $3, $4, $5, $6)
			RETURNING id`, projectID, in.DistributionDate, in.Amount.Decimal, note, a.ID, a.Name); err != nil {
			return fmt.Errorf("insert shareholder distribution: %w", err)
		}
		for i, st := range stakes {
			if _, err := tx.ExecContext(ctx, `INSERT INTO shareholder_distribution_lines
				(distribution_id, shareholder_id, registration_id, stake, amount) VALUES ($1, $2, $3, $4, $5)`,
				id, st.ShareholderID, st.RegistrationID, st.Stake, parts[i]); err != nil {
				return fmt.Errorf("insert shareholder distribution line: %w", err)
			}
		}
		out, err = load(ctx, tx, id, false)
		if err != nil {
			return err
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "shareholder_distribution.create", Entity: "shareholder_distribution",
			EntityID: id, ProjectID: &projectID, After: out.summary()})
	})
	return out, err
}

// begin locks batch id for a change at version.
func begin(ctx context.Context, tx *sqlx.Tx, id int64, version int) (Batch, error) {
	if version <= 0 {
		return Batch{}, apperr.Invalid("version_required", "version", "缺少版本号")
	}
	b, err := load(ctx, tx, id, true)
	if err != nil {
		return b, err
	}
	if err := project.Writable(ctx, tx, b.ProjectID); err != nil {
		return b, err
	}
	if version != b.Version {
		return b, apperr.ErrStaleVersion
	}
	return b, nil
}

// finish bumps the version with set ($2…), reads the batch back and records action.
func finish(ctx context.Context, tx *sqlx.Tx, a audit.Actor, before Batch, action, set string, args ...any) (Batch, error) {
	q := `UPDATE shareholder_distributions SET version = version + 1, updated_at = now()` + set + ` WHERE id = $1`
	if _, err := tx.ExecContext(ctx, q, append([]any{before.ID}, args...)...); err != nil {
		return Batch{}, fmt.Errorf("%s: %w", action, err)
	}
	after, err := load(ctx, tx, before.ID, false)
	if err != nil {
		return after, err
	}
	return after, audit.Record(ctx, tx, a, audit.Entry{Action: action, Entity: "shareholder_distribution", EntityID: before.ID,
		ProjectID: &before.ProjectID, Before: before.summary(), After: after.summary()})
}

// UpdateLine types a line's amount by hand (draft or returned batches; 0 is
// allowed, a negative or sub-fen amount is not). The batch's amount becomes
// Σ of its lines, so the lines always sum to the batch to the fen.
func (s *Service) UpdateLine(ctx context.Context, a audit.Actor, id, shareholderID int64, in LineInput) (Batch, error) {
	if in.Amount == nil {
		return Batch{}, apperr.Invalid("amount_required", "amount", "请填写分配金额")
	}
	if in.Amount.IsNegative() || !money.IsFen(in.Amount.Decimal) {
		return Batch{}, apperr.Invalid("amount_invalid", "amount", "分配金额不能为负数，最多两位小数")
	}
	var out Batch
	err := s.db.InTx(ctx, func(tx *sqlx.Tx) error {
		b, err := begin(ctx, tx, id, in.Version)
		if err != nil {
			return err
		}
		if !b.Status.Editable() {
			return apperr.Rule("shareholder_distribution_locked", "", "股东分配当前状态（%s）不能修改", b.Status.Label())
		}
		found := false
		total := in.Amount.Decimal
		for _, l := range b.Lines {
			if l.ShareholderID == shareholderID {
				found = true
			} else {
				total = total.Add(l.Amount.Decimal)
			}
		}
		if !found {
			return errLineNotFound
		}
		if !total.IsPositive() {
			return apperr.Rule("amount_invalid", "amount", "分配合计须大于 0")
		}
		if _, err := tx.ExecContext(ctx, `UPDATE shareholder_distribution_lines SET amount = $3 WHERE distribution_id = $1 AND shareholder_id = $2`,
			id, shareholderID, in.Amount.Decimal); err != nil {
			return fmt.Errorf("update line: %w", err)
		}
		out, err = finish(ctx, tx, a, b, "shareholder_distribution.line_update", `, amount = $2, status = 'draft'`, total)
		return err
	})
	return out, err
}

// Submit (录入分配及申请审核) sends a draft or returned batch to review.
func (s *Service) Submit(ctx context.Context, a audit.Actor, id int64, in VersionInput) (Batch, error) {
	var out Batch
	err := s.db.InTx(ctx, func(tx *sqlx.Tx) error {
		b, err := begin(ctx, tx, id, in.Version)
		if err != nil {
			return err
		}
		if !b.Status.Editable() {
			return apperr.Rule("shareholder_distribution_status", "", "股东分配当前状态（%s）不能申请审核", b.Status.Label())
		}
		out, err = finish(ctx, tx, a, b, "shareholder_distribution.submit",
			`, status = 'submitted', submitted_by = $2, submitted_at = now(), review_reason = ''`, a.ID)
		return err
	})
	return out, err
}

// Review approves (审核通过) or returns (退回, reason required) a submitted
// batch; never the reviewer's own submission (403 own_submission).
func (s *Service) Review(ctx context.Context, a audit.Actor, id int64, in ReviewInput) (Batch, error) {
	reason, err := text.CleanNote(in.Reason, "reason", "审核意见", false, 500)
	if err != nil {
		return Batch{}, err
	}
	reason = strings.TrimSpace(reason)
	if !in.Approve && reason == "" {
		return Batch{}, apperr.Invalid("reason_required", "reason", "退回时请填写原因")
	}
	var out Batch
	err = s.db.InTx(ctx, func(tx *sqlx.Tx) error {
		b, err := begin(ctx, tx, id, in.Version)
		if err != nil {
			return err
		}
		if b.Status != StatusSubmitted {
			return apperr.Rule("shareholder_distribution_status", "", "股东分配当前状态（%s）不能审核", b.Status.Label())
		}
		if a.ID != nil && b.SubmittedBy != nil && *a.ID == *b.SubmittedBy {
			return partner.ErrOwnSubmission
		}
		action, status := "shareholder_distribution.review_approve", StatusApproved
		if !in.Approve {
			action, status = "shareholder_distribution.review_return", StatusReturned
		}
		out, err = finish(ctx, tx, a, b, action, `, status = $2, reviewed_by = $3, reviewed_by_name = $4, reviewed_at = now(),
			review_reason = $5`, status, a.ID, a.Name, reason)
		return err
	})
	return out, err
}

// checkPaidOn refuses a missing, out-of-window or future payout date.
func (s *Service) checkPaidOn(on civil.Date) error {
	if on.IsZero() {
		return apperr.Invalid("paid_on_required", "paid_on", "请填写打款日期")
	}
	if err := on.InWindow("paid_on", "打款日期"); err != nil {
		return err
	}
	if civil.Today(s.now()).DaysSince(on) < 0 {
		return apperr.Invalid("paid_on_future", "paid_on", "打款日期不能晚于今天")
	}
	return nil
}
