package workflow_test

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/jmoiron/sqlx"

	"hehuo/internal/apperr"
	"hehuo/internal/db/dbtest"
	"hehuo/internal/workflow"
)

const payload = `{"processInstanceId":"pi-1","type":"finish","result":"agree"}`

// effects counts what handlers wrote in their transaction, to prove the
// handler's writes commit or roll back with the inbox row.
func effects(t *testing.T, q sqlx.QueryerContext) int {
	t.Helper()
	var n int
	if err := sqlx.GetContext(context.Background(), q, &n, `SELECT count(*) FROM handler_effects`); err != nil {
		t.Fatal(err)
	}
	return n
}

func newInbox(t *testing.T) (*workflow.Inbox, *sqlx.DB) {
	t.Helper()
	d := dbtest.New(t)
	if _, err := d.Exec(`CREATE TABLE handler_effects (event_id text NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	return workflow.NewInbox(d), d.DB
}

func record(ctx context.Context, tx *sqlx.Tx, ev workflow.Event) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO handler_effects (event_id) VALUES ($1)`, ev.ID)
	return err
}

func TestAcceptRunsHandlerOnceForDuplicates(t *testing.T) {
	ctx := context.Background()
	in, q := newInbox(t)
	var got []workflow.Event
	in.Register(workflow.EventInstanceChange, func(ctx context.Context, tx *sqlx.Tx, ev workflow.Event) error {
		got = append(got, ev)
		return record(ctx, tx, ev)
	})
	for i, want := range []workflow.Result{workflow.Handled, workflow.Duplicate, workflow.Duplicate} {
		res, err := in.Accept(ctx, "ev-1", workflow.EventInstanceChange, "dingcorp", []byte(payload))
		if err != nil {
			t.Fatalf("delivery %d: %v", i+1, err)
		}
		if res != want {
			t.Errorf("delivery %d: result %v, want %v", i+1, res, want)
		}
	}
	if len(got) != 1 {
		t.Fatalf("handler ran %d times, want 1", len(got))
	}
	if got[0].ID != "ev-1" || got[0].CorpID != "dingcorp" || got[0].Attempts != 1 {
		t.Errorf("handler got %+v", got[0])
	}
	var gotPayload, wantPayload map[string]any
	json.Unmarshal(got[0].Payload, &gotPayload)
	json.Unmarshal([]byte(payload), &wantPayload)
	if !reflect.DeepEqual(gotPayload, wantPayload) {
		t.Errorf("payload %s, want %s", got[0].Payload, payload)
	}
	if n := effects(t, q); n != 1 {
		t.Errorf("%d handler effects committed, want 1", n)
	}
	ev, err := in.Get(ctx, "ev-1")
	if err != nil {
		t.Fatal(err)
	}
	if ev.HandledAt == nil || ev.Attempts != 1 || ev.LastError != nil {
		t.Errorf("stored event %+v: want handled after 1 attempt, no error", ev)
	}
}

func TestAcceptHandlerFailureRollsBackAndRetries(t *testing.T) {
	ctx := context.Background()
	in, q := newInbox(t)
	calls := 0
	in.Register(workflow.EventInstanceChange, func(ctx context.Context, tx *sqlx.Tx, ev workflow.Event) error {
		calls++
		if err := record(ctx, tx, ev); err != nil {
			return err
		}
		if calls == 1 {
			return errors.New("process center unavailable")
		}
		return nil
	})
	if _, err := in.Accept(ctx, "ev-2", workflow.EventInstanceChange, "", []byte(payload)); err == nil {
		t.Fatal("first delivery: want the handler's error")
	}
	if n := effects(t, q); n != 0 {
		t.Fatalf("failed handler left %d effects, want 0 (rolled back)", n)
	}
	ev, err := in.Get(ctx, "ev-2")
	if err != nil {
		t.Fatalf("failed event not recorded: %v", err)
	}
	if ev.HandledAt != nil || ev.Attempts != 1 || ev.LastError == nil || *ev.LastError != "process center unavailable" {
		t.Errorf("after failure: %+v", ev)
	}
	res, err := in.Accept(ctx, "ev-2", workflow.EventInstanceChange, "", []byte(payload))
	if err != nil || res != workflow.Handled {
		t.Fatalf("redelivery: %v, %v; want Handled", res, err)
	}
	res, err = in.Accept(ctx, "ev-2", workflow.EventInstanceChange, "", []byte(payload))
	if err != nil || res != workflow.Duplicate {
		t.Fatalf("third delivery: %v, %v; want Duplicate", res, err)
	}
	if calls != 2 {
		t.Errorf("handler ran %d times, want 2 (one failure, one success)", calls)
	}
	if n := effects(t, q); n != 1 {
		t.Errorf("%d effects, want 1", n)
	}
	ev, _ = in.Get(ctx, "ev-2")
	if ev.HandledAt == nil || ev.Attempts != 2 || ev.LastError != nil {
		t.Errorf("after success: %+v, want handled, 2 attempts, error cleared", ev)
	}
}

