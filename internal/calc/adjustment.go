package calc

import (
	"errors"
	"fmt"
	"slices"

	"github.com/shopspring/decimal"

	"hehuo/internal/money"
)

// Holding is one partner's position in a tier before a peak change: the
// principal allocated to them (whole yuan) and what they have paid of it.
type Holding struct {
	PartnerID int64
	Old       decimal.Decimal
	Paid      decimal.Decimal
}

// AdjustedLine is one partner's outcome of R5.
type AdjustedLine struct {
	PartnerID int64
	Old, New  decimal.Decimal
	// Delta = New − Old: positive is a top-up (补缴), negative a refund (退款).
	Delta decimal.Decimal
	Paid  decimal.Decimal
	// TopUp = max(0, New − Paid): what the partner still owes after the
	// change (a partial payer's unpaid part included). Refund =
	// max(0, Paid − New): only money actually paid in goes back.
	TopUp, Refund decimal.Decimal
}

// Adjustment is the result of R5 for one tier.
type Adjustment struct {
	Lines []AdjustedLine
	// OldTotal is A_t, NewTotal is A′_t = round(A_t × P′ / P, yuan); the
	// deltas sum to NewTotal − OldTotal exactly.
	OldTotal, NewTotal, Delta decimal.Decimal
	Trace                     Trace
}

// Errors of Adjust: the service validates its input first, so these mean a
// bug upstream.
var (
	ErrPeakInvalid      = errors.New("calc: peak capital must be positive")
	ErrPrincipalInvalid = errors.New("calc: an old principal must be a non-negative whole yuan and paid within 0..old")
)

const roundingHalfAway = "整元，四舍五入（远离零）"

// Adjust applies R5 to one tier: the allocated total A_t is scaled to
// A′_t = round(A_t × P′ / P, yuan) and re-split pro rata to the old
// principals in whole yuan by largest remainder (ties to the lower partner
// id), so an undersubscribed tier stays undersubscribed and nobody gets more
// than the scaling gives. Lines come back in the order of holdings.
func Adjust(oldPeak, newPeak decimal.Decimal, holdings []Holding) (Adjustment, error) {
	if oldPeak.Sign() <= 0 || newPeak.Sign() <= 0 {
		return Adjustment{}, fmt.Errorf("%w: %s → %s", ErrPeakInvalid, oldPeak, newPeak)
	}
	seen := make(map[int64]struct{}, len(holdings))
	oldTotal := decimal.Zero
	weights := make([]money.Weight, len(holdings))
	for i, h := range holdings {
		if h.Old.Sign() < 0 || !h.Old.IsInteger() || h.Paid.Sign() < 0 {
			return Adjustment{}, fmt.Errorf("%w: partner %d old %s paid %s", ErrPrincipalInvalid, h.PartnerID, h.Old, h.Paid)
		}
		if _, dup := seen[h.PartnerID]; dup {
			return Adjustment{}, fmt.Errorf("%w: %d", ErrDuplicatePartner, h.PartnerID)
		}
		seen[h.PartnerID] = struct{}{}
		oldTotal = oldTotal.Add(h.Old)
		weights[i] = money.Weight{ID: h.PartnerID, Value: h.Old}
	}
	// round(A_t × P′ / P): the division is exact enough at 16 digits for a
	// half-yuan decision on totals below 10^13.
	newTotal := money.RoundYuan(oldTotal.Mul(newPeak).DivRound(oldPeak, 16))
	a := Adjustment{OldTotal: oldTotal, NewTotal: newTotal, Delta: newTotal.Sub(oldTotal)}
	a.Trace = append(a.Trace, Step{
		Figure:   "allocated_total",
		Formula:  "A′_t = A_t × P′ / P",
		Inputs:   map[string]string{"A_t": oldTotal.String(), "P": oldPeak.String(), "P′": newPeak.String()},
		Rounding: roundingHalfAway,
		Value:    newTotal.String(),
	})
	parts := make([]decimal.Decimal, len(holdings))
	if oldTotal.Sign() > 0 {
		var err error
		if parts, err = money.SplitYuan(newTotal, weights); err != nil {
			return Adjustment{}, fmt.Errorf("calc: split %s: %w", newTotal, err)
		}
	} else {
		for i := range parts {
			parts[i] = decimal.Zero
		}
	}
	a.Lines = make([]AdjustedLine, len(holdings))
	for i, h := range holdings {
		n := parts[i]
		l := AdjustedLine{PartnerID: h.PartnerID, Old: h.Old, New: n, Delta: n.Sub(h.Old), Paid: h.Paid,
			TopUp: decimal.Max(decimal.Zero, n.Sub(h.Paid)), Refund: decimal.Max(decimal.Zero, h.Paid.Sub(n))}
		a.Lines[i] = l
	}
	// Trace in partner id order so that ties read as they were broken.
	order := make([]int, len(holdings))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(x, y int) int {
		if holdings[x].PartnerID < holdings[y].PartnerID {
			return -1
		}
		return 1
	})
	for _, i := range order {
		h, l := holdings[i], a.Lines[i]
		exact := decimal.Zero
		if oldTotal.Sign() > 0 {
			exact = newTotal.Mul(h.Old).DivRound(oldTotal, shareDigits)
		}
		a.Trace = append(a.Trace, Step{
			Figure:   lineFigure(h.PartnerID),
			Formula:  "new_i = A′_t × old_i / A_t；delta_i = new_i − old_i；补缴 = max(0, new_i − paid_i)；退款 = max(0, paid_i − new_i)",
			Inputs:   map[string]string{"A′_t": newTotal.String(), "old_i": h.Old.String(), "A_t": oldTotal.String(), "精确份额": exact.String(), "paid_i": h.Paid.String()},
			Rounding: roundingYuan,
			Value:    l.New.String(),
			Note:     fmt.Sprintf("delta %s；补缴 %s；退款 %s", l.Delta, l.TopUp, l.Refund),
		})
	}
	a.Trace = append(a.Trace, Step{
		Figure:  "delta",
		Formula: "Σ delta_i = A′_t − A_t",
		Inputs:  map[string]string{"A′_t": newTotal.String(), "A_t": oldTotal.String()},
		Value:   a.Delta.String(),
	})
	return a, nil
}
