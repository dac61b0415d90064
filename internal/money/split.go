package money

import (
	"math"
	"math/big"
	"math/bits"
	"slices"

	"github.com/shopspring/decimal"

	"hehuo/internal/apperr"
)

// Weight is one claim on a split: whose part it is (a partner or stake id,
// which also breaks ties) and how much it weighs, e.g. the partner's principal.
type Weight struct {
	ID    int64
	Value decimal.Decimal
}

// SplitYuan splits total among weights in whole yuan (R3, R5).
func SplitYuan(total decimal.Decimal, weights []Weight) ([]decimal.Decimal, error) {
	return Split(total, weights, Yuan)
}

// SplitFen splits total among weights in fen (R7 and every other amount).
func SplitFen(total decimal.Decimal, weights []Weight) ([]decimal.Decimal, error) {
	return Split(total, weights, Fen)
}

// Split divides total among weights pro rata, by largest remainder: each part
// is the exact share total × w_i / Σw floored to unit, and the units left
// over go one each to the largest fractional remainders, ties to the lower
// ID. The parts sum to total exactly, each lies within one unit of its exact
// share, and the result for each ID does not depend on the order of weights.
// parts[i] belongs to weights[i].
//
// A negative total is split as its magnitude and the parts negated, so that
// splitting -x mirrors splitting x. Split refuses a unit that is not
// positive, a total that is not a whole number of units, negative weights,
// repeated IDs, and a non-zero total over weights that sum to zero. All
// arithmetic is on integers counted in units, so nothing is lost to division.
func Split(total decimal.Decimal, weights []Weight, unit decimal.Decimal) ([]decimal.Decimal, error) {
	if unit.Sign() <= 0 {
		return nil, apperr.Invalid("split_unit_invalid", "", "分摊单位必须为正数")
	}
	n, ok := units(total, unit)
	if !ok {
		return nil, apperr.Invalid("split_total_not_whole_units", "", "待分摊总额 %s 不是 %s 的整数倍", total, unit)
	}
	negative := n.Sign() < 0
	n.Abs(n)
	if err := checkWeights(weights); err != nil {
		return nil, err
	}

	var counts []*big.Int // parts in units, before the sign
	if n.IsUint64() {
		if w, sum, ok := uint64Weights(weights); ok {
			if sum == 0 && n.Sign() != 0 {
				return nil, zeroWeights(total)
			}
			return toParts(splitUint64(n.Uint64(), w, sum, weights), unit, negative), nil
		}
	}
	w, sum := bigWeights(weights)
	if sum.Sign() == 0 {
		if n.Sign() != 0 {
			return nil, zeroWeights(total)
		}
		counts = make([]*big.Int, len(w))
		for i := range counts {
			counts[i] = new(big.Int)
		}
	} else {
		counts = splitBig(n, w, sum, weights)
	}
	parts := make([]decimal.Decimal, len(counts))
	for i, c := range counts {
		if negative {
			c.Neg(c)
		}
		parts[i] = decimal.NewFromBigInt(c, 0).Mul(unit)
	}
	return parts, nil
}

func zeroWeights(total decimal.Decimal) error {
	return apperr.Rule("split_zero_weights", "", "分摊基数合计为零，无法分摊 %s", total)
}

// units returns total / unit when it is a whole number.
func units(total, unit decimal.Decimal) (*big.Int, bool) {
	exp := min(total.Exponent(), unit.Exponent())
	t := scaled(total, exp)
	u := scaled(unit, exp)
	q, r := new(big.Int).QuoRem(t, u, new(big.Int))
	return q, r.Sign() == 0
}

// scaled returns d's coefficient at exponent exp (exp ≤ d's exponent).
func scaled(d decimal.Decimal, exp int32) *big.Int {
	c := d.Coefficient()
	if shift := d.Exponent() - exp; shift > 0 {
		c.Mul(c, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(shift)), nil))
	}
	return c
}

// checkWeights refuses negative weights and repeated IDs.
func checkWeights(weights []Weight) error {
	ids := make([]int64, len(weights))
	for i, w := range weights {
		if w.Value.Sign() < 0 {
			return apperr.Invalid("split_negative_weight", "", "分摊基数不能为负数（%d：%s）", w.ID, w.Value)
		}
		ids[i] = w.ID
	}
	slices.Sort(ids)
	for i := 1; i < len(ids); i++ {
		if ids[i] == ids[i-1] {
			return apperr.Invalid("split_duplicate_id", "", "分摊对象重复（%d）", ids[i])
		}
	}
	return nil
}

