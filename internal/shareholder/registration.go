package shareholder

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
	"hehuo/internal/db"
	"hehuo/internal/money"
	"hehuo/internal/partner"
	"hehuo/internal/text"
)

// ErrRegistrationNotFound is a registration that does not exist or lies
// outside the caller's scope.
var ErrRegistrationNotFound = apperr.NotFound("registration_not_found", "股东登记不存在")

// RegistrationInput is a registration as entered (股东登记): stake a
// fraction ("0.15" = 15%, > 0, ≤ 1, at most six decimals), contributed in
// yuan to the fen (≥ 0), contributed_on a date. Version is the
// registration's version on a change.
type RegistrationInput struct {
	ShareholderID int64  `json:"shareholder_id"`
	Stake         string `json:"stake"`
	Contributed   string `json:"contributed"`
	ContributedOn string `json:"contributed_on"`
	Version       int    `json:"version"`
}

// ReviewInput is a business admin's decision: approve (审核通过) or
// return (退回, reason required), at the registration's version.
type ReviewInput struct {
	Approve bool   `json:"approve"`
	Reason  string `json:"reason"`
	Version int    `json:"version"`
}

// VersionInput carries the version of a state change such as submit.
type VersionInput struct {
	Version int `json:"version"`
}

type regClean struct {
	stake, contributed decimal.Decimal
	on                 civil.Date
}

// ParseStake reads a stake: a fraction > 0 and ≤ 1 with at most six
// decimals (400 stake_invalid otherwise).
func ParseStake(s string) (decimal.Decimal, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return decimal.Decimal{}, apperr.Invalid("required", "stake", "请填写持股比例")
	}
	d, err := money.ParseNumber(s)
	if err != nil {
		return decimal.Decimal{}, apperr.Invalid("stake_invalid", "stake", "持股比例须为小数形式，例如 0.15 表示 15%%")
	}
	if !d.IsPositive() || d.GreaterThan(decimal.NewFromInt(1)) {
		return decimal.Decimal{}, apperr.Invalid("stake_invalid", "stake", "持股比例须大于0且不超过1（100%%）")
	}
	if !d.Equal(d.Truncate(6)) {
		return decimal.Decimal{}, apperr.Invalid("stake_invalid", "stake", "持股比例最多六位小数")
	}
	return d, nil
}

func (in RegistrationInput) clean() (regClean, error) {
	var c regClean
	var err error
	if c.stake, err = ParseStake(in.Stake); err != nil {
		return c, err
	}
	if strings.TrimSpace(in.Contributed) == "" {
		return c, apperr.Invalid("required", "contributed", "请填写实缴出资")
	}
	if c.contributed, err = money.Parse(strings.TrimSpace(in.Contributed)); err != nil {
		if e := apperr.As(err); e != nil {
			return c, e.WithField("contributed")
		}
		return c, err
	}
	if c.contributed.IsNegative() {
		return c, apperr.Invalid("amount_negative", "contributed", "实缴出资不能为负数")
	}
	if strings.TrimSpace(in.ContributedOn) == "" {
		return c, apperr.Invalid("required", "contributed_on", "请填写出资日期")
	}
	if c.on, err = civil.ParseField(strings.TrimSpace(in.ContributedOn), "contributed_on", "出资日期"); err != nil {
		return c, err
	}
	return c, nil
}

type regRow struct {
	ID             int64           `db:"id"`
	ProjectID      int64           `db:"project_id"`
	ShareholderID  int64           `db:"shareholder_id"`
	Name           string          `db:"name"`
	Kind           Kind            `db:"kind"`
	Stake          decimal.Decimal `db:"stake"`
	Contributed    decimal.Decimal `db:"contributed"`
	ContributedOn  civil.Date      `db:"contributed_on"`
	Status         Status          `db:"status"`
	SubmittedBy    *int64          `db:"submitted_by"`
	SubmittedAt    *time.Time      `db:"submitted_at"`
	ReviewedByName string          `db:"reviewed_by_name"`
	ReviewedAt     *time.Time      `db:"reviewed_at"`
	ReviewReason   string          `db:"review_reason"`
	CreatedByName  string          `db:"created_by_name"`
	CreatedAt      time.Time       `db:"created_at"`
	UpdatedAt      time.Time       `db:"updated_at"`
	Version        int             `db:"version"`
}

const regSelect = `SELECT r.id, r.project_id, r.shareholder_id, s.name, s.kind, r.stake, r.contributed, r.contributed_on, r.status,
	r.submitted_by, r.submitted_at, r.reviewed_by_name, r.reviewed_at, r.review_reason, r.created_by_name, r.created_at,
	r.updated_at, r.version FROM shareholder_registrations r JOIN minority_shareholders s ON s.id = r.shareholder_id`

