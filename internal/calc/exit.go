package calc

import (
	"errors"
	"fmt"

	"github.com/shopspring/decimal"

	"hehuo/internal/civil"
	"hehuo/internal/money"
)

// ExitType is why a partner leaves a project (RULES R9); the exit policy
// for the type decides the price.
type ExitType string

// The exit types, in the order of the 离职退休测算 form.
const (
	ExitResignation ExitType = "resignation" // 离职
	ExitDismissal   ExitType = "dismissal"   // 辞退
	ExitRetirement  ExitType = "retirement"  // 退休
	ExitTransfer    ExitType = "transfer"    // 调动
	ExitDeath       ExitType = "death"       // 身故
)

var exitTypes = []ExitType{ExitResignation, ExitDismissal, ExitRetirement, ExitTransfer, ExitDeath}

var exitTypeLabels = map[ExitType]string{
	ExitResignation: "离职", ExitDismissal: "辞退", ExitRetirement: "退休", ExitTransfer: "调动", ExitDeath: "身故",
}

// ExitTypes lists the exit types in the order of the form.
func ExitTypes() []ExitType { return append([]ExitType(nil), exitTypes...) }

// Label is the exit type in Chinese, or the code itself for an unknown type.
func (t ExitType) Label() string {
	if l, ok := exitTypeLabels[t]; ok {
		return l
	}
	return string(t)
}

// Valid reports whether t is an exit type.
func (t ExitType) Valid() bool { _, ok := exitTypeLabels[t]; return ok }

// ExitPolicy is one row of R9's price rules: whether the exit of this type
// is paid the holding return H on top of P + I.
type ExitPolicy struct {
	Type          ExitType `json:"exit_type"`
	HoldingReturn bool     `json:"holding_return"`
}

// DefaultExitPolicies is R9's table, one row per type in the order of
// ExitTypes: a partner who resigns or is dismissed gets back P + I only; one
// who retires, is transferred or dies gets P + I + H at the financing cost
// rate. The sysadmin may edit the rows; these are what a new group starts with.
func DefaultExitPolicies() []ExitPolicy {
	out := make([]ExitPolicy, len(exitTypes))
	for i, t := range exitTypes {
		out[i] = ExitPolicy{Type: t, HoldingReturn: t != ExitResignation && t != ExitDismissal}
	}
	return out
}

// Errors of ExitQuote. The exit service reads P and I from internal/position
// and validates the type before calling, so these mean a bug upstream rather
// than a user's mistake.
var (
	ErrExitTypeUnknown      = errors.New("calc: unknown exit type")
	ErrExitPrincipalInvalid = errors.New("calc: principal outstanding must be a non-negative amount in fen")
	ErrExitInterestInvalid  = errors.New("calc: capital interest not yet deducted must be ≤ 0 and in fen")
	ErrExitRateInvalid      = errors.New("calc: exit rate must be non-negative")
)

// HoldingReturn applies R9's holding return to one partner's payments into
// one project: H = round(Σ_k amount_k × rate × days_k / 365, fen), days_k =
// days from payment k's date to the exit date (0 if the payment is dated
// after it). It is R4's B turned round: positive, and counted from each
// payment's date up to the exit instead of from the funding date up to the
// payment. The sum is exact and rounded once (half away from zero), so
// splitting a payment in parts does not change H by a rounding fen. The
// caller passes the payments still outstanding and the rate in force.
func HoldingReturn(exitDate civil.Date, rate decimal.Decimal, payments []InterestPayment) (decimal.Decimal, Trace) {
	var trace Trace
	for i, p := range payments {
		days := holdingDays(exitDate, p)
		trace = append(trace, Step{
			Figure:  fmt.Sprintf("h.payment[%d]", i),
			Formula: "amount × rate × days / 365（days = 退出日 − 缴款日，不足 0 计 0）",
			Inputs: map[string]string{"amount": p.Amount.StringFixed(2), "rate": rate.String(), "days": fmt.Sprint(days),
				"paid_on": p.PaidOn.String(), "exit_date": exitDate.String()},
			Value: holdingProduct(p.Amount, rate, days).Div(daysPerYear).String(),
		})
	}
	h, sum := holdingReturn(exitDate, rate, payments)
	trace = append(trace, Step{
		Figure: "h", Formula: "H = round(Σ amount × rate × days / 365, 分)",
		Inputs: map[string]string{"sum": sum.Div(daysPerYear).String()}, Rounding: "分，四舍五入（远离零），每人每项目合计后取整一次",
		Value: money.Format(h),
	})
	return h, trace
}

