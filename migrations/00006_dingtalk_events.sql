-- +goose Up
-- The inbox of DingTalk events (approval changes arrive through the stream).
-- DingTalk delivers an event at least once and may deliver it again even
-- after a SUCCESS ack, so the event id is the primary key: the first delivery
-- inserts the row and runs the handler in the same transaction, and a later
-- delivery of a handled event finds the row and does nothing.
CREATE TABLE dingtalk_events (
    event_id    text PRIMARY KEY CHECK (btrim(event_id) <> '' AND length(event_id) <= 200),
    event_type  text NOT NULL CHECK (btrim(event_type) <> ''),
    corp_id     text NOT NULL DEFAULT '',
    payload     jsonb NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    -- Set in the transaction that ran the handler; NULL while the handler
    -- keeps failing (the event is then redelivered by DingTalk).
    handled_at  timestamptz,
    -- Deliveries tried: failed ones are counted after their rollback, the
    -- successful one in its own transaction.
    attempts    integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    last_error  text
);
CREATE INDEX dingtalk_events_unhandled ON dingtalk_events (received_at) WHERE handled_at IS NULL;

-- +goose Down
DROP TABLE dingtalk_events;
