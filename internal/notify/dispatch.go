package notify

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"hehuo/internal/apperr"
	"hehuo/internal/dingtalk"
)

// idlePolls is how many intervals an idle dispatcher with LISTEN sleeps.
const idlePolls = 10

// batchSize is how many userids one work-notice call carries (DingTalk's
// userid_list takes at most 100).
const batchSize = 100

// Dispatcher drains the outbox to DingTalk. Any number of dispatchers, in
// one process or many, may share one outbox: rows are claimed with FOR
// UPDATE SKIP LOCKED under a lease.
type Dispatcher struct {
	s           *Service
	log         *slog.Logger
	token       string // this dispatcher's claim token
	lease       time.Duration
	interval    time.Duration
	workers     int
	maxAttempts int
	backoffBase time.Duration
	backoffMax  time.Duration
	resultDelay time.Duration
	listen      bool

	sem chan struct{} // one slot per DingTalk call in flight

	resentInDoubt atomic.Int64
	calls         atomic.Int64
}

// DispatchOption configures a Dispatcher.
type DispatchOption func(*Dispatcher)

// WithLease sets how long a claimed row, and a delivery marked sending, may
// stay without news before another dispatcher takes it over as in doubt
// (default 2 minutes: longer than any DingTalk call with its retries).
func WithLease(d time.Duration) DispatchOption { return func(x *Dispatcher) { x.lease = d } }

// WithInterval sets how often an idle dispatcher looks for due rows
// (default cfg.Notify.Interval).
func WithInterval(d time.Duration) DispatchOption { return func(x *Dispatcher) { x.interval = d } }

// WithWorkers sets how many DingTalk calls run at once (default cfg.Notify.Workers).
func WithWorkers(n int) DispatchOption { return func(x *Dispatcher) { x.workers = n } }

// WithMaxAttempts sets how many failed attempts move a row to the dead
// letter (default cfg.Notify.MaxAttempts).
func WithMaxAttempts(n int) DispatchOption { return func(x *Dispatcher) { x.maxAttempts = n } }

// WithBackoff sets the wait after the first failed attempt and its cap; each
// further attempt doubles it, with jitter (default 5 s and 10 min).
func WithBackoff(base, max time.Duration) DispatchOption {
	return func(x *Dispatcher) { x.backoffBase, x.backoffMax = base, max }
}

// WithResultDelay sets how old a sent task must be before its send result is
// read (default 10 s; DingTalk needs a moment to process a task).
func WithResultDelay(d time.Duration) DispatchOption {
	return func(x *Dispatcher) { x.resultDelay = d }
}

// WithoutListen makes Run poll only, without Postgres LISTEN.
func WithoutListen() DispatchOption { return func(x *Dispatcher) { x.listen = false } }

// NewDispatcher returns a dispatcher of s's outbox.
func NewDispatcher(s *Service, opts ...DispatchOption) *Dispatcher {
	b := make([]byte, 8)
	crand.Read(b)
	d := &Dispatcher{
		s: s, log: s.log, token: hex.EncodeToString(b),
		lease:       2 * time.Minute,
		interval:    s.cfg.Notify.Interval,
		workers:     s.cfg.Notify.Workers,
		maxAttempts: s.cfg.Notify.MaxAttempts,
		backoffBase: 5 * time.Second,
		backoffMax:  10 * time.Minute,
		resultDelay: 10 * time.Second,
		listen:      true,
	}
	for _, o := range opts {
		o(d)
	}
	if d.interval <= 0 {
		d.interval = time.Second
	}
	if d.workers < 1 {
		d.workers = 1
	}
	if d.maxAttempts < 1 {
		d.maxAttempts = 1
	}
	d.sem = make(chan struct{}, d.workers)
	return d
}

// ResentInDoubt returns how many deliveries this dispatcher resent because
// a crash had left them in doubt.
func (d *Dispatcher) ResentInDoubt() int64 { return d.resentInDoubt.Load() }

// Calls returns how many DingTalk send calls this dispatcher made.
func (d *Dispatcher) Calls() int64 { return d.calls.Load() }

