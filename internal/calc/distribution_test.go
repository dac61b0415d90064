package calc

import (
	"testing"

	"github.com/shopspring/decimal"

	"hehuo/internal/apperr"
	"hehuo/internal/money"
)

// RULES R6: D = round(A × ratio, fen) + B, E = D + C.
func TestPrincipalR6(t *testing.T) {
	for _, c := range []struct {
		name             string
		a, b, c, ratio   string
		wantD, wantE     string
		wantAxRatioInput string
	}{
		// R6's example (R4's B, ratio 100%, C empty).
		{"A 500,000", "500000", "0", "0", "1", "500000.00", "500000.00", "500000.00"},
		{"B 300,000", "300000", "-679.32", "0", "1", "299320.68", "299320.68", "300000.00"},
		{"C 297,143", "297143", "-1593.58", "0", "1", "295549.42", "295549.42", "297143.00"},
		{"D 222,857", "222857", "-796.79", "0", "1", "222060.21", "222060.21", "222857.00"},
		// A partial batch: 80% of the principal, B deducted in full.
		{"80%", "297143", "-1593.58", "0", "0.8", "236120.82", "236120.82", "237714.40"},
		// A × ratio rounds half away from zero: 222,857 × 0.333333 = 74,285.592…
		{"a third", "222857", "0", "0", "0.333333", "74285.59", "74285.59", "74285.59"},
		{"half a fen up", "0.01", "0", "0", "0.5", "0.01", "0.01", "0.01"},
		// C of either sign moves E only.
		{"C positive", "300000", "-679.32", "1000.50", "1", "299320.68", "300321.18", "300000.00"},
		{"C negative", "300000", "-679.32", "-20000", "1", "299320.68", "279320.68", "300000.00"},
		{"nothing held", "0", "0", "0", "1", "0.00", "0.00", "0.00"},
	} {
		t.Run(c.name, func(t *testing.T) {
			l := Principal(7, d(c.a), d(c.b), d(c.c), d(c.ratio))
			if !l.D.Equal(d(c.wantD)) || !l.E.Equal(d(c.wantE)) {
				t.Fatalf("D %s E %s, want %s %s", l.D, l.E, c.wantD, c.wantE)
			}
			if len(l.Trace) != 2 || l.Trace[0].Figure != "d[7]" || l.Trace[0].Value != money.Format(d(c.wantD)) ||
				l.Trace[0].Inputs["A × 比例"] != c.wantAxRatioInput || l.Trace[1].Value != money.Format(d(c.wantE)) {
				t.Fatalf("trace %+v", l.Trace)
			}
		})
	}
}

// RULES R7: X split pro rata to principal, in fen by largest remainder.
func TestSplitProfitR7(t *testing.T) {
	r3 := []Stake{{1, d("500000")}, {2, d("300000")}, {3, d("297143")}, {4, d("222857")}}
	for _, c := range []struct {
		name   string
		x      string
		stakes []Stake
		want   []string
	}{
		// R7's example: floors sum 99,999.98; the leftover fen go to A (.78) and D (.60).
		{"R7", "100000", r3, []string{"37878.79", "22727.27", "22510.83", "16883.11"}},
		{"order does not matter", "100000", []Stake{r3[3], r3[1], r3[0], r3[2]}, []string{"16883.11", "22727.27", "37878.79", "22510.83"}},
		// Equal remainders: the lower partner id gets the fen.
		{"ties by id", "0.02", []Stake{{9, d("1")}, {5, d("1")}, {7, d("1")}}, []string{"0.00", "0.01", "0.01"}},
		{"zero stake gets nothing", "1000", []Stake{{1, d("1")}, {2, d("0")}, {3, d("3")}}, []string{"250.00", "0.00", "750.00"}},
		{"nothing to split", "0", []Stake{{1, d("0")}, {2, d("0")}}, []string{"0.00", "0.00"}},
		{"fractional stakes", "100", []Stake{{1, d("0.5")}, {2, d("1.25")}}, []string{"28.57", "71.43"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			lines, err := SplitProfit(d(c.x), c.stakes)
			if err != nil {
				t.Fatal(err)
			}
			sum := decimal.Zero
			for i, l := range lines {
				if !l.F.Equal(d(c.want[i])) || l.PartnerID != c.stakes[i].PartnerID {
					t.Errorf("line %d: partner %d F %s, want %s", i, l.PartnerID, l.F, c.want[i])
				}
				if len(l.Trace) != 1 || l.Trace[0].Value != money.Format(l.F) {
					t.Errorf("trace %+v", l.Trace)
				}
				sum = sum.Add(l.F)
			}
			if !sum.Equal(d(c.x)) {
				t.Errorf("Σ F %s ≠ X %s", sum, c.x)
			}
		})
	}
	lines, _ := SplitProfit(d("100000"), r3)
	if in := lines[0].Trace[0].Inputs; in["精确份额"] != "37878.787879" || in["取整"] != "37878.78" || in["余数补位"] != "0.01" {
		t.Errorf("A's trace %v", in)
	}
	if in := lines[2].Trace[0].Inputs; in["精确份额"] != "22510.833333" || in["取整"] != "22510.83" || in["余数补位"] != "0.00" {
		t.Errorf("C's trace %v", in)
	}
}

func TestSplitProfitRefuses(t *testing.T) {
	if _, err := SplitProfit(d("100"), []Stake{{1, d("0")}, {2, d("0")}}); apperr.As(err) == nil || apperr.As(err).Code != "split_zero_weights" {
		t.Errorf("zero stakes: %v", err)
	}
	if _, err := SplitProfit(d("100.001"), []Stake{{1, d("1")}}); err == nil {
		t.Error("X in thousandths split")
	}
	if _, err := SplitProfit(d("100"), []Stake{{1, d("-1")}, {2, d("2")}}); err == nil {
		t.Error("negative stake split")
	}
}

// X = round(net profit × Σ principal / peak × ratio, fen), rounded once.
func TestProfitAmount(t *testing.T) {
	for _, c := range []struct{ net, principal, peak, ratio, want string }{
		// R3's city tier (1,320,000) of a 220,000,000 peak: 0.6%; 30,000,000 × 0.6% × 50% = 90,000.
		{"30000000", "1320000", "220000000", "0.5", "90000.00"},
		// 12,345,678.91 × 1,320,000 / 220,000,000 × 0.333333 = 24,691.33… (exact, then rounded).
		{"12345678.91", "1320000", "220000000", "0.333333", "24691.33"},
		{"0", "1320000", "220000000", "1", "0.00"},
	} {
		x, step, err := ProfitAmount(d(c.net), d(c.principal), d(c.peak), d(c.ratio))
		if err != nil || !x.Equal(d(c.want)) || step.Value != c.want {
			t.Errorf("ProfitAmount(%s, %s, %s, %s) = %s %v, want %s", c.net, c.principal, c.peak, c.ratio, x, err, c.want)
		}
	}
	if _, _, err := ProfitAmount(d("1"), d("1"), d("0"), d("1")); err == nil {
		t.Error("zero peak accepted")
	}
	if got := PartnershipRatio(d("1320000"), d("220000000"), 8); !got.Equal(d("0.006")) {
		t.Errorf("PartnershipRatio = %s", got)
	}
}
