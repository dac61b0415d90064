package audit_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/jmoiron/sqlx"

	"hehuo/internal/audit"
	"hehuo/internal/db"
	"hehuo/internal/db/dbtest"
)

func record(t *testing.T, d *db.DB, n int) {
	t.Helper()
	err := d.InTx(context.Background(), func(tx *sqlx.Tx) error {
		return audit.Record(context.Background(), tx, audit.System, audit.Entry{
			Action: "project.create", Entity: "project", EntityID: n, After: map[string]any{"n": n, "名称": "靖江项目"},
		})
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestSealChainsConcurrentWritesAndVerifies(t *testing.T) {
	d := dbtest.New(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	for i := 0; i < 40; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			record(t, d, i)
			if i%7 == 0 {
				audit.Seal(ctx, d) // sealers racing writers and each other
			}
		}(i)
	}
	wg.Wait()
	if _, err := audit.Seal(ctx, d); err != nil {
		t.Fatal(err)
	}
	rep, err := audit.Verify(ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK || rep.Sealed != 40 || rep.Unsealed != 0 {
		t.Fatalf("report = %+v, want ok with 40 sealed", rep)
	}
}

func TestVerifyFindsTampering(t *testing.T) {
	d := dbtest.New(t)
	ctx := context.Background()
	for i := 0; i < 5; i++ {
		record(t, d, i)
	}
	if _, err := audit.Seal(ctx, d); err != nil {
		t.Fatal(err)
	}
	// The append-only trigger refuses edits; a superuser who disables it to
	// forge history is still caught by the chain.
	if _, err := d.Exec(`ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only;
		UPDATE audit_log SET after = '{"n": 99}' WHERE seq = 3;
		DELETE FROM audit_log WHERE seq = 5;
		ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only`); err != nil {
		t.Fatal(err)
	}
	record(t, d, 6)
	if _, err := audit.Seal(ctx, d); err != nil {
		t.Fatal(err)
	}
	rep, err := audit.Verify(ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	if rep.OK {
		t.Fatal("verify passed a tampered log")
	}
	var reasons []string
	for _, b := range rep.Breaks {
		reasons = append(reasons, b.Code)
	}
	joined := strings.Join(reasons, "; ")
	if !strings.Contains(joined, audit.BreakAltered) {
		t.Errorf("altered entry not reported: %s", joined)
	}
	if rep.Breaks[0].Seq != 3 {
		t.Errorf("first break at seq %d, want 3", rep.Breaks[0].Seq)
	}
}

func TestListFilters(t *testing.T) {
	d := dbtest.New(t)
	ctx := context.Background()
	for i := 0; i < 3; i++ {
		record(t, d, i)
	}
	items, total, err := audit.List(ctx, d, audit.Filter{EntityID: "1"})
	if err != nil {
		t.Fatal(err)
	}
	if total != 1 || len(items) != 1 || items[0].EntityID != "1" {
		t.Fatalf("got %d items (total %d), want entity 1 only", len(items), total)
	}
	if !strings.Contains(string(items[0].After), "靖江项目") {
		t.Errorf("after = %s", items[0].After)
	}
}