// minExponent is the exponent every weight can be written at as an integer.
func minExponent(weights []Weight) int32 {
	exp := int32(0)
	for i, w := range weights {
		if i == 0 || w.Value.Exponent() < exp {
			exp = w.Value.Exponent()
		}
	}
	return exp
}

// uint64Weights writes the weights as integers at a common exponent when
// they and their sum fit in 64 bits, which is every split of real money.
func uint64Weights(weights []Weight) ([]uint64, uint64, bool) {
	exp := minExponent(weights)
	out := make([]uint64, len(weights))
	var sum uint64
	for i, w := range weights {
		if w.Value.NumDigits() > 18 { // also keeps the common case free of allocations
			return nil, 0, false
		}
		v := uint64(w.Value.CoefficientInt64()) // not negative: checkWeights ran

		for shift := w.Value.Exponent() - exp; shift > 0; shift-- {
			hi, lo := bits.Mul64(v, 10)
			if hi != 0 {
				return nil, 0, false
			}
			v = lo
		}
		var carry uint64
		sum, carry = bits.Add64(sum, v, 0)
		if carry != 0 {
			return nil, 0, false
		}
		out[i] = v
	}
	return out, sum, true
}

// bigWeights writes the weights as integers at a common exponent.
func bigWeights(weights []Weight) ([]*big.Int, *big.Int) {
	exp := minExponent(weights)
	out := make([]*big.Int, len(weights))
	sum := new(big.Int)
	for i, w := range weights {
		out[i] = scaled(w.Value, exp)
		sum.Add(sum, out[i])
	}
	return out, sum
}

// splitUint64 splits n units when n and the weights fit in 64 bits: each
// product fits in 128 bits and each quotient (≤ n) in 64.
func splitUint64(n uint64, w []uint64, sum uint64, weights []Weight) []uint64 {
	q := make([]uint64, len(w))
	if sum == 0 {
		return q
	}
	r := make([]uint64, len(w))
	var assigned uint64
	for i, x := range w {
		hi, lo := bits.Mul64(n, x)
		q[i], r[i] = bits.Div64(hi, lo, sum) // hi < sum because x ≤ sum
		assigned += q[i]
	}
	order := byRemainder(weights, func(a, b int) int {
		switch {
		case r[a] > r[b]:
			return -1
		case r[a] < r[b]:
			return 1
		}
		return 0
	})
	for _, i := range order[:n-assigned] {
		q[i]++
	}
	return q
}

// toParts turns counts of units into amounts.
func toParts(counts []uint64, unit decimal.Decimal, negative bool) []decimal.Decimal {
	parts := make([]decimal.Decimal, len(counts))
	plain := unit.Coefficient().Cmp(big.NewInt(1)) == 0 // 1, 0.01: no multiplication needed
	for i, c := range counts {
		var p decimal.Decimal
		if c <= math.MaxInt64 && plain {
			v := int64(c)
			if negative {
				v = -v
			}
			p = decimal.New(v, unit.Exponent())
		} else {
			b := new(big.Int).SetUint64(c)
			if negative {
				b.Neg(b)
			}
			p = decimal.NewFromBigInt(b, 0).Mul(unit)
		}
		parts[i] = p
	}
	return parts
}

// splitBig is splitUint64 for amounts beyond 64 bits.
func splitBig(n *big.Int, w []*big.Int, sum *big.Int, weights []Weight) []*big.Int {
	q := make([]*big.Int, len(w))
	r := make([]*big.Int, len(w))
	assigned := new(big.Int)
	for i, x := range w {
		p := new(big.Int).Mul(n, x)
		q[i], r[i] = p.QuoRem(p, sum, new(big.Int))
		assigned.Add(assigned, q[i])
	}
	left := new(big.Int).Sub(n, assigned).Int64() // fewer than len(w)
	order := byRemainder(weights, func(a, b int) int { return -r[a].Cmp(r[b]) })
	for _, i := range order[:left] {
		q[i].Add(q[i], big.NewInt(1))
	}
	return q
}

// byRemainder returns the indexes of weights ordered by cmp (largest
// remainder first), ties to the lower ID.
func byRemainder(weights []Weight, cmp func(a, b int) int) []int {
	order := make([]int, len(weights))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int {
		if c := cmp(a, b); c != 0 {
			return c
		}
		switch {
		case weights[a].ID < weights[b].ID:
			return -1
		case weights[a].ID > weights[b].ID:
			return 1
		}
		return 0
	})
	return order
}
