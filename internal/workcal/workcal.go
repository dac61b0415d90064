// Package workcal is the work calendar (工作日历): Monday to Friday are
// working days except public holidays, and 调休 make-up days on a weekend
// are working days. Only the exceptions are stored (table work_calendar,
// seeded for 2025–2026, edited by the sysadmin).
package workcal

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"hehuo/internal/apperr"
	"hehuo/internal/audit"
	"hehuo/internal/civil"
	"hehuo/internal/db"
	"hehuo/internal/text"
)

// The kinds of exception.
const (
	KindHoliday = "holiday" // a weekday off
	KindWorkday = "workday" // a weekend day at work (调休上班)
	// KindNormal is no exception: Monday to Friday work, the weekend is off.
	KindNormal = "normal"
)

// kinds are the choices of Put with their Chinese names, in the order the
// console offers them; the console keeps no table of its own.
var kinds = []Kind{
	{Value: KindHoliday, Label: "节假日（休息）"},
	{Value: KindWorkday, Label: "调休上班"},
	{Value: KindNormal, Label: "恢复常规（周一至周五上班）"},
}

// Kind is one choice of Put.
type Kind struct {
	Value string `json:"value"`
	Label string `json:"label"`
}

// Kinds returns the choices of Put.
func Kinds() []Kind { return append([]Kind(nil), kinds...) }

// kindLabels name the kinds of exception, one table for the screens and
// the 系统日志.
var kindLabels = map[string]string{KindHoliday: "节假日", KindWorkday: "调休上班"}

func init() { audit.DescribeValues("work_calendar", "kind", kindLabels) }

// KindLabel is the Chinese name of an exception's kind ("" for none).
func KindLabel(kind string) string { return kindLabels[kind] }

// Day is one exception to the Monday–Friday rule.
type Day struct {
	Day       civil.Date `db:"day" json:"day"`
	Kind      string     `db:"kind" json:"kind"`
	KindLabel string     `db:"-" json:"kind_label,omitempty"` // not in the audit log: set after it
	Name      string     `db:"name" json:"name"`
	UpdatedBy string     `db:"updated_by" json:"updated_by"`
	UpdatedAt time.Time  `db:"updated_at" json:"updated_at"`
}

// exceptions returns the kinds of the stored days in [from, to].
func exceptions(ctx context.Context, q sqlx.QueryerContext, from, to civil.Date) (map[civil.Date]string, error) {
	var rows []Day
	if err := sqlx.SelectContext(ctx, q, &rows, `SELECT * FROM work_calendar WHERE day BETWEEN $1 AND $2`, from, to); err != nil {
		return nil, fmt.Errorf("work calendar %s–%s: %w", from, to, err)
	}
	out := make(map[civil.Date]string, len(rows))
	for _, r := range rows {
		out[r.Day] = r.Kind
	}
	return out, nil
}

func working(d civil.Date, ex map[civil.Date]string) bool {
	switch ex[d] {
	case KindHoliday:
		return false
	case KindWorkday:
		return true
	}
	wd := d.Start().Weekday()
	return wd != time.Saturday && wd != time.Sunday
}

// AddWorkingDays returns the n-th working day after from (from itself does
// not count): 20 working days after a notice is its default due date.
func AddWorkingDays(ctx context.Context, q sqlx.QueryerContext, from civil.Date, n int) (civil.Date, error) {
	if n <= 0 {
		return from, nil
	}
	// Holidays never stretch n working days beyond 2n + 30 calendar days.
	ex, err := exceptions(ctx, q, from, from.AddDays(2*n+30))
	if err != nil {
		return civil.Date{}, err
	}
	d := from
	for n > 0 {
		d = d.AddDays(1)
		if working(d, ex) {
			n--
		}
	}
	return d, nil
}

// IsWorkingDay says whether d is a working day.
func IsWorkingDay(ctx context.Context, q sqlx.QueryerContext, d civil.Date) (bool, error) {
	ex, err := exceptions(ctx, q, d, d)
	if err != nil {
		return false, err
	}
	return working(d, ex), nil
}

// Service edits the calendar.
type Service struct{ db *db.DB }