func (r regRow) registration() Registration {
	return Registration{ID: r.ID, ProjectID: r.ProjectID, ShareholderID: r.ShareholderID, ShareholderName: r.Name,
		ShareholderKind: r.Kind, Stake: r.Stake.StringFixed(6), Contributed: money.AmountOf(r.Contributed),
		ContributedOn: r.ContributedOn, Status: r.Status, StatusLabel: r.Status.Label(), SubmittedBy: r.SubmittedBy,
		SubmittedAt: r.SubmittedAt, ReviewedByName: r.ReviewedByName, ReviewedAt: r.ReviewedAt, ReviewReason: r.ReviewReason,
		CreatedByName: r.CreatedByName, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt, Version: r.Version}
}

func getReg(ctx context.Context, q sqlx.QueryerContext, id int64, lock bool) (regRow, error) {
	var r regRow
	query := regSelect + ` WHERE r.id = $1`
	if lock {
		query += ` FOR UPDATE OF r`
	}
	err := sqlx.GetContext(ctx, q, &r, query, id)
	if db.IsNoRows(err) {
		return r, ErrRegistrationNotFound
	}
	if err != nil {
		return r, fmt.Errorf("read shareholder registration: %w", err)
	}
	return r, nil
}

// ProjectOf is the project of registration id (for the routes' scope check).
func (s *Service) ProjectOf(ctx context.Context, id int64) (int64, error) {
	var p int64
	err := sqlx.GetContext(ctx, s.db, &p, `SELECT project_id FROM shareholder_registrations WHERE id = $1`, id)
	if db.IsNoRows(err) {
		return 0, ErrRegistrationNotFound
	}
	if err != nil {
		return 0, fmt.Errorf("read shareholder registration: %w", err)
	}
	return p, nil
}

// Registrations lists a project's registrations, every version (the
// history of stakes): by shareholder, newest version first.
func (s *Service) Registrations(ctx context.Context, projectID int64) ([]Registration, error) {
	var rows []regRow
	if err := sqlx.SelectContext(ctx, s.db, &rows, regSelect+` WHERE r.project_id = $1 ORDER BY s.name, r.shareholder_id, r.id DESC`,
		projectID); err != nil {
		return nil, fmt.Errorf("list shareholder registrations: %w", err)
	}
	out := make([]Registration, len(rows))
	for i, r := range rows {
		out[i] = r.registration()
	}
	return out, nil
}

// Registration returns one registration.
func (s *Service) Registration(ctx context.Context, id int64) (Registration, error) {
	r, err := getReg(ctx, s.db, id, false)
	return r.registration(), err
}

func (s *Service) audit(ctx context.Context, tx *sqlx.Tx, a audit.Actor, action string, id int64, before *regRow) (Registration, error) {
	after, err := getReg(ctx, tx, id, false)
	if err != nil {
		return Registration{}, err
	}
	out := after.registration()
	var b any
	if before != nil {
		b = before.registration()
	}
	return out, audit.Record(ctx, tx, a, audit.Entry{Action: "shareholder_registration." + action, Entity: "shareholder_registration",
		EntityID: id, ProjectID: &after.ProjectID, Before: b, After: out})
}

// openExists refuses a second unfinished (draft, submitted, returned)
// registration of the same shareholder in a project (409 registration_open).
func openExists(ctx context.Context, tx *sqlx.Tx, projectID, shareholderID, except int64) error {
	var n int
	if err := tx.GetContext(ctx, &n, `SELECT count(*) FROM shareholder_registrations WHERE project_id = $1 AND shareholder_id = $2
		AND status IN ('draft', 'submitted', 'returned') AND id <> $3`, projectID, shareholderID, except); err != nil {
		return fmt.Errorf("read shareholder registrations: %w", err)
	}
	if n > 0 {
		return apperr.Conflict("registration_open", "该股东在本项目已有未审核通过的登记，请修改该登记")
	}
	return nil
}

