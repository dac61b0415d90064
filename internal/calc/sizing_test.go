package calc_test

import (
	"testing"

	"github.com/shopspring/decimal"

	"hehuo/internal/calc"
)

func d(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func TestSize(t *testing.T) {
	cases := []struct {
		name                           string
		peak                           string
		ratios                         [4]string
		holding, property, city, other string
		total, ratio                   string
	}{
		{"RULES R1 example", "220000000.00", [4]string{"0", "0.0331", "0.006", "0"},
			"0", "7282000", "1320000", "0", "8602000", "0.0391"},
		{"rounds half away from zero", "1000.50", [4]string{"0.5", "0.001", "0", "0"},
			"500", "1", "0", "0", "501", "0.501"},
		{"each tier rounded on its own", "333.33", [4]string{"0.1", "0.1", "0.1", "0.1"},
			"33", "33", "33", "33", "132", "0.4"},
		{"no ratios", "50000000.00", [4]string{"0", "0", "0", "0"},
			"0", "0", "0", "0", "0", "0"},
		{"all four tiers", "123456789.12", [4]string{"0.01", "0.02", "0.03", "0.025"},
			"1234568", "2469136", "3703704", "3086420", "10493828", "0.085"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := calc.Ratios{Holding: d(c.ratios[0]), Property: d(c.ratios[1]), City: d(c.ratios[2]), Other: d(c.ratios[3])}
			s := calc.Size(d(c.peak), r)
			for _, w := range []struct{ tier, want string }{
				{"holding", c.holding}, {"property", c.property}, {"city", c.city}, {"other", c.other},
			} {
				if got := s.Pools.Get(w.tier); !got.Equal(d(w.want)) {
					t.Errorf("pool %s = %s, want %s", w.tier, got, w.want)
				}
			}
			if !s.Total.Equal(d(c.total)) {
				t.Errorf("total = %s, want %s", s.Total, c.total)
			}
			if !s.Ratio.Equal(d(c.ratio)) {
				t.Errorf("ratio = %s, want %s", s.Ratio, c.ratio)
			}
			if !s.Pools.Total().Equal(s.Total) {
				t.Errorf("pools sum %s ≠ total %s", s.Pools.Total(), s.Total)
			}
			if len(s.Trace) != 6 {
				t.Fatalf("trace has %d steps, want 6", len(s.Trace))
			}
		})
	}
}

func TestSizeTraceShowsInputsAndRounding(t *testing.T) {
	s := calc.Size(d("220000000"), calc.Ratios{Property: d("0.0331"), City: d("0.006")})
	st := s.Trace[1]
	if st.Figure != "pool.property" || st.Value != "7282000.00" || st.Inputs["r_property"] != "3.31%" ||
		st.Inputs["P"] != "220000000.00" || st.Rounding == "" {
		t.Errorf("property step = %+v", st)
	}
	if last := s.Trace[5]; last.Figure != "ratio" || last.Value != "3.91%" {
		t.Errorf("ratio step = %+v", last)
	}
}

func TestCheckCaps(t *testing.T) {
	ok := calc.Ratios{Property: d("0.0331"), City: d("0.006")}
	cases := []struct {
		name   string
		peak   string
		r      calc.Ratios
		caps   calc.Caps
		fields []string
	}{
		{"R1 example within default caps", "220000000", ok, calc.DefaultCaps, nil},
		{"exactly at the group cap", "100", calc.Ratios{Holding: d("0.05"), City: d("0.05")}, calc.DefaultCaps, nil},
		{"above the group cap", "100", calc.Ratios{Holding: d("0.05"), City: d("0.0501")}, calc.DefaultCaps, []string{"tier_ratios"}},
		{"a lower group cap", "100", ok, calc.Caps{Group: d("0.03"), PerPerson: d("0.01")}, []string{"tier_ratios"}},
		{"negative ratio", "100", calc.Ratios{Other: d("-0.01")}, calc.DefaultCaps, []string{"tier_ratios.other"}},
		{"zero peak", "0", ok, calc.DefaultCaps, []string{"peak_capital"}},
		{"per-person cap zero", "100", ok, calc.Caps{Group: d("0.1"), PerPerson: d("0")}, []string{"per_person_cap_ratio"}},
		{"group cap above 100%", "100", ok, calc.Caps{Group: d("1.5"), PerPerson: d("0.01")}, []string{"group_cap_ratio"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			vs := calc.CheckCaps(d(c.peak), c.r, c.caps)
			if len(vs) != len(c.fields) {
				t.Fatalf("violations %+v, want fields %v", vs, c.fields)
			}
			for i, v := range vs {
				if v.Field != c.fields[i] || v.Message == "" || v.Code == "" {
					t.Errorf("violation %d = %+v, want field %s", i, v, c.fields[i])
				}
			}
		})
	}
}

func TestPerPersonCap(t *testing.T) {
	if got := calc.PerPersonCap(d("220000000"), d("0.01")); !got.Equal(d("2200000")) {
		t.Errorf("cap = %s", got)
	}
	if got := calc.PerPersonCap(d("150.50"), d("0.01")); !got.Equal(d("2")) {
		t.Errorf("cap = %s, want 2 (1.505 rounds up)", got)
	}
}
