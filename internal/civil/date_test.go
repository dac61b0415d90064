package civil

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"hehuo/internal/apperr"
)

func TestJSONRoundTrip(t *testing.T) {
	var d Date
	if err := json.Unmarshal([]byte(`"2019-02-21"`), &d); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(d)
	if string(b) != `"2019-02-21"` {
		t.Fatalf("got %s", b)
	}
	for _, bad := range []string{`"2019-2-21"`, `"2019-02-30"`, `20190221`, `"yesterday"`} {
		if err := json.Unmarshal([]byte(bad), &d); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}

func TestDeadlineIsEndOfDayInShanghai(t *testing.T) {
	d, _ := Parse("2026-12-10")
	// 23:59 in Shanghai on the deadline day is 15:59 UTC: still in time.
	inTime := time.Date(2026, 12, 10, 15, 59, 0, 0, time.UTC)
	late := time.Date(2026, 12, 10, 16, 0, 0, 0, time.UTC)
	if !inTime.Before(d.EndExclusive()) || late.Before(d.EndExclusive()) {
		t.Fatalf("end of 2026-12-10 = %v", d.EndExclusive())
	}
}

func TestDaysSince(t *testing.T) {
	a, _ := Parse("2024-03-20")
	b, _ := Parse("2024-03-01")
	if got := a.DaysSince(b); got != 19 {
		t.Fatalf("days = %d, want 19", got)
	}
}

func TestAddDays(t *testing.T) {
	for _, c := range []struct {
		from string
		n    int
		want string
	}{{"2026-11-26", 0, "2026-11-26"}, {"2026-11-26", 5, "2026-12-01"}, {"2024-02-28", 1, "2024-02-29"}, {"2026-01-01", -1, "2025-12-31"}} {
		d, err := Parse(c.from)
		if err != nil {
			t.Fatal(err)
		}
		if got := d.AddDays(c.n).String(); got != c.want {
			t.Errorf("%s + %d = %s, want %s", c.from, c.n, got, c.want)
		}
	}
}

// Issue 9: one parser with a sane window; 0000-01-01 is refused rather than
// read as no date at all.
func TestParseWindow(t *testing.T) {
	for _, c := range []struct{ in, code string }{
		{"2000-01-01", ""},
		{"2026-12-03", ""},
		{"2100-12-31", ""},
		{"1999-12-31", "date_out_of_range"},
		{"0001-01-01", "date_out_of_range"},
		{"1900-01-01", "date_out_of_range"},
		{"0000-01-01", "date_out_of_range"},
		{"2101-01-01", "date_out_of_range"},
		{"9999-12-31", "date_out_of_range"},
		{"2026-02-30", "invalid_date"},
		{"2026-1-5", "invalid_date"},
		{"20260105", "invalid_date"},
		{"2026-01-05\x00", "invalid_date"},
		{"", "invalid_date"},
		{"99999999999999999999", "invalid_date"},
		{"-1", "invalid_date"},
	} {
		d, err := ParseField(c.in, "funding_date", "出资日期")
		if c.code == "" {
			if err != nil || d.String() != c.in {
				t.Errorf("%q: %v, %v", c.in, d, err)
			}
			continue
		}
		e := apperr.As(err)
		if e == nil || e.Code != c.code || e.Field != "funding_date" || !strings.Contains(e.Message, "出资日期") {
			t.Errorf("%q: err = %v, want %s naming 出资日期", c.in, err, c.code)
		}
	}
	// JSON decoding applies the same window.
	var d Date
	for _, in := range []string{`"0001-01-01"`, `"0000-01-01"`, `"9999-01-01"`} {
		if err := json.Unmarshal([]byte(in), &d); err == nil {
			t.Errorf("%s accepted as %v", in, d)
		}
	}
	// Values read back from the database are not refused.
	if err := d.Scan("1990-05-01"); err != nil || d.String() != "1990-05-01" {
		t.Fatalf("scan: %v %v", d, err)
	}
}
