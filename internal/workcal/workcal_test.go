package workcal_test

import (
	"context"
	"testing"
	"time"

	"hehuo/internal/audit"
	"hehuo/internal/civil"
	"hehuo/internal/db/dbtest"
	"hehuo/internal/workcal"
)

func date(y, m, d int) civil.Date { return civil.Date{Year: y, Month: time.Month(m), Day: d} }

// Working days over the seeded 2025–2026 calendar: weekends skipped,
// holidays skipped, 调休 weekend days counted.
func TestAddWorkingDays(t *testing.T) {
	d := dbtest.New(t)
	ctx := context.Background()
	for _, c := range []struct {
		from civil.Date
		n    int
		want civil.Date
	}{
		{date(2026, 11, 2), 5, date(2026, 11, 9)},    // Mon + 5 → next Mon
		{date(2026, 11, 26), 20, date(2026, 12, 24)}, // no holiday in between
		{date(2026, 9, 30), 1, date(2026, 10, 8)},    // National Day off 10-01…07
		{date(2026, 10, 9), 1, date(2026, 10, 10)},   // Sat 10-10 is a make-up working day
		{date(2026, 2, 13), 1, date(2026, 2, 14)},    // Sat 02-14 is a make-up working day
		{date(2026, 2, 14), 1, date(2026, 2, 24)},    // Spring Festival 02-15…23
		{date(2025, 9, 30), 20, date(2025, 11, 4)},
	} {
		got, err := workcal.AddWorkingDays(ctx, d, c.from, c.n)
		if err != nil || got != c.want {
			t.Errorf("%s + %d working days = %s (%v), want %s", c.from, c.n, got, err, c.want)
		}
	}
	// The sysadmin marks a day off; the count moves.
	s := workcal.NewService(d)
	if _, err := s.Put(ctx, audit.System, date(2026, 11, 27), workcal.Input{Kind: "holiday", Name: "测试"}); err != nil {
		t.Fatal(err)
	}
	if got, _ := workcal.AddWorkingDays(ctx, d, date(2026, 11, 26), 1); got != date(2026, 11, 30) {
		t.Errorf("after a holiday was added: %s", got)
	}
	if _, err := s.Put(ctx, audit.System, date(2026, 11, 27), workcal.Input{Kind: "normal"}); err != nil {
		t.Fatal(err)
	}
	if got, _ := workcal.AddWorkingDays(ctx, d, date(2026, 11, 26), 1); got != date(2026, 11, 27) {
		t.Errorf("after the holiday was removed: %s", got)
	}
	if _, err := s.Put(ctx, audit.System, date(2026, 11, 27), workcal.Input{Kind: "maybe"}); err == nil {
		t.Error("an unknown kind was accepted")
	}
}

// The year view has every day, working as due dates count it, with the
// exception and its name where one is set.
func TestYear(t *testing.T) {
	d := dbtest.New(t)
	ctx := context.Background()
	days, err := workcal.NewService(d).Year(ctx, 2026)
	if err != nil {
		t.Fatal(err)
	}
	if len(days) != 365 || days[0].Day != date(2026, 1, 1) || days[364].Day != date(2026, 12, 31) {
		t.Fatalf("%d days from %s", len(days), days[0].Day)
	}
	for _, c := range []struct {
		day              civil.Date
		working          bool
		label, kind, why string
	}{
		{date(2026, 11, 2), true, "工作日", "normal", ""},       // Monday
		{date(2026, 11, 7), false, "休息日", "normal", ""},      // Saturday
		{date(2026, 10, 1), false, "休息日", "holiday", "节假日"},  // National Day
		{date(2026, 10, 10), true, "工作日", "workday", "调休上班"}, // make-up Saturday
	} {
		got := days[c.day.DaysSince(date(2026, 1, 1))]
		if got.Day != c.day || got.Working != c.working || got.Label != c.label || got.Kind != c.kind || got.KindLabel != c.why {
			t.Errorf("%s: %+v", c.day, got)
		}
		if ok, _ := workcal.IsWorkingDay(ctx, d, c.day); ok != got.Working {
			t.Errorf("%s: year view says working %v, IsWorkingDay %v", c.day, got.Working, ok)
		}
	}
}
