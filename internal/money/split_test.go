package money

import (
	"math/big"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/shopspring/decimal"

	"hehuo/internal/apperr"
)

func weightsOf(values ...string) []Weight {
	w := make([]Weight, len(values))
	for i, v := range values {
		w[i] = Weight{ID: int64(i + 1), Value: decimal.RequireFromString(v)}
	}
	return w
}

func TestSplitExamples(t *testing.T) {
	tests := []struct {
		name    string
		total   string
		weights []Weight
		unit    decimal.Decimal
		want    []string
	}{
		{
			// RULES R3: the voluntary remainder of the city tier, in whole yuan.
			name: "R3 voluntary subscriptions", total: "520000", unit: Yuan,
			weights: weightsOf("400000", "300000"),
			want:    []string{"297143", "222857"},
		},
		{
			// RULES R5: the city tier scaled 1,320,000 → 1,200,000.
			name: "R5 peak change", total: "1200000", unit: Yuan,
			weights: weightsOf("500000", "300000", "297143", "222857"),
			want:    []string{"454546", "272727", "270130", "202597"},
		},
		{
			// RULES R7: profit of 100,000.00 in fen; the two leftover fen go to A and D.
			name: "R7 profit", total: "100000.00", unit: Fen,
			weights: weightsOf("500000", "300000", "297143", "222857"),
			want:    []string{"37878.79", "22727.27", "22510.83", "16883.11"},
		},
		{
			name: "equal weights, ties to the lower id", total: "10", unit: Yuan,
			weights: weightsOf("1", "1", "1"),
			want:    []string{"4", "3", "3"},
		},
		{
			name: "one fen over three", total: "0.01", unit: Fen,
			weights: weightsOf("1", "1", "1"),
			want:    []string{"0.01", "0", "0"},
		},
		{
			name: "negative total mirrors the positive one", total: "-10", unit: Yuan,
			weights: weightsOf("1", "1", "1"),
			want:    []string{"-4", "-3", "-3"},
		},
		{
			name: "zero weight gets nothing", total: "100", unit: Yuan,
			weights: weightsOf("0", "3", "1"),
			want:    []string{"0", "75", "25"},
		},
		{
			name: "decimal weights", total: "1.00", unit: Fen,
			weights: weightsOf("0.5", "0.25", "0.25"),
			want:    []string{"0.5", "0.25", "0.25"},
		},
		{
			name: "zero total over zero weights", total: "0", unit: Fen,
			weights: weightsOf("0", "0"),
			want:    []string{"0", "0"},
		},
		{
			name: "nothing to split among", total: "0", unit: Fen,
			weights: nil,
			want:    []string{},
		},
		{
			name: "beyond 64 bits", total: "100000000000000000000000000.00", unit: Fen,
			weights: weightsOf("1", "1", "1"),
			want:    []string{"33333333333333333333333333.34", "33333333333333333333333333.33", "33333333333333333333333333.33"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Split(decimal.RequireFromString(tt.total), tt.weights, tt.unit)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %d parts, want %d", len(got), len(tt.want))
			}
			for i := range got {
				if !got[i].Equal(decimal.RequireFromString(tt.want[i])) {
					t.Errorf("part %d = %s, want %s", i, got[i], tt.want[i])
				}
			}
		})
	}
}

func TestSplitHelpers(t *testing.T) {
	w := weightsOf("400000", "300000")
	y, err := SplitYuan(MustParse("520000"), w)
	if err != nil || !y[0].Equal(MustParse("297143")) {
		t.Errorf("SplitYuan = %v, %v", y, err)
	}
	f, err := SplitFen(MustParse("0.07"), w)
	if err != nil || !f[0].Equal(MustParse("0.04")) || !f[1].Equal(MustParse("0.03")) {
		t.Errorf("SplitFen = %v, %v", f, err)
	}
}

func TestSplitRefuses(t *testing.T) {
	tests := []struct {
		name    string
		total   string
		weights []Weight
		unit    decimal.Decimal
		code    string
	}{
		{"fen total split in yuan", "100.50", weightsOf("1"), Yuan, "split_total_not_whole_units"},
		{"three decimals in fen", "1.005", weightsOf("1"), Fen, "split_total_not_whole_units"},
		{"negative weight", "10", weightsOf("1", "-1"), Yuan, "split_negative_weight"},
		{"zero weights", "10", weightsOf("0", "0"), Yuan, "split_zero_weights"},
		{"no weights", "10", nil, Yuan, "split_zero_weights"},
		{"zero unit", "10", weightsOf("1"), decimal.Zero, "split_unit_invalid"},
		{"negative unit", "10", weightsOf("1"), Yuan.Neg(), "split_unit_invalid"},
		{"repeated id", "10", []Weight{{ID: 7, Value: Yuan}, {ID: 7, Value: Yuan}}, Yuan, "split_duplicate_id"},
	}
	for _, tt := range tests {
		_, err := Split(decimal.RequireFromString(tt.total), tt.weights, tt.unit)
		if e := apperr.As(err); e == nil || e.Code != tt.code {
			t.Errorf("%s: error = %v, want code %s", tt.name, err, tt.code)
		}
	}
}

