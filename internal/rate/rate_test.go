package rate_test

import (
	"context"
	"errors"
	"testing"

	"hehuo/internal/apperr"
	"hehuo/internal/audit"
	"hehuo/internal/civil"
	"hehuo/internal/db/dbtest"
	"hehuo/internal/rate"
)

func day(s string) civil.Date {
	d, err := civil.Parse(s)
	if err != nil {
		panic(err)
	}
	return d
}

func TestRateOnPicksTheRateInForce(t *testing.T) {
	ctx := context.Background()
	d := dbtest.New(t)
	s := rate.NewService(d)
	for _, in := range []rate.Input{
		{EffectiveFrom: day("2024-01-01"), Rate: "0.0435"},
		{EffectiveFrom: day("2024-07-01"), Rate: "0.0400", Note: "下调"},
	} {
		if _, err := s.Create(ctx, audit.System, in); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		on   string
		want string
		ok   bool
	}{
		{"2023-12-31", "", false},
		{"2024-01-01", "0.0435", true},
		{"2024-06-30", "0.0435", true},
		{"2024-07-01", "0.04", true},
		{"2030-01-01", "0.04", true},
	}
	for _, c := range cases {
		r, ok, err := rate.RateOn(ctx, d, day(c.on))
		if err != nil {
			t.Fatal(err)
		}
		if ok != c.ok || (ok && r.Rate.String() != c.want) {
			t.Errorf("RateOn(%s) = %s, %v; want %s, %v", c.on, r.Rate, ok, c.want, c.ok)
		}
	}
}

func TestRateChangesAreCheckedAndVersioned(t *testing.T) {
	ctx := context.Background()
	d := dbtest.New(t)
	s := rate.NewService(d)
	r, err := s.Create(ctx, audit.System, rate.Input{EffectiveFrom: day("2024-01-01"), Rate: "0.0435"})
	if err != nil {
		t.Fatal(err)
	}
	bad := []struct {
		in   rate.Input
		code string
	}{
		{rate.Input{EffectiveFrom: day("2024-02-01"), Rate: "4.35"}, "rate_out_of_range"},
		{rate.Input{EffectiveFrom: day("2024-02-01"), Rate: "-0.01"}, "rate_out_of_range"},
		{rate.Input{EffectiveFrom: day("2024-02-01"), Rate: "abc"}, "rate_invalid"},
		{rate.Input{EffectiveFrom: day("2024-02-01"), Rate: "0.0000001"}, "rate_too_precise"},
		{rate.Input{Rate: "0.04"}, "effective_from_required"},
		{rate.Input{EffectiveFrom: day("2024-01-01"), Rate: "0.04"}, "financing_rate_date_taken"},
		{rate.Input{EffectiveFrom: day("2024-02-01"), Rate: "0.04", Note: "<b>"}, "angle_brackets"},
	}
	for _, b := range bad {
		_, err := s.Create(ctx, audit.System, b.in)
		if e := apperr.As(err); e == nil || e.Code != b.code {
			t.Errorf("Create(%+v) = %v, want %s", b.in, err, b.code)
		}
	}
	u, err := s.Update(ctx, audit.System, r.ID, rate.Input{EffectiveFrom: day("2024-01-01"), Rate: "0.045", Version: r.Version})
	if err != nil || u.Version != 2 || u.Rate.String() != "0.045" {
		t.Fatalf("update = %+v, %v", u, err)
	}
	if _, err := s.Update(ctx, audit.System, r.ID, rate.Input{EffectiveFrom: day("2024-01-01"), Rate: "0.05", Version: 1}); !errors.Is(err, apperr.ErrStaleVersion) {
		t.Errorf("stale update = %v", err)
	}
	if err := s.Delete(ctx, audit.System, r.ID, 1); !errors.Is(err, apperr.ErrStaleVersion) {
		t.Errorf("stale delete = %v", err)
	}
	if err := s.Delete(ctx, audit.System, r.ID, 2); err != nil {
		t.Fatal(err)
	}
	if rs, _ := s.List(ctx); len(rs) != 0 {
		t.Errorf("rates after delete = %+v", rs)
	}
}
