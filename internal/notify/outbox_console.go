package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"hehuo/internal/apperr"
	"hehuo/internal/audit"
	"hehuo/internal/db"
)

// OutboxRow is a notice as the console (通知队列) shows it, with how its
// deliveries stand.
type OutboxRow struct {
	ID            int64           `db:"id" json:"id"`
	Kind          string          `db:"kind" json:"kind"`
	DedupeKey     string          `db:"dedupe_key" json:"dedupe_key"`
	Template      string          `db:"template" json:"template"`
	Data          json.RawMessage `db:"data" json:"data"`
	OrgUnitID     *int64          `db:"org_unit_id" json:"org_unit_id"`
	ProjectID     *int64          `db:"project_id" json:"project_id"`
	Status        string          `db:"status" json:"status"`
	StatusLabel   string          `db:"-" json:"status_label"`
	NotBefore     time.Time       `db:"not_before" json:"not_before"`
	NextAttemptAt time.Time       `db:"next_attempt_at" json:"next_attempt_at"`
	Attempts      int             `db:"attempts" json:"attempts"`
	LastError     string          `db:"last_error" json:"last_error"`
	Recipients    int             `db:"recipients" json:"recipients"`
	ResentInDoubt int             `db:"resent_in_doubt" json:"resent_in_doubt"`
	CreatedAt     time.Time       `db:"created_at" json:"created_at"`
	UpdatedAt     time.Time       `db:"updated_at" json:"updated_at"`
	SentAt        *time.Time      `db:"sent_at" json:"sent_at"`
	// Deliveries by status.
	Pending int `db:"n_pending" json:"pending"`
	Sending int `db:"n_sending" json:"sending"`
	Sent    int `db:"n_sent" json:"sent"`
	Failed  int `db:"n_failed" json:"failed"`
	Dead    int `db:"n_dead" json:"dead"`
}

// Delivery is one recipient's delivery of a notice.
type Delivery struct {
	ID           int64      `db:"id" json:"id"`
	Recipient    string     `db:"recipient" json:"recipient"`
	Status       string     `db:"status" json:"status"`
	StatusLabel  string     `db:"-" json:"status_label"`
	SendingSince *time.Time `db:"sending_since" json:"sending_since"`
	Resent       bool       `db:"resent" json:"resent"`
	TaskID       *int64     `db:"task_id" json:"task_id,string"`
	Result       string     `db:"result" json:"result"`
	LastError    string     `db:"last_error" json:"last_error"`
	SentAt       *time.Time `db:"sent_at" json:"sent_at"`
}

// OutboxDetail is a notice with every delivery.
type OutboxDetail struct {
	OutboxRow
	Deliveries []Delivery `json:"deliveries"`
}

// Filter selects outbox rows, newest first.
type Filter struct {
	Status    string // one status, or all
	Kind      string // one kind, or all
	ProjectID *int64
	Limit     int   // 1..500, default 50
	Before    int64 // only rows with a smaller id (paging); 0 for the newest
}

// Stats is the outbox at a glance.
type Stats struct {
	// ByStatus counts outbox rows per status (every status present, zeros included).
	ByStatus map[string]int `json:"by_status"`
	// OldestDueAt is when the longest-waiting due row became due, if any.
	OldestDueAt *time.Time `json:"oldest_due_at"`
	// Deliveries per status.
	Deliveries map[string]int `json:"deliveries"`
	// ResentInDoubt totals the deliveries resent after a crash.
	ResentInDoubt int `json:"resent_in_doubt"`
}

const rowColumns = `o.id, o.kind, o.dedupe_key, o.template, o.data, o.org_unit_id, o.project_id, o.status,
	o.not_before, o.next_attempt_at, o.attempts, o.last_error, o.recipients, o.resent_in_doubt,
	o.created_at, o.updated_at, o.sent_at,
	coalesce(c.n_pending, 0) AS n_pending, coalesce(c.n_sending, 0) AS n_sending, coalesce(c.n_sent, 0) AS n_sent,
	coalesce(c.n_failed, 0) AS n_failed, coalesce(c.n_dead, 0) AS n_dead`

