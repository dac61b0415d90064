package report_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/jmoiron/sqlx"

	"hehuo/internal/db/dbtest"
	"hehuo/internal/report"
)

// 立项及缴款汇总表 at 1,000 projects / 20,000 partners: each project has an
// approved round of 20 partners, 19 of them paid on the ledger, with
// capital interest (R4). Target < 300 ms (reported, not gating).
// go test ./internal/report -run '^$' -bench EstablishmentPayments -benchtime 3x
func BenchmarkEstablishmentPayments1000Projects(b *testing.B) {
	d := dbtest.New(b)
	ctx := context.Background()
	const projects, partners = 1000, 20
	err := d.InTx(ctx, func(tx *sqlx.Tx) error {
		// One multi-statement script (no bind parameters, so the simple protocol runs it).
		_, err := tx.ExecContext(ctx, strings.NewReplacer("$1", fmt.Sprint(projects), "$2", fmt.Sprint(partners)).Replace(`
			INSERT INTO org_units (id, name, kind) VALUES (900001, '基准城市公司', 'city');
			INSERT INTO projects (id, name, city_company_id) SELECT 900000 + g, '基准项目' || g, 900001 FROM generate_series(1, $1) g;
			INSERT INTO establishments (project_id, peak_capital, ratio_city, funding_date, financing_rate)
				SELECT 900000 + g, 220000000, 0.006, '2024-03-01', 0.0435 FROM generate_series(1, $1) g;
			INSERT INTO users (id, name) SELECT 900000 + g, '基准合伙人' || g FROM generate_series(1, $2) g;
			INSERT INTO partners (id, kind, user_id, name) SELECT 900000 + g, 'employee', 900000 + g, '基准合伙人' || g FROM generate_series(1, $2) g;
			INSERT INTO rounds (id, project_id, kind, seq, status) SELECT 900000 + g, 900000 + g, 'initial', 1, 'approved' FROM generate_series(1, $1) g;
			INSERT INTO allocations (round_id, subscription_seq, preview, peak_capital, pool_holding, pool_property, pool_city, pool_other, computed_by)
				SELECT 900000 + g, 1, false, 220000000, 0, 0, 1320000, 0, '基准' FROM generate_series(1, $1) g;
			INSERT INTO allocation_lines (round_id, partner_id, user_id, tier, mandatory, min_amount, max_amount, requested, calculated, allocated)
				SELECT 900000 + g, 900000 + k, 900000 + k, 'city', true, 0, 1000000, 66000, 66000, 66000
				FROM generate_series(1, $1) g, generate_series(1, $2) k;`))
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	for g := 1; g <= projects; g++ {
		for k := 1; k < partners; k++ {
			pay(b, d, int64(900000+g), int64(900000+k), "66000.00", fmt.Sprintf("bench-%d-%d", g, k))
		}
	}
	// The payments' dates (R4 needs them) point at the ledger transactions above.
	if _, err := d.Exec(`INSERT INTO payments (round_id, project_id, partner_id, user_id, amount, paid_on, idempotency_key, ledger_transaction_id, created_by)
		SELECT t.project_id, t.project_id, a.partner_id, a.partner_id, 66000, '2024-03-20', t.idempotency_key, t.id, '基准'
		FROM ledger_transactions t JOIN ledger_postings p ON p.transaction_id = t.id
		JOIN ledger_accounts a ON a.id = p.account_id AND a.kind = 'principal'
		WHERE t.idempotency_key LIKE 'bench-%'`); err != nil {
		b.Fatal(err)
	}
	if _, err := d.Exec(`ANALYZE`); err != nil {
		b.Fatal(err)
	}
	s := report.NewService(d)
	b.ResetTimer()
	for range b.N {
		rows, err := s.EstablishmentPayments(ctx, report.Filter{All: true})
		if err != nil || len(rows) != projects || rows[0].Paid.String() != "1254000.00" || rows[0].Interest == nil || rows[0].Interest.IsZero() {
			b.Fatalf("rows = %d %v (%+v)", len(rows), err, rows[0])
		}
	}
}
