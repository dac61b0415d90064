package db_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/jmoiron/sqlx"

	"hehuo/internal/db"
	"hehuo/internal/db/dbtest"
)

func TestInTxRollsBackOnError(t *testing.T) {
	d := dbtest.New(t)
	ctx := context.Background()
	boom := errors.New("boom")
	err := d.InTx(ctx, func(tx *sqlx.Tx) error {
		if _, err := tx.Exec(`INSERT INTO org_units (name, kind) VALUES ('g', 'group')`); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want boom", err)
	}
	var n int
	d.Get(&n, `SELECT count(*) FROM org_units`)
	if n != 0 {
		t.Fatalf("org units = %d after rollback, want 0", n)
	}
}

func TestInTxRetriesSerializationFailures(t *testing.T) {
	d := dbtest.New(t)
	ctx := context.Background()
	if _, err := d.Exec(`INSERT INTO org_units (name, kind) VALUES ('g', 'group')`); err != nil {
		t.Fatal(err)
	}
	// Twenty serializable increments of one row: some collide, all must land.
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- d.InTx(ctx, func(tx *sqlx.Tx) error {
				if _, err := tx.Exec(`SET TRANSACTION ISOLATION LEVEL SERIALIZABLE`); err != nil {
					return err
				}
				var v int
				if err := tx.Get(&v, `SELECT version FROM org_units WHERE name = 'g'`); err != nil {
					return err
				}
				_, err := tx.Exec(`UPDATE org_units SET version = $1 WHERE name = 'g'`, v+1)
				return err
			})
		}()
	}
	wg.Wait()
	close(errs)
	ok := 0
	for err := range errs {
		if err == nil {
			ok++
		} else if !db.IsRetryable(err) {
			t.Errorf("unexpected error: %v", err)
		}
	}
	var v int
	d.Get(&v, `SELECT version FROM org_units WHERE name = 'g'`)
	if v != 1+ok {
		t.Fatalf("version = %d, want %d (one per committed transaction)", v, 1+ok)
	}
	if ok < 15 {
		t.Errorf("only %d of 20 committed; retries are not working", ok)
	}
}

func TestAuditLogIsAppendOnly(t *testing.T) {
	d := dbtest.New(t)
	if _, err := d.Exec(`INSERT INTO audit_log (actor_name, action, entity, entity_id) VALUES ('x', 'a', 'e', '1')`); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Exec(`UPDATE audit_log SET action = 'forged'`); err == nil {
		t.Error("update of an audit entry was accepted")
	}
	if _, err := d.Exec(`DELETE FROM audit_log`); err == nil {
		t.Error("delete of an audit entry was accepted")
	}
}

// Commit hooks run only after transactions that asked for them: the audit
// sealer's own empty transaction must not wake it again.
func TestOnCommitRunsOnlyForTransactionsThatAsk(t *testing.T) {
	d := dbtest.New(t)
	ctx := context.Background()
	woken := 0
	d.OnCommit(func() { woken++ })
	if err := d.InTx(ctx, func(tx *sqlx.Tx) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if woken != 0 {
		t.Fatalf("a transaction that asked for nothing ran the hooks %d times", woken)
	}
	if err := d.InTx(ctx, func(tx *sqlx.Tx) error { db.WakeOnCommit(tx); return errors.New("rolled back") }); err == nil {
		t.Fatal("want the error")
	}
	if woken != 0 {
		t.Fatalf("a rolled-back transaction ran the hooks %d times", woken)
	}
	if err := d.InTx(ctx, func(tx *sqlx.Tx) error { db.WakeOnCommit(tx); return nil }); err != nil {
		t.Fatal(err)
	}
	if woken != 1 {
		t.Fatalf("hooks ran %d times after a transaction that asked, want 1", woken)
	}
}
