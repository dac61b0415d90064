package calc

import (
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/shopspring/decimal"
)

func d(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func TestAllocate(t *testing.T) {
	type sub struct {
		id        int64
		mandatory bool
		requested string
	}
	tests := []struct {
		name           string
		pool           string
		subs           []sub
		want           []string // allocated, in the order of subs
		shortfall      string
		oversubscribed bool
		scaled         bool
	}{
		{
			// RULES R3's example, to the yuan.
			name: "R3 example",
			pool: "1320000",
			subs: []sub{{1, true, "500000"}, {2, true, "300000"}, {3, false, "400000"}, {4, false, "300000"}},
			want: []string{"500000", "300000", "297143", "222857"}, shortfall: "0", oversubscribed: true,
		},
		{
			name: "R3 example in another order gives the same lines",
			pool: "1320000",
			subs: []sub{{4, false, "300000"}, {2, true, "300000"}, {3, false, "400000"}, {1, true, "500000"}},
			want: []string{"222857", "300000", "297143", "500000"}, shortfall: "0", oversubscribed: true,
		},
		{
			name: "undersubscribed: everyone gets their ask, the shortfall stays with the group",
			pool: "1320000",
			subs: []sub{{1, true, "500000"}, {2, false, "300000"}, {3, false, "0"}},
			want: []string{"500000", "300000", "0"}, shortfall: "520000",
		},
		{
			name: "exactly subscribed",
			pool: "800000",
			subs: []sub{{1, true, "500000"}, {2, false, "300000"}},
			want: []string{"500000", "300000"}, shortfall: "0",
		},
		{
			name: "mandatory alone exceed the pool: scaled pro rata, voluntary get nothing",
			pool: "1000000",
			subs: []sub{{1, true, "500000"}, {2, true, "400000"}, {3, true, "300000"}, {4, false, "100000"}},
			// exact 416666.67 / 333333.33 / 250000 → floors 416666 + 333333 + 250000 = 999999; the 1 to id 1 (.67)
			want: []string{"416667", "333333", "250000", "0"}, shortfall: "0", oversubscribed: true, scaled: true,
		},
		{
			name: "mandatory exactly fill the pool: voluntary get nothing",
			pool: "800000",
			subs: []sub{{1, true, "500000"}, {2, true, "300000"}, {3, false, "100000"}},
			want: []string{"500000", "300000", "0"}, shortfall: "0", oversubscribed: true,
		},
		{
			name: "zero pool",
			pool: "0",
			subs: []sub{{1, true, "500000"}, {2, false, "100000"}},
			want: []string{"0", "0"}, shortfall: "0", oversubscribed: true, scaled: true,
		},
		{
			name: "zero pool, nobody asked",
			pool: "0",
			subs: []sub{{1, true, "0"}},
			want: []string{"0"}, shortfall: "0",
		},
		{
			name: "no subscriptions",
			pool: "1000",
			want: []string{}, shortfall: "1000",
		},
		{
			// 100 split 1:1:1 → 33.33 each; floors 99; the leftover yuan to the lowest id.
			name: "ties go to the lower partner id",
			pool: "100",
			subs: []sub{{9, false, "50"}, {5, false, "50"}, {7, false, "50"}},
			want: []string{"33", "34", "33"}, shortfall: "0", oversubscribed: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			subs := make([]Subscription, len(tt.subs))
			for i, s := range tt.subs {
				subs[i] = Subscription{PartnerID: s.id, Mandatory: s.mandatory, Requested: d(s.requested)}
			}
			a, err := Allocate(d(tt.pool), subs)
			if err != nil {
				t.Fatal(err)
			}
			if len(a.Lines) != len(tt.want) {
				t.Fatalf("%d lines, want %d", len(a.Lines), len(tt.want))
			}
			sum := decimal.Zero
			for i, w := range tt.want {
				if a.Lines[i].PartnerID != tt.subs[i].id || !a.Lines[i].Allocated.Equal(d(w)) {
					t.Errorf("line %d = %d %s, want %d %s", i, a.Lines[i].PartnerID, a.Lines[i].Allocated, tt.subs[i].id, w)
				}
				sum = sum.Add(a.Lines[i].Allocated)
			}
			if !a.Allocated.Equal(sum) {
				t.Errorf("Allocated = %s, Σ lines = %s", a.Allocated, sum)
			}
			if !a.Shortfall.Equal(d(tt.shortfall)) {
				t.Errorf("shortfall = %s, want %s", a.Shortfall, tt.shortfall)
			}
			if a.Oversubscribed != tt.oversubscribed || a.MandatoryScaled != tt.scaled {
				t.Errorf("oversubscribed, scaled = %v, %v; want %v, %v", a.Oversubscribed, a.MandatoryScaled, tt.oversubscribed, tt.scaled)
			}
			if len(a.Trace) < len(tt.want)+2 {
				t.Errorf("trace has %d steps, want one per line and the totals", len(a.Trace))
			}
		})
	}
}

