// Package dbtest gives each test a fresh Postgres database cloned from a
// migrated template, so tests run against the real schema in isolation.
package dbtest

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/lib/pq"

	"hehuo/internal/db"
	"hehuo/migrations"
)

// AdminURL is the maintenance database tests create their databases from;
// HEHUO_TEST_DATABASE_URL overrides it.
func AdminURL() string {
	if u := os.Getenv("HEHUO_TEST_DATABASE_URL"); u != "" {
		return u
	}
	return "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
}

var counter atomic.Int64

// New returns a migrated database of its own for tb, dropped when tb ends.
func New(tb testing.TB) *db.DB {
	tb.Helper()
	ctx := context.Background()
	admin, err := sql.Open("postgres", AdminURL())
	if err != nil {
		tb.Fatalf("open admin database: %v", err)
	}
	defer admin.Close()
	tmpl, err := ensureTemplate(ctx, admin)
	if err != nil {
		tb.Fatalf("template database: %v", err)
	}
	name := fmt.Sprintf("hehuo_t_%d_%d_%d", os.Getpid(), time.Now().UnixNano()%1e9, counter.Add(1))
	var lastErr error
	for i := 0; i < 20; i++ {
		// Cloning fails while another backend is connected to the template; retry briefly.
		_, lastErr = admin.ExecContext(ctx, fmt.Sprintf(`CREATE DATABASE %s TEMPLATE %s`, name, tmpl))
		if lastErr == nil {
			break
		}
		time.Sleep(time.Duration(50*(i+1)) * time.Millisecond)
	}
	if lastErr != nil {
		tb.Fatalf("create test database: %v", lastErr)
	}
	d, err := db.Open(ctx, withDatabase(AdminURL(), name), 20)
	if err != nil {
		tb.Fatalf("open test database: %v", err)
	}
	tb.Cleanup(func() {
		d.Close()
		a, err := sql.Open("postgres", AdminURL())
		if err != nil {
			return
		}
		defer a.Close()
		a.Exec(fmt.Sprintf(`DROP DATABASE IF EXISTS %s WITH (FORCE)`, name))
	})
	return d
}

// URL returns the connection URL of d's database, for code that opens its own pool.
func URL(tb testing.TB, d *db.DB) string {
	var name string
	if err := d.Get(&name, `SELECT current_database()`); err != nil {
		tb.Fatal(err)
	}
	return withDatabase(AdminURL(), name)
}

func withDatabase(raw, name string) string {
	u, err := url.Parse(raw)
	if err != nil {
		panic(err)
	}
	u.Path = "/" + name
	return u.String()
}

// ensureTemplate creates the template for the current migrations once; its
// name carries a hash of the migration files, so a changed migration gets a
// new template. A Postgres advisory lock keeps parallel test binaries from
// building it twice.
func ensureTemplate(ctx context.Context, admin *sql.DB) (string, error) {
	h := sha256.New()
	err := fs.WalkDir(migrations.FS, ".", func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		b, err := migrations.FS.ReadFile(p)
		h.Write([]byte(p))
		h.Write(b)
		return err
	})
	if err != nil {
		return "", err
	}
	sum := hex.EncodeToString(h.Sum(nil))[:12]
	name := "hehuo_tmpl_" + sum

	conn, err := admin.Conn(ctx)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock(424242)`); err != nil {
		return "", err
	}
	defer conn.ExecContext(ctx, `SELECT pg_advisory_unlock(424242)`)

	var exists bool
	if err := conn.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
		return "", err
	}
	if exists {
		return name, nil
	}
	building := name + "_building"
	conn.ExecContext(ctx, fmt.Sprintf(`DROP DATABASE IF EXISTS %s WITH (FORCE)`, building))
	if _, err := conn.ExecContext(ctx, fmt.Sprintf(`CREATE DATABASE %s`, building)); err != nil {
		return "", err
	}
	d, err := db.Open(ctx, withDatabase(AdminURL(), building), 2)
	if err != nil {
		return "", err
	}
	_, err = db.MigrateUp(ctx, d)
	d.Close()
	if err != nil {
		return "", err
	}
	// Old templates of earlier migration sets are dropped so they do not pile up.
	rows, err := conn.QueryContext(ctx, `SELECT datname FROM pg_database WHERE datname LIKE 'hehuo\_tmpl\_%' AND datname <> $1`, building)
	if err == nil {
		var old []string
		for rows.Next() {
			var n string
			rows.Scan(&n)
			old = append(old, n)
		}
		rows.Close()
		for _, n := range old {
			if !strings.HasSuffix(n, "_building") {
				conn.ExecContext(ctx, fmt.Sprintf(`DROP DATABASE IF EXISTS %s`, n))
			}
		}
	}
	if _, err := conn.ExecContext(ctx, fmt.Sprintf(`ALTER DATABASE %s RENAME TO %s`, building, name)); err != nil {
		return "", err
	}
	return name, nil
}
