// Package workflow will hold the process center (流程): OA approvals launched
// from Hehuo and their results. For now it holds the event inbox, through
// which DingTalk's approval events reach their handlers exactly once.
package workflow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"

	"hehuo/internal/apperr"
	"hehuo/internal/db"
)

// Event types of OA approvals, as DingTalk names them.
const (
	// EventInstanceChange is an approval instance started, finished or terminated.
	EventInstanceChange = "bpms_instance_change"
	// EventTaskChange is an approver's task started, finished or cancelled.
	EventTaskChange = "bpms_task_change"
)

// Event is one DingTalk event as the inbox stored it.
type Event struct {
	ID         string
	Type       string
	CorpID     string
	Payload    json.RawMessage // the event's data (as stored by jsonb: same values, keys reordered)
	ReceivedAt time.Time
	HandledAt  *time.Time
	Attempts   int // deliveries tried, this one included
	LastError  *string
}

// eventRow reads a dingtalk_events row; the payload comes as text so that
// it is a copy of its own, not a view of the driver's buffer.
type eventRow struct {
	ID         string     `db:"event_id"`
	Type       string     `db:"event_type"`
	CorpID     string     `db:"corp_id"`
	Payload    string     `db:"payload"`
	ReceivedAt time.Time  `db:"received_at"`
	HandledAt  *time.Time `db:"handled_at"`
	Attempts   int        `db:"attempts"`
	LastError  *string    `db:"last_error"`
}

func (r eventRow) event() Event {
	return Event{ID: r.ID, Type: r.Type, CorpID: r.CorpID, Payload: json.RawMessage(r.Payload),
		ReceivedAt: r.ReceivedAt, HandledAt: r.HandledAt, Attempts: r.Attempts, LastError: r.LastError}
}

const eventColumns = `event_id, event_type, corp_id, payload::text AS payload, received_at, handled_at, attempts, last_error`

// Handler acts on one event inside the inbox's transaction: whatever it
// writes with tx commits together with the mark that the event is handled,
// or not at all. It must not call the network (use the outbox).
type Handler func(ctx context.Context, tx *sqlx.Tx, ev Event) error

// Result says what Accept did with a delivery.
type Result int

const (
	// Handled means this delivery was the first to succeed: the handler ran
	// (or no handler is registered for the type) and the event is marked handled.
	Handled Result = iota + 1
	// Duplicate means the event had been handled before; nothing ran.
	Duplicate
)

// Inbox stores DingTalk events once by their id and hands each to the
// handler registered for its type.
type Inbox struct {
	db *db.DB

	mu       sync.RWMutex
	handlers map[string]Handler
}

// NewInbox returns an inbox with no handlers.
func NewInbox(d *db.DB) *Inbox {
	return &Inbox{db: d, handlers: map[string]Handler{}}
}

// Register sets the handler of eventType, replacing any earlier one.
func (in *Inbox) Register(eventType string, h Handler) {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.handlers[eventType] = h
}

func (in *Inbox) handler(eventType string) Handler {
	in.mu.RLock()
	defer in.mu.RUnlock()
	return in.handlers[eventType]
}

// Accept takes one delivery of an event. The first delivery stores it and
// runs the handler of its type in the same transaction; any later delivery
// of a handled event returns Duplicate without running anything, also when
// two deliveries race (the second waits on the first's row). When the
// handler fails the transaction is rolled back, the failure is counted on
// the event's row, and the error is returned, so the caller acks LATER and
// DingTalk delivers the event again. Malformed events (no id or type,
// payload not JSON) are refused with an apperr.KindInvalid error: delivering
// them again cannot help.
func (in *Inbox) Accept(ctx context.Context, eventID, eventType, corpID string, payload []byte) (Result, error) {
	eventID, eventType = strings.TrimSpace(eventID), strings.TrimSpace(eventType)
	switch {
	case eventID == "":
		return 0, apperr.Invalid("event_id_required", "event_id", "事件缺少编号")
	case eventType == "":
		return 0, apperr.Invalid("event_type_required", "event_type", "事件缺少类型")
	case !json.Valid(payload):
		return 0, apperr.Invalid("event_payload_invalid", "payload", "事件内容不是合法的JSON")
	}
	h := in.handler(eventType)
	result := Duplicate
	err := in.db.InTx(ctx, func(tx *sqlx.Tx) error {
		result = Duplicate
		// A new id inserts; an id whose handler failed before is claimed
		// again (and its row locked); a handled id returns no row.
		var row eventRow
		err := sqlx.GetContext(ctx, tx, &row, `
			INSERT INTO dingtalk_events AS e (event_id, event_type, corp_id, payload, attempts)
			VALUES ($1, $2, $3, $4, 1)
			ON CONFLICT (event_id) DO UPDATE SET attempts = e.attempts + 1
				WHERE e.handled_at IS NULL
			RETURNING `+eventColumns,
			eventID, eventType, corpID, string(payload))
		if db.IsNoRows(err) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("store event %s: %w", eventID, err)
		}
		if h != nil {
			if err := h(ctx, tx, row.event()); err != nil {
				return &handlerError{err: err}
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE dingtalk_events SET handled_at = now(), last_error = NULL WHERE event_id = $1`, eventID); err != nil {
			return fmt.Errorf("mark event %s handled: %w", eventID, err)
		}
		result = Handled
		return nil
	})
	if err == nil {
		return result, nil
	}
	var he *handlerError
	if errors.As(err, &he) {
		if rerr := in.recordFailure(ctx, eventID, eventType, corpID, payload, he.err); rerr != nil {
			return 0, fmt.Errorf("handle %s event %s: %w (and %v)", eventType, eventID, he.err, rerr)
		}
		return 0, fmt.Errorf("handle %s event %s: %w", eventType, eventID, he.err)
	}
	return 0, err
}

// handlerError marks an error as the handler's, so Accept can tell it from
// a storage error after the rollback.
type handlerError struct{ err error }

func (e *handlerError) Error() string { return e.err.Error() }
func (e *handlerError) Unwrap() error { return e.err }

// recordFailure counts a failed attempt after its transaction was rolled
// back, so that the row shows the event arrived and why it is not handled.
func (in *Inbox) recordFailure(ctx context.Context, eventID, eventType, corpID string, payload []byte, cause error) error {
	msg := cause.Error()
	if len(msg) > 2000 {
		msg = msg[:2000]
	}
	_, err := in.db.ExecContext(ctx, `
		INSERT INTO dingtalk_events AS e (event_id, event_type, corp_id, payload, attempts, last_error)
		VALUES ($1, $2, $3, $4, 1, $5)
		ON CONFLICT (event_id) DO UPDATE SET attempts = e.attempts + 1, last_error = excluded.last_error
			WHERE e.handled_at IS NULL`,
		eventID, eventType, corpID, string(payload), msg)
	if err != nil {
		return fmt.Errorf("record failure of event %s: %w", eventID, err)
	}
	return nil
}

// Get returns a stored event.
func (in *Inbox) Get(ctx context.Context, eventID string) (Event, error) {
	var row eventRow
	err := in.db.GetContext(ctx, &row, `SELECT `+eventColumns+` FROM dingtalk_events WHERE event_id = $1`, eventID)
	if db.IsNoRows(err) {
		return Event{}, apperr.NotFound("event_not_found", "事件不存在")
	}
	if err != nil {
		return Event{}, fmt.Errorf("get event %s: %w", eventID, err)
	}
	return row.event(), nil
}