// CreateRegistration enters a draft registration (a new version of the
// shareholder's stake in the project when one is approved already).
func (s *Service) CreateRegistration(ctx context.Context, a audit.Actor, projectID int64, in RegistrationInput) (Registration, error) {
	c, err := in.clean()
	if err != nil {
		return Registration{}, err
	}
	if in.ShareholderID <= 0 {
		return Registration{}, apperr.Invalid("required", "shareholder_id", "请选择外部股东")
	}
	var out Registration
	err = s.db.InTx(ctx, func(tx *sqlx.Tx) error {
		if _, err := getRow(ctx, tx, in.ShareholderID, false); err != nil {
			return apperr.Invalid("shareholder_not_found", "shareholder_id", "外部股东不存在")
		}
		// One registration at a time per shareholder and project.
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtext('shareholder_registrations'), $1::int)`, projectID); err != nil {
			return fmt.Errorf("lock project stakes: %w", err)
		}
		if err := openExists(ctx, tx, projectID, in.ShareholderID, 0); err != nil {
			return err
		}
		var id int64
		if err := tx.GetContext(ctx, &id, `INSERT INTO shareholder_registrations (project_id, shareholder_id, stake, contributed,
			contributed_on, created_by, created_by_name) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
			projectID, in.ShareholderID, c.stake, c.contributed, c.on, a.ID, a.Name); err != nil {
			if _, ok := db.IsForeignKeyViolation(err); ok {
				return apperr.NotFound("project_not_found", "项目不存在")
			}
			return fmt.Errorf("insert shareholder registration: %w", err)
		}
		out, err = s.audit(ctx, tx, a, "create", id, nil)
		return err
	})
	return out, err
}

// UpdateRegistration changes a draft or returned registration at version.
// The shareholder stays (a registration of another one is a new one).
func (s *Service) UpdateRegistration(ctx context.Context, a audit.Actor, id int64, in RegistrationInput) (Registration, error) {
	if in.Version <= 0 {
		return Registration{}, apperr.Invalid("version_required", "version", "缺少版本号")
	}
	c, err := in.clean()
	if err != nil {
		return Registration{}, err
	}
	var out Registration
	err = s.db.InTx(ctx, func(tx *sqlx.Tx) error {
		before, err := getReg(ctx, tx, id, true)
		if err != nil {
			return err
		}
		if before.Version != in.Version {
			return apperr.ErrStaleVersion
		}
		if in.ShareholderID != 0 && in.ShareholderID != before.ShareholderID {
			return apperr.Invalid("shareholder_fixed", "shareholder_id", "登记的股东不能修改，请新增登记")
		}
		if before.Status != StatusDraft && before.Status != StatusReturned {
			return apperr.Conflict("registration_locked", "股东登记%s，不能修改", before.Status.Label())
		}
		if _, err := tx.ExecContext(ctx, `UPDATE shareholder_registrations SET stake = $2, contributed = $3, contributed_on = $4,
			version = version + 1, updated_at = now() WHERE id = $1`, id, c.stake, c.contributed, c.on); err != nil {
			return fmt.Errorf("update shareholder registration: %w", err)
		}
		out, err = s.audit(ctx, tx, a, "update", id, &before)
		return err
	})
	return out, err
}

// Submit sends a draft or returned registration for review (申请审核).
func (s *Service) Submit(ctx context.Context, a audit.Actor, id int64, version int) (Registration, error) {
	if version <= 0 {
		return Registration{}, apperr.Invalid("version_required", "version", "缺少版本号")
	}
	var out Registration
	err := s.db.InTx(ctx, func(tx *sqlx.Tx) error {
		before, err := getReg(ctx, tx, id, true)
		if err != nil {
			return err
		}
		if before.Version != version {
			return apperr.ErrStaleVersion
		}
		if before.Status != StatusDraft && before.Status != StatusReturned {
			return apperr.Conflict("registration_not_editable", "股东登记%s，不能申请审核", before.Status.Label())
		}
		if _, err := tx.ExecContext(ctx, `UPDATE shareholder_registrations SET status = 'submitted', submitted_by = $2,
			submitted_at = now(), version = version + 1, updated_at = now() WHERE id = $1`, id, a.ID); err != nil {
			return fmt.Errorf("submit shareholder registration: %w", err)
		}
		out, err = s.audit(ctx, tx, a, "submit", id, &before)
		return err
	})
	return out, err
}

// StakeTotal is Σ of the approved stakes of a project in q.
func StakeTotal(ctx context.Context, q sqlx.QueryerContext, projectID int64) (decimal.Decimal, error) {
	var t decimal.Decimal
	if err := sqlx.GetContext(ctx, q, &t, `SELECT COALESCE(sum(stake), 0) FROM shareholder_registrations
		WHERE project_id = $1 AND status = 'approved'`, projectID); err != nil {
		return t, fmt.Errorf("sum approved stakes: %w", err)
	}
	return t, nil
}

