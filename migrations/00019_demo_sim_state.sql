-- +goose Up
-- The DingTalk simulator's lasting state (users, inboxes, robots and their
-- messages, approvals, cards) of `hehuo demo`, kept in the demo database so
-- that a restart of the demo finds it as it was: a process still running in
-- Hehuo can still be approved. Never written outside demo mode.
CREATE TABLE demo_sim_state (
    id         integer PRIMARY KEY CHECK (id = 1),
    state      jsonb NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE demo_sim_state;
