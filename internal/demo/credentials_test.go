package demo

import (
	"context"
	"strings"
	"testing"

	"hehuo/internal/db/dbtest"
	"hehuo/internal/secret"
)

// The passwords the first start of a demo printed stay valid at the next
// start of the same database; the database holds them sealed, never in clear.
func TestDemoPasswordsSurviveRestarts(t *testing.T) {
	d := dbtest.New(t)
	ctx := context.Background()
	box, err := secret.New(secret.DemoKey())
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	gen := func() string { n++; return strings.Repeat("x", n) + "-generated" }

	first, err := Password(ctx, d, box, "admin", gen)
	if err != nil {
		t.Fatal(err)
	}
	again, err := Password(ctx, d, box, "admin", gen)
	if err != nil || again != first || n != 1 {
		t.Fatalf("second start: %q, %v after %d generations; want %q from the first", again, err, n, first)
	}
	other, err := Password(ctx, d, box, "hhadmin", gen)
	if err != nil || other == first {
		t.Fatalf("hhadmin: %q, %v", other, err)
	}
	var stored string
	if err := d.Get(&stored, `SELECT sealed FROM demo_credentials WHERE username = 'admin'`); err != nil || strings.Contains(stored, first) {
		t.Fatalf("stored %q (%v) holds the password in clear", stored, err)
	}

	// Another key cannot open it: a new password replaces it, and is kept.
	key := make([]byte, 32)
	key[0] = 1
	other2, _ := secret.New(key)
	replaced, err := Password(ctx, d, other2, "admin", gen)
	if err != nil || replaced == first {
		t.Fatalf("with another key: %q, %v", replaced, err)
	}
	if kept, err := Password(ctx, d, other2, "admin", gen); err != nil || kept != replaced {
		t.Fatalf("after replacing: %q, %v; want %q", kept, err, replaced)
	}
}