// holdingReturn is H and the exact Σ amount × rate × days before the
// division by 365. Dividing the exact sum once with DivRound rounds the true
// quotient, not a 16-digit approximation of it, so a sum that lies exactly on
// a half fen goes away from zero and one just below it does not.
func holdingReturn(exitDate civil.Date, rate decimal.Decimal, payments []InterestPayment) (h, sum decimal.Decimal) {
	sum = decimal.Zero
	for _, p := range payments {
		sum = sum.Add(holdingProduct(p.Amount, rate, holdingDays(exitDate, p)))
	}
	h = sum.DivRound(daysPerYear, 2)
	if h.IsZero() {
		h = decimal.Zero // never −0
	}
	return h, sum
}

// holdingDays is days from payment p's date to the exit date, 0 if p is
// dated on or after the exit.
func holdingDays(exitDate civil.Date, p InterestPayment) int {
	return max(exitDate.DaysSince(p.PaidOn), 0)
}

func holdingProduct(amount, rate decimal.Decimal, days int) decimal.Decimal {
	return amount.Mul(rate).Mul(decimal.NewFromInt(int64(days)))
}

// ExitQuoteLine is one project of an exit quote (R9): P the principal
// outstanding, I the capital interest not yet deducted (≤ 0), H the holding
// return (0 when the policy pays none) and the payout the platform company
// pays for the stake.
type ExitQuoteLine struct {
	P, I, H decimal.Decimal
	Payout  decimal.Decimal
	Trace   Trace
}

// ExitQuote applies R9 to one partner's stake in one project under policy:
// payout = P + I, plus H = HoldingReturn(exitDate, rate, payments) when the
// policy pays the holding return. P, I and H are fen already, so the payout
// is their plain sum with no further rounding. Profit already distributed is
// not an input: it is never clawed back. A negative P, a positive I, an
// amount that is not whole fen, a negative rate or an unknown type is refused.
func ExitQuote(policy ExitPolicy, p, i decimal.Decimal, payments []InterestPayment, exitDate civil.Date, rate decimal.Decimal) (ExitQuoteLine, error) {
	switch {
	case !policy.Type.Valid():
		return ExitQuoteLine{}, fmt.Errorf("%w: %q", ErrExitTypeUnknown, policy.Type)
	case p.IsNegative() || !money.IsFen(p):
		return ExitQuoteLine{}, fmt.Errorf("%w: %s", ErrExitPrincipalInvalid, p)
	case i.IsPositive() || !money.IsFen(i):
		return ExitQuoteLine{}, fmt.Errorf("%w: %s", ErrExitInterestInvalid, i)
	case rate.IsNegative():
		return ExitQuoteLine{}, fmt.Errorf("%w: %s", ErrExitRateInvalid, rate)
	}
	label := policy.Type.Label()
	trace := Trace{
		{Figure: "p", Formula: "P = 在投本金（已缴 − 已返还）", Value: money.Format(p)},
		{Figure: "i", Formula: "I = 尚未扣减的资金利息（≤ 0）", Value: money.Format(i)},
	}
	h := decimal.Zero
	formula := "退出价款 = P + I（" + label + "：不计持有收益）"
	if policy.HoldingReturn {
		var ht Trace
		h, ht = HoldingReturn(exitDate, rate, payments)
		trace = append(trace, ht...)
		formula = "退出价款 = P + I + H（" + label + "：按资金成本率计持有收益）"
	} else {
		trace = append(trace, Step{Figure: "h", Formula: "H = 0", Value: money.Format(h),
			Note: label + "按退出政策不计持有收益"})
	}
	payout := p.Add(i).Add(h)
	trace = append(trace, Step{
		Figure: "payout", Formula: formula,
		Inputs: map[string]string{"P": money.Format(p), "I": money.Format(i), "H": money.Format(h), "exit_type": string(policy.Type)},
		Value:  money.Format(payout),
	})
	return ExitQuoteLine{P: p, I: i, H: h, Payout: payout, Trace: trace}, nil
}