// Run drains the outbox until ctx ends: due rows, then send results, then a
// sleep of the interval, cut short when Postgres reports a new row.
func (d *Dispatcher) Run(ctx context.Context) error {
	wake := make(chan struct{}, 1)
	listening := false
	if d.listen {
		if stop, err := d.listenWake(wake); err != nil {
			d.log.Warn("outbox: no LISTEN, polling only", "err", err)
		} else {
			listening = true
			defer stop()
		}
	}
	d.log.Info("outbox dispatcher running", "workers", d.workers, "interval", d.interval, "lease", d.lease)
	for {
		sent, err := d.DrainOnce(ctx)
		if err != nil && ctx.Err() == nil {
			d.log.Error("outbox: drain", "err", err)
		}
		updated, rerr := d.CheckResults(ctx)
		if rerr != nil && ctx.Err() == nil {
			d.log.Error("outbox: send results", "err", rerr)
		}
		// With LISTEN, new rows wake the dispatcher at once; polling only
		// catches retries coming due, expired leases and send results, so
		// an idle dispatcher polls ten times less often.
		wait := d.interval
		if listening && sent == 0 && updated == 0 && err == nil && rerr == nil {
			wait = idlePolls * d.interval
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-wake:
			t.Stop()
		case <-t.C:
		}
	}
}

// listenWake subscribes to the notify_outbox channel, which the insert
// trigger signals at commit.
func (d *Dispatcher) listenWake(wake chan<- struct{}) (func(), error) {
	if d.s.cfg.Database.URL == "" {
		return nil, errors.New("no database URL")
	}
	l := pq.NewListener(d.s.cfg.Database.URL, time.Second, time.Minute, nil)
	if err := l.Listen("notify_outbox"); err != nil {
		l.Close()
		return nil, fmt.Errorf("listen notify_outbox: %w", err)
	}
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-done:
				return
			case <-l.Notify:
				// A nil notification means the connection was re-established:
				// rows may have arrived meanwhile, so wake up all the same.
				select {
				case wake <- struct{}{}:
				default:
				}
			}
		}
	}()
	return func() { close(done); l.Close() }, nil
}

// claimed is an outbox row this dispatcher holds.
type claimed struct {
	ID        int64  `db:"id"`
	Kind      string `db:"kind"`
	Template  string `db:"template"`
	Data      []byte `db:"data"`
	OrgUnitID *int64 `db:"org_unit_id"`
	Rendered  []byte `db:"rendered"`
	Attempts  int    `db:"attempts"`
}

// DrainOnce sends every row due now and returns how many deliveries it sent.
func (d *Dispatcher) DrainOnce(ctx context.Context) (int, error) {
	total := 0
	for {
		rows, err := d.claim(ctx, d.workers)
		if err != nil {
			return total, err
		}
		if len(rows) == 0 {
			return total, nil
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		var firstErr error
		for _, r := range rows {
			wg.Add(1)
			go func(r claimed) {
				defer wg.Done()
				n, err := d.process(ctx, r)
				mu.Lock()
				total += n
				if err != nil && firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
			}(r)
		}
		wg.Wait()
		if firstErr != nil {
			return total, firstErr
		}
		if ctx.Err() != nil {
			return total, ctx.Err()
		}
	}
}

// claim takes up to limit due rows, and rows whose holder's lease ran out.
func (d *Dispatcher) claim(ctx context.Context, limit int) ([]claimed, error) {
	var rows []claimed
	err := d.relaxed(ctx, func(tx *sqlx.Tx) error {
		rows = nil
		return tx.SelectContext(ctx, &rows, `
		UPDATE notify_outbox SET status = 'sending', claim_token = $1,
		       lease_until = now() + $2 * interval '1 millisecond', updated_at = now()
		WHERE id IN (
			SELECT id FROM notify_outbox
			WHERE (status IN ('pending', 'retry') AND not_before <= now() AND next_attempt_at <= now())
			   OR (status = 'sending' AND lease_until < now())
			ORDER BY next_attempt_at, id
			LIMIT $3
			FOR UPDATE SKIP LOCKED)
		RETURNING id, kind, template, data, org_unit_id, rendered, attempts`,
			d.token, d.lease.Milliseconds(), limit)
	})
	if err != nil {
		return nil, fmt.Errorf("claim outbox rows: %w", err)
	}
	return rows, nil
}

// errLostClaim means another dispatcher took the row over (our lease ran out).
var errLostClaim = errors.New("outbox row claimed by another dispatcher")

// target is one DingTalk call: the deliveries it carries.
type target struct {
	ids        []int64
	recipients []string
	resend     bool // deliveries in doubt, resent once
}

// outcome is how a row's sending went.
type outcome struct {
	mu        sync.Mutex
	sent      int
	temporary error // a failure that may pass: retry the row later
	permanent error // a failure that will not pass: the deliveries are dead
	lost      bool
	robotBan  bool // a custom robot was muted for 10 minutes
}

func (o *outcome) stop() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.temporary != nil || o.permanent != nil || o.lost
}

