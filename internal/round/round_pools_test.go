package round_test

import (
	"context"
	"testing"

	"hehuo/internal/audit"
	"hehuo/internal/round"
)

// A supplementary round's pools are what approved rounds left (DESIGN §2),
// and it may be opened only when every earlier round is approved.
func TestSupplementaryPoolsAreWhatApprovedRoundsLeft(t *testing.T) {
	ctx := context.Background()
	f := newAllocFixture(t)
	f.subscribe(t, "A", "500000")
	f.subscribe(t, "D", "200000")
	f.close(t)
	if _, err := f.s.Allocate(ctx, f.acct, f.round); err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.Create(ctx, audit.System, f.project, round.CreateInput{Kind: round.KindSupplementary}); err == nil {
		t.Fatal("a supplementary round was opened beside an unapproved one")
	} else {
		wantCode(t, err, "round_pending")
	}
	f.d.MustExec(`UPDATE rounds SET status = 'approved' WHERE id = $1`, f.round)
	sup, err := f.s.Create(ctx, audit.System, f.project, round.CreateInput{Kind: round.KindSupplementary})
	if err != nil {
		t.Fatal(err)
	}
	initial, err := f.s.Pools(ctx, f.d, f.round)
	if err != nil {
		t.Fatal(err)
	}
	left, err := f.s.Pools(ctx, f.d, sup.ID)
	if err != nil {
		t.Fatal(err)
	}
	if initial.City.String() != "1320000" || initial.Property.String() != "7282000" {
		t.Fatalf("initial pools = %+v", initial)
	}
	if left.City.String() != "620000" || left.Property.String() != "7282000" || !left.Holding.IsZero() || !left.Other.IsZero() {
		t.Fatalf("supplementary pools = %+v", left)
	}
	if sup.Name != "补充立项1" || sup.Status != round.StatusDraft {
		t.Fatalf("supplementary = %+v", sup)
	}
}
