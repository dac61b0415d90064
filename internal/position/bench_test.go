package position_test

import (
	"context"
	"testing"

	"hehuo/internal/db/dbtest"
	"hehuo/internal/establishment"
	"hehuo/internal/ledger/ledgertest"
	"hehuo/internal/position"
	"hehuo/internal/position/positiontest"
)

// The bulk query for 1,000 projects / 20,000 partners (each project has an
// approved round of 20, 19 of them paid): every figure with capital
// interest, as 立项及缴款汇总表 asks for it (reported, not gating).
// go test ./internal/position -run '^$' -bench Positions1000Projects -benchtime 5x
func BenchmarkPositions1000Projects(b *testing.B) {
	d := dbtest.New(b)
	positiontest.Seed(b, d, positiontest.World{Projects: 1000, PerRound: 20, Partners: 20000, Unpaid: 1})
	ledgertest.AssertReconciles(b, d)
	s := position.NewService(d, establishment.NewService(d, nil))
	ids := make([]int64, 1000)
	for i := range ids {
		ids[i] = positiontest.Base + int64(i) + 1
	}
	ctx := context.Background()
	for _, interest := range []bool{false, true} {
		name := "figures"
		if interest {
			name = "with-interest"
		}
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				ps, err := s.Positions(ctx, nil, position.Query{ProjectIDs: ids, Interest: interest})
				if err != nil || len(ps) != 20000 {
					b.Fatalf("positions = %d, %v", len(ps), err)
				}
				if interest && ps[0].Interest.IsZero() && ps[1].Interest.IsZero() {
					b.Fatalf("no interest: %+v", ps[0])
				}
			}
		})
	}
}
