package shareholderdist

import (
	"testing"

	"github.com/shopspring/decimal"

	"hehuo/internal/shareholder"
)

// The split of a batch: pro rata to stake, largest remainder to the fen,
// Σ parts = amount exactly.
func TestSplitToTheFen(t *testing.T) {
	d := decimal.RequireFromString
	cases := []struct {
		amount string
		stakes []string
		want   []string
	}{
		{"100000.00", []string{"0.15", "0.10", "0.05"}, []string{"50000", "33333.33", "16666.67"}},
		{"0.01", []string{"0.5", "0.5"}, []string{"0.01", "0"}}, // tie to the lower id
		{"100.00", []string{"0.333333", "0.333333", "0.333333"}, []string{"33.34", "33.33", "33.33"}},
		{"1000000.00", []string{"0.2"}, []string{"1000000"}},
	}
	for _, c := range cases {
		stakes := make([]shareholder.Stake, len(c.stakes))
		for i, s := range c.stakes {
			stakes[i] = shareholder.Stake{ShareholderID: int64(i + 1), Stake: d(s)}
		}
		parts, err := split(d(c.amount), stakes)
		if err != nil {
			t.Fatal(err)
		}
		sum := decimal.Zero
		for i, p := range parts {
			if !p.Equal(d(c.want[i])) {
				t.Errorf("%s over %v: part %d = %s, want %s", c.amount, c.stakes, i, p, c.want[i])
			}
			sum = sum.Add(p)
		}
		if !sum.Equal(d(c.amount)) {
			t.Errorf("%s over %v: Σ = %s", c.amount, c.stakes, sum)
		}
	}
}

func TestStakeWords(t *testing.T) {
	if got := trimStake("0.150000"); got != "0.15" {
		t.Errorf("trimStake = %q", got)
	}
	if got := stakePercent("0.05"); got != "5.00%" {
		t.Errorf("stakePercent = %q", got)
	}
	for _, s := range []Status{StatusDraft, StatusSubmitted, StatusApproved, StatusReturned, StatusPaid} {
		if s.Label() == "" || s.Label() == string(s) {
			t.Errorf("state %s has no Chinese label", s)
		}
	}
}
