package notify

import (
	"context"
	"fmt"

	"github.com/lib/pq"

	"hehuo/internal/dingtalk"
)

// resultTasksPerPass bounds the getsendresult calls of one CheckResults,
// which share DingTalk's quota with the sends.
const resultTasksPerPass = 50

// CheckResults reads DingTalk's send result of work-notice tasks sent at
// least the result delay ago and records, per delivery, whether the user read
// it, has not yet, or DingTalk refused it (invalid user, forbidden with its
// code — 143105 daily cap, 143106 same content today — or failed). It
// returns how many deliveries it updated.
func (d *Dispatcher) CheckResults(ctx context.Context) (int, error) {
	var tasks []int64
	if err := d.s.db.SelectContext(ctx, &tasks, `
		SELECT task_id FROM notify_deliveries
		WHERE status = 'sent' AND result = '' AND task_id IS NOT NULL
		  AND sent_at < now() - $1 * interval '1 millisecond'
		GROUP BY task_id ORDER BY min(sent_at) LIMIT $2`, d.resultDelay.Milliseconds(), resultTasksPerPass); err != nil {
		return 0, fmt.Errorf("send results: tasks: %w", err)
	}
	updated := 0
	for _, task := range tasks {
		res, err := d.s.client.NoticeResult(ctx, task)
		if err != nil {
			if dingtalk.IsTemporary(err) || ctx.Err() != nil {
				return updated, fmt.Errorf("send result of task %d: %w", task, err)
			}
			// DingTalk keeps results for 24 hours only; a task it no longer
			// knows is marked so, not asked about forever.
			res = dingtalk.SendResult{}
			d.log.Warn("outbox: send result unavailable", "task", task, "err", err)
		}
		byUser := map[string]string{}
		put := func(ids []string, result string) {
			for _, id := range ids {
				byUser[id] = result
			}
		}
		put(res.Unread, "unread")
		put(res.Read, "read")
		put(res.Failed, "failed")
		put(res.Invalid, "invalid")
		put(res.Forbidden, "forbidden")
		for _, f := range res.ForbiddenList {
			byUser[f.UserID] = "forbidden:" + f.Code
		}
		users := make([]string, 0, len(byUser))
		results := make([]string, 0, len(byUser))
		for u, r := range byUser {
			users = append(users, u)
			results = append(results, r)
		}
		// Recipients DingTalk does not list are "unknown", so the task is
		// not asked about again.
		n, err := d.s.db.ExecContext(ctx, `
			UPDATE notify_deliveries d SET result = coalesce(r.result, 'unknown')
			FROM notify_deliveries x
			LEFT JOIN unnest($2::text[], $3::text[]) AS r(recipient, result) ON r.recipient = x.recipient
			WHERE x.id = d.id AND d.task_id = $1 AND d.status = 'sent' AND d.result = ''`,
			task, pq.Array(users), pq.Array(results))
		if err != nil {
			return updated, fmt.Errorf("send result of task %d: record: %w", task, err)
		}
		k, _ := n.RowsAffected()
		updated += int(k)
	}
	return updated, nil
}
