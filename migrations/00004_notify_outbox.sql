-- +goose Up
-- The notice outbox (DESIGN §6). Services insert a row in the same database
-- transaction as the business change; the dispatcher sends it to DingTalk
-- later. One row is one notice: the same text for every recipient.
CREATE TABLE notify_outbox (
    id              bigserial PRIMARY KEY,
    kind            text NOT NULL CHECK (kind IN ('work_notice', 'robot')),
    -- A notice is enqueued at most once per key: a second enqueue is a no-op.
    dedupe_key      text NOT NULL CHECK (btrim(dedupe_key) <> '' AND length(dedupe_key) <= 200),
    template        text NOT NULL CHECK (btrim(template) <> ''),
    data            jsonb NOT NULL DEFAULT '{}',
    -- The robot's org unit (kind robot); work notices name their recipients
    -- in notify_deliveries.
    org_unit_id     bigint REFERENCES org_units (id),
    project_id      bigint REFERENCES projects (id),
    -- pending → sending (claimed under a lease) → sent | retry | failed | dead.
    status          text NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'sending', 'retry', 'sent', 'failed', 'dead')),
    not_before      timestamptz NOT NULL DEFAULT now(),
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    -- The dispatcher that holds the row and until when; an expired lease
    -- means that dispatcher died and another may take the row over.
    claim_token     text,
    lease_until     timestamptz,
    attempts        integer NOT NULL DEFAULT 0,
    last_error      text NOT NULL DEFAULT '',
    -- The message as rendered the first time, so that every batch and every
    -- resend carries identical text even if the template changes meanwhile.
    rendered        jsonb,
    recipients      integer NOT NULL DEFAULT 0,
    -- Deliveries resent because a crash left them in doubt.
    resent_in_doubt integer NOT NULL DEFAULT 0,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    sent_at         timestamptz,
    UNIQUE (kind, dedupe_key),
    CHECK (kind <> 'robot' OR org_unit_id IS NOT NULL)
);
CREATE INDEX notify_outbox_due ON notify_outbox (next_attempt_at) WHERE status IN ('pending', 'retry');
CREATE INDEX notify_outbox_leased ON notify_outbox (lease_until) WHERE status = 'sending';
CREATE INDEX notify_outbox_status ON notify_outbox (status, id);
CREATE INDEX notify_outbox_project ON notify_outbox (project_id, id);

-- One row per recipient of a notice (for a robot notice, one row for the
-- robot). A delivery is marked sending, committed, before the DingTalk call
-- and sent after it, so a crash leaves at most the batch in flight in doubt.
CREATE TABLE notify_deliveries (
    id            bigserial PRIMARY KEY,
    outbox_id     bigint NOT NULL REFERENCES notify_outbox (id),
    recipient     text NOT NULL CHECK (btrim(recipient) <> ''),
    status        text NOT NULL DEFAULT 'pending'
                  CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'dead')),
    sending_since timestamptz,
    -- Set when the delivery was resent after a crash left it in doubt; it is
    -- resent at most once.
    resent        boolean NOT NULL DEFAULT false,
    task_id       bigint,
    -- DingTalk's send result, read after the fact: read, unread, invalid,
    -- forbidden:<code>, failed; empty until read.
    result        text NOT NULL DEFAULT '',
    last_error    text NOT NULL DEFAULT '',
    sent_at       timestamptz,
    UNIQUE (outbox_id, recipient)
);
CREATE INDEX notify_deliveries_result ON notify_deliveries (sent_at) WHERE status = 'sent' AND result = '' AND task_id IS NOT NULL;
CREATE INDEX notify_deliveries_task ON notify_deliveries (task_id);

-- Wake the dispatchers when a notice is enqueued (delivered at commit only).
-- +goose StatementBegin
CREATE FUNCTION notify_outbox_wake() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('notify_outbox', '');
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER notify_outbox_wake AFTER INSERT ON notify_outbox
    FOR EACH STATEMENT EXECUTE FUNCTION notify_outbox_wake();

-- +goose Down
DROP TRIGGER notify_outbox_wake ON notify_outbox;
DROP FUNCTION notify_outbox_wake();
DROP TABLE notify_deliveries;
DROP TABLE notify_outbox;
