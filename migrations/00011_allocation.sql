-- +goose Up
-- The allocation (认购明细测算) of a round: one per round, recomputed in place.
-- subscription_seq is the round's subscription_seq it was computed on: the
-- allocation is fresh while they are equal (a subscription change after it
-- makes it stale). preview marks one computed while the round was still open.
-- The pools and peak capital it used are kept so that the figures shown and
-- exported are those it was computed from, even if the terms change later.
CREATE TABLE allocations (
    round_id         bigint PRIMARY KEY REFERENCES rounds (id),
    subscription_seq bigint NOT NULL,
    preview          boolean NOT NULL,
    peak_capital     numeric(20,2) NOT NULL,
    pool_holding     numeric(20,2) NOT NULL CHECK (pool_holding >= 0),
    pool_property    numeric(20,2) NOT NULL CHECK (pool_property >= 0),
    pool_city        numeric(20,2) NOT NULL CHECK (pool_city >= 0),
    pool_other       numeric(20,2) NOT NULL CHECK (pool_other >= 0),
    -- The calculation's trace is not stored: calc.Allocate is pure, so it
    -- is recomputed from the stored pools and each line's request and
    -- mandatory flag (the same figures, step for step) instead of writing
    -- one step per line on every recalculation. Manual edits are not
    -- reproducible and append their steps here.
    edits            jsonb NOT NULL DEFAULT '[]',
    computed_by      text NOT NULL,
    computed_at      timestamptz NOT NULL DEFAULT now(),
    version          integer NOT NULL DEFAULT 1,
    updated_at       timestamptz NOT NULL DEFAULT now()
);

-- One line per invitation. calculated is what R3 gave; allocated is what
-- counts (equal unless the accountant edited the line, with a reason).
-- partner_id, user_id and invitation_id are copied from the round's
-- invitations, which hold the foreign keys; they are not re-checked here
-- because a recalculation rewrites every line of a round (10,000 lines
-- must store well under 300 ms, and the checks alone took 200).
CREATE TABLE allocation_lines (
    round_id      bigint NOT NULL REFERENCES allocations (round_id) ON DELETE CASCADE,
    partner_id    bigint NOT NULL,
    user_id       bigint,
    invitation_id bigint,
    tier          text NOT NULL CHECK (tier IN ('holding', 'property', 'city', 'other')),
    mandatory     boolean NOT NULL,
    min_amount    numeric(20,2) NOT NULL,
    max_amount    numeric(20,2) NOT NULL,
    requested     numeric(20,2) NOT NULL CHECK (requested >= 0),
    calculated    numeric(20,2) NOT NULL CHECK (calculated >= 0 AND calculated = trunc(calculated)),
    allocated     numeric(20,2) NOT NULL CHECK (allocated >= 0 AND allocated = trunc(allocated)),
    edited        boolean NOT NULL DEFAULT false,
    reason        text NOT NULL DEFAULT '',
    edited_by     text,
    edited_at     timestamptz,
    PRIMARY KEY (round_id, partner_id),
    CHECK (edited OR (allocated = calculated AND reason = ''))
);
-- Holdings read a partner's approved allocations across rounds.
CREATE INDEX allocation_lines_partner ON allocation_lines (partner_id);

-- +goose Down
DROP TABLE allocation_lines;
DROP TABLE allocations;
