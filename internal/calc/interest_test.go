package calc

import (
	"testing"

	"github.com/shopspring/decimal"

	"hehuo/internal/civil"
	"hehuo/internal/money"
)

// RULES R4's example, to the fen.
func TestCapitalInterestR4Example(t *testing.T) {
	funding := civil.Date{Year: 2024, Month: 3, Day: 1}
	rate := decimal.RequireFromString("0.0435")
	for _, c := range []struct {
		name, amount string
		paid         civil.Date
		want         string
	}{
		{"A", "500000", civil.Date{Year: 2024, Month: 3, Day: 1}, "0.00"},
		{"B", "300000", civil.Date{Year: 2024, Month: 3, Day: 20}, "-679.32"},
		{"C", "297143", civil.Date{Year: 2024, Month: 4, Day: 15}, "-1593.58"},
		{"D", "222857", civil.Date{Year: 2024, Month: 3, Day: 31}, "-796.79"},
		{"early", "1000", civil.Date{Year: 2024, Month: 2, Day: 1}, "0.00"},
	} {
		b, trace := CapitalInterest(c.name, funding, rate, []InterestPayment{{Amount: money.MustParse(c.amount), PaidOn: c.paid}})
		if b.StringFixed(2) != c.want {
			t.Errorf("%s: B = %s, want %s", c.name, b.StringFixed(2), c.want)
		}
		if len(trace) != 2 || trace[1].Value != c.want {
			t.Errorf("%s: trace %+v", c.name, trace)
		}
	}
	// Parts are summed exactly and rounded once: B's 300,000 paid in three parts on the same day.
	third := money.MustParse("100000")
	d := civil.Date{Year: 2024, Month: 3, Day: 20}
	b, _ := CapitalInterest("B", funding, rate, []InterestPayment{{third, d}, {third, d}, {third, d}})
	if b.StringFixed(2) != "-679.32" {
		t.Errorf("parts: %s", b.StringFixed(2))
	}
}
