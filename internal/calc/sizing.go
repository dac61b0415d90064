package calc

import (
	"fmt"

	"github.com/shopspring/decimal"

	"hehuo/internal/money"
)

// Tier names (GLOSSARY): the four tiers a partnership is split into, in the
// order every screen lists them.
const (
	TierHolding  = "holding"  // 控股集团
	TierProperty = "property" // 置业集团
	TierCity     = "city"     // 城市公司
	TierOther    = "other"    // 其它
)

// Tiers lists the tier names in display order.
var Tiers = []string{TierHolding, TierProperty, TierCity, TierOther}

// TierLabel is the Chinese name of a tier.
func TierLabel(tier string) string {
	switch tier {
	case TierHolding:
		return "控股集团"
	case TierProperty:
		return "置业集团"
	case TierCity:
		return "城市公司"
	case TierOther:
		return "其它"
	}
	return tier
}

// Ratios are the tier ratios of the establishment terms, as fractions
// (0.0331 = 3.31%).
type Ratios struct {
	Holding  decimal.Decimal `json:"holding"`
	Property decimal.Decimal `json:"property"`
	City     decimal.Decimal `json:"city"`
	Other    decimal.Decimal `json:"other"`
}

// Get returns the ratio of tier, zero for an unknown tier.
func (r Ratios) Get(tier string) decimal.Decimal {
	switch tier {
	case TierHolding:
		return r.Holding
	case TierProperty:
		return r.Property
	case TierCity:
		return r.City
	case TierOther:
		return r.Other
	}
	return decimal.Zero
}

// Sum is the partnership ratio Σ r_t.
func (r Ratios) Sum() decimal.Decimal {
	return r.Holding.Add(r.Property).Add(r.City).Add(r.Other)
}

// Pools are amounts per tier, in yuan.
type Pools struct {
	Holding  decimal.Decimal
	Property decimal.Decimal
	City     decimal.Decimal
	Other    decimal.Decimal
}

// Get returns the pool of tier, zero for an unknown tier.
func (p Pools) Get(tier string) decimal.Decimal {
	switch tier {
	case TierHolding:
		return p.Holding
	case TierProperty:
		return p.Property
	case TierCity:
		return p.City
	case TierOther:
		return p.Other
	}
	return decimal.Zero
}

// Set returns p with tier's pool replaced by v; an unknown tier changes nothing.
func (p Pools) Set(tier string, v decimal.Decimal) Pools {
	switch tier {
	case TierHolding:
		p.Holding = v
	case TierProperty:
		p.Property = v
	case TierCity:
		p.City = v
	case TierOther:
		p.Other = v
	}
	return p
}

// Total is Σ of the pools.
func (p Pools) Total() decimal.Decimal {
	return p.Holding.Add(p.Property).Add(p.City).Add(p.Other)
}

// Sizing is R1's result: the tier pools, the partnership total and ratio,
// and how each was obtained.
type Sizing struct {
	Pools Pools
	Total decimal.Decimal
	Ratio decimal.Decimal
	Trace Trace
}

// Percent renders a fraction as a percentage for people ("0.0331" → "3.31%"),
// keeping every significant digit of the fraction.
func Percent(f decimal.Decimal) string {
	return f.Shift(2).String() + "%"
}

// Size applies R1: pool_t = round(P × r_t, yuan); total = Σ pool_t;
// ratio = Σ r_t.
func Size(peak decimal.Decimal, r Ratios) Sizing {
	var s Sizing
	for _, t := range Tiers {
		rt := r.Get(t)
		exact := peak.Mul(rt)
		pool := money.RoundYuan(exact)
		s.Pools = s.Pools.Set(t, pool)
		s.Trace = append(s.Trace, Step{
			Figure:   "pool." + t,
			Formula:  fmt.Sprintf("资金峰值 P × %s比例 r_%s", TierLabel(t), t),
			Inputs:   map[string]string{"P": money.Format(peak), "r_" + t: Percent(rt), "P × r": exact.String()},
			Rounding: "整元，四舍五入（远离零）",
			Value:    money.Format(pool),
		})
	}
	s.Total = s.Pools.Total()
	s.Ratio = r.Sum()
	s.Trace = append(s.Trace, Step{
		Figure:  "total",
		Formula: "跟投总额 = Σ 各层级额度",
		Inputs: map[string]string{
			"pool.holding": money.Format(s.Pools.Holding), "pool.property": money.Format(s.Pools.Property),
			"pool.city": money.Format(s.Pools.City), "pool.other": money.Format(s.Pools.Other),
		},
		Value: money.Format(s.Total),
	}, Step{
		Figure:  "ratio",
		Formula: "合伙投资占比 = Σ 各层级比例",
		Inputs: map[string]string{
			"r_holding": Percent(r.Holding), "r_property": Percent(r.Property), "r_city": Percent(r.City), "r_other": Percent(r.Other),
		},
		Value: Percent(s.Ratio),
	})
	return s
}

// Violation is one broken cap of R1, with the field at fault and a Chinese
// message.
type Violation struct {
	Code    string `json:"code"`
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Caps are the limits R1 checks against.
type Caps struct {
	// Group is the cap on Σ r_t (default 10%).
	Group decimal.Decimal
	// PerPerson is the cap on one partner's allocation as a fraction of P
	// (default 1%); allocation applies it, here it need only be sane.
	PerPerson decimal.Decimal
}

// DefaultCaps are RULES R1's defaults.
var DefaultCaps = Caps{Group: decimal.New(10, -2), PerPerson: decimal.New(1, -2)}

// CheckCaps returns R1's violations for the ratios under caps, in field
// order; none means the terms may be submitted.
func CheckCaps(peak decimal.Decimal, r Ratios, c Caps) []Violation {
	var vs []Violation
	if !peak.IsPositive() {
		vs = append(vs, Violation{"peak_capital_invalid", "peak_capital", "资金峰值须大于0"})
	}
	for _, t := range Tiers {
		if r.Get(t).IsNegative() {
			vs = append(vs, Violation{"tier_ratio_negative", "tier_ratios." + t, TierLabel(t) + "比例不能为负数"})
		}
	}
	if !c.Group.IsPositive() || c.Group.GreaterThan(decimal.NewFromInt(1)) {
		vs = append(vs, Violation{"group_cap_ratio_invalid", "group_cap_ratio", "集团合伙上限须大于0且不超过100%"})
	} else if r.Sum().GreaterThan(c.Group) {
		vs = append(vs, Violation{"group_cap_exceeded", "tier_ratios",
			fmt.Sprintf("各层级比例合计 %s 超过集团合伙上限 %s", Percent(r.Sum()), Percent(c.Group))})
	}
	if !c.PerPerson.IsPositive() || c.PerPerson.GreaterThan(decimal.NewFromInt(1)) {
		vs = append(vs, Violation{"per_person_cap_ratio_invalid", "per_person_cap_ratio", "个人认购上限须大于0且不超过100%"})
	}
	return vs
}

// PerPersonCap is the most one partner may be allocated: round(P × cap, yuan)
// — whole yuan, like allocated principal.
func PerPersonCap(peak, capRatio decimal.Decimal) decimal.Decimal {
	return money.RoundYuan(peak.Mul(capRatio))
}
