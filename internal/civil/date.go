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

// The window of dates Hehuo accepts from people and sheets. Nothing in the
// business (land deals, fundings, payments, deadlines) lies outside it, and
// refusing the rest keeps typos such as 0001-01-01 or 9999-12-31 (and
// 0000-01-01, which would read back as no date at all) out of the data.
var (
	Earliest = Date{2000, time.January, 1}
	Latest   = Date{2100, time.December, 31}
)

// Parse reads "2006-01-02" within [Earliest, Latest]: 400 invalid_date for
// another form, date_out_of_range outside the window.
func Parse(s string) (Date, error) { return ParseField(s, "", "日期") }

// ParseField is Parse naming the field at fault: field for programs, label
// (Chinese) in the message.
func ParseField(s, field, label string) (Date, error) {
	d, err := parse(s)
	if err != nil {
		return Date{}, apperr.Invalid("invalid_date", field, "%s格式须为 YYYY-MM-DD：%s", label, clip(s))
	}
	return d, d.InWindow(field, label)
}

// InWindow refuses a date outside [Earliest, Latest] with 400 date_out_of_range.
func (d Date) InWindow(field, label string) error {
	if d.Before(Earliest) || Latest.Before(d) {
		return apperr.Invalid("date_out_of_range", field, "%s须在%s至%s之间：%s", label, Earliest, Latest, d)
	}
	return nil
}

// Before reports whether d is an earlier date than e.
func (d Date) Before(e Date) bool {
	if d.Year != e.Year {
		return d.Year < e.Year
	}
	if d.Month != e.Month {
		return d.Month < e.Month
	}
	return d.Day < e.Day
}

// parse reads "2006-01-02" without the window (for values read back from the database).
func parse(s string) (Date, error) {
	t, err := time.Parse(layout, s)
	if err != nil {
		return Date{}, err
	}
	return Of(t), nil
}

// clip keeps messages short when the input is long.
func clip(s string) string {
	if r := []rune(s); len(r) > 20 {
		return string(r[:20]) + "…"
	}
	return s
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
		return apperr.Invalid("invalid_date", "", "日期须为 YYYY-MM-DD 格式的字符串")
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
		p, err := parse(x[:min(len(x), 10)])
		if err != nil {
			return fmt.Errorf("civil.Date: scan %q: %w", x, err)
		}
		*d = p
	case []byte:
		return d.Scan(string(x))
	default:
		return fmt.Errorf("civil.Date: cannot scan %T", v)
	}
	return nil
}
