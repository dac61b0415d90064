package partner_test

import (
	"context"
	"errors"
	"testing"

	"github.com/jmoiron/sqlx"

	"hehuo/internal/audit"
	"hehuo/internal/db/dbtest"
	"hehuo/internal/partner"
)

// The one segregation-of-duties rule: a user acting on any line of their own
// partner is refused with own_line, whatever else is in the list; another
// partner's line, the platform company's, no line at all and Hehuo itself
// pass. The reviewer who made the latest submission is refused with
// own_submission; another reviewer, or a subject never submitted, passes.
func TestRefuseOwnLineAndOwnSubmission(t *testing.T) {
	d := dbtest.New(t)
	ctx := context.Background()
	user := func(name string) int64 {
		var id int64
		if err := d.Get(&id, `INSERT INTO users (name) VALUES ($1) RETURNING id`, name); err != nil {
			t.Fatal(err)
		}
		return id
	}
	me, other := user("会计甲"), user("合伙人乙")
	var mine, theirs int64
	if err := d.InTx(ctx, func(tx *sqlx.Tx) error {
		var err error
		if mine, err = partner.EnsureForUser(ctx, tx, me); err != nil {
			return err
		}
		theirs, err = partner.EnsureForUser(ctx, tx, other)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	platform, err := partner.Platform(ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	actor := audit.Actor{ID: &me, Name: "会计甲"}
	for _, tt := range []struct {
		name     string
		actor    audit.Actor
		partners []int64
		want     error
	}{
		{"own line", actor, []int64{mine}, partner.ErrOwnLine},
		{"own line among others", actor, []int64{theirs, platform, mine}, partner.ErrOwnLine},
		{"another partner's line", actor, []int64{theirs}, nil},
		{"the platform company's line", actor, []int64{platform}, nil},
		{"no line", actor, nil, nil},
		{"Hehuo itself", audit.System, []int64{mine}, nil},
		{"the partner as another user", audit.Actor{ID: &other}, []int64{mine}, nil},
	} {
		if err := partner.RefuseOwnLine(ctx, d, tt.actor, tt.partners...); !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
			t.Errorf("%s: %v, want %v", tt.name, err, tt.want)
		}
	}

	if err := partner.RefuseOwnSubmission(ctx, d, actor, "round", 7, "round.submit"); err != nil {
		t.Fatalf("never submitted: %v", err)
	}
	if err := d.InTx(ctx, func(tx *sqlx.Tx) error {
		return audit.Record(ctx, tx, actor, audit.Entry{Action: "round.submit", Entity: "round", EntityID: 7})
	}); err != nil {
		t.Fatal(err)
	}
	if err := partner.RefuseOwnSubmission(ctx, d, actor, "round", 7, "round.submit"); !errors.Is(err, partner.ErrOwnSubmission) {
		t.Errorf("own submission: %v", err)
	}
	if err := partner.RefuseOwnSubmission(ctx, d, audit.Actor{ID: &other}, "round", 7, "round.submit"); err != nil {
		t.Errorf("another reviewer: %v", err)
	}
	if err := partner.RefuseOwnSubmission(ctx, d, actor, "round", 8, "round.submit"); err != nil {
		t.Errorf("another round: %v", err)
	}
}
