package notify

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"hehuo/internal/apperr"
	"hehuo/internal/db"
)

// The kinds of notice, KindWorkNotice (工作通知 to DingTalk users) and
// KindRobot (消息机器人 in an org unit's group chat), are the template kinds
// (template.go).

// The statuses of an outbox row.
const (
	StatusPending = "pending" // waiting for its time or a dispatcher
	StatusSending = "sending" // claimed by a dispatcher under a lease
	StatusRetry   = "retry"   // failed for now; next_attempt_at says when again
	StatusSent    = "sent"    // every delivery sent
	StatusFailed  = "failed"  // done, but some deliveries could not be sent
	StatusDead    = "dead"    // given up: attempts exhausted or a permanent error
)

// maxRecipients bounds one notice; DingTalk takes 5,000 recipients a minute,
// so a bigger audience is a mistake or belongs to several notices.
const maxRecipients = 50000

// Notice is one notice to enqueue. Its text is rendered once from Template
// and Data and is the same for every recipient: no personal figures
// (DESIGN §8). The text must differ between notices, since DingTalk delivers
// identical content to a user at most once a day.
type Notice struct {
	Kind       string         // KindWorkNotice or KindRobot
	Recipients []string       // DingTalk userids; empty for a robot notice
	OrgUnitID  *int64         // the org unit whose robot posts a robot notice
	ProjectID  *int64         // the project the notice is about, if any
	Template   string         // template code (模板管理)
	Data       map[string]any // template data, the same for every recipient
	DedupeKey  string         // (Kind, DedupeKey) is enqueued once, ever
	NotBefore  time.Time      // not sent before; zero means now
}

// Enqueue inserts n in the caller's transaction tx, so that the notice exists
// exactly when the business change commits. Enqueueing the same kind and
// dedupe key again returns the existing row's id with created false.
func Enqueue(ctx context.Context, tx sqlx.ExtContext, n Notice) (id int64, created bool, err error) {
	recipients, err := validate(&n)
	if err != nil {
		return 0, false, err
	}
	// The template must exist and be of the notice's kind: a wrong code is a
	// bug of the caller, refused in its transaction rather than dead later.
	var kind string
	err = sqlx.GetContext(ctx, tx, &kind, `SELECT kind FROM notify_templates WHERE code = $1`, n.Template)
	if db.IsNoRows(err) {
		return 0, false, apperr.Invalid("notice_template_unknown", "template", "通知模板不存在：%s", n.Template)
	}
	if err != nil {
		return 0, false, fmt.Errorf("enqueue notice %s: template: %w", n.DedupeKey, err)
	}
	if kind != n.Kind {
		return 0, false, apperr.Invalid("notice_template_kind", "template", "模板 %s 不能用于此类通知", n.Template)
	}
	data := n.Data
	if data == nil {
		data = map[string]any{}
	}
	payload, err := json.Marshal(data)
	if err != nil {
		return 0, false, apperr.Invalid("notice_data_invalid", "data", "通知数据无法保存：%v", err)
	}
	var notBefore any
	if !n.NotBefore.IsZero() {
		notBefore = n.NotBefore
	}
	// ON CONFLICT DO NOTHING returns no row for a duplicate; the existing id
	// is read after. Two concurrent enqueues of one key serialise on the
	// unique index, so the loser sees the winner's committed row.
	err = sqlx.GetContext(ctx, tx, &id, `
		INSERT INTO notify_outbox (kind, dedupe_key, template, data, org_unit_id, project_id, recipients, not_before, next_attempt_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, coalesce($8::timestamptz, now()), now())
		ON CONFLICT (kind, dedupe_key) DO NOTHING
		RETURNING id`,
		n.Kind, n.DedupeKey, n.Template, string(payload), n.OrgUnitID, n.ProjectID, len(recipients), notBefore)
	if db.IsNoRows(err) {
		if err := sqlx.GetContext(ctx, tx, &id, `SELECT id FROM notify_outbox WHERE kind = $1 AND dedupe_key = $2`, n.Kind, n.DedupeKey); err != nil {
			return 0, false, fmt.Errorf("enqueue notice %s: find existing: %w", n.DedupeKey, err)
		}
		return id, false, nil
	}
	if err != nil {
		if c, ok := db.IsForeignKeyViolation(err); ok {
			if strings.Contains(c, "org_unit") {
				return 0, false, apperr.Invalid("org_unit_not_found", "org_unit_id", "组织不存在")
			}
			return 0, false, apperr.Invalid("project_not_found", "project_id", "项目不存在")
		}
		return 0, false, fmt.Errorf("enqueue notice %s: %w", n.DedupeKey, err)
	}
	if _, err := tx.ExecContext(ctx, `
		INSERT INTO notify_deliveries (outbox_id, recipient)
		SELECT $1, r FROM unnest($2::text[]) AS r`, id, pq.Array(recipients)); err != nil {
		return 0, false, fmt.Errorf("enqueue notice %s: deliveries: %w", n.DedupeKey, err)
	}
	return id, true, nil
}

