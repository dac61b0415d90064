package calc

import (
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strconv"
	"strings"

	"github.com/shopspring/decimal"

	"hehuo/internal/money"
)

// Subscription is one partner's ask in a tier, the input of R3.
type Subscription struct {
	PartnerID int64
	Mandatory bool
	// Requested is the partner's subscription in whole yuan (0 when the
	// partner did not subscribe).
	Requested decimal.Decimal
}

// Line is one partner's allocated principal (whole yuan).
type Line struct {
	PartnerID int64
	Allocated decimal.Decimal
}

// Allocation is the result of R3 for one tier.
type Allocation struct {
	// Lines are in the order of the subscriptions given.
	Lines []Line
	// Requested is Σ subscriptions; Allocated is Σ lines (≤ Pool).
	Requested, Allocated decimal.Decimal
	// Shortfall is Pool − Allocated: the quota that stays with the group
	// when the tier is undersubscribed (R3.1); zero when oversubscribed.
	Shortfall decimal.Decimal
	// Oversubscribed reports Σ subscriptions > pool (R3.2).
	Oversubscribed bool
	// MandatoryScaled reports that the mandatory subscriptions alone
	// exceeded the pool and were scaled pro rata (R3.2's exception).
	MandatoryScaled bool
	Trace           Trace
}

// Errors of Allocate. The round service validates its input before calling,
// so these mean a bug upstream rather than a user's mistake.
var (
	ErrPoolInvalid      = errors.New("calc: pool must be a non-negative whole yuan")
	ErrRequestInvalid   = errors.New("calc: a subscription must be a non-negative whole yuan")
	ErrDuplicatePartner = errors.New("calc: a partner appears twice in one tier")
)

// shareDigits is how many decimals the trace shows of an exact pro-rata
// share ("297142.857143"): enough for an accountant to check the floor and
// the remainder by hand.
const shareDigits = 6

const roundingYuan = "整元：先取整（向下），余下的元按小数部分从大到小逐一分配（相同则合伙人编号小者优先）"

// Allocate applies R3 to one tier: when Σ subscriptions ≤ pool everyone gets
// what they asked; otherwise mandatory subscriptions are kept in full (scaled
// pro rata if they alone exceed the pool) and what remains is split among
// the voluntary ones pro rata to their amounts, in whole yuan by largest
// remainder (ties to the lower partner id). Every line is ≤ its request and
// Σ lines = min(pool, Σ requested).
func Allocate(pool decimal.Decimal, subs []Subscription) (Allocation, error) {
	if pool.Sign() < 0 || !pool.IsInteger() {
		return Allocation{}, fmt.Errorf("%w: %s", ErrPoolInvalid, pool)
	}
	seen := make(map[int64]struct{}, len(subs))
	total, mandatory, voluntary := decimal.Zero, decimal.Zero, decimal.Zero
	for _, s := range subs {
		if s.Requested.Sign() < 0 || !s.Requested.IsInteger() {
			return Allocation{}, fmt.Errorf("%w: partner %d asked %s", ErrRequestInvalid, s.PartnerID, s.Requested)
		}
		if _, dup := seen[s.PartnerID]; dup {
			return Allocation{}, fmt.Errorf("%w: %d", ErrDuplicatePartner, s.PartnerID)
		}
		seen[s.PartnerID] = struct{}{}
		total = total.Add(s.Requested)
		if s.Mandatory {
			mandatory = mandatory.Add(s.Requested)
		} else {
			voluntary = voluntary.Add(s.Requested)
		}
	}

	a := Allocation{Lines: make([]Line, len(subs)), Requested: total}
	a.Trace = append(a.Trace, Step{
		Figure:  "requested",
		Formula: "Σ 认购金额（强投 + 自愿）",
		Inputs:  map[string]string{"强投": mandatory.String(), "自愿": voluntary.String(), "额度": pool.String()},
		Value:   total.String(),
	})

	if total.LessThanOrEqual(pool) {
		// R3.1: undersubscribed (or exactly subscribed) — everyone gets their ask.
		for i, s := range subs {
			a.Lines[i] = Line{PartnerID: s.PartnerID, Allocated: s.Requested}
			a.Trace = append(a.Trace, Step{
				Figure:  lineFigure(s.PartnerID),
				Formula: "认购合计 ≤ 额度：按认购金额全额分配",
				Inputs:  map[string]string{"认购": s.Requested.String(), "强投": mandatoryWord(s.Mandatory)},
				Value:   s.Requested.String(),
			})
		}
		a.Allocated = total
		a.Shortfall = pool.Sub(total)
		a.Trace = append(a.Trace, Step{
			Figure:  "shortfall",
			Formula: "额度 − Σ 分配（未认足部分留归集团）",
			Inputs:  map[string]string{"额度": pool.String(), "Σ 分配": total.String()},
			Value:   a.Shortfall.String(),
		})
		return a, nil
	}

	a.Oversubscribed = true
	if mandatory.GreaterThan(pool) {
		// R3.2's exception: the mandatory subscriptions alone exceed the
		// pool, so they share it pro rata and voluntary ones get nothing.
		a.MandatoryScaled = true
		a.Trace = append(a.Trace, Step{
			Figure:  "mandatory",
			Formula: "强投合计 > 额度：额度按强投认购金额比例分配，自愿认购为 0",
			Inputs:  map[string]string{"强投合计": mandatory.String(), "额度": pool.String()},
			Value:   pool.String(),
		})
		if err := a.split(pool, mandatory, subs, true); err != nil {
			return Allocation{}, err
		}
		for i, s := range subs {
			if !s.Mandatory {
				a.Lines[i] = Line{PartnerID: s.PartnerID, Allocated: decimal.Zero}
				a.Trace = append(a.Trace, Step{
					Figure:  lineFigure(s.PartnerID),
					Formula: "强投已占满额度：自愿认购分配 0",
					Inputs:  map[string]string{"认购": s.Requested.String(), "强投": "否"},
					Value:   "0",
				})
			}
		}
	} else {
		remaining := pool.Sub(mandatory)
		a.Trace = append(a.Trace, Step{
			Figure:  "remaining",
			Formula: "认购合计 > 额度：强投全额保留，余额 = 额度 − 强投合计，按自愿认购金额比例分配",
			Inputs:  map[string]string{"额度": pool.String(), "强投合计": mandatory.String(), "自愿合计": voluntary.String()},
			Value:   remaining.String(),
		})
		for i, s := range subs {
			if s.Mandatory {
				a.Lines[i] = Line{PartnerID: s.PartnerID, Allocated: s.Requested}
				a.Trace = append(a.Trace, Step{
					Figure:  lineFigure(s.PartnerID),
					Formula: "强投：全额保留",
					Inputs:  map[string]string{"认购": s.Requested.String(), "强投": "是"},
					Value:   s.Requested.String(),
				})
			}
		}
		if err := a.split(remaining, voluntary, subs, false); err != nil {
			return Allocation{}, err
		}
	}
	for _, l := range a.Lines {
		a.Allocated = a.Allocated.Add(l.Allocated)
	}
	a.Shortfall = decimal.Zero
	a.Trace = append(a.Trace, Step{
		Figure:  "allocated",
		Formula: "Σ 分配 = 额度（超额认购）",
		Inputs:  map[string]string{"额度": pool.String()},
		Value:   a.Allocated.String(),
	})
	return a, nil
}