// checkSplit asserts the properties every split must have: parts sum to the
// total, each part is a whole number of units within one unit of its exact
// share, and the leftover went to the largest remainders (lower id on ties).
func checkSplit(t *testing.T, total decimal.Decimal, weights []Weight, unit decimal.Decimal, parts []decimal.Decimal) {
	t.Helper()
	if len(parts) != len(weights) {
		t.Fatalf("got %d parts for %d weights", len(parts), len(weights))
	}
	sum := decimal.Zero
	sumW := new(big.Rat)
	for i, p := range parts {
		sum = sum.Add(p)
		sumW.Add(sumW, weights[i].Value.Rat())
		if !p.Mod(unit).IsZero() {
			t.Fatalf("part %d = %s is not a whole number of %s", i, p, unit)
		}
	}
	if !sum.Equal(total) {
		t.Fatalf("parts sum to %s, want %s", sum, total)
	}
	if sumW.Sign() == 0 {
		return
	}
	u := unit.Rat()
	for i, p := range parts {
		exact := new(big.Rat).Mul(total.Rat(), weights[i].Value.Rat())
		exact.Quo(exact, sumW)
		diff := new(big.Rat).Sub(p.Rat(), exact)
		if diff.Abs(diff).Cmp(u) >= 0 {
			t.Fatalf("part %d (id %d) = %s, more than one unit from the exact share %s", i, weights[i].ID, p, exact.FloatString(6))
		}
	}
}

// shuffledSplit splits a shuffled copy of weights and returns the parts in
// the original order, to check that the order of input does not matter.
func shuffledSplit(t *testing.T, rng *rand.Rand, total decimal.Decimal, weights []Weight, unit decimal.Decimal) []decimal.Decimal {
	t.Helper()
	perm := rng.Perm(len(weights))
	shuffled := make([]Weight, len(weights))
	for i, j := range perm {
		shuffled[i] = weights[j]
	}
	parts, err := Split(total, shuffled, unit)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]decimal.Decimal, len(weights))
	for i, j := range perm {
		out[j] = parts[i]
	}
	return out
}

func TestSplitProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(20240301, 7))
	for round := 0; round < 2000; round++ {
		unit := Fen
		if rng.IntN(2) == 0 {
			unit = Yuan
		}
		n := 1 + rng.IntN(12)
		weights := make([]Weight, n)
		for i := range weights {
			v := decimal.New(rng.Int64N(1_000_000_00), -2) // up to 1,000,000.00
			if rng.IntN(5) == 0 {
				v = decimal.New(int64(1+rng.IntN(3)), 5) // many equal weights
			}
			if rng.IntN(10) == 0 {
				v = decimal.Zero
			}
			weights[i] = Weight{ID: rng.Int64N(1000)*int64(n+1)*1000 + int64(i), Value: v}
		}
		total := decimal.New(rng.Int64N(10_000_000_000), 0).Mul(unit)
		if rng.IntN(4) == 0 {
			total = total.Neg()
		}
		parts, err := Split(total, weights, unit)
		if apperr.As(err) != nil && apperr.As(err).Code == "split_zero_weights" {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		checkSplit(t, total, weights, unit, parts)
		again := shuffledSplit(t, rng, total, weights, unit)
		if !slices.EqualFunc(parts, again, decimal.Decimal.Equal) {
			t.Fatalf("round %d: the split depends on input order:\n%v\n%v", round, parts, again)
		}
	}
}

func TestSplitBigMatchesUint64(t *testing.T) {
	// The same split computed on both paths: the 64-bit one, and the big one
	// forced by scaling every weight by 10^20 (which changes no share).
	rng := rand.New(rand.NewPCG(1, 2))
	for round := 0; round < 500; round++ {
		n := 1 + rng.IntN(8)
		small := make([]Weight, n)
		huge := make([]Weight, n)
		for i := range small {
			v := decimal.New(1+rng.Int64N(1000), 0)
			small[i] = Weight{ID: int64(n - i), Value: v}
			huge[i] = Weight{ID: int64(n - i), Value: v.Shift(20)}
		}
		total := decimal.New(rng.Int64N(1_000_000), -2)
		a, err1 := SplitFen(total, small)
		b, err2 := SplitFen(total, huge)
		if err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
		if !slices.EqualFunc(a, b, decimal.Decimal.Equal) {
			t.Fatalf("paths disagree: %v vs %v", a, b)
		}
	}
}

func FuzzSplit(f *testing.F) {
	f.Add(int64(520000), false, []byte{40, 30})
	f.Add(int64(10000000), true, []byte{50, 30, 29, 22})
	f.Add(int64(-7), true, []byte{1, 1, 1, 0})
	f.Add(int64(0), false, []byte{0})
	f.Fuzz(func(t *testing.T, total int64, fen bool, raw []byte) {
		if len(raw) > 64 {
			raw = raw[:64]
		}
		unit := Yuan
		if fen {
			unit = Fen
		}
		weights := make([]Weight, len(raw))
		for i, b := range raw {
			// A few distinct ids in scrambled order; weights with ties.
			weights[i] = Weight{ID: int64((i*37)%101) + int64(i/101)*101, Value: decimal.New(int64(b%17)*int64(b), -1)}
		}
		tot := decimal.New(total, 0).Mul(unit)
		parts, err := Split(tot, weights, unit)
		if err != nil {
			if e := apperr.As(err); e != nil && e.Code == "split_zero_weights" {
				return
			}
			t.Fatal(err)
		}
		checkSplit(t, tot, weights, unit, parts)
		rng := rand.New(rand.NewPCG(uint64(total), uint64(len(raw))))
		again := shuffledSplit(t, rng, tot, weights, unit)
		if !slices.EqualFunc(parts, again, decimal.Decimal.Equal) {
			t.Fatalf("the split depends on input order:\n%v\n%v", parts, again)
		}
	})
}

func BenchmarkSplit10000(b *testing.B) {
	rng := rand.New(rand.NewPCG(3, 4))
	weights := make([]Weight, 10000)
	for i := range weights {
		weights[i] = Weight{ID: int64(i + 1), Value: decimal.New(100000+rng.Int64N(900000), 0)}
	}
	total := MustParse("12345678.91")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := SplitFen(total, weights); err != nil {
			b.Fatal(err)
		}
	}
}
