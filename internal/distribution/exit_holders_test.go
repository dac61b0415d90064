package distribution

import (
	"context"
	"testing"

	"hehuo/internal/ledger"
	"hehuo/internal/partner"
	"hehuo/internal/position"
)

// After an exit (R9) the exited partner holds no principal and no profit
// stake; the platform company holds the transferred stake in both: the
// holders of a principal and of a profit batch say so.
func TestHoldersAfterAnExitTakeover(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	platform, err := partner.Platform(ctx, w.d)
	if err != nil {
		t.Fatal(err)
	}
	exited := w.parts[1] // 乙, 300,000 paid
	if _, err := ledger.PostTx(ctx, w.d, ledger.Transaction{IdempotencyKey: "exit:test:takeover", Kind: position.KindExitTakeover,
		ProjectID: &w.project, Postings: []ledger.Posting{
			{Account: ledger.Principal(w.project, exited), Amount: dec("300000")},
			{Account: ledger.Principal(w.project, platform), Amount: dec("-300000")},
		}}); err != nil {
		t.Fatal(err)
	}
	for _, k := range []Kind{KindPrincipal, KindProfit} {
		hs, err := w.s.holders(ctx, w.d, w.project, k)
		if err != nil {
			t.Fatal(err)
		}
		got := map[int64]holder{}
		total := dec("0")
		for _, h := range hs {
			got[h.PartnerID] = h
			total = total.Add(h.Stake)
		}
		if _, ok := got[exited]; ok {
			t.Errorf("%s: the exited partner is still a holder: %+v", k, got[exited])
		}
		p, ok := got[platform]
		if !ok {
			t.Fatalf("%s: the platform company is not a holder: %+v", k, hs)
		}
		if !p.Held.Equal(dec("300000")) || !p.Stake.Equal(dec("300000")) || !p.Interest.IsZero() {
			t.Errorf("%s: platform held %s stake %s interest %s, want 300000 / 300000 / 0", k, p.Held, p.Stake, p.Interest)
		}
		if !total.Equal(dec("1320000")) {
			t.Errorf("%s: Σ stakes %s, want 1320000 (the stake moved, none lost)", k, total)
		}
	}
	ps, err := w.s.pos.Positions(ctx, w.d, position.Query{ProjectIDs: []int64{w.project}})
	if err != nil {
		t.Fatal(err)
	}
	paidIn := dec("0")
	for _, p := range ps {
		paidIn = paidIn.Add(p.PaidIn())
		if p.PartnerID == exited && (!p.Principal.IsZero() || !p.Outstanding.IsZero() || !p.Returned.IsZero() || !p.TransferredOut.Equal(dec("300000"))) {
			t.Errorf("exited position: principal %s outstanding %s returned %s transferred out %s", p.Principal, p.Outstanding, p.Returned, p.TransferredOut)
		}
		if p.PartnerID == platform && (!p.Principal.Equal(dec("300000")) || !p.Paid.Equal(dec("300000")) || !p.Outstanding.IsZero()) {
			t.Errorf("platform position: principal %s paid %s outstanding %s", p.Principal, p.Paid, p.Outstanding)
		}
	}
	if !paidIn.Equal(dec("1320000")) {
		t.Errorf("Σ paid in %s, want 1320000: an exit moves the stake, it adds no money", paidIn)
	}
}