// split divides amount among the subscriptions whose Mandatory flag equals
// mandatory, pro rata to their requests (which sum to base), in whole yuan by
// largest remainder, and traces each line's exact share, floor and the
// leftover unit it received.
func (a *Allocation) split(amount, base decimal.Decimal, subs []Subscription, mandatory bool) error {
	var idx []int
	var weights []money.Weight
	for i, s := range subs {
		if s.Mandatory == mandatory {
			idx = append(idx, i)
			weights = append(weights, money.Weight{ID: s.PartnerID, Value: s.Requested})
		}
	}
	parts, err := money.SplitYuan(amount, weights)
	if err != nil {
		return fmt.Errorf("calc: split %s: %w", amount, err)
	}
	// Trace in partner id order so that ties read as they were broken.
	order := make([]int, len(idx))
	for k := range order {
		order[k] = k
	}
	slices.SortFunc(order, func(x, y int) int { return cmpID(weights[x].ID, weights[y].ID) })
	who := "自愿"
	if mandatory {
		who = "强投"
	}
	// Formatted once: 10,000 lines must allocate in well under 50 ms.
	amountS, baseS := amount.String(), base.String()
	formula := fmt.Sprintf("%s：%s × 认购 / %s合计", who, amountS, who)
	amountI, baseI := amount.BigInt(), base.BigInt()
	halfBase := new(big.Int).Rsh(baseI, 1)
	scale := new(big.Int).Exp(big.NewInt(10), big.NewInt(shareDigits), nil)
	sumKey := who + "合计"
	var prod, q, r, q6 big.Int
	for _, k := range order {
		i := idx[k]
		s := subs[i]
		// Integer arithmetic (amount, request and base are whole yuan): the
		// floor, and the exact share to shareDigits decimals rounded half up.
		exact, floor := "0", "0"
		var floorI int64
		if base.Sign() > 0 {
			prod.Mul(amountI, s.Requested.BigInt())
			q.QuoRem(&prod, baseI, &r)
			floor, floorI = q.String(), q.Int64()
			q6.Mul(&r, scale).Add(&q6, halfBase).Quo(&q6, baseI)
			exact = shareString(&q, &q6, scale)
		}
		part := parts[k].IntPart()
		a.Lines[i] = Line{PartnerID: s.PartnerID, Allocated: parts[k]}
		a.Trace = append(a.Trace, Step{
			Figure:  lineFigure(s.PartnerID),
			Formula: formula,
			Inputs: map[string]string{
				"认购": s.Requested.String(), sumKey: baseS, "待分配": amountS,
				"精确份额": exact, "取整": floor, "余数补位": strconv.FormatInt(part-floorI, 10),
			},
			Rounding: roundingYuan,
			Value:    strconv.FormatInt(part, 10),
		})
	}
	return nil
}

// shareString writes whole + frac/scale as a decimal without trailing zeros
// ("297142.857143", "250000"), carrying a fraction that rounded up to one.
func shareString(whole, frac, scale *big.Int) string {
	w := new(big.Int).Set(whole)
	f := new(big.Int).Set(frac)
	if f.Cmp(scale) >= 0 {
		w.Add(w, big.NewInt(1))
		f.Sub(f, scale)
	}
	if f.Sign() == 0 {
		return w.String()
	}
	digits := f.String()
	for len(digits) < shareDigits {
		digits = "0" + digits
	}
	return w.String() + "." + strings.TrimRight(digits, "0")
}

func cmpID(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func lineFigure(partnerID int64) string {
	return "allocated[" + strconv.FormatInt(partnerID, 10) + "]"
}

func mandatoryWord(m bool) string {
	if m {
		return "是"
	}
	return "否"
}
