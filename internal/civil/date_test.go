package civil

import (
	"encoding/json"
	"testing"
	"time"
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
