// Package civil has calendar dates without a time of day (拿地时间, 缴款日期,
// 分配日期), read and written as "2006-01-02" and interpreted in Asia/Shanghai
// where a moment is needed (a deadline is the end of its day there).
package civil

import (
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"time"

	"hehuo/internal/apperr"
)

// Shanghai is the time zone every business date is in.
var Shanghai = mustLoad("Asia/Shanghai")

func mustLoad(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		// Fixed +08:00 is exact for Shanghai (no daylight saving since 1991).
		return time.FixedZone("CST", 8*3600)
	}
	return loc
}

// Date is a calendar date.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

const layout = "2006-01-02"

// Parse reads "2006-01-02".
func Parse(s string) (Date, error) {
	t, err := time.Parse(layout, s)
	if err != nil {
		return Date{}, apperr.Invalid("date_invalid", "", "日期格式须为 YYYY-MM-DD：%s", s)
	}
	return Of(t), nil
}

// Of returns the date of t in t's location.
func Of(t time.Time) Date {
	y, m, d := t.Date()
	return Date{y, m, d}
}

// Today returns today's date in Shanghai.
func Today(now time.Time) Date { return Of(now.In(Shanghai)) }

// IsZero reports the zero date.
func (d Date) IsZero() bool { return d.Year == 0 }

// String formats d as 2006-01-02.
func (d Date) String() string { return fmt.Sprintf("%04d-%02d-%02d", d.Year, d.Month, d.Day) }

// Start is the first instant of d in Shanghai.
func (d Date) Start() time.Time { return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, Shanghai) }

// AddDays returns the date n calendar days after d (before, for negative n).
func (d Date) AddDays(n int) Date { return Of(d.Start().AddDate(0, 0, n)) }

// EndExclusive is the first instant after d in Shanghai: a deadline on d holds until then.
func (d Date) EndExclusive() time.Time { return d.Start().AddDate(0, 0, 1) }

// DaysSince returns the days from e to d (negative if d is before e).
func (d Date) DaysSince(e Date) int {
	a := time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC)
	b := time.Date(e.Year, e.Month, e.Day, 0, 0, 0, 0, time.UTC)
	return int(a.Sub(b).Hours() / 24)
}

// MarshalJSON writes "2006-01-02", or null for the zero date.
func (d Date) MarshalJSON() ([]byte, error) {
	if d.IsZero() {
		return []byte("null"), nil
	}
	return json.Marshal(d.String())
}

// UnmarshalJSON reads "2006-01-02" or null.
func (d *Date) UnmarshalJSON(b []byte) error {
	if string(b) == "null" || string(b) == `""` {
		*d = Date{}
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return apperr.Invalid("date_invalid", "", "日期须为 YYYY-MM-DD 格式的字符串")
	}
	v, err := Parse(s)
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// Value stores d as a SQL date (NULL for the zero date).
func (d Date) Value() (driver.Value, error) {
	if d.IsZero() {
		return nil, nil
	}
	return d.String(), nil
}

// Scan reads a SQL date.
func (d *Date) Scan(v any) error {
	switch x := v.(type) {
	case nil:
		*d = Date{}
	case time.Time:
		*d = Date{x.Year(), x.Month(), x.Day()}
	case string:
		p, err := Parse(x[:min(len(x), 10)])
		if err != nil {
			return err
		}
		*d = p
	case []byte:
		return d.Scan(string(x))
	default:
		return fmt.Errorf("civil.Date: cannot scan %T", v)
	}
	return nil
}