// Percent shows a fraction as a percentage with two decimals (1.05 → 105.00%).
func Percent(d decimal.Decimal) string { return d.Shift(2).StringFixed(2) + "%" }

// Review approves (审核通过) or returns (退回, with reason) a submitted
// registration. A business admin never reviews their own submission (403
// own_submission). Approving supersedes the shareholder's approved version
// in the project, and is refused (422 stake_total_exceeded, naming the
// total) when the project's approved stakes would then exceed 100%.
func (s *Service) Review(ctx context.Context, a audit.Actor, id int64, in ReviewInput) (Registration, error) {
	if in.Version <= 0 {
		return Registration{}, apperr.Invalid("version_required", "version", "缺少版本号")
	}
	reason, err := text.CleanNote(in.Reason, "reason", "审核意见", !in.Approve, 500)
	if err != nil {
		if e := apperr.As(err); e != nil && e.Code == "required" {
			return Registration{}, apperr.Invalid("reason_required", "reason", "退回时请填写审核意见")
		}
		return Registration{}, err
	}
	var out Registration
	err = s.db.InTx(ctx, func(tx *sqlx.Tx) error {
		projectID, err := s.projectOfTx(ctx, tx, id)
		if err != nil {
			return err
		}
		// Approvals of one project's stakes one at a time, so two of them
		// cannot pass the 100% check together.
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtext('shareholder_registrations'), $1::int)`, projectID); err != nil {
			return fmt.Errorf("lock project stakes: %w", err)
		}
		before, err := getReg(ctx, tx, id, true)
		if err != nil {
			return err
		}
		if before.Version != in.Version {
			return apperr.ErrStaleVersion
		}
		if before.Status != StatusSubmitted {
			return apperr.Conflict("registration_not_submitted", "股东登记%s，不能审核", before.Status.Label())
		}
		if a.ID != nil && before.SubmittedBy != nil && *before.SubmittedBy == *a.ID {
			return partner.ErrOwnSubmission
		}
		if !in.Approve {
			if _, err := tx.ExecContext(ctx, `UPDATE shareholder_registrations SET status = 'returned', reviewed_by = $2,
				reviewed_by_name = $3, reviewed_at = now(), review_reason = $4, version = version + 1, updated_at = now()
				WHERE id = $1`, id, a.ID, a.Name, reason); err != nil {
				return fmt.Errorf("return shareholder registration: %w", err)
			}
			out, err = s.audit(ctx, tx, a, "return", id, &before)
			return err
		}
		total, err := StakeTotal(ctx, tx, projectID)
		if err != nil {
			return err
		}
		var prev []regRow
		if err := tx.SelectContext(ctx, &prev, regSelect+` WHERE r.project_id = $1 AND r.shareholder_id = $2 AND r.status = 'approved'
			FOR UPDATE OF r`, projectID, before.ShareholderID); err != nil {
			return fmt.Errorf("read approved registration: %w", err)
		}
		for _, p := range prev {
			total = total.Sub(p.Stake)
		}
		total = total.Add(before.Stake)
		if total.GreaterThan(decimal.NewFromInt(1)) {
			return apperr.Rule("stake_total_exceeded", "stake", "本项目已审核通过的股东持股比例合计 %s，超过 100%%，不能审核通过", Percent(total))
		}
		for _, p := range prev {
			if _, err := tx.ExecContext(ctx, `UPDATE shareholder_registrations SET status = 'superseded', version = version + 1,
				updated_at = now() WHERE id = $1`, p.ID); err != nil {
				return fmt.Errorf("supersede shareholder registration: %w", err)
			}
			if _, err := s.audit(ctx, tx, a, "supersede", p.ID, &p); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE shareholder_registrations SET status = 'approved', reviewed_by = $2,
			reviewed_by_name = $3, reviewed_at = now(), review_reason = $4, version = version + 1, updated_at = now()
			WHERE id = $1`, id, a.ID, a.Name, reason); err != nil {
			return fmt.Errorf("approve shareholder registration: %w", err)
		}
		out, err = s.audit(ctx, tx, a, "approve", id, &before)
		return err
	})
	return out, err
}

func (s *Service) projectOfTx(ctx context.Context, tx *sqlx.Tx, id int64) (int64, error) {
	var p int64
	err := tx.GetContext(ctx, &p, `SELECT project_id FROM shareholder_registrations WHERE id = $1`, id)
	if db.IsNoRows(err) {
		return 0, ErrRegistrationNotFound
	}
	if err != nil {
		return 0, fmt.Errorf("read shareholder registration: %w", err)
	}
	return p, nil
}
