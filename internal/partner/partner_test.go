package partner_test

import (
	"context"
	"testing"

	"github.com/jmoiron/sqlx"

	"hehuo/internal/db/dbtest"
	"hehuo/internal/partner"
)

// A user's partner is created once, also when two first invitations race,
// and the platform company exists from the start.
func TestEnsureForUserOnce(t *testing.T) {
	d := dbtest.New(t)
	ctx := context.Background()
	var uid int64
	if err := d.Get(&uid, `INSERT INTO users (name) VALUES ('甲') RETURNING id`); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := partner.ForUser(ctx, d, uid); err != nil || ok {
		t.Fatalf("before: ok=%v err=%v", ok, err)
	}
	ids := make(chan int64, 8)
	for range 8 {
		go func() {
			var id int64
			err := d.InTx(ctx, func(tx *sqlx.Tx) error {
				var err error
				id, err = partner.EnsureForUser(ctx, tx, uid)
				return err
			})
			if err != nil {
				t.Error(err)
			}
			ids <- id
		}()
	}
	first := <-ids
	for range 7 {
		if id := <-ids; id != first {
			t.Fatalf("partner ids %d and %d for one user", first, id)
		}
	}
	if id, ok, err := partner.ForUser(ctx, d, uid); err != nil || !ok || id != first {
		t.Fatalf("ForUser = %d %v %v", id, ok, err)
	}
	p, err := partner.Get(ctx, d, first)
	if err != nil || p.Name != "甲" || p.Kind != partner.KindEmployee {
		t.Fatalf("partner = %+v %v", p, err)
	}
	if _, err := partner.Platform(ctx, d); err != nil {
		t.Fatal(err)
	}
	err = d.InTx(ctx, func(tx *sqlx.Tx) error { _, err := partner.EnsureForUser(ctx, tx, 999999); return err })
	if err == nil {
		t.Fatal("a missing user got a partner")
	}
}