// process sends one claimed row and settles its status. The error returned
// is for the database only; DingTalk's answers are recorded on the row.
func (d *Dispatcher) process(ctx context.Context, r claimed) (int, error) {
	msg, err := d.message(ctx, &r)
	if err != nil {
		if apperr.As(err) != nil {
			// A template that does not render or a robot that is not set up
			// will not fix itself by waiting: dead letter, at once.
			return 0, d.finish(ctx, r, &outcome{permanent: err})
		}
		return 0, d.finish(ctx, r, &outcome{temporary: err})
	}
	if err := checkMessage(r.Kind, msg); err != nil {
		return 0, d.finish(ctx, r, &outcome{permanent: fmt.Errorf("notice %d: %w", r.ID, err)})
	}
	var webhook dingtalk.Webhook
	if r.Kind == KindRobot {
		webhook, err = d.s.RobotWebhook(ctx, *r.OrgUnitID)
		if err != nil {
			if apperr.As(err) != nil {
				return 0, d.finish(ctx, r, &outcome{permanent: fmt.Errorf("robot of org unit %d: %w", *r.OrgUnitID, err)})
			}
			return 0, d.finish(ctx, r, &outcome{temporary: err})
		}
	}
	targets, err := d.targets(ctx, r)
	if err != nil {
		return 0, err
	}
	out := &outcome{}
	var wg sync.WaitGroup
	for _, t := range targets {
		if !d.acquire(ctx) {
			break
		}
		if out.stop() {
			<-d.sem
			break
		}
		wg.Add(1)
		go func(t target) {
			defer func() { <-d.sem; wg.Done() }()
			d.send(ctx, r, t, msg, webhook, out)
		}(t)
	}
	wg.Wait()
	// Settled even when stopping (calls under way were finished): what was
	// not begun stays pending, due at once for the next dispatcher.
	if err := d.finish(context.WithoutCancel(ctx), r, out); err != nil {
		return out.sent, err
	}
	return out.sent, ctx.Err()
}

// message returns the row's message: the one stored when it was first sent,
// or rendered now. The first call's transaction stores it (send), so every
// batch and every resend carries identical text even if the template
// changes meanwhile.
func (d *Dispatcher) message(ctx context.Context, r *claimed) (dingtalk.Message, error) {
	var msg dingtalk.Message
	if len(r.Rendered) > 0 {
		if err := json.Unmarshal(r.Rendered, &msg); err != nil {
			return msg, fmt.Errorf("notice %d: stored message: %w", r.ID, err)
		}
		return msg, nil
	}
	var data map[string]any
	if err := json.Unmarshal(r.Data, &data); err != nil {
		return msg, fmt.Errorf("notice %d: data: %w", r.ID, err)
	}
	msg, err := d.s.Render(ctx, r.Template, data)
	if err != nil {
		return msg, err
	}
	if r.Rendered, err = json.Marshal(msg); err != nil {
		return msg, fmt.Errorf("notice %d: store message: %w", r.ID, err)
	}
	return msg, nil
}

// checkMessage refuses, before any call, a message DingTalk would refuse:
// such a notice is dead at once rather than retried.
func checkMessage(kind string, msg dingtalk.Message) error {
	if err := msg.Validate(); err != nil {
		return err
	}
	if kind == KindWorkNotice {
		if b, _ := json.Marshal(msg.WorkNoticeMsg()); len(b) > maxNoticeBytes {
			return fmt.Errorf("message is %d bytes, a work notice takes at most %d", len(b), maxNoticeBytes)
		}
	}
	return nil
}

// maxNoticeBytes is DingTalk's limit on a work notice's msg object.
const maxNoticeBytes = 2048

