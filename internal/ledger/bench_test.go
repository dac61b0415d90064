package ledger_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"hehuo/internal/db/dbtest"
	"hehuo/internal/ledger"
)

// BenchmarkPost measures ledger transactions per second on the real
// Postgres: one payment (two postings) per database transaction, on a
// hundred partners' accounts that exist after the first round.
func BenchmarkPost(b *testing.B) {
	d := dbtest.New(b)
	ctx := context.Background()
	i := 0
	for b.Loop() {
		if _, err := ledger.PostTx(ctx, d, payment(fmt.Sprintf("bench-%d", i), int64(1+i%100), "100.00")); err != nil {
			b.Fatal(err)
		}
		i++
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tx/s")
}

// BenchmarkPostParallel is BenchmarkPost from concurrent callers, each on a
// project of its own (a project's bank account is one hot row).
func BenchmarkPostParallel(b *testing.B) {
	d := dbtest.New(b)
	ctx := context.Background()
	var seq, projects atomic.Int64
	b.RunParallel(func(pb *testing.PB) {
		p := projects.Add(1)
		for pb.Next() {
			i := seq.Add(1)
			tr := payment(fmt.Sprintf("bench-%d", i), 1+i%100, "100.00")
			tr.ProjectID = &p
			tr.Postings[0].Account = ledger.Bank(p)
			tr.Postings[1].Account = ledger.Principal(p, 1+i%100)
			if _, err := ledger.PostTx(ctx, d, tr); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tx/s")
}
