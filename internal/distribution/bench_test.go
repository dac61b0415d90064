package distribution

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"hehuo/internal/db"
	"hehuo/internal/db/dbtest"
	"hehuo/internal/ledger/ledgertest"
	"hehuo/internal/position/positiontest"
)

// benchPartners is the size of the benchmark's batch.
const benchPartners = 10000

// benchWorld seeds one open project whose 10,000 partners paid 66,000 each
// on 2024-03-20 (funding date 2024-03-01, 4.35%: B = −149.45 each), with an
// agreed actual peak and a confirmed payout account per partner: what a
// principal batch needs before it can be calculated and submitted.
func benchWorld(tb testing.TB) (*db.DB, int64) {
	tb.Helper()
	d := dbtest.New(tb)
	positiontest.Seed(tb, d, positiontest.World{Projects: 1, PerRound: benchPartners, Partners: benchPartners})
	project := int64(positiontest.Base + 1)
	ctx := context.Background()
	err := d.InTx(ctx, func(tx *sqlx.Tx) error {
		_, err := tx.ExecContext(ctx, fmt.Sprintf(`
			UPDATE projects SET is_open = true WHERE id = %[1]d;
			INSERT INTO actual_peaks (project_id, actual_peak_capital, reason, status, agreed_at, created_by_name)
				VALUES (%[1]d, 220000000, '基准', 'agreed', now(), '基准');
			INSERT INTO payout_accounts (user_id, bank, branch, holder, number_enc, number_last4, status, confirmed_at)
				SELECT id, '招商银行', '常州分行', name, 'v1:bench', '1234', 'confirmed', now() FROM users WHERE id > %[2]d;`,
			project, positiontest.Base))
		return err
	})
	if err != nil {
		tb.Fatalf("bench world: %v", err)
	}
	if _, err := d.ExecContext(ctx, `ANALYZE`); err != nil {
		tb.Fatal(err)
	}
	return d, project
}

// copyLines is the floor the batch is set beside: a COPY of as many rows,
// shaped like distribution lines, into a scratch table, in one transaction.
func copyLines(tb testing.TB, d *db.DB, n int) time.Duration {
	tb.Helper()
	ctx := context.Background()
	start := time.Now()
	err := d.InTx(ctx, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, `CREATE TEMP TABLE scratch_lines (batch_id bigint, partner_id bigint, user_id bigint,
			payee_partner_id bigint, seq integer, a numeric(20,2), b numeric(20,2), c numeric(20,2), d numeric(20,2),
			e numeric(20,2), f numeric(20,2), trace jsonb) ON COMMIT DROP`); err != nil {
			return err
		}
		stmt, err := tx.PrepareContext(ctx, pq.CopyIn("scratch_lines", "batch_id", "partner_id", "user_id", "payee_partner_id",
			"seq", "a", "b", "c", "d", "e", "f", "trace"))
		if err != nil {
			return err
		}
		for i := 1; i <= n; i++ {
			p := int64(positiontest.Base + i)
			if _, err := stmt.ExecContext(ctx, 1, p, p, p, i, "66000.00", "-149.45", "0.00", "65850.55", "65850.55", "0.00",
				`[{"name":"d","value":"65850.55"}]`); err != nil {
				return err
			}
		}
		if _, err := stmt.ExecContext(ctx); err != nil {
			return err
		}
		return stmt.Close()
	})
	if err != nil {
		tb.Fatalf("copy %d rows: %v", n, err)
	}
	return time.Since(start)
}

var _ = ledgertest.AssertReconciles
