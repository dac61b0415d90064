package calc

import (
	"errors"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"hehuo/internal/civil"
	"hehuo/internal/money"
)

func day(y, m, dd int) civil.Date { return civil.Date{Year: y, Month: time.Month(m), Day: dd} }

// The exit example used below, worked by hand. Rate 4.35% (the financing
// cost), exit 2025-03-20, a partner who paid
//
//	300,000 on 2024-03-20 → 365 days (2024's 29 February is before 20 March)
//	200,000 on 2024-06-01 → 292 days (29 + 31 + 31 + 30 + 31 + 30 + 31 + 31 + 28 + 20)
//
// H = round((300,000 × 0.0435 × 365 + 200,000 × 0.0435 × 292) / 365, 分)
//
//	= round((4,763,250 + 2,540,400) / 365, 分) = round(13,050 + 6,960, 分) = 20,010.00
//
// Both terms happen to be whole yuan (292/365 = 0.8). Exiting on 2025-04-15
// instead, 391 and 318 days:
//
//	300,000 × 0.0435 × 391 / 365 = 5,102,550 / 365 = 13,979.589041…
//	200,000 × 0.0435 × 318 / 365 = 2,766,600 / 365 =  7,579.726027…
//	Σ = 7,869,150 / 365 = 21,559.315068… → H = 21,559.32 (rounded once)
//
// I is R4's B for the same payments with funding date 2024-03-01: 19 and 92
// days, −round(679.315068… + 2,192.876712…, 分) = −2,872.19; P = 500,000.
var (
	exitRate     = decimal.RequireFromString("0.0435")
	exitPayments = []InterestPayment{
		{Amount: money.MustParse("300000"), PaidOn: day(2024, 3, 20)},
		{Amount: money.MustParse("200000"), PaidOn: day(2024, 6, 1)},
	}
)

// RULES R9's holding return H, to the fen.
func TestHoldingReturnR9(t *testing.T) {
	for _, c := range []struct {
		name     string
		exit     civil.Date
		rate     string
		payments []InterestPayment
		want     string
		days     []string
	}{
		{"the example", day(2025, 3, 20), "0.0435", exitPayments, "20010.00", []string{"365", "292"}},
		{"rounded once", day(2025, 4, 15), "0.0435", exitPayments, "21559.32", []string{"391", "318"}},
		// The second payment is dated after the exit: 0 days, only the first
		// counts: 300,000 × 0.0435 × 73 / 365 = 2,610.00.
		{"paid after the exit", day(2024, 6, 1), "0.0435", []InterestPayment{exitPayments[0], {Amount: d("200000"), PaidOn: day(2024, 6, 2)}},
			"2610.00", []string{"73", "0"}},
		{"paid on the exit date", day(2024, 6, 1), "0.0435", exitPayments[1:], "0.00", []string{"0"}},
		{"paid long after", day(2024, 1, 1), "0.0435", exitPayments, "0.00", []string{"0", "0"}},
		// 150 × 0.0435 × 73 / 365 = 1.305 exactly: half a fen goes away from
		// zero (banker's rounding would give 1.30).
		{"half a fen", day(2024, 3, 14), "0.0435", []InterestPayment{{Amount: d("150"), PaidOn: day(2024, 1, 1)}}, "1.31", []string{"73"}},
		// The same 150 in two parts of 75: each term is 0.6525 (0.65 if
		// rounded alone, 1.30 together), the exact sum 1.305 rounds once to 1.31.
		{"half a fen in parts", day(2024, 3, 14), "0.0435", []InterestPayment{{Amount: d("75"), PaidOn: day(2024, 1, 1)}, {Amount: d("75"), PaidOn: day(2024, 1, 1)}},
			"1.31", []string{"73", "73"}},
		// Just below half a fen stays down: 149.99 × 0.0435 × 73 / 365 = 1.304913.
		{"just below half a fen", day(2024, 3, 14), "0.0435", []InterestPayment{{Amount: d("149.99"), PaidOn: day(2024, 1, 1)}}, "1.30", []string{"73"}},
		{"no payments", day(2025, 3, 20), "0.0435", nil, "0.00", nil},
		{"rate 0", day(2025, 3, 20), "0", exitPayments, "0.00", []string{"365", "292"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			h, trace := HoldingReturn(c.exit, d(c.rate), c.payments)
			if money.Format(h) != c.want {
				t.Fatalf("H = %s, want %s", money.Format(h), c.want)
			}
			if h.IsNegative() {
				t.Fatalf("H = %s is negative", h)
			}
			if len(trace) != len(c.payments)+1 {
				t.Fatalf("trace has %d steps, want one per payment and H", len(trace))
			}
			for i, s := range trace[:len(c.payments)] {
				if s.Inputs["days"] != c.days[i] || s.Inputs["exit_date"] != c.exit.String() || s.Inputs["paid_on"] != c.payments[i].PaidOn.String() {
					t.Errorf("payment %d: inputs %v, want days %s", i, s.Inputs, c.days[i])
				}
			}
			last := trace[len(trace)-1]
			if last.Figure != "h" || last.Value != c.want || last.Rounding == "" {
				t.Errorf("H step %+v", last)
			}
		})
	}
	// The example's trace shows the exact terms and the exact sum before the one rounding.
	_, trace := HoldingReturn(day(2025, 4, 15), exitRate, exitPayments)
	if trace[0].Value != "13979.589041095890411" || trace[1].Value != "7579.726027397260274" ||
		trace[2].Inputs["sum"] != "21559.3150684931506849" {
		t.Errorf("trace values %q %q sum %q", trace[0].Value, trace[1].Value, trace[2].Inputs["sum"])
	}
}

