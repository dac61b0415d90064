package calc

import (
	"fmt"
	"math/big"
	"strconv"

	"github.com/shopspring/decimal"

	"hehuo/internal/money"
)

const roundingFen = "分，四舍五入（远离零）"

const roundingFenSplit = "分：先取整（向下），余下的分按小数部分从大到小逐一分配（相同则合伙人编号小者优先）"

// PrincipalLine is one partner's line of a principal batch (RULES R6): A the
// principal outstanding, B the capital interest not yet deducted (≤ 0), C
// the other adjustment the accountant entered (any sign), and the results
// D = round(A × ratio, fen) + B and E = D + C.
type PrincipalLine struct {
	PartnerID int64
	A, B, C   decimal.Decimal
	D, E      decimal.Decimal
	Trace     Trace
}

// Principal applies R6 to one line: D = round(A × ratio, fen) + B, E = D + C.
// The ratio is the batch's 本次返还比例 (1 = 100%; a liquidation returns all).
// Only A × ratio is rounded: B and C are amounts already.
func Principal(partnerID int64, a, b, c, ratio decimal.Decimal) PrincipalLine {
	returned := money.RoundFen(a.Mul(ratio))
	d := returned.Add(b)
	e := d.Add(c)
	id := strconv.FormatInt(partnerID, 10)
	return PrincipalLine{PartnerID: partnerID, A: a, B: b, C: c, D: d, E: e, Trace: Trace{
		{
			Figure:   "d[" + id + "]",
			Formula:  "D = round(A × 本次返还比例, 分) + B（本金分配 不含其它）",
			Inputs:   map[string]string{"A": money.Format(a), "本次返还比例": ratio.String(), "A × 比例": returned.StringFixed(2), "B": money.Format(b)},
			Rounding: roundingFen,
			Value:    money.Format(d),
		},
		{
			Figure:  "e[" + id + "]",
			Formula: "E = D + C（本金分配 含其它）",
			Inputs:  map[string]string{"D": money.Format(d), "C": money.Format(c)},
			Value:   money.Format(e),
		},
	}}
}

// ProfitAmount is R7's batch amount X when it is not entered directly:
// round(net profit × partnership ratio × this distribution's ratio, fen),
// the partnership ratio being Σ principal / peak capital (R3), computed
// exactly and rounded once.
func ProfitAmount(netProfit, principal, peakCapital, ratio decimal.Decimal) (decimal.Decimal, Step, error) {
	if !peakCapital.IsPositive() {
		return decimal.Zero, Step{}, fmt.Errorf("calc: peak capital must be positive, got %s", peakCapital)
	}
	x := money.RoundFen(netProfit.Mul(principal).Mul(ratio).Div(peakCapital))
	return x, Step{
		Figure:  "x",
		Formula: "X = round(锦艺方预计净利润 × 合伙投资占比 × 本次分配比例, 分)，合伙投资占比 = Σ 本金 / 资金峰值",
		Inputs: map[string]string{"锦艺方预计净利润": money.Format(netProfit), "Σ 本金": money.Format(principal),
			"资金峰值": money.Format(peakCapital), "本次分配比例": ratio.String()},
		Rounding: roundingFen,
		Value:    money.Format(x),
	}, nil
}

// PartnershipRatio is Σ principal / peak capital (R3) to places decimals,
// as the form shows it beside X.
func PartnershipRatio(principal, peakCapital decimal.Decimal, places int32) decimal.Decimal {
	if !peakCapital.IsPositive() {
		return decimal.Zero
	}
	return principal.DivRound(peakCapital, places)
}

// Stake is one partner's weight in a profit split: the principal as
// allocated, before any return (R7).
type Stake struct {
	PartnerID int64
	Principal decimal.Decimal
}

// ProfitLine is one partner's F of a profit split.
type ProfitLine struct {
	PartnerID int64
	Principal decimal.Decimal
	F         decimal.Decimal
	Trace     Trace
}

// SplitProfit applies R7: X is split among the stakes pro rata to principal,
// in fen by largest remainder (ties to the lower partner id), so Σ F = X
// exactly and each F lies within a fen of its exact share. Lines come back
// in the order of stakes. A stake of zero gets 0; X > 0 over stakes that sum
// to zero is refused (422 split_zero_weights), as is a negative stake or an
// X that is not whole fen.
func SplitProfit(x decimal.Decimal, stakes []Stake) ([]ProfitLine, error) {
	weights := make([]money.Weight, len(stakes))
	base := decimal.Zero
	for i, s := range stakes {
		weights[i] = money.Weight{ID: s.PartnerID, Value: s.Principal}
		base = base.Add(s.Principal)
	}
	parts, err := money.SplitFen(x, weights)
	if err != nil {
		return nil, err
	}
	xS, baseS := money.Format(x), base.String()
	out := make([]ProfitLine, len(stakes))
	for i, s := range stakes {
		exact, floor := "0", "0.00"
		if base.IsPositive() {
			exact, floor = shareFen(x, s.Principal, base)
		}
		leftover := parts[i].Sub(decimal.RequireFromString(floor))
		out[i] = ProfitLine{PartnerID: s.PartnerID, Principal: s.Principal, F: parts[i], Trace: Trace{{
			Figure:  "f[" + strconv.FormatInt(s.PartnerID, 10) + "]",
			Formula: "F = X × 本金 / Σ 本金（按认缴本金比例，最大余数法到分）",
			Inputs: map[string]string{"X": xS, "本金": s.Principal.String(), "Σ 本金": baseS,
				"精确份额": exact, "取整": floor, "余数补位": money.Format(leftover)},
			Rounding: roundingFenSplit,
			Value:    money.Format(parts[i]),
		}}}
	}
	return out, nil
}

// shareFen is x × w / base exactly to shareDigits decimals (half away from
// zero) and floored to the fen, both as decimal strings; the floor in integer
// arithmetic (x is whole fen; w and base are scaled to one exponent).
func shareFen(x, w, base decimal.Decimal) (exact, floor string) {
	exp := min(w.Exponent(), base.Exponent(), 0)
	num := new(big.Int).Mul(x.Shift(2).BigInt(), w.Shift(-exp).BigInt())
	fen := new(big.Int).Quo(num, base.Shift(-exp).BigInt())
	return x.Mul(w).DivRound(base, shareDigits).String(), decimal.NewFromBigInt(fen, -2).StringFixed(2)
}
