// Package ledgertest holds test helpers for code that posts to the ledger.
package ledgertest

import (
	"context"
	"testing"

	"github.com/jmoiron/sqlx"

	"hehuo/internal/ledger"
)

// AssertReconciles fails tb unless the ledger in q reconciles: every
// transaction balances, stored balances equal the replay of postings, and
// they sum to zero. Service tests run it at the end of every test:
//
//	d := dbtest.New(t)
//	t.Cleanup(func() { ledgertest.AssertReconciles(t, d) })
func AssertReconciles(tb testing.TB, q sqlx.QueryerContext) {
	tb.Helper()
	r, err := ledger.Reconcile(context.Background(), q)
	if err != nil {
		tb.Fatalf("reconcile the ledger: %v", err)
	}
	if !r.OK {
		for _, f := range r.Failures {
			tb.Errorf("ledger does not reconcile: %s account=%q transaction=%d want %s, got %s",
				f.Kind, f.Account, f.TransactionID, f.Want, f.Got)
		}
	}
}

// ReconcileAtCleanup registers AssertReconciles to run when tb ends (before
// the test database registered earlier is dropped).
func ReconcileAtCleanup(tb testing.TB, q sqlx.QueryerContext) {
	tb.Helper()
	tb.Cleanup(func() { AssertReconciles(tb, q) })
}