// RULES R9's quote for each exit type, to the fen: P = 500,000, I = −2,872.19
// (worked above), H = 20,010.00 at the exit on 2025-03-20.
//
//	离职, 辞退: payout = 500,000 − 2,872.19 = 497,127.81, H shown as 0
//	退休, 调动, 身故: payout = 500,000 − 2,872.19 + 20,010.00 = 517,137.81
func TestExitQuoteR9(t *testing.T) {
	p, i := d("500000"), d("-2872.19")
	// I is R4's B of the same payments, funding 2024-03-01.
	if b := CapitalInterestAmount(day(2024, 3, 1), exitRate, exitPayments); !b.Equal(i) {
		t.Fatalf("I = %s, the worked example says %s", b, i)
	}
	want := map[ExitType][2]string{
		ExitResignation: {"0.00", "497127.81"},
		ExitDismissal:   {"0.00", "497127.81"},
		ExitRetirement:  {"20010.00", "517137.81"},
		ExitTransfer:    {"20010.00", "517137.81"},
		ExitDeath:       {"20010.00", "517137.81"},
	}
	policies := DefaultExitPolicies()
	if len(policies) != len(want) {
		t.Fatalf("%d default policies, want %d", len(policies), len(want))
	}
	for _, policy := range policies {
		t.Run(string(policy.Type), func(t *testing.T) {
			q, err := ExitQuote(policy, p, i, exitPayments, day(2025, 3, 20), exitRate)
			if err != nil {
				t.Fatal(err)
			}
			w := want[policy.Type]
			if money.Format(q.P) != "500000.00" || money.Format(q.I) != "-2872.19" || money.Format(q.H) != w[0] || money.Format(q.Payout) != w[1] {
				t.Fatalf("P %s I %s H %s payout %s, want H %s payout %s", q.P, q.I, q.H, q.Payout, w[0], w[1])
			}
			if !q.Payout.Equal(q.P.Add(q.I).Add(q.H)) {
				t.Fatalf("payout %s ≠ P + I + H", q.Payout)
			}
			last := q.Trace[len(q.Trace)-1]
			if last.Figure != "payout" || last.Value != w[1] || last.Inputs["H"] != w[0] {
				t.Errorf("payout step %+v", last)
			}
			// With H: p, i, one step per payment, h, payout; without: p, i, h = 0, payout.
			steps := 4
			if policy.HoldingReturn {
				steps = 4 + len(exitPayments)
			}
			if len(q.Trace) != steps || q.Trace[steps-2].Figure != "h" || q.Trace[steps-2].Value != w[0] {
				t.Errorf("trace %+v", q.Trace)
			}
		})
	}
	// A stake fully returned with nothing outstanding quotes 0.
	q, err := ExitQuote(ExitPolicy{Type: ExitRetirement, HoldingReturn: true}, d("0"), d("0"), nil, day(2025, 3, 20), exitRate)
	if err != nil || !q.Payout.IsZero() || money.Format(q.Payout) != "0.00" {
		t.Errorf("nothing held: %+v, %v", q, err)
	}
	// An edited policy is what counts, not the type's default.
	q, err = ExitQuote(ExitPolicy{Type: ExitResignation, HoldingReturn: true}, p, i, exitPayments, day(2025, 3, 20), exitRate)
	if err != nil || money.Format(q.Payout) != "517137.81" {
		t.Errorf("resignation with holding return: %s, %v", q.Payout, err)
	}
}

func TestExitTypes(t *testing.T) {
	labels := []string{"离职", "辞退", "退休", "调动", "身故"}
	for k, typ := range ExitTypes() {
		if !typ.Valid() || typ.Label() != labels[k] {
			t.Errorf("%s: valid %v label %s, want %s", typ, typ.Valid(), typ.Label(), labels[k])
		}
	}
	if ExitType("fired").Valid() || ExitType("").Valid() || ExitType("fired").Label() != "fired" {
		t.Error("an unknown type is valid or labelled")
	}
	// ExitTypes hands out a copy.
	ExitTypes()[0] = "x"
	if ExitTypes()[0] != ExitResignation {
		t.Error("ExitTypes shares its slice")
	}
}

// Inputs the exit service must never pass: refused with a typed error.
func TestExitQuoteRefuses(t *testing.T) {
	ok := ExitPolicy{Type: ExitRetirement, HoldingReturn: true}
	exit := day(2025, 3, 20)
	for _, c := range []struct {
		name   string
		policy ExitPolicy
		p, i   string
		rate   string
		want   error
	}{
		{"unknown type", ExitPolicy{Type: "fired"}, "500000", "0", "0.0435", ErrExitTypeUnknown},
		{"empty type", ExitPolicy{}, "500000", "0", "0.0435", ErrExitTypeUnknown},
		{"negative principal", ok, "-0.01", "0", "0.0435", ErrExitPrincipalInvalid},
		{"principal below the fen", ok, "100.001", "0", "0.0435", ErrExitPrincipalInvalid},
		{"positive interest", ok, "500000", "0.01", "0.0435", ErrExitInterestInvalid},
		{"interest below the fen", ok, "500000", "-0.001", "0.0435", ErrExitInterestInvalid},
		{"negative rate", ok, "500000", "0", "-0.01", ErrExitRateInvalid},
	} {
		if _, err := ExitQuote(c.policy, d(c.p), d(c.i), exitPayments, exit, d(c.rate)); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
}