// NewService returns the work calendar service.
func NewService(d *db.DB) *Service { return &Service{db: d} }

// List returns the exceptions of a year.
func (s *Service) List(ctx context.Context, year int) ([]Day, error) {
	out := []Day{}
	err := s.db.SelectContext(ctx, &out, `SELECT * FROM work_calendar WHERE extract(year FROM day) = $1 ORDER BY day`, year)
	for i := range out {
		out[i].KindLabel = KindLabel(out[i].Kind)
	}
	return out, err
}

// CalendarDay is one day of a year as the calendar has it: working or not,
// and the exception that makes it so, if any.
type CalendarDay struct {
	Day       civil.Date `json:"day"`
	Working   bool       `json:"working"`
	Label     string     `json:"label"` // 工作日 or 休息日
	Kind      string     `json:"kind"`  // holiday, workday or normal
	KindLabel string     `json:"kind_label"`
	Name      string     `json:"name"`
}

// Year returns every day of year, so the console shows working days exactly
// as due dates count them instead of repeating the weekend rule.
func (s *Service) Year(ctx context.Context, year int) ([]CalendarDay, error) {
	ex, err := s.List(ctx, year)
	if err != nil {
		return nil, err
	}
	byDay := make(map[civil.Date]Day, len(ex))
	kindOf := make(map[civil.Date]string, len(ex))
	for _, d := range ex {
		byDay[d.Day], kindOf[d.Day] = d, d.Kind
	}
	var out []CalendarDay
	for d := (civil.Date{Year: year, Month: time.January, Day: 1}); d.Year == year; d = d.AddDays(1) {
		c := CalendarDay{Day: d, Working: working(d, kindOf), Label: "休息日", Kind: KindNormal}
		if c.Working {
			c.Label = "工作日"
		}
		if e, ok := byDay[d]; ok {
			c.Kind, c.KindLabel, c.Name = e.Kind, e.KindLabel, e.Name
		}
		out = append(out, c)
	}
	return out, nil
}

// Input sets one day: kind holiday or workday, or "normal" to remove the exception.
type Input struct {
	Kind string `json:"kind"`
	Name string `json:"name"`
}

// Put sets day's exception, audited.
func (s *Service) Put(ctx context.Context, a audit.Actor, day civil.Date, in Input) (*Day, error) {
	if day.IsZero() {
		return nil, apperr.Invalid("day_invalid", "day", "请填写正确的日期")
	}
	if in.Kind != KindHoliday && in.Kind != KindWorkday && in.Kind != KindNormal {
		return nil, apperr.Invalid("work_calendar_kind", "kind", "类型只能是节假日、调休上班或恢复常规")
	}
	name, err := text.Clean(in.Name, "name", "名称", false, 50)
	if err != nil {
		return nil, err
	}
	var out *Day
	by := a.Name
	if by == "" {
		by = audit.System.Name
	}
	err = s.db.InTx(ctx, func(tx *sqlx.Tx) error {
		var before []Day
		if err := tx.SelectContext(ctx, &before, `SELECT * FROM work_calendar WHERE day = $1 FOR UPDATE`, day); err != nil {
			return err
		}
		if in.Kind == KindNormal {
			if _, err := tx.ExecContext(ctx, `DELETE FROM work_calendar WHERE day = $1`, day); err != nil {
				return err
			}
		} else {
			var d Day
			if err := tx.GetContext(ctx, &d, `
				INSERT INTO work_calendar (day, kind, name, updated_by) VALUES ($1, $2, $3, $4)
				ON CONFLICT (day) DO UPDATE SET kind = excluded.kind, name = excluded.name, updated_by = excluded.updated_by, updated_at = now()
				RETURNING *`, day, in.Kind, name, by); err != nil {
				return err
			}
			out = &d
		}
		var b any
		if len(before) > 0 {
			b = before[0]
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "work_calendar.put", Entity: "work_calendar", EntityID: day.String(), Before: b, After: out})
	})
	if err != nil {
		return nil, err
	}
	if out != nil {
		out.KindLabel = KindLabel(out.Kind)
	}
	return out, nil
}
