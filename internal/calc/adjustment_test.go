package calc

import (
	"errors"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/shopspring/decimal"
)

func TestAdjust(t *testing.T) {
	type h struct {
		id        int64
		old, paid string
	}
	tests := []struct {
		name              string
		oldPeak, newPeak  string
		holdings          []h
		newP, topUp, refd []string
		newTotal          string
	}{
		{
			// RULES R5's example, to the yuan: city tier fully subscribed
			// and fully paid, 220,000,000 → 200,000,000.
			name: "R5 example", oldPeak: "220000000", newPeak: "200000000",
			holdings: []h{{1, "500000", "500000"}, {2, "300000", "300000"}, {3, "297143", "297143"}, {4, "222857", "222857"}},
			newP:     []string{"454546", "272727", "270130", "202597"},
			topUp:    []string{"0", "0", "0", "0"},
			refd:     []string{"45454", "27273", "27013", "20260"},
			newTotal: "1200000",
		},
		{
			// A partial payer owes new − paid and gets nothing back; one who
			// paid nothing owes the whole new principal.
			name: "R5 example with partial payers", oldPeak: "220000000", newPeak: "200000000",
			holdings: []h{{1, "500000", "300000"}, {2, "300000", "0"}, {3, "297143", "297143"}, {4, "222857", "210000.50"}},
			newP:     []string{"454546", "272727", "270130", "202597"},
			topUp:    []string{"154546", "272727", "0", "0"},
			refd:     []string{"0", "0", "27013", "7403.5"},
			newTotal: "1200000",
		},
		{
			name: "peak rises: top-ups", oldPeak: "220000000", newPeak: "242000000",
			holdings: []h{{1, "500000", "500000"}, {2, "300000", "300000"}, {3, "297143", "297143"}, {4, "222857", "222857"}},
			newP:     []string{"550000", "330000", "326857", "245143"},
			topUp:    []string{"50000", "30000", "29714", "22286"},
			refd:     []string{"0", "0", "0", "0"},
			newTotal: "1452000",
		},
		{
			name: "empty tier stays empty", oldPeak: "100", newPeak: "50",
			holdings: nil, newTotal: "0",
		},
		{
			name: "partners with nothing allocated", oldPeak: "100", newPeak: "50",
			holdings: []h{{1, "0", "0"}, {2, "0", "0"}},
			newP:     []string{"0", "0"}, topUp: []string{"0", "0"}, refd: []string{"0", "0"},
			newTotal: "0",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var in []Holding
			for _, x := range tt.holdings {
				in = append(in, Holding{PartnerID: x.id, Old: d(x.old), Paid: d(x.paid)})
			}
			a, err := Adjust(d(tt.oldPeak), d(tt.newPeak), in)
			if err != nil {
				t.Fatal(err)
			}
			if !a.NewTotal.Equal(d(tt.newTotal)) {
				t.Errorf("new total %s, want %s", a.NewTotal, tt.newTotal)
			}
			sum := decimal.Zero
			for i, l := range a.Lines {
				if l.PartnerID != in[i].PartnerID {
					t.Errorf("line %d partner %d", i, l.PartnerID)
				}
				if !l.New.Equal(d(tt.newP[i])) || !l.TopUp.Equal(d(tt.topUp[i])) || !l.Refund.Equal(d(tt.refd[i])) {
					t.Errorf("partner %d: new %s top-up %s refund %s, want %s %s %s", l.PartnerID, l.New, l.TopUp, l.Refund, tt.newP[i], tt.topUp[i], tt.refd[i])
				}
				if !l.Delta.Equal(l.New.Sub(l.Old)) {
					t.Errorf("partner %d: delta %s", l.PartnerID, l.Delta)
				}
				sum = sum.Add(l.Delta)
			}
			if !sum.Equal(a.Delta) || !a.Delta.Equal(a.NewTotal.Sub(a.OldTotal)) {
				t.Errorf("Σ delta %s, pool delta %s", sum, a.Delta)
			}
			if len(a.Trace) != len(in)+2 {
				t.Errorf("trace has %d steps", len(a.Trace))
			}
		})
	}
}

func TestAdjustRefusesBadInput(t *testing.T) {
	ok := []Holding{{PartnerID: 1, Old: d("100"), Paid: d("0")}}
	for name, c := range map[string]struct {
		oldP, newP string
		hs         []Holding
		want       error
	}{
		"zero old peak":     {"0", "1", ok, ErrPeakInvalid},
		"negative new peak": {"1", "-1", ok, ErrPeakInvalid},
		"fractional old":    {"1", "2", []Holding{{PartnerID: 1, Old: d("1.5")}}, ErrPrincipalInvalid},
		"negative paid":     {"1", "2", []Holding{{PartnerID: 1, Old: d("1"), Paid: d("-1")}}, ErrPrincipalInvalid},
		"duplicate partner": {"1", "2", []Holding{{PartnerID: 1, Old: d("1")}, {PartnerID: 1, Old: d("2")}}, ErrDuplicatePartner},
	} {
		if _, err := Adjust(d(c.oldP), d(c.newP), c.hs); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", name, err, c.want)
		}
	}
}

// TestAdjustProperties: on random tiers Σ delta = A′_t − A_t, every new
// principal lies within one yuan of its exact share, and the result does
// not depend on the order of partners.
func TestAdjustProperties(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 5))
	for n := 0; n < 300; n++ {
		k := 1 + r.IntN(12)
		hs := make([]Holding, k)
		for i := range hs {
			old := decimal.NewFromInt(r.Int64N(2_000_000))
			hs[i] = Holding{PartnerID: int64(i + 1), Old: old, Paid: decimal.NewFromInt(r.Int64N(old.IntPart() + 1))}
		}
		oldP := decimal.NewFromInt(1 + r.Int64N(1e9))
		newP := decimal.NewFromInt(1 + r.Int64N(1e9))
		a, err := Adjust(oldP, newP, hs)
		if err != nil {
			t.Fatal(err)
		}
		sum := decimal.Zero
		for i, l := range a.Lines {
			sum = sum.Add(l.Delta)
			if a.OldTotal.Sign() > 0 {
				exact := a.NewTotal.Mul(hs[i].Old).Div(a.OldTotal)
				if l.New.Sub(exact).Abs().GreaterThanOrEqual(decimal.NewFromInt(1)) {
					t.Fatalf("partner %d new %s exact %s", l.PartnerID, l.New, exact)
				}
			}
			if !l.New.Sub(l.Paid).Equal(l.TopUp.Sub(l.Refund)) {
				t.Fatalf("partner %d: top-up − refund ≠ new − paid", l.PartnerID)
			}
		}
		if !sum.Equal(a.NewTotal.Sub(a.OldTotal)) {
			t.Fatalf("Σ delta %s ≠ %s", sum, a.NewTotal.Sub(a.OldTotal))
		}
		rev := slices.Clone(hs)
		slices.Reverse(rev)
		b, _ := Adjust(oldP, newP, rev)
		for i, l := range b.Lines {
			if !l.New.Equal(a.Lines[k-1-i].New) {
				t.Fatalf("order changes the split")
			}
		}
	}
}
