package ledger_test

import (
	"context"
	"testing"

	"github.com/jmoiron/sqlx"

	"hehuo/internal/db"
	"hehuo/internal/db/dbtest"
	"hehuo/internal/ledger"
)

// These tests go around the Go API with plain SQL: the database itself must
// keep the ledger balanced and append-only.

// seedAccounts makes accounts 1..3 as plain rows.
func seedAccounts(t *testing.T, d *db.DB) {
	t.Helper()
	if _, err := d.Exec(`INSERT INTO ledger_accounts (id, code, kind, project_id) VALUES
		(1, 'bank:12', 'bank', 12), (2, 'principal:12:1', 'principal', 12), (3, 'interest:12', 'interest', 12)`); err != nil {
		t.Fatal(err)
	}
}

// rawTransaction inserts a ledger transaction and its postings by plain SQL
// in one database transaction and returns the COMMIT's error.
func rawTransaction(t *testing.T, d *db.DB, key string, amounts map[int]string) error {
	t.Helper()
	tx, err := d.Beginx()
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	var id int64
	if err := tx.Get(&id, `INSERT INTO ledger_transactions (idempotency_key, request_hash, kind) VALUES ($1, 'x', 'manual') RETURNING id`, key); err != nil {
		t.Fatal(err)
	}
	for account, amount := range amounts {
		if _, err := tx.Exec(`INSERT INTO ledger_postings (transaction_id, account_id, amount) VALUES ($1, $2, $3)`, id, account, amount); err != nil {
			t.Fatal(err)
		}
	}
	return tx.Commit()
}

func wantSQLState(t *testing.T, err error, state string) {
	t.Helper()
	if got := db.PQCode(err); got != state {
		t.Fatalf("error = %v (SQLSTATE %q), want SQLSTATE %s", err, got, state)
	}
}

func TestDatabaseRefusesAnUnbalancedTransactionAtCommit(t *testing.T) {
	t.Parallel()
	d := dbtest.New(t)
	seedAccounts(t, d)
	if err := rawTransaction(t, d, "ok", map[int]string{1: "100", 2: "-100"}); err != nil {
		t.Fatalf("balanced transaction refused: %v", err)
	}
	wantSQLState(t, rawTransaction(t, d, "unbalanced", map[int]string{1: "100", 2: "-99.99"}), "23514")
	wantSQLState(t, rawTransaction(t, d, "one posting", map[int]string{1: "100"}), "23514")
	wantSQLState(t, rawTransaction(t, d, "no postings", nil), "23514")
	if n := count(t, d, "ledger_transactions"); n != 1 {
		t.Fatalf("%d transactions, want 1", n)
	}
}

func TestDatabaseChecksBalanceOncePerTransactionAtCommit(t *testing.T) {
	t.Parallel()
	// Mid-transaction the postings may be unbalanced; only COMMIT counts.
	d := dbtest.New(t)
	seedAccounts(t, d)
	err := d.InTx(context.Background(), func(tx *sqlx.Tx) error {
		var id int64
		if err := tx.Get(&id, `INSERT INTO ledger_transactions (idempotency_key, request_hash, kind) VALUES ('k', 'x', 'manual') RETURNING id`); err != nil {
			return err
		}
		for _, p := range []struct {
			account int
			amount  string
		}{{1, "100"}, {2, "-60"}, {3, "-40"}} {
			if _, err := tx.Exec(`INSERT INTO ledger_postings (transaction_id, account_id, amount) VALUES ($1, $2, $3)`, id, p.account, p.amount); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestDatabaseRefusesPostingsAddedToACommittedTransaction(t *testing.T) {
	t.Parallel()
	d := dbtest.New(t)
	p := mustPost(t, d, payment("pay-1", 1, "100"))
	if _, err := d.Exec(`INSERT INTO ledger_accounts (code, kind, project_id) VALUES
		('interest:12', 'interest', 12), ('other:12:1', 'other', 12)`); err != nil {
		t.Fatal(err)
	}
	// Even a balanced pair of new postings may not join an old transaction.
	_, err := d.Exec(`INSERT INTO ledger_postings (transaction_id, account_id, amount)
		SELECT $1, id, CASE code WHEN 'interest:12' THEN 5 ELSE -5 END
		FROM ledger_accounts WHERE code IN ('interest:12', 'other:12:1')`, p.ID)
	wantSQLState(t, err, "23001")
	// The stamp that ties postings to their database transaction cannot be forged.
	tx := d.MustBegin()
	defer tx.Rollback()
	var stamped bool
	if err := tx.Get(&stamped, `INSERT INTO ledger_transactions (idempotency_key, request_hash, kind, db_xact)
		VALUES ('forged', 'x', 'manual', (SELECT db_xact FROM ledger_transactions WHERE id = $1))
		RETURNING db_xact = pg_current_xact_id()`, p.ID); err != nil {
		t.Fatal(err)
	}
	if !stamped {
		t.Fatal("a caller chose db_xact")
	}
}

func TestDatabaseRefusesChangesToTheLedger(t *testing.T) {
	t.Parallel()
	d := dbtest.New(t)
	mustPost(t, d, payment("pay-1", 1, "100"))
	for _, stmt := range []string{
		`UPDATE ledger_postings SET amount = -amount`,
		`UPDATE ledger_postings SET amount = 1 WHERE false`,
		`DELETE FROM ledger_postings`,
		`TRUNCATE ledger_postings`,
		`UPDATE ledger_transactions SET memo = 'changed'`,
		`DELETE FROM ledger_transactions`,
		`TRUNCATE ledger_transactions CASCADE`,
		`UPDATE ledger_accounts SET code = 'bank:13'`,
		`DELETE FROM ledger_accounts`,
		`TRUNCATE ledger_accounts CASCADE`,
	} {
		_, err := d.Exec(stmt)
		if db.PQCode(err) != "23001" {
			t.Errorf("%s: error = %v, want restrict_violation", stmt, err)
		}
	}
	if n := count(t, d, "ledger_postings"); n != 2 {
		t.Fatalf("%d postings, want 2", n)
	}
	// The balances are a projection and may be rewritten (Reconcile checks them).
	if _, err := d.Exec(`UPDATE ledger_balances SET updated_at = now()`); err != nil {
		t.Fatalf("updating balances: %v", err)
	}
	wantBalance(t, d, ledger.Bank(project), "100")
}
