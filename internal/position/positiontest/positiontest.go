// Package positiontest seeds large worlds of money positions for
// benchmarks: projects with an approved round, partners' allocation lines,
// and their payments on the ledger, written in one SQL script.
package positiontest

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/jmoiron/sqlx"

	"hehuo/internal/db"
)

// Base is the id of the first seeded project, user and partner (Base+1 …).
const Base = 900000

// World is a seeded world's shape.
type World struct {
	Projects int // projects Base+1 … Base+Projects, each with an approved round of the same id
	PerRound int // partners per round (in the city tier, 66,000 each)
	Partners int // distinct partners Base+1 … Base+Partners; project g's are (g·PerRound + j) mod Partners
	// Unpaid is how many partners of each round have not paid; the others
	// paid their 66,000 in full on 2024-03-20 (funding date 2024-03-01, 4.35%).
	Unpaid int
}

// Seed writes w into d. Ledger transactions, postings and balances are
// written set-wise as ledger.Post would leave them (balanced, one posting
// per account, balances = Σ postings), so that the ledger reconciles.
func Seed(tb testing.TB, d *db.DB, w World) {
	tb.Helper()
	ctx := context.Background()
	script := strings.NewReplacer("$P", fmt.Sprint(w.Projects), "$K", fmt.Sprint(w.PerRound), "$N", fmt.Sprint(w.Partners),
		"$U", fmt.Sprint(w.Unpaid), "$B", fmt.Sprint(Base)).Replace(`
		INSERT INTO org_units (id, name, kind) VALUES ($B + 1, '基准城市公司', 'city');
		INSERT INTO projects (id, name, city_company_id) SELECT $B + g, '基准项目' || g, $B + 1 FROM generate_series(1, $P) g;
		INSERT INTO establishments (project_id, peak_capital, ratio_city, funding_date, financing_rate)
			SELECT $B + g, 220000000, 0.006, '2024-03-01', 0.0435 FROM generate_series(1, $P) g;
		INSERT INTO users (id, name) SELECT $B + k, '基准合伙人' || k FROM generate_series(1, $N) k;
		INSERT INTO partners (id, kind, user_id, name) SELECT $B + k, 'employee', $B + k, '基准合伙人' || k FROM generate_series(1, $N) k;
		INSERT INTO rounds (id, project_id, kind, seq, status) SELECT $B + g, $B + g, 'initial', 1, 'approved' FROM generate_series(1, $P) g;
		INSERT INTO allocations (round_id, subscription_seq, preview, peak_capital, pool_holding, pool_property, pool_city, pool_other, computed_by)
			SELECT $B + g, 1, false, 220000000, 0, 0, 66000 * $K, 0, '基准' FROM generate_series(1, $P) g;
		CREATE TEMP TABLE seed_lines ON COMMIT DROP AS
			SELECT $B + g AS project, $B + 1 + ((g * $K + j) % $N) AS partner, j < $K - $U AS paid
			FROM generate_series(1, $P) g, generate_series(0, $K - 1) j;
		INSERT INTO allocation_lines (round_id, partner_id, user_id, tier, mandatory, min_amount, max_amount, requested, calculated, allocated)
			SELECT project, partner, partner, 'city', true, 0, 1000000, 66000, 66000, 66000 FROM seed_lines;
		INSERT INTO ledger_accounts (code, kind, project_id) SELECT 'bank:' || ($B + g), 'bank', $B + g FROM generate_series(1, $P) g;
		INSERT INTO ledger_accounts (code, kind, project_id, partner_id)
			SELECT 'principal:' || project || ':' || partner, 'principal', project, partner FROM seed_lines WHERE paid;
		INSERT INTO ledger_transactions (idempotency_key, request_hash, kind, project_id)
			SELECT 'payment:seed-' || project || '-' || partner, 'seed', 'payment', project FROM seed_lines WHERE paid;
		INSERT INTO ledger_postings (transaction_id, account_id, amount)
			SELECT t.id, a.id, x.amount FROM seed_lines s
			JOIN ledger_transactions t ON t.idempotency_key = 'payment:seed-' || s.project || '-' || s.partner
			CROSS JOIN LATERAL (VALUES ('bank:' || s.project, 66000), ('principal:' || s.project || ':' || s.partner, -66000)) x(code, amount)
			JOIN ledger_accounts a ON a.code = x.code
			WHERE s.paid;
		INSERT INTO ledger_balances (account_id, balance) SELECT account_id, sum(amount) FROM ledger_postings GROUP BY account_id;
		INSERT INTO payments (round_id, project_id, partner_id, user_id, amount, paid_on, idempotency_key, ledger_transaction_id, created_by)
			SELECT s.project, s.project, s.partner, s.partner, 66000, '2024-03-20', 'seed-' || s.project || '-' || s.partner, t.id, '基准'
			FROM seed_lines s JOIN ledger_transactions t ON t.idempotency_key = 'payment:seed-' || s.project || '-' || s.partner
			WHERE s.paid;`)
	err := d.InTx(ctx, func(tx *sqlx.Tx) error {
		// One multi-statement script (no bind parameters, so the simple protocol runs it).
		_, err := tx.ExecContext(ctx, script)
		return err
	})
	if err != nil {
		tb.Fatalf("seed positions: %v", err)
	}
	if _, err := d.ExecContext(ctx, `ANALYZE`); err != nil {
		tb.Fatal(err)
	}
}