const countsJoin = `LEFT JOIN LATERAL (
	SELECT count(*) FILTER (WHERE status = 'pending') AS n_pending,
	       count(*) FILTER (WHERE status = 'sending') AS n_sending,
	       count(*) FILTER (WHERE status = 'sent') AS n_sent,
	       count(*) FILTER (WHERE status = 'failed') AS n_failed,
	       count(*) FILTER (WHERE status = 'dead') AS n_dead
	FROM notify_deliveries d WHERE d.outbox_id = o.id) c ON true`

var statuses = []string{StatusPending, StatusSending, StatusRetry, StatusSent, StatusFailed, StatusDead}

// List returns the outbox rows f selects, newest first.
func (s *Service) List(ctx context.Context, f Filter) ([]OutboxRow, error) {
	if f.Status != "" && !contains(statuses, f.Status) {
		return nil, apperr.Invalid("notice_status_invalid", "status", "通知状态无效：%q", f.Status)
	}
	if f.Kind != "" && f.Kind != KindWorkNotice && f.Kind != KindRobot {
		return nil, apperr.Invalid("notice_kind_invalid", "kind", "通知类型无效：%q", f.Kind)
	}
	if f.Limit < 0 || f.Limit > 500 {
		return nil, apperr.Invalid("limit_invalid", "limit", "每页条数应在1到500之间")
	}
	if f.Limit == 0 {
		f.Limit = 50
	}
	rows := []OutboxRow{}
	err := s.db.SelectContext(ctx, &rows, `SELECT `+rowColumns+` FROM notify_outbox o `+countsJoin+`
		WHERE ($1 = '' OR o.status = $1) AND ($2 = '' OR o.kind = $2)
		  AND ($3::bigint IS NULL OR o.project_id = $3) AND ($4 = 0 OR o.id < $4)
		ORDER BY o.id DESC LIMIT $5`, f.Status, f.Kind, f.ProjectID, f.Before, f.Limit)
	if err != nil {
		return nil, fmt.Errorf("list outbox: %w", err)
	}
	for i := range rows {
		rows[i].StatusLabel = statusLabel(rows[i].Status)
	}
	return rows, nil
}

// Get returns one notice with its deliveries.
func (s *Service) Get(ctx context.Context, id int64) (OutboxDetail, error) {
	var d OutboxDetail
	err := s.db.GetContext(ctx, &d.OutboxRow, `SELECT `+rowColumns+` FROM notify_outbox o `+countsJoin+` WHERE o.id = $1`, id)
	if db.IsNoRows(err) {
		return d, errNoticeNotFound
	}
	if err != nil {
		return d, fmt.Errorf("get notice %d: %w", id, err)
	}
	d.Deliveries = []Delivery{}
	if err := s.db.SelectContext(ctx, &d.Deliveries, `
		SELECT id, recipient, status, sending_since, resent, task_id, result, last_error, sent_at
		FROM notify_deliveries WHERE outbox_id = $1 ORDER BY id`, id); err != nil {
		return d, fmt.Errorf("get notice %d: deliveries: %w", id, err)
	}
	d.StatusLabel = statusLabel(d.Status)
	for i := range d.Deliveries {
		d.Deliveries[i].StatusLabel = deliveryStatusLabels[d.Deliveries[i].Status]
	}
	return d, nil
}

var errNoticeNotFound = apperr.NotFound("notice_not_found", "通知不存在")

