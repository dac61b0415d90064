-- +goose Up
-- The round service keeps what it needs in its own tables instead of
-- reading other areas' tables as business state (issue 10):
-- invitations.notified_at is when the partner was sent the round's
-- subscription notice (the first send, or a later one for partners invited
-- after it), so that a later send goes only to those not told yet (it was
-- read from notify_deliveries); rounds.review_count counts the business
-- admin's decisions on the round (方案审核), which keys the alert of each
-- decision (it was counted in audit_log).
ALTER TABLE invitations ADD COLUMN notified_at timestamptz;
ALTER TABLE rounds ADD COLUMN review_count integer NOT NULL DEFAULT 0 CHECK (review_count >= 0);

UPDATE invitations i SET notified_at = o.created_at
FROM users u, notify_deliveries d JOIN notify_outbox o ON o.id = d.outbox_id
WHERE u.id = i.user_id AND d.recipient = u.dingtalk_userid AND o.kind = 'work_notice'
  AND (o.dedupe_key = 'round:' || i.round_id || ':subscription'
       OR o.dedupe_key LIKE 'round:' || i.round_id || ':subscription:late:%');

UPDATE rounds r SET review_count = n.count
FROM (SELECT entity_id, count(*) AS count FROM audit_log
      WHERE entity = 'round' AND action IN ('round.review_approve', 'round.review_reject')
      GROUP BY entity_id) n
WHERE n.entity_id = r.id::text;

-- Positions (internal/position) read a partner's payments across rounds.
CREATE INDEX payments_partner ON payments (partner_id);

-- +goose Down
DROP INDEX payments_partner;
ALTER TABLE rounds DROP COLUMN review_count;
ALTER TABLE invitations DROP COLUMN notified_at;
