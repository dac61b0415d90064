package round

import (
	"testing"

	"hehuo/internal/money"
)

// RULES R2's defaults: group line heads and city/project GMs 500,000; other
// mandatory 250,000; a voluntary invitation has no floor from the list.
func TestMinimumForGrade(t *testing.T) {
	l := MandatoryList{
		Grades: []MandatoryGrade{
			{Grade: "M6", MinAmount: money.AmountOf(money.MustParse("500000"))},
			{Grade: "M5", MinAmount: money.AmountOf(money.MustParse("500000"))},
			{Grade: "M4", MinAmount: money.AmountOf(money.MustParse("500000"))},
		},
		OtherMandatoryMin: money.AmountOf(money.MustParse("250000")),
		VoluntaryMin:      money.AmountOf(money.MustParse("100000")),
	}
	for _, c := range []struct {
		grade     string
		mandatory bool
		want      string
	}{
		{"M6", true, "500000"},
		{"M5", true, "500000"},
		{"M4", true, "500000"},
		{"M3", true, "250000"},
		{"", true, "250000"},
		{"M5", false, "0"},
		{"P4", false, "0"},
	} {
		if got := l.minimumFor(c.grade, c.mandatory); !got.Equal(money.MustParse(c.want)) {
			t.Errorf("minimumFor(%q, %v) = %s, want %s", c.grade, c.mandatory, got, c.want)
		}
	}
}

func TestRoundName(t *testing.T) {
	if RoundName(KindInitial, 1) != "立项" || RoundName(KindSupplementary, 2) != "补充立项2" {
		t.Fatal(RoundName(KindInitial, 1), RoundName(KindSupplementary, 2))
	}
}
