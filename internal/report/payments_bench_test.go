package report_test

import (
	"context"
	"testing"

	"hehuo/internal/db/dbtest"
	"hehuo/internal/position/positiontest"
	"hehuo/internal/report"
)

// 立项及缴款汇总表 at 1,000 projects / 20,000 partners: each project has an
// approved round of 20 partners, 19 of them paid on the ledger, with
// capital interest (R4). Target < 300 ms (reported, not gating).
// go test ./internal/report -run '^$' -bench EstablishmentPayments -benchtime 5x
func BenchmarkEstablishmentPayments1000Projects(b *testing.B) {
	d := dbtest.New(b)
	const projects = 1000
	positiontest.Seed(b, d, positiontest.World{Projects: projects, PerRound: 20, Partners: 20000, Unpaid: 1})
	s := report.NewService(d)
	ctx := context.Background()
	b.ResetTimer()
	for range b.N {
		rows, err := s.EstablishmentPayments(ctx, report.Filter{All: true})
		if err != nil || len(rows) != projects || rows[0].Paid.String() != "1254000.00" || rows[0].Partners != 20 ||
			rows[0].Interest == nil || rows[0].Interest.IsZero() {
			b.Fatalf("rows = %d %v (%+v)", len(rows), err, rows[0])
		}
	}
}
