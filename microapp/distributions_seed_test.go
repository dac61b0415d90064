package microapp_test

import (
	"strings"
	"testing"

	"github.com/shopspring/decimal"
)

// The seed manual's 34-line table (如何进行手动-非测算-利润分配): the
// principal batch at 100% with C empty and the manual first profit batch,
// as the seed shows them. Names are invented (never those printed in the
// manual); 序号, the 退/离 flags and every amount are the seed's. The
// seed's F column is rows 2, 9 and 10 (111,573.50 / 10,199.50 /
// 10,207.42); 分配合计 is D + F.
type seed34Line struct {
	seq          int
	name         string
	exited, left bool
	a, b, d, f   string
	total        string
}

var seed34 = []seed34Line{
	{1, "安景和", true, false, "746428.00", "-309818.50", "436609.50", "0.00", "436609.50"},
	{2, "柏若川", false, true, "288940.00", "-111573.50", "177366.50", "111573.50", "288940.00"},
	{3, "蔡知微", true, true, "57788.00", "-19442.10", "38345.90", "0.00", "38345.90"},
	{4, "曾远舟", true, false, "288940.00", "-102074.11", "186865.89", "0.00", "186865.89"},
	{5, "戴清漪", true, false, "28894.00", "-9760.63", "19133.37", "0.00", "19133.37"},
	{6, "邓书衡", true, false, "28894.00", "-9800.21", "19093.79", "0.00", "19093.79"},
	{7, "杜若衡", true, false, "28894.00", "-9760.63", "19133.37", "0.00", "19133.37"},
	{8, "范星澜", true, false, "28894.00", "-9681.47", "19212.53", "0.00", "19212.53"},
	{9, "冯予安", false, false, "28894.00", "-10199.50", "18694.50", "10199.50", "28894.00"},
	{10, "高念慈", false, false, "28894.00", "-10207.42", "18686.58", "10207.42", "28894.00"},
	{11, "葛云深", true, false, "28894.00", "-9760.63", "19133.37", "0.00", "19133.37"},
	{12, "顾南乔", false, false, "144470.00", "-63484.70", "80985.30", "0.00", "80985.30"},
	{13, "郝思远", false, false, "5779.00", "-2031.97", "3747.03", "0.00", "3747.03"},
	{14, "洪一苇", true, false, "5779.00", "-1936.28", "3842.72", "0.00", "3842.72"},
	{15, "胡听松", true, true, "5779.00", "-1983.78", "3795.22", "0.00", "3795.22"},
	{16, "纪南风", true, false, "96313.00", "-42375.91", "53937.09", "0.00", "53937.09"},
	{17, "江映月", false, false, "96313.00", "-42296.75", "54016.25", "0.00", "54016.25"},
	{18, "金石开", false, false, "144470.00", "-63484.70", "80985.30", "0.00", "80985.30"},
	{19, "康宁远", true, false, "28894.00", "-9800.21", "19093.79", "0.00", "19093.79"},
	{20, "黎明澈", false, false, "28894.00", "-10183.67", "18710.33", "0.00", "18710.33"},
	{21, "梁语冰", false, false, "28894.00", "-10413.24", "18480.76", "0.00", "18480.76"},
	{22, "凌霜降", false, false, "86682.00", "-31999.67", "54682.33", "0.00", "54682.33"},
	{23, "鲁怀瑾", false, false, "28894.00", "-10397.41", "18496.59", "0.00", "18496.59"},
	{24, "吕望川", true, true, "57788.00", "-19442.10", "38345.90", "0.00", "38345.90"},
	{25, "马嘉言", true, false, "57788.00", "-19283.78", "38504.22", "0.00", "38504.22"},
	{26, "聂青崖", false, false, "2889397.00", "-15427.01", "2873969.99", "0.00", "2873969.99"},
	{27, "潘月白", false, false, "2889397.00", "-15427.01", "2873969.99", "0.00", "2873969.99"},
	{28, "彭知行", false, false, "28894.00", "-10524.07", "18369.93", "0.00", "18369.93"},
	{29, "齐思源", false, false, "28894.00", "-10508.23", "18385.77", "0.00", "18385.77"},
	{30, "任秋水", false, false, "28894.00", "-10476.57", "18417.43", "0.00", "18417.43"},
	{31, "沈静姝", false, false, "28894.00", "-10476.57", "18417.43", "0.00", "18417.43"},
	{32, "施云起", true, true, "5779.00", "-1983.78", "3795.22", "0.00", "3795.22"},
	{33, "陶然之", true, true, "240783.00", "-94400.21", "146382.79", "0.00", "146382.79"},
	{34, "汪海宁", true, true, "28894.00", "-9562.73", "19331.27", "0.00", "19331.27"},
}

// seed34Totals is the 合计 row: A, B, D (= E, C being empty), F, 分配合计.
var seed34Totals = struct{ a, b, d, f, total string }{"8570917.00", "-1119979.05", "7450937.95", "131980.42", "7582918.37"}

// The transcription itself adds up: D = A + B, 分配合计 = D + F, and the
// columns sum to the seed's 合计 row.
func TestDistributionSeedTableAddsUp(t *testing.T) {
	var a, b, d, f, total decimal.Decimal
	for i, l := range seed34 {
		la, lb, ld, lf, lt := decimal.RequireFromString(l.a), decimal.RequireFromString(l.b), decimal.RequireFromString(l.d),
			decimal.RequireFromString(l.f), decimal.RequireFromString(l.total)
		if l.seq != i+1 || !la.Add(lb).Equal(ld) || !ld.Add(lf).Equal(lt) {
			t.Errorf("seed line %d (%s) does not add up", l.seq, l.name)
		}
		a, b, d, f, total = a.Add(la), b.Add(lb), d.Add(ld), f.Add(lf), total.Add(lt)
	}
	got := []string{a.StringFixed(2), b.StringFixed(2), d.StringFixed(2), f.StringFixed(2), total.StringFixed(2)}
	want := []string{seed34Totals.a, seed34Totals.b, seed34Totals.d, seed34Totals.f, seed34Totals.total}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("seed 合计 %v, want %v", got, want)
	}
}