// targets splits the row's open deliveries into calls. Deliveries a dead
// dispatcher left in sending are in doubt: resent once (DingTalk drops
// identical content to the same user within a day, so a resend of what did
// arrive is harmless), and given up if they are in doubt a second time.
func (d *Dispatcher) targets(ctx context.Context, r claimed) ([]target, error) {
	type row struct {
		ID        int64  `db:"id"`
		Recipient string `db:"recipient"`
		Status    string `db:"status"`
		Resent    bool   `db:"resent"`
	}
	var rows []row
	// A delivery marked sending within the lease may still be in flight in
	// another dispatcher (one whose row lease we took over): left alone.
	if err := d.s.db.SelectContext(ctx, &rows, `
		SELECT id, recipient, status, resent FROM notify_deliveries
		WHERE outbox_id = $1 AND (status = 'pending'
		   OR (status = 'sending' AND sending_since < now() - $2 * interval '1 millisecond'))
		ORDER BY id`, r.ID, d.lease.Milliseconds()); err != nil {
		return nil, fmt.Errorf("notice %d: deliveries: %w", r.ID, err)
	}
	var pending, doubt, twice target
	doubt.resend = true
	for _, x := range rows {
		switch {
		case x.Status == "pending":
			pending.ids = append(pending.ids, x.ID)
			pending.recipients = append(pending.recipients, x.Recipient)
		case !x.Resent:
			doubt.ids = append(doubt.ids, x.ID)
			doubt.recipients = append(doubt.recipients, x.Recipient)
		default:
			twice.ids = append(twice.ids, x.ID)
		}
	}
	if len(twice.ids) > 0 {
		if _, err := d.s.db.ExecContext(ctx, `
			UPDATE notify_deliveries SET status = 'failed', last_error = $2
			WHERE id = ANY($1) AND status = 'sending'`,
			pq.Array(twice.ids), "in doubt after one resend: DingTalk may or may not have delivered it"); err != nil {
			return nil, fmt.Errorf("notice %d: give up deliveries in doubt: %w", r.ID, err)
		}
	}
	if len(doubt.ids) > 0 {
		d.log.Warn("outbox: resending deliveries left in doubt", "notice", r.ID, "deliveries", len(doubt.ids))
	}
	var out []target
	for _, t := range []target{doubt, pending} {
		size := batchSize
		if r.Kind == KindRobot {
			size = 1
		}
		for i := 0; i < len(t.ids); i += size {
			j := min(i+size, len(t.ids))
			out = append(out, target{ids: t.ids[i:j], recipients: t.recipients[i:j], resend: t.resend})
		}
	}
	return out, nil
}

// send makes one DingTalk call: its deliveries are marked sending and
// committed first, and sent with the task id after.
func (d *Dispatcher) send(ctx context.Context, r claimed, t target, msg dingtalk.Message, webhook dingtalk.Webhook, out *outcome) {
	if out.stop() {
		return
	}
	err := d.s.db.InTx(ctx, func(tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, `
			UPDATE notify_outbox SET lease_until = now() + $3 * interval '1 millisecond', updated_at = now(),
			       resent_in_doubt = resent_in_doubt + $4, rendered = coalesce(rendered, $5::jsonb)
			WHERE id = $1 AND claim_token = $2 AND status = 'sending'`,
			r.ID, d.token, d.lease.Milliseconds(), len(t.ids)*b2i(t.resend), string(r.Rendered))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errLostClaim
		}
		_, err = tx.ExecContext(ctx, `
			UPDATE notify_deliveries SET status = 'sending', sending_since = now(), resent = resent OR $2
			WHERE id = ANY($1)`, pq.Array(t.ids), t.resend)
		return err
	})
	if err != nil {
		if ctx.Err() != nil {
			return // stopping: this batch was not marked, so nothing of it went out
		}
		out.mu.Lock()
		if errors.Is(err, errLostClaim) {
			out.lost = true
		} else if out.temporary == nil {
			out.temporary = fmt.Errorf("mark sending: %w", err)
		}
		out.mu.Unlock()
		return
	}
	if t.resend {
		d.resentInDoubt.Add(int64(len(t.ids)))
	}

	// A call under way is finished even when the dispatcher is stopping, so
	// that a shutdown leaves nothing in doubt; it is cut at half the lease,
	// so that its answer is in before anyone may take the row over.
	callCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), d.lease/2)
	defer cancel()
	var taskID *int64
	d.calls.Add(1)
	if r.Kind == KindRobot {
		err = d.s.client.SendWebhook(callCtx, webhook, msg)
	} else {
		var tasks []dingtalk.NoticeTask
		tasks, err = d.s.client.SendWorkNotice(callCtx, t.recipients, msg)
		if err == nil && len(tasks) > 0 {
			id := tasks[0].TaskID
			taskID = &id
		}
	}

	// The answer is recorded even when ctx has ended meanwhile: a call that
	// returned is no longer in doubt.
	bg := context.WithoutCancel(ctx)
	var dtErr *dingtalk.Error
	switch {
	case err == nil:
		err = d.relaxed(bg, func(tx *sqlx.Tx) error {
			_, err := tx.ExecContext(bg, `
				UPDATE notify_deliveries SET status = 'sent', task_id = $2, sent_at = now(), last_error = ''
				WHERE id = ANY($1)`, pq.Array(t.ids), taskID)
			return err
		})
		if err != nil {
			// Stays sending: resent once as in doubt, which DingTalk absorbs.
			d.log.Error("outbox: mark sent", "notice", r.ID, "err", err)
		}
		out.mu.Lock()
		out.sent += len(t.ids)
		out.mu.Unlock()
	case !errors.As(err, &dtErr):
		// No answer from DingTalk (network, timeout, shutdown): it may have
		// delivered. The deliveries stay sending and are resent once.
		out.mu.Lock()
		if out.temporary == nil {
			out.temporary = err
		}
		out.mu.Unlock()
	case retryLater(err):
		d.settle(bg, r, t, "pending", err)
		out.mu.Lock()
		if out.temporary == nil {
			out.temporary = err
		}
		if dtErr.Code == "130101" {
			out.robotBan = true
		}
		out.mu.Unlock()
	default:
		d.settle(bg, r, t, "dead", err)
		out.mu.Lock()
		if out.permanent == nil {
			out.permanent = err
		}
		out.mu.Unlock()
	}
}

