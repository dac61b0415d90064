// Package db opens Postgres, runs the embedded migrations, and owns the one
// way Hehuo changes data: InTx, a transaction retried on serialization
// failures and deadlocks, with hooks that run after a successful commit.
package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// DB is the process's connection pool.
type DB struct {
	*sqlx.DB

	mu          sync.RWMutex
	afterCommit []func()
}

// Open connects to url and checks the connection.
func Open(ctx context.Context, url string, maxOpen int) (*DB, error) {
	x, err := sqlx.Open("postgres", url)
	if err != nil {
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	if maxOpen > 0 {
		x.SetMaxOpenConns(maxOpen)
		x.SetMaxIdleConns(maxOpen)
	}
	x.SetConnMaxIdleTime(5 * time.Minute)
	if err := x.PingContext(ctx); err != nil {
		x.Close()
		return nil, fmt.Errorf("connect to postgres: %w", err)
	}
	return &DB{DB: x}, nil
}

// OnCommit registers f to run after every committed InTx whose function
// called WakeOnCommit. It must not block: the audit sealer uses it to wake up
// when there are new entries to seal.
func (d *DB) OnCommit(f func()) {
	d.mu.Lock()
	d.afterCommit = append(d.afterCommit, f)
	d.mu.Unlock()
}

// wakers holds the transactions that asked for the OnCommit hooks, until
// they end.
var wakers sync.Map // *sqlx.Tx → struct{}

// WakeOnCommit asks for the OnCommit hooks to run once tx commits. Only
// transactions that wrote something a hook waits for call it: a hook's own
// transaction that wrote nothing must not wake it again, or an idle server
// spins.
func WakeOnCommit(tx *sqlx.Tx) { wakers.Store(tx, struct{}{}) }

const maxAttempts = 5

// InTx runs fn in one transaction and commits it. When Postgres reports a
// serialization failure or deadlock the whole function runs again, so fn must
// not have effects outside the transaction (no network calls: use the outbox).
// The error returned is fn's, or the COMMIT's.
func (d *DB) InTx(ctx context.Context, fn func(tx *sqlx.Tx) error) error {
	var err error
	for attempt := 1; attempt <= maxAttempts; attempt++ {
		var wake bool
		wake, err = d.inTxOnce(ctx, fn)
		if err == nil {
			if !wake {
				return nil
			}
			d.mu.RLock()
			hooks := d.afterCommit
			d.mu.RUnlock()
			for _, h := range hooks {
				h()
			}
			return nil
		}
		if !IsRetryable(err) || ctx.Err() != nil {
			return err
		}
		// Jittered backoff so that the losers of a race do not collide again.
		time.Sleep(time.Duration(attempt*attempt) * time.Duration(1+rand.IntN(5)) * time.Millisecond)
	}
	return err
}

// inTxOnce runs fn in one transaction; wake reports that fn called WakeOnCommit.
func (d *DB) inTxOnce(ctx context.Context, fn func(tx *sqlx.Tx) error) (wake bool, err error) {
	tx, err := d.BeginTxx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("begin: %w", err)
	}
	defer func() {
		_, wake = wakers.LoadAndDelete(tx)
		wake = wake && err == nil
		if p := recover(); p != nil {
			tx.Rollback()
			panic(p)
		}
	}()
	if err := fn(tx); err != nil {
		tx.Rollback()
		return false, err
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("commit: %w", err)
	}
	return true, nil
}

// IsRetryable reports a serialization failure or a deadlock.
func IsRetryable(err error) bool {
	var pe *pq.Error
	if errors.As(err, &pe) {
		return pe.Code == "40001" || pe.Code == "40P01"
	}
	return false
}

// IsUniqueViolation reports a unique-constraint violation, and its constraint name.
func IsUniqueViolation(err error) (string, bool) {
	var pe *pq.Error
	if errors.As(err, &pe) && pe.Code == "23505" {
		return pe.Constraint, true
	}
	return "", false
}

// IsForeignKeyViolation reports a foreign-key violation, and its constraint name.
func IsForeignKeyViolation(err error) (string, bool) {
	var pe *pq.Error
	if errors.As(err, &pe) && pe.Code == "23503" {
		return pe.Constraint, true
	}
	return "", false
}

// IsNoRows reports sql.ErrNoRows.
func IsNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }

// PQCode returns the Postgres SQLSTATE of err, or "".
func PQCode(err error) string {
	var pe *pq.Error
	if errors.As(err, &pe) {
		return string(pe.Code)
	}
	return ""
}