// TestAllocateTraceR3 checks that the trace of R3's example shows the exact
// shares, floors and the leftover yuan as RULES.md writes them.
func TestAllocateTraceR3(t *testing.T) {
	a, err := Allocate(d("1320000"), []Subscription{
		{1, true, d("500000")}, {2, true, d("300000")}, {3, false, d("400000")}, {4, false, d("300000")}})
	if err != nil {
		t.Fatal(err)
	}
	steps := map[string]Step{}
	for _, s := range a.Trace {
		steps[s.Figure] = s
	}
	if s := steps["remaining"]; s.Value != "520000" {
		t.Errorf("remaining = %q, want 520000", s.Value)
	}
	for fig, want := range map[string][3]string{
		"allocated[3]": {"297142.857143", "297142", "1"},
		"allocated[4]": {"222857.142857", "222857", "0"},
	} {
		s := steps[fig]
		if s.Inputs["精确份额"] != want[0] || s.Inputs["取整"] != want[1] || s.Inputs["余数补位"] != want[2] {
			t.Errorf("%s inputs = %v, want share %s floor %s remainder %s", fig, s.Inputs, want[0], want[1], want[2])
		}
		if s.Rounding == "" {
			t.Errorf("%s has no rounding", fig)
		}
	}
	if s := steps["allocated[1]"]; s.Value != "500000" || s.Formula != "强投：全额保留" {
		t.Errorf("A's step = %+v", s)
	}
}

func TestAllocateRefuses(t *testing.T) {
	tests := []struct {
		name string
		pool string
		subs []Subscription
		want error
	}{
		{"negative pool", "-1", nil, ErrPoolInvalid},
		{"fractional pool", "1.5", nil, ErrPoolInvalid},
		{"fractional request", "100", []Subscription{{1, false, d("0.5")}}, ErrRequestInvalid},
		{"negative request", "100", []Subscription{{1, false, d("-5")}}, ErrRequestInvalid},
		{"partner twice", "100", []Subscription{{1, false, d("5")}, {1, true, d("5")}}, ErrDuplicatePartner},
	}
	for _, tt := range tests {
		if _, err := Allocate(d(tt.pool), tt.subs); !errors.Is(err, tt.want) {
			t.Errorf("%s: err = %v, want %v", tt.name, err, tt.want)
		}
	}
}

// TestAllocateProperties checks R3's invariants on random tiers: Σ allocated
// = min(pool, Σ requested), each line within [0, requested], mandatory kept
// in full unless they alone exceed the pool, and the result per partner does
// not depend on the order of the subscriptions.
func TestAllocateProperties(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 2026))
	for n := 0; n < 2000; n++ {
		count := r.IntN(30)
		subs := make([]Subscription, count)
		total, mandatory := decimal.Zero, decimal.Zero
		for i := range subs {
			req := decimal.NewFromInt(r.Int64N(5) * 100000) // often equal: ties
			if r.IntN(3) == 0 {
				req = decimal.NewFromInt(r.Int64N(1_000_000))
			}
			subs[i] = Subscription{PartnerID: int64(r.IntN(1000)*100 + i), Mandatory: r.IntN(3) == 0, Requested: req}
			total = total.Add(req)
			if subs[i].Mandatory {
				mandatory = mandatory.Add(req)
			}
		}
		pool := decimal.NewFromInt(r.Int64N(6_000_000))
		a, err := Allocate(pool, subs)
		if err != nil {
			t.Fatal(err)
		}
		sum := decimal.Zero
		byID := map[int64]decimal.Decimal{}
		for i, l := range a.Lines {
			s := subs[i]
			if l.Allocated.Sign() < 0 || l.Allocated.GreaterThan(s.Requested) || !l.Allocated.IsInteger() {
				t.Fatalf("case %d: partner %d allocated %s of %s", n, s.PartnerID, l.Allocated, s.Requested)
			}
			if s.Mandatory && mandatory.LessThanOrEqual(pool) && !l.Allocated.Equal(s.Requested) {
				t.Fatalf("case %d: mandatory partner %d got %s of %s", n, s.PartnerID, l.Allocated, s.Requested)
			}
			sum = sum.Add(l.Allocated)
			byID[l.PartnerID] = l.Allocated
		}
		if want := decimal.Min(pool, total); !sum.Equal(want) || sum.GreaterThan(pool) {
			t.Fatalf("case %d: Σ allocated %s, want min(pool %s, requested %s)", n, sum, pool, total)
		}
		shuffled := append([]Subscription(nil), subs...)
		r.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		b, err := Allocate(pool, shuffled)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range b.Lines {
			if !l.Allocated.Equal(byID[l.PartnerID]) {
				t.Fatalf("case %d: partner %d got %s shuffled, %s in order", n, l.PartnerID, l.Allocated, byID[l.PartnerID])
			}
		}
	}
}

// BenchmarkAllocate10000 allocates one oversubscribed tier of 10,000
// invitations (a fifth mandatory), trace included.
func BenchmarkAllocate10000(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 1))
	subs := make([]Subscription, 10000)
	for i := range subs {
		subs[i] = Subscription{PartnerID: int64(i + 1), Mandatory: i%5 == 0, Requested: decimal.NewFromInt(100000 + r.Int64N(400000))}
	}
	pool := decimal.NewFromInt(2_000_000_000)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Allocate(pool, subs); err != nil {
			b.Fatal(err)
		}
	}
}
