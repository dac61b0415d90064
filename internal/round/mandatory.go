package round

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/shopspring/decimal"

	"hehuo/internal/apperr"
	"hehuo/internal/audit"
	"hehuo/internal/money"
	"hehuo/internal/text"
)

// MandatoryGrade is one line of the mandatory list (强投名单): the minimum a
// mandatory partner of that position grade must subscribe.
type MandatoryGrade struct {
	Grade     string       `db:"grade" json:"grade"`
	Label     string       `db:"label" json:"label"`
	MinAmount money.Amount `db:"min_amount" json:"min_amount"`
}

// MandatoryList is the whole list with its two defaults (RULES R2).
type MandatoryList struct {
	Grades []MandatoryGrade `json:"grades"`
	// OtherMandatoryMin applies to a mandatory partner whose grade is not listed.
	OtherMandatoryMin money.Amount `db:"other_mandatory_min" json:"other_mandatory_min"`
	// VoluntaryMin is the minimum a voluntary invitation gets when none is given.
	VoluntaryMin money.Amount `db:"voluntary_min" json:"voluntary_min"`
	Version      int          `db:"version" json:"version"`
	UpdatedBy    string       `db:"updated_by" json:"updated_by"`
	UpdatedAt    time.Time    `db:"updated_at" json:"updated_at"`
}

// MandatoryList returns the mandatory list.
func (s *Service) MandatoryList(ctx context.Context) (MandatoryList, error) {
	return mandatoryList(ctx, s.db)
}

func mandatoryList(ctx context.Context, q sqlx.QueryerContext) (MandatoryList, error) {
	var l MandatoryList
	if err := sqlx.GetContext(ctx, q, &l, `SELECT other_mandatory_min, voluntary_min, version, updated_by, updated_at FROM mandatory_list`); err != nil {
		return l, fmt.Errorf("mandatory list: %w", err)
	}
	l.Grades = []MandatoryGrade{}
	if err := sqlx.SelectContext(ctx, q, &l.Grades, `SELECT grade, label, min_amount FROM mandatory_grades ORDER BY position, grade`); err != nil {
		return l, fmt.Errorf("mandatory grades: %w", err)
	}
	return l, nil
}

// minimumFor is the least min_amount an invitation may carry for a user of
// grade: the grade's minimum for a mandatory partner, else the list's
// default for other mandatory partners; zero for a voluntary one (the
// voluntary minimum is only a default).
func (l MandatoryList) minimumFor(grade string, mandatory bool) decimal.Decimal {
	if !mandatory {
		return decimal.Zero
	}
	for _, g := range l.Grades {
		if g.Grade == grade {
			return g.MinAmount.Decimal
		}
	}
	return l.OtherMandatoryMin.Decimal
}

// MandatoryInput replaces the mandatory list; Version must be the current one.
type MandatoryInput struct {
	Grades            []MandatoryGradeInput `json:"grades"`
	OtherMandatoryMin string                `json:"other_mandatory_min"`
	VoluntaryMin      string                `json:"voluntary_min"`
	Version           int                   `json:"version"`
}

// MandatoryGradeInput is one line of MandatoryInput.
type MandatoryGradeInput struct {
	Grade     string `json:"grade"`
	Label     string `json:"label"`
	MinAmount string `json:"min_amount"`
}

func yuanField(s, field, label string) (decimal.Decimal, error) {
	d, err := money.ParseYuan(s)
	if err != nil {
		e := apperr.As(err)
		return d, apperr.Invalid(e.Code, field, "%s：%s", label, e.Message)
	}
	if d.IsNegative() {
		return d, apperr.Invalid("amount_negative", field, "%s不能为负数", label)
	}
	return d, nil
}

// UpdateMandatoryList replaces the list (sysadmin). Invitations already made
// keep their limits; the new minimums apply to later ones.
func (s *Service) UpdateMandatoryList(ctx context.Context, a audit.Actor, in MandatoryInput) (MandatoryList, error) {
	other, err := yuanField(in.OtherMandatoryMin, "other_mandatory_min", "其他强投人员最低金额")
	if err != nil {
		return MandatoryList{}, err
	}
	vol, err := yuanField(in.VoluntaryMin, "voluntary_min", "自愿跟投最低金额")
	if err != nil {
		return MandatoryList{}, err
	}
	type line struct {
		grade, label string
		min          decimal.Decimal
	}
	var lines []line
	seen := map[string]bool{}
	for i, g := range in.Grades {
		field := fmt.Sprintf("grades[%d]", i)
		grade, err := text.Clean(g.Grade, field+".grade", "职级", true, 32)
		if err != nil {
			return MandatoryList{}, err
		}
		if seen[grade] {
			return MandatoryList{}, apperr.Invalid("grade_duplicate", field+".grade", "职级「%s」重复", grade)
		}
		seen[grade] = true
		label, err := text.Clean(g.Label, field+".label", "岗位", false, 40)
		if err != nil {
			return MandatoryList{}, err
		}
		m, err := yuanField(g.MinAmount, field+".min_amount", "最低认购金额")
		if err != nil {
			return MandatoryList{}, err
		}
		lines = append(lines, line{grade, label, m})
	}
	var out MandatoryList
	err = s.db.InTx(ctx, func(tx *sqlx.Tx) error {
		var version int
		if err := tx.GetContext(ctx, &version, `SELECT version FROM mandatory_list FOR UPDATE`); err != nil {
			return fmt.Errorf("lock mandatory list: %w", err)
		}
		if version != in.Version {
			return apperr.ErrStaleVersion
		}
		before, err := mandatoryList(ctx, tx)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM mandatory_grades`); err != nil {
			return fmt.Errorf("clear grades: %w", err)
		}
		for i, l := range lines {
			if _, err := tx.ExecContext(ctx, `INSERT INTO mandatory_grades (grade, label, min_amount, position) VALUES ($1, $2, $3, $4)`,
				l.grade, l.label, l.min, i+1); err != nil {
				return fmt.Errorf("insert grade: %w", err)
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE mandatory_list SET other_mandatory_min = $1, voluntary_min = $2, version = version + 1,
			updated_by = $3, updated_at = now()`, other, vol, actorName(a)); err != nil {
			return fmt.Errorf("update mandatory list: %w", err)
		}
		if out, err = mandatoryList(ctx, tx); err != nil {
			return err
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "mandatory_list.update", Entity: "mandatory_list", EntityID: 1, Before: before, After: out})
	})
	return out, err
}
