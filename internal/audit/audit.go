// Package audit writes the audit log (系统日志): who changed what, when, with
// the record before and after. Entries are written in the same transaction as
// the change they describe, then numbered and hash-chained after commit by the
// Sealer, so that writers never queue behind one chain head.
package audit

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"hehuo/internal/db"
)

// Actor is who made a change; a nil ID means the system itself.
type Actor struct {
	ID        *int64
	Name      string
	RequestID string
}

// System is the actor of changes made by Hehuo itself (bootstrap, demo data, jobs).
var System = Actor{Name: "系统"}

// Entry is one audit record.
type Entry struct {
	Action    string // verb phrase, e.g. "project.create"
	Entity    string // e.g. "project"
	EntityID  any    // the record's id
	ProjectID *int64 // the project the change belongs to, if any, for scoped reading
	Before    any    // the record before the change, nil for a creation
	After     any    // the record after the change, nil for a deletion
}

// Record writes e in tx. It is called by every service method that changes state.
func Record(ctx context.Context, tx *sqlx.Tx, a Actor, e Entry) error {
	if err := unlabelled(e); err != nil {
		return err
	}
	before, err := toJSON(e.Before)
	if err != nil {
		return fmt.Errorf("audit %s: before: %w", e.Action, err)
	}
	after, err := toJSON(e.After)
	if err != nil {
		return fmt.Errorf("audit %s: after: %w", e.Action, err)
	}
	name := a.Name
	if name == "" {
		name = System.Name
	}
	_, err = tx.ExecContext(ctx, `
		INSERT INTO audit_log (actor_id, actor_name, action, entity, entity_id, project_id, before, after, request_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		a.ID, name, e.Action, e.Entity, fmt.Sprint(e.EntityID), e.ProjectID, before, after, a.RequestID)
	if err != nil {
		return fmt.Errorf("audit %s: %w", e.Action, err)
	}
	db.WakeOnCommit(tx) // the sealer chains the entry once it commits
	return nil
}

func toJSON(v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return string(b), nil
}

// LogEntry is an audit entry as read back.
type LogEntry struct {
	ID        int64           `db:"id" json:"id"`
	At        time.Time       `db:"at" json:"at"`
	ActorID   *int64          `db:"actor_id" json:"actor_id"`
	ActorName string          `db:"actor_name" json:"actor_name"`
	Action    string          `db:"action" json:"action"`
	Entity    string          `db:"entity" json:"entity"`
	EntityID  string          `db:"entity_id" json:"entity_id"`
	ProjectID *int64          `db:"project_id" json:"project_id"`
	Before    json.RawMessage `db:"before" json:"before"`
	After     json.RawMessage `db:"after" json:"after"`
	RequestID string          `db:"request_id" json:"request_id"`
	Seq       *int64          `db:"seq" json:"seq"`
	PrevHash  *string         `db:"prev_hash" json:"prev_hash"`
	Hash      *string         `db:"hash" json:"hash"`
}

// Filter selects audit entries; zero fields do not filter.
type Filter struct {
	Action    string
	Entity    string
	EntityID  string
	ActorID   int64
	ProjectID int64
	From, To  time.Time // To is exclusive
	Page      int       // from 1
	PageSize  int
}

// List returns the entries matching f, newest first, and how many match in all.
func List(ctx context.Context, q sqlx.QueryerContext, f Filter) ([]LogEntry, int, error) {
	where := `WHERE ($1 = '' OR action = $1) AND ($2 = '' OR entity = $2) AND ($3 = '' OR entity_id = $3)
		AND ($4 = 0 OR actor_id = $4) AND ($5 = 0 OR project_id = $5)
		AND ($6::timestamptz IS NULL OR at >= $6) AND ($7::timestamptz IS NULL OR at < $7)`
	args := []any{f.Action, f.Entity, f.EntityID, f.ActorID, f.ProjectID, nullTime(f.From), nullTime(f.To)}
	var total int
	if err := sqlx.GetContext(ctx, q, &total, `SELECT count(*) FROM audit_log `+where, args...); err != nil {
		return nil, 0, fmt.Errorf("count audit log: %w", err)
	}
	if f.PageSize <= 0 || f.PageSize > 500 {
		f.PageSize = 50
	}
	if f.Page < 1 {
		f.Page = 1
	}
	items := []LogEntry{}
	err := sqlx.SelectContext(ctx, q, &items, `SELECT `+columns+`, seq, prev_hash, hash FROM audit_log `+where+` ORDER BY id DESC LIMIT $8 OFFSET $9`,
		append(args, f.PageSize, (f.Page-1)*f.PageSize)...)
	if err != nil {
		return nil, 0, fmt.Errorf("list audit log: %w", err)
	}
	return items, total, nil
}

// columns are an entry's own fields; absent before/after read as JSON null.
const columns = `id, at, actor_id, actor_name, action, entity, entity_id, project_id,
	coalesce(before, 'null') AS before, coalesce(after, 'null') AS after, request_id`

func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}