// validate checks n, fills defaults and returns the delivery recipients:
// the deduplicated userids, or the one robot target.
func validate(n *Notice) ([]string, error) {
	n.Template = strings.TrimSpace(n.Template)
	n.DedupeKey = strings.TrimSpace(n.DedupeKey)
	if n.Template == "" {
		return nil, apperr.Invalid("notice_template_required", "template", "请指定通知模板")
	}
	if n.DedupeKey == "" {
		return nil, apperr.Invalid("notice_dedupe_key_required", "dedupe_key", "请指定通知去重键")
	}
	if utf8.RuneCountInString(n.DedupeKey) > 200 {
		return nil, apperr.Invalid("notice_dedupe_key_too_long", "dedupe_key", "通知去重键不能超过200个字符")
	}
	switch n.Kind {
	case KindWorkNotice:
		if n.OrgUnitID != nil {
			return nil, apperr.Invalid("notice_org_unit_unexpected", "org_unit_id", "工作通知按接收人发送，不能指定机器人所在组织")
		}
		seen := make(map[string]bool, len(n.Recipients))
		out := make([]string, 0, len(n.Recipients))
		for _, r := range n.Recipients {
			r = strings.TrimSpace(r)
			if r == "" {
				return nil, apperr.Invalid("notice_recipient_empty", "recipients", "接收人钉钉ID不能为空")
			}
			// DingTalk's userid_list is comma-separated: a comma would split one id into two.
			if strings.ContainsAny(r, ", \t\n") || len(r) > 64 {
				return nil, apperr.Invalid("notice_recipient_invalid", "recipients", "接收人钉钉ID无效：%s", r)
			}
			if !seen[r] {
				seen[r] = true
				out = append(out, r)
			}
		}
		if len(out) == 0 {
			return nil, apperr.Invalid("notice_recipients_required", "recipients", "工作通知至少需要一个接收人")
		}
		if len(out) > maxRecipients {
			return nil, apperr.Invalid("notice_too_many_recipients", "recipients", "一条通知最多%d个接收人", maxRecipients)
		}
		return out, nil
	case KindRobot:
		if len(n.Recipients) > 0 {
			return nil, apperr.Invalid("notice_recipients_unexpected", "recipients", "机器人消息发往群，不能指定接收人")
		}
		if n.OrgUnitID == nil {
			return nil, apperr.Invalid("notice_org_unit_required", "org_unit_id", "机器人消息需要指定组织")
		}
		return []string{robotRecipient(*n.OrgUnitID)}, nil
	default:
		return nil, apperr.Invalid("notice_kind_invalid", "kind", "通知类型无效：%q", n.Kind)
	}
}

// robotRecipient names the one delivery of a robot notice.
func robotRecipient(orgUnitID int64) string { return fmt.Sprintf("org_unit:%d", orgUnitID) }

