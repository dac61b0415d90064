package calc_test

import (
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"hehuo/internal/calc"
	"hehuo/internal/civil"
)

// The traceless amount is CapitalInterest's B, for R4's example and an edge
// of payments before the funding date.
func TestCapitalInterestAmountIsB(t *testing.T) {
	funding := civil.Date{Year: 2024, Month: 3, Day: 1}
	rate := decimal.RequireFromString("0.0435")
	p := func(amount string, m, d int) calc.InterestPayment {
		return calc.InterestPayment{Amount: decimal.RequireFromString(amount), PaidOn: civil.Date{Year: 2024, Month: time.Month(m), Day: d}}
	}
	for _, ps := range [][]calc.InterestPayment{
		{p("500000", 3, 1)}, {p("300000", 3, 20)}, {p("200000", 4, 15), p("97143", 4, 15)}, {p("222857", 3, 31)}, {p("1000", 2, 1)}, nil,
	} {
		b, _ := calc.CapitalInterest("b", funding, rate, ps)
		if got := calc.CapitalInterestAmount(funding, rate, ps); !got.Equal(b) || got.String() != b.String() {
			t.Errorf("%v: amount %s, B %s", ps, got, b)
		}
	}
}