func TestAcceptConcurrentSameEventHandledOnce(t *testing.T) {
	ctx := context.Background()
	in, q := newInbox(t)
	var calls atomic.Int32
	in.Register(workflow.EventInstanceChange, func(ctx context.Context, tx *sqlx.Tx, ev workflow.Event) error {
		calls.Add(1)
		// Hold the transaction open so the other delivery really waits on it.
		if _, err := tx.ExecContext(ctx, `SELECT pg_sleep(0.2)`); err != nil {
			return err
		}
		return record(ctx, tx, ev)
	})
	for round := 0; round < 5; round++ {
		id := "ev-race-" + string(rune('a'+round))
		var wg sync.WaitGroup
		results := make([]workflow.Result, 2)
		errs := make([]error, 2)
		start := make(chan struct{})
		for i := range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				results[i], errs[i] = in.Accept(ctx, id, workflow.EventInstanceChange, "", []byte(payload))
			}()
		}
		close(start)
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("round %d, goroutine %d: %v", round, i, err)
			}
		}
		handled := 0
		for _, r := range results {
			if r == workflow.Handled {
				handled++
			}
		}
		if handled != 1 {
			t.Errorf("round %d: results %v, want exactly one Handled", round, results)
		}
	}
	if c := calls.Load(); c != 5 {
		t.Errorf("handler ran %d times over 5 events delivered twice each, want 5", c)
	}
	if n := effects(t, q); n != 5 {
		t.Errorf("%d effects, want 5", n)
	}
}

func TestAcceptWithoutHandlerStoresAndMarksHandled(t *testing.T) {
	ctx := context.Background()
	in, _ := newInbox(t)
	res, err := in.Accept(ctx, "ev-3", workflow.EventTaskChange, "", []byte(`{"type":"start"}`))
	if err != nil || res != workflow.Handled {
		t.Fatalf("accept: %v, %v", res, err)
	}
	ev, err := in.Get(ctx, "ev-3")
	if err != nil || ev.HandledAt == nil || ev.Type != workflow.EventTaskChange {
		t.Fatalf("stored: %+v, %v", ev, err)
	}
}

func TestAcceptRefusesMalformedEvents(t *testing.T) {
	ctx := context.Background()
	in, _ := newInbox(t)
	cases := []struct {
		name, id, typ, payload, code string
	}{
		{"no id", " ", workflow.EventInstanceChange, payload, "event_id_required"},
		{"no type", "ev-x", "", payload, "event_type_required"},
		{"payload not JSON", "ev-y", workflow.EventInstanceChange, `{"broken"`, "event_payload_invalid"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := in.Accept(ctx, c.id, c.typ, "", []byte(c.payload))
			var ae *apperr.Error
			if !errors.As(err, &ae) || ae.Code != c.code || ae.Kind != apperr.KindInvalid {
				t.Fatalf("got %v, want invalid %s", err, c.code)
			}
		})
	}
	if _, err := in.Get(ctx, "ev-y"); err == nil {
		t.Error("malformed event was stored")
	}
}
