package db_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"testing"

	"github.com/lib/pq"

	"hehuo/internal/db"
	"hehuo/internal/db/dbtest"
)

func TestIsUnavailable(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connect: connection refused")}
	for _, c := range []struct {
		name string
		err  error
		want bool
	}{
		{"connection refused", fmt.Errorf("find user: %w", refused), true},
		{"bad connection after database/sql's retries", fmt.Errorf("begin: %w", driver.ErrBadConn), true},
		{"connection already closed", sql.ErrConnDone, true},
		{"connection cut mid-answer", io.ErrUnexpectedEOF, true},
		{"deadline while waiting for a connection", fmt.Errorf("get: %w", context.DeadlineExceeded), true},
		{"too many connections", &pq.Error{Code: "53300"}, true},
		{"connection failure", &pq.Error{Code: "08006"}, true},
		{"admin shutdown", &pq.Error{Code: "57P01"}, true},
		{"crash shutdown", &pq.Error{Code: "57P02"}, true},
		{"starting up", &pq.Error{Code: "57P03"}, true},
		{"unique violation", &pq.Error{Code: "23505"}, false},
		{"serialization failure", &pq.Error{Code: "40001"}, false},
		{"no rows", sql.ErrNoRows, false},
		{"a bug", errors.New("boom"), false},
		{"nil", nil, false},
	} {
		if got := db.IsUnavailable(c.err); got != c.want {
			t.Errorf("%s: IsUnavailable(%v) = %v, want %v", c.name, c.err, got, c.want)
		}
	}
}

// A pool whose Postgres does not listen fails with an error IsUnavailable
// recognises; a query error of a live Postgres is not one.
func TestIsUnavailableOnRealErrors(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	_, err = db.Open(context.Background(), "postgres://postgres@"+addr+"/postgres?sslmode=disable", 1)
	if err == nil || !db.IsUnavailable(err) {
		t.Fatalf("open on a closed port: err = %v, want unavailable", err)
	}
	d := dbtest.New(t)
	_, err = d.Exec(`SELECT * FROM no_such_table`)
	if err == nil || db.IsUnavailable(err) {
		t.Fatalf("a bad query: err = %v, want an error that is not unavailability", err)
	}
}