// EnqueueMany is Enqueue for many notices at once, in tx, in one statement
// per table whatever their number (a distribution's 分配通知 go to every
// payee of a batch of thousands). Each notice is checked as Enqueue checks
// it; one already enqueued under its kind and dedupe key is left as it is.
// It returns how many were created.
func EnqueueMany(ctx context.Context, tx sqlx.ExtContext, ns []Notice) (int, error) {
	if len(ns) == 0 {
		return 0, nil
	}
	n := len(ns)
	kinds, keys, templates, datas := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	orgs, projects := make([]sql.NullInt64, n), make([]sql.NullInt64, n)
	counts, notBefore := make([]int64, n), make([]sql.NullString, n)
	recipients := make([][]string, n)
	templateKind := map[string]string{}
	for i := range ns {
		r, err := validate(&ns[i])
		if err != nil {
			return 0, err
		}
		nt := ns[i]
		kind, ok := templateKind[nt.Template]
		if !ok {
			err = sqlx.GetContext(ctx, tx, &kind, `SELECT kind FROM notify_templates WHERE code = $1`, nt.Template)
			if db.IsNoRows(err) {
				return 0, apperr.Invalid("notice_template_unknown", "template", "通知模板不存在：%s", nt.Template)
			}
			if err != nil {
				return 0, fmt.Errorf("enqueue notices: template: %w", err)
			}
			templateKind[nt.Template] = kind
		}
		if kind != nt.Kind {
			return 0, apperr.Invalid("notice_template_kind", "template", "模板 %s 不能用于此类通知", nt.Template)
		}
		data := nt.Data
		if data == nil {
			data = map[string]any{}
		}
		payload, err := json.Marshal(data)
		if err != nil {
			return 0, apperr.Invalid("notice_data_invalid", "data", "通知数据无法保存：%v", err)
		}
		kinds[i], keys[i], templates[i], datas[i], counts[i], recipients[i] = nt.Kind, nt.DedupeKey, nt.Template, string(payload), int64(len(r)), r
		if nt.OrgUnitID != nil {
			orgs[i] = sql.NullInt64{Int64: *nt.OrgUnitID, Valid: true}
		}
		if nt.ProjectID != nil {
			projects[i] = sql.NullInt64{Int64: *nt.ProjectID, Valid: true}
		}
		if !nt.NotBefore.IsZero() {
			notBefore[i] = sql.NullString{String: nt.NotBefore.Format(time.RFC3339Nano), Valid: true}
		}
	}
	var created []struct {
		ID   int64  `db:"id"`
		Kind string `db:"kind"`
		Key  string `db:"dedupe_key"`
	}
	if err := sqlx.SelectContext(ctx, tx, &created, `
		INSERT INTO notify_outbox (kind, dedupe_key, template, data, org_unit_id, project_id, recipients, not_before, next_attempt_at)
		SELECT x.k, x.dk, x.tp, x.d::jsonb, x.o, x.p, x.r, coalesce(x.nb::timestamptz, now()), now()
		FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::bigint[], $7::int[], $8::text[])
			AS x (k, dk, tp, d, o, p, r, nb)
		ON CONFLICT (kind, dedupe_key) DO NOTHING
		RETURNING id, kind, dedupe_key`,
		pq.Array(kinds), pq.Array(keys), pq.Array(templates), pq.Array(datas), pq.Array(orgs), pq.Array(projects),
		pq.Array(counts), pq.Array(notBefore)); err != nil {
		if c, ok := db.IsForeignKeyViolation(err); ok {
			if strings.Contains(c, "org_unit") {
				return 0, apperr.Invalid("org_unit_not_found", "org_unit_id", "组织不存在")
			}
			return 0, apperr.Invalid("project_not_found", "project_id", "项目不存在")
		}
		return 0, fmt.Errorf("enqueue notices: %w", err)
	}
	if len(created) == 0 {
		return 0, nil
	}
	index := make(map[[2]string]int, n)
	for i := range ns {
		index[[2]string{kinds[i], keys[i]}] = i
	}
	var outbox []int64
	var to []string
	for _, c := range created {
		for _, r := range recipients[index[[2]string{c.Kind, c.Key}]] {
			outbox, to = append(outbox, c.ID), append(to, r)
		}
	}
	if len(to) > 0 {
		if _, err := tx.ExecContext(ctx, `INSERT INTO notify_deliveries (outbox_id, recipient)
			SELECT * FROM unnest($1::bigint[], $2::text[])`, pq.Array(outbox), pq.Array(to)); err != nil {
			return 0, fmt.Errorf("enqueue notices: deliveries: %w", err)
		}
	}
	return len(created), nil
}
