package calc

import (
	"fmt"

	"github.com/shopspring/decimal"

	"hehuo/internal/civil"
)

// InterestPayment is one payment k of a partner, as capital interest (R4) sees it.
type InterestPayment struct {
	Amount decimal.Decimal
	PaidOn civil.Date
}

var daysPerYear = decimal.NewFromInt(365)

// CapitalInterest applies RULES R4 to one partner's payments:
// B = −round(Σ_k amount_k × rate × days_k / 365, fen), days_k = days from the
// funding date to payment k's date (0 if paid on or before it). The sum is
// exact and rounded once per partner, so splitting a payment in parts does
// not change B by a rounding fen. figure names the partner in the trace.
func CapitalInterest(figure string, funding civil.Date, rate decimal.Decimal, payments []InterestPayment) (decimal.Decimal, Trace) {
	var trace Trace
	sum := decimal.Zero
	for i, p := range payments {
		days, term := interestTerm(funding, rate, p)
		sum = sum.Add(term)
		trace = append(trace, Step{
			Figure:  fmt.Sprintf("%s.payment[%d]", figure, i),
			Formula: "amount × rate × days / 365（days = 缴款日 − 资金投入日，不足 0 计 0）",
			Inputs: map[string]string{"amount": p.Amount.StringFixed(2), "rate": rate.String(), "days": fmt.Sprint(days),
				"paid_on": p.PaidOn.String(), "funding_date": funding.String()},
			Value: term.String(),
		})
	}
	b := interestB(sum)
	trace = append(trace, Step{
		Figure: figure, Formula: "B = −round(Σ amount × rate × days / 365, 分)",
		Inputs: map[string]string{"sum": sum.String()}, Rounding: "分，四舍五入（远离零），每人合计后取整一次",
		Value: b.StringFixed(2),
	})
	return b, trace
}

// CapitalInterestAmount is CapitalInterest's B without the trace, for read
// models that sum it over many partners (the same terms, the same rounding).
func CapitalInterestAmount(funding civil.Date, rate decimal.Decimal, payments []InterestPayment) decimal.Decimal {
	sum := decimal.Zero
	for _, p := range payments {
		_, term := interestTerm(funding, rate, p)
		sum = sum.Add(term)
	}
	return interestB(sum)
}

// interestTerm is one payment's amount × rate × days / 365, days from the
// funding date (0 if paid on or before it).
func interestTerm(funding civil.Date, rate decimal.Decimal, p InterestPayment) (int, decimal.Decimal) {
	days := p.PaidOn.DaysSince(funding)
	if days < 0 {
		days = 0
	}
	return days, p.Amount.Mul(rate).Mul(decimal.NewFromInt(int64(days))).Div(daysPerYear)
}

// interestB is −round(sum, fen), never −0.
func interestB(sum decimal.Decimal) decimal.Decimal {
	b := sum.Round(2).Neg()
	if b.IsZero() {
		return decimal.Zero
	}
	return b
}