// Retry puts a failed or dead notice back in the queue: its undelivered
// recipients are sent again, with attempts counted from zero.
func (s *Service) Retry(ctx context.Context, actor audit.Actor, id int64) error {
	return s.db.InTx(ctx, func(tx *sqlx.Tx) error {
		var before OutboxRow
		err := tx.GetContext(ctx, &before, `SELECT `+rowColumns+` FROM notify_outbox o `+countsJoin+` WHERE o.id = $1 FOR UPDATE OF o`, id)
		if db.IsNoRows(err) {
			return errNoticeNotFound
		}
		if err != nil {
			return fmt.Errorf("retry notice %d: %w", id, err)
		}
		if before.Status != StatusFailed && before.Status != StatusDead {
			return apperr.Conflict("notice_not_retryable", "只有发送失败或已放弃的通知可以重试（当前状态：%s）", statusLabel(before.Status))
		}
		n, err := tx.ExecContext(ctx, `
			UPDATE notify_deliveries SET status = 'pending', sending_since = NULL, last_error = ''
			WHERE outbox_id = $1 AND status IN ('failed', 'dead')`, id)
		if err != nil {
			return fmt.Errorf("retry notice %d: deliveries: %w", id, err)
		}
		reset, _ := n.RowsAffected()
		if _, err := tx.ExecContext(ctx, `
			UPDATE notify_outbox SET status = 'pending', attempts = 0, last_error = '', next_attempt_at = now(),
			       claim_token = NULL, lease_until = NULL, updated_at = now()
			WHERE id = $1`, id); err != nil {
			return fmt.Errorf("retry notice %d: %w", id, err)
		}
		// Wake the dispatchers; delivered only if this transaction commits.
		if _, err := tx.ExecContext(ctx, `SELECT pg_notify('notify_outbox', '')`); err != nil {
			return fmt.Errorf("retry notice %d: wake: %w", id, err)
		}
		return audit.Record(ctx, tx, actor, audit.Entry{
			Action: "notice.retry", Entity: "notice", EntityID: id, ProjectID: before.ProjectID,
			Before: map[string]any{"status": before.Status, "attempts": before.Attempts, "last_error": before.LastError},
			After:  map[string]any{"status": StatusPending, "attempts": 0, "deliveries_reset": reset},
		})
	})
}

// Stats counts the outbox by status.
func (s *Service) Stats(ctx context.Context) (Stats, error) {
	st := Stats{ByStatus: map[string]int{}, Deliveries: map[string]int{}}
	for _, k := range statuses {
		st.ByStatus[k] = 0
	}
	for _, k := range []string{"pending", "sending", "sent", "failed", "dead"} {
		st.Deliveries[k] = 0
	}
	type count struct {
		Status string `db:"status"`
		N      int    `db:"n"`
	}
	var counts []count
	if err := s.db.SelectContext(ctx, &counts, `SELECT status, count(*) AS n FROM notify_outbox GROUP BY status`); err != nil {
		return st, fmt.Errorf("outbox stats: %w", err)
	}
	for _, c := range counts {
		st.ByStatus[c.Status] = c.N
	}
	counts = nil
	if err := s.db.SelectContext(ctx, &counts, `SELECT status, count(*) AS n FROM notify_deliveries GROUP BY status`); err != nil {
		return st, fmt.Errorf("outbox stats: deliveries: %w", err)
	}
	for _, c := range counts {
		st.Deliveries[c.Status] = c.N
	}
	if err := s.db.QueryRowxContext(ctx, `
		SELECT (SELECT min(greatest(not_before, next_attempt_at)) FROM notify_outbox
		        WHERE status IN ('pending', 'retry') AND not_before <= now() AND next_attempt_at <= now()),
		       (SELECT coalesce(sum(resent_in_doubt), 0) FROM notify_outbox)`).Scan(&st.OldestDueAt, &st.ResentInDoubt); err != nil {
		return st, fmt.Errorf("outbox stats: %w", err)
	}
	return st, nil
}

// statusLabels are the outbox states as the console words them.
var statusLabels = map[string]string{StatusPending: "待发送", StatusSending: "发送中", StatusRetry: "等待重试",
	StatusSent: "已发送", StatusFailed: "部分失败", StatusDead: "已放弃"}

func init() { audit.DescribeStates("notice", statusLabels) }

// deliveryStatusLabels are one recipient's delivery states: a delivery
// fails whole, where a notice fails in part.
var deliveryStatusLabels = map[string]string{StatusPending: "待发送", StatusSending: "发送中", StatusSent: "已发送",
	StatusFailed: "失败", StatusDead: "已放弃"}

// statusLabel is a status as the console words it.
func statusLabel(s string) string {
	if l, ok := statusLabels[s]; ok {
		return l
	}
	return s
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
