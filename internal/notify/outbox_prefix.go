package notify

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// PrefixCounts is how the recipients of the work notices whose dedupe key
// starts with one prefix stand (a batch's 分配通知, grouped up to a call's
// worth of recipients per notice), counted by delivery: queued (not sent
// yet, QueuedFor the earliest time their notice may go), sent, failed
// (failed or given up).
type PrefixCounts struct {
	Notices   int        `json:"notices"`
	Queued    int        `json:"queued"`
	QueuedFor *time.Time `json:"queued_for"`
	Sent      int        `json:"sent"`
	Failed    int        `json:"failed"`
}

// CountsByPrefix counts the work notices of each dedupe-key prefix, on q;
// a prefix with none has zero counts. Prefixes are matched literally.
func CountsByPrefix(ctx context.Context, q sqlx.QueryerContext, prefixes []string) (map[string]PrefixCounts, error) {
	out := make(map[string]PrefixCounts, len(prefixes))
	if len(prefixes) == 0 {
		return out, nil
	}
	var rows []struct {
		Prefix    string     `db:"prefix"`
		Notices   int        `db:"notices"`
		Queued    int        `db:"queued"`
		QueuedFor *time.Time `db:"queued_for"`
		Sent      int        `db:"sent"`
		Failed    int        `db:"failed"`
	}
	// left(dedupe_key, length(prefix)) = prefix, not LIKE: a prefix's "_"
	// and "%" are not wildcards.
	if err := sqlx.SelectContext(ctx, q, &rows, `
		SELECT p.prefix, count(d.id) AS notices,
			count(d.id) FILTER (WHERE d.status IN ('pending', 'sending')) AS queued,
			min(o.not_before) FILTER (WHERE d.status IN ('pending', 'sending')) AS queued_for,
			count(d.id) FILTER (WHERE d.status = 'sent') AS sent,
			count(d.id) FILTER (WHERE d.status IN ('failed', 'dead')) AS failed
		FROM unnest($1::text[]) AS p(prefix)
		JOIN notify_outbox o ON o.kind = $2 AND left(o.dedupe_key, length(p.prefix)) = p.prefix
		JOIN notify_deliveries d ON d.outbox_id = o.id
		GROUP BY p.prefix`,
		pq.Array(prefixes), KindWorkNotice); err != nil {
		return nil, fmt.Errorf("outbox counts by prefix: %w", err)
	}
	for _, r := range rows {
		out[r.Prefix] = PrefixCounts{Notices: r.Notices, Queued: r.Queued, QueuedFor: r.QueuedFor, Sent: r.Sent, Failed: r.Failed}
	}
	return out, nil
}