// retryLater reports a refusal that waiting may cure: DingTalk busy or
// throttling, and the app's own credentials or permissions, which an
// operator fixes for every notice at once — those must not bury the whole
// queue in the dead letter meanwhile. Anything else is about the message
// and is final.
func retryLater(err error) bool {
	if dingtalk.IsTemporary(err) || dingtalk.IsInvalidToken(err) {
		return true
	}
	var e *dingtalk.Error
	if errors.As(err, &e) {
		switch e.Code {
		case "invalidClientIdOrSecret", "60011", "60020", "40056":
			return true
		}
	}
	return false
}

// settle records DingTalk's refusal on a call's deliveries.
func (d *Dispatcher) settle(ctx context.Context, r claimed, t target, status string, cause error) {
	if _, err := d.s.db.ExecContext(ctx, `
		UPDATE notify_deliveries SET status = $2, sending_since = NULL, last_error = $3
		WHERE id = ANY($1)`, pq.Array(t.ids), status, cause.Error()); err != nil {
		d.log.Error("outbox: record refusal", "notice", r.ID, "err", err)
	}
}

// relaxed runs fn in a transaction committed without waiting for the WAL
// flush. It is for bookkeeping whose loss in a Postgres crash (not a
// dispatcher crash: the commit is visible at once) costs at most a resend
// that DingTalk drops as identical content; marking a batch sending before
// its call is never relaxed.
func (d *Dispatcher) relaxed(ctx context.Context, fn func(tx *sqlx.Tx) error) error {
	return d.s.db.InTx(ctx, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, `SET LOCAL synchronous_commit TO off`); err != nil {
			return err
		}
		return fn(tx)
	})
}

