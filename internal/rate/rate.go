// Package rate keeps the group's financing rate table (资金成本利率): the
// average financing cost, each rate in force from its effective date until
// the next one's. Establishment terms copy the rate in force on the funding
// date; capital interest (R4) charges it.
package rate

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/shopspring/decimal"

	"hehuo/internal/apperr"
	"hehuo/internal/audit"
	"hehuo/internal/civil"
	"hehuo/internal/db"
	"hehuo/internal/money"
	"hehuo/internal/text"
)

// Rate is one row of the table.
type Rate struct {
	ID            int64           `db:"id" json:"id"`
	EffectiveFrom civil.Date      `db:"effective_from" json:"effective_from"`
	Rate          decimal.Decimal `db:"rate" json:"rate"` // a fraction: "0.0435" = 4.35%
	Note          string          `db:"note" json:"note"`
	Version       int             `db:"version" json:"version"`
	UpdatedAt     time.Time       `db:"updated_at" json:"updated_at"`
}

// Input creates or changes a rate; Version is required to change one.
type Input struct {
	EffectiveFrom civil.Date `json:"effective_from"`
	Rate          string     `json:"rate"`
	Note          string     `json:"note"`
	Version       int        `json:"version"`
}

// Service reads and changes the rate table.
type Service struct {
	db *db.DB
}

// NewService returns the rate service.
func NewService(d *db.DB) *Service { return &Service{db: d} }

const selectRate = `SELECT id, effective_from, rate, note, version, updated_at FROM financing_rates`

// List returns every rate, the newest first.
func (s *Service) List(ctx context.Context) ([]Rate, error) {
	rs := []Rate{}
	if err := s.db.SelectContext(ctx, &rs, selectRate+` ORDER BY effective_from DESC`); err != nil {
		return nil, fmt.Errorf("list financing rates: %w", err)
	}
	return rs, nil
}

// RateOn returns the rate in force on date: the one with the latest
// effective date not after it. ok is false when none is.
func RateOn(ctx context.Context, q sqlx.QueryerContext, date civil.Date) (r Rate, ok bool, err error) {
	err = sqlx.GetContext(ctx, q, &r, selectRate+` WHERE effective_from <= $1 ORDER BY effective_from DESC LIMIT 1`, date)
	if db.IsNoRows(err) {
		return r, false, nil
	}
	if err != nil {
		return r, false, fmt.Errorf("rate on %s: %w", date, err)
	}
	return r, true, nil
}

// ParseRate reads a rate as a fraction: 0 ≤ rate < 1, at most six decimals.
func ParseRate(s, field, label string) (decimal.Decimal, error) {
	v, err := money.ParseNumber(s)
	if err != nil {
		return v, apperr.Invalid("rate_invalid", field, "%s须为小数形式的比例，例如 0.0435 表示 4.35%%", label)
	}
	if v.IsNegative() || v.GreaterThanOrEqual(decimal.NewFromInt(1)) {
		return v, apperr.Invalid("rate_out_of_range", field, "%s须不小于0且小于100%%", label)
	}
	if !v.Equal(v.Truncate(6)) {
		return v, apperr.Invalid("rate_too_precise", field, "%s最多保留6位小数（即百分比4位小数）", label)
	}
	return v, nil
}

func check(in Input) (decimal.Decimal, string, error) {
	if in.EffectiveFrom.IsZero() {
		return decimal.Zero, "", apperr.Invalid("effective_from_required", "effective_from", "请填写生效日期")
	}
	v, err := ParseRate(in.Rate, "rate", "利率")
	if err != nil {
		return v, "", err
	}
	note, err := text.CleanNote(in.Note, "note", "说明", false, 200)
	return v, note, err
}

func get(ctx context.Context, q sqlx.QueryerContext, id int64) (Rate, error) {
	var r Rate
	err := sqlx.GetContext(ctx, q, &r, selectRate+` WHERE id = $1`, id)
	if db.IsNoRows(err) {
		return r, apperr.NotFound("financing_rate_not_found", "利率不存在")
	}
	if err != nil {
		return r, fmt.Errorf("get financing rate %d: %w", id, err)
	}
	return r, nil
}

func translate(err error, date civil.Date) error {
	if _, dup := db.IsUniqueViolation(err); dup {
		return apperr.Conflict("financing_rate_date_taken", "生效日期 %s 已有利率", date).WithField("effective_from")
	}
	return err
}

// Create adds a rate.
func (s *Service) Create(ctx context.Context, a audit.Actor, in Input) (Rate, error) {
	v, note, err := check(in)
	if err != nil {
		return Rate{}, err
	}
	var r Rate
	err = s.db.InTx(ctx, func(tx *sqlx.Tx) error {
		var id int64
		if err := tx.GetContext(ctx, &id, `INSERT INTO financing_rates (effective_from, rate, note) VALUES ($1, $2, $3) RETURNING id`,
			in.EffectiveFrom, v, note); err != nil {
			return translate(err, in.EffectiveFrom)
		}
		if r, err = get(ctx, tx, id); err != nil {
			return err
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "financing_rate.create", Entity: "financing_rate", EntityID: id, After: r})
	})
	return r, err
}

// Update changes a rate; a stale version is a conflict.
func (s *Service) Update(ctx context.Context, a audit.Actor, id int64, in Input) (Rate, error) {
	v, note, err := check(in)
	if err != nil {
		return Rate{}, err
	}
	if in.Version <= 0 {
		return Rate{}, apperr.Invalid("version_required", "version", "缺少版本号")
	}
	var r Rate
	err = s.db.InTx(ctx, func(tx *sqlx.Tx) error {
		before, err := get(ctx, tx, id)
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE financing_rates SET effective_from = $1, rate = $2, note = $3,
			version = version + 1, updated_at = now() WHERE id = $4 AND version = $5`, in.EffectiveFrom, v, note, id, in.Version)
		if err != nil {
			return translate(err, in.EffectiveFrom)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return apperr.ErrStaleVersion
		}
		if r, err = get(ctx, tx, id); err != nil {
			return err
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "financing_rate.update", Entity: "financing_rate", EntityID: id,
			Before: before, After: r})
	})
	return r, err
}

// Delete removes a rate. Terms already frozen keep the rate they copied.
func (s *Service) Delete(ctx context.Context, a audit.Actor, id int64, version int) error {
	return s.db.InTx(ctx, func(tx *sqlx.Tx) error {
		before, err := get(ctx, tx, id)
		if err != nil {
			return err
		}
		if version > 0 && before.Version != version {
			return apperr.ErrStaleVersion
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM financing_rates WHERE id = $1`, id); err != nil {
			return fmt.Errorf("delete financing rate %d: %w", id, err)
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "financing_rate.delete", Entity: "financing_rate", EntityID: id, Before: before})
	})
}