// acquire takes a call slot, or reports false when ctx ends first.
func (d *Dispatcher) acquire(ctx context.Context) bool {
	select {
	case d.sem <- struct{}{}:
		return true
	case <-ctx.Done():
		return false
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// finish settles the row after its calls: sent when every delivery went,
// retry later after a temporary failure, dead when attempts are exhausted or
// the failure is permanent.
func (d *Dispatcher) finish(ctx context.Context, r claimed, out *outcome) error {
	if out.lost {
		return nil // the new holder settles the row
	}
	return d.relaxed(ctx, func(tx *sqlx.Tx) error {
		var c struct {
			Pending int `db:"pending"`
			Sending int `db:"sending"`
			Sent    int `db:"sent"`
			Failed  int `db:"failed"`
			Dead    int `db:"dead"`
			// Seconds until the youngest delivery in flight elsewhere runs out of lease.
			Wait float64 `db:"wait"`
		}
		if err := tx.GetContext(ctx, &c, `
			SELECT count(*) FILTER (WHERE status = 'pending') AS pending,
			       count(*) FILTER (WHERE status = 'sending') AS sending,
			       count(*) FILTER (WHERE status = 'sent') AS sent,
			       count(*) FILTER (WHERE status = 'failed') AS failed,
			       count(*) FILTER (WHERE status = 'dead') AS dead,
			       coalesce(extract(epoch FROM max(sending_since) FILTER (WHERE status = 'sending')
			                + $2 * interval '1 millisecond' - now()), 0)::float8 AS wait
			FROM notify_deliveries WHERE outbox_id = $1`, r.ID, d.lease.Milliseconds()); err != nil {
			return fmt.Errorf("notice %d: count deliveries: %w", r.ID, err)
		}
		status, lastErr, attempts := StatusSent, "", r.Attempts
		next := time.Duration(0)
		switch {
		case out.permanent != nil:
			// Nothing else of this row can go either: the rest is dead too.
			if _, err := tx.ExecContext(ctx, `
				UPDATE notify_deliveries SET status = 'dead', last_error = $2
				WHERE outbox_id = $1 AND status = 'pending'`, r.ID, out.permanent.Error()); err != nil {
				return fmt.Errorf("notice %d: dead deliveries: %w", r.ID, err)
			}
			status, lastErr, attempts = StatusDead, out.permanent.Error(), attempts+1
			if c.Sent > 0 {
				status = StatusFailed
			}
		case out.temporary != nil:
			attempts++
			lastErr = out.temporary.Error()
			if attempts >= d.maxAttempts {
				if _, err := tx.ExecContext(ctx, `
					UPDATE notify_deliveries SET status = 'dead', last_error = $2
					WHERE outbox_id = $1 AND status = 'pending'`, r.ID, lastErr); err != nil {
					return fmt.Errorf("notice %d: dead deliveries: %w", r.ID, err)
				}
				// Calls of ours that got no answer stay in doubt for good:
				// failed, so that an operator's Retry resends them.
				if _, err := tx.ExecContext(ctx, `
					UPDATE notify_deliveries SET status = 'failed', last_error = $2
					WHERE outbox_id = $1 AND status = 'sending'`, r.ID, "no answer from DingTalk: "+lastErr); err != nil {
					return fmt.Errorf("notice %d: deliveries in doubt: %w", r.ID, err)
				}
				status = StatusDead
				if c.Sent > 0 {
					status = StatusFailed
				}
				break
			}
			status, next = StatusRetry, d.backoff(attempts)
			if out.robotBan {
				next = max(next, 10*time.Minute)
			}
			if c.Sending > 0 {
				next = max(next, d.lease)
			}
		case c.Pending > 0 || c.Sending > 0:
			// Deliveries another dispatcher still had in flight: look again
			// once their lease has run out.
			status, next = StatusRetry, time.Duration(c.Wait*float64(time.Second))+time.Millisecond
		case c.Failed > 0 || c.Dead > 0:
			status, lastErr = StatusFailed, "some deliveries were not sent"
		}
		if status == StatusDead {
			d.log.Error("outbox: notice dead", "notice", r.ID, "attempts", attempts, "err", lastErr)
		}
		_, err := tx.ExecContext(ctx, `
			UPDATE notify_outbox SET status = $3, attempts = $4, last_error = $5,
			       next_attempt_at = now() + $6 * interval '1 millisecond',
			       claim_token = NULL, lease_until = NULL, updated_at = now(),
			       sent_at = CASE WHEN $3 = 'sent' THEN now() ELSE sent_at END
			WHERE id = $1 AND claim_token = $2`, r.ID, d.token, status, attempts, lastErr, next.Milliseconds())
		if err != nil {
			return fmt.Errorf("notice %d: settle: %w", r.ID, err)
		}
		return nil
	})
}

// backoff is the wait before attempt n+1: exponential with full jitter in
// its upper half, capped.
func (d *Dispatcher) backoff(n int) time.Duration {
	w := d.backoffBase
	for i := 1; i < n && w < d.backoffMax; i++ {
		w *= 2
	}
	w = min(w, d.backoffMax)
	return w/2 + rand.N(w/2+1)
}
