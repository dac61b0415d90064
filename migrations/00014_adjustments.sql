-- +goose Up
-- Peak change (峰值变更) and establishment adjustment (立项调整), RULES R5.

-- A peak change is the subject of the peak_change process: the new peak
-- capital and the shareholding that take effect when it is agreed. The old
-- peak is copied when it is created so that the form and R5 read the
-- figures it was decided on.
CREATE TABLE peak_changes (
    id               bigserial PRIMARY KEY,
    project_id       bigint NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    old_peak_capital numeric(20,2) NOT NULL CHECK (old_peak_capital > 0),
    new_peak_capital numeric(20,2) NOT NULL CHECK (new_peak_capital > 0),
    shareholders     jsonb NOT NULL DEFAULT '[]',
    reason           text NOT NULL DEFAULT '',
    -- draft → in_approval → agreed | draft again (refused/terminated).
    status           text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'in_approval', 'agreed')),
    process_id       bigint,
    effective_on     date,
    created_by       bigint REFERENCES users (id),
    created_by_name  text NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    version          integer NOT NULL DEFAULT 1,
    updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX peak_changes_project ON peak_changes (project_id);
-- One peak change open (not agreed) per project at a time.
CREATE UNIQUE INDEX peak_changes_one_open ON peak_changes (project_id) WHERE status <> 'agreed';

-- An adjustment re-splits the principal after an agreed peak change.
-- draft → submitted → reviewed → in_approval → agreed; a refused review or
-- approval returns it to draft.
CREATE TABLE adjustments (
    id               bigserial PRIMARY KEY,
    project_id       bigint NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    peak_change_id   bigint NOT NULL UNIQUE REFERENCES peak_changes (id),
    old_peak_capital numeric(20,2) NOT NULL,
    new_peak_capital numeric(20,2) NOT NULL,
    status           text NOT NULL DEFAULT 'draft'
                     CHECK (status IN ('draft', 'submitted', 'reviewed', 'in_approval', 'agreed')),
    trace            jsonb NOT NULL DEFAULT '[]',
    review_note      text NOT NULL DEFAULT '',
    process_id       bigint,
    created_by       bigint REFERENCES users (id),
    created_by_name  text NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    version          integer NOT NULL DEFAULT 1,
    updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX adjustments_project ON adjustments (project_id);

-- One line per partner and tier: R5's figures. paid is what the partner had
-- paid in when the adjustment was computed; top_up and refund are what is
-- to settle; settled is Σ settlements so far (top-ups and refunds alike,
-- as positive amounts).
CREATE TABLE adjustment_lines (
    adjustment_id bigint NOT NULL REFERENCES adjustments (id) ON DELETE CASCADE,
    partner_id    bigint NOT NULL,
    user_id       bigint,
    tier          text NOT NULL CHECK (tier IN ('holding', 'property', 'city', 'other')),
    old_principal numeric(20,2) NOT NULL CHECK (old_principal >= 0),
    new_principal numeric(20,2) NOT NULL CHECK (new_principal >= 0),
    delta         numeric(20,2) NOT NULL CHECK (delta = new_principal - old_principal),
    paid          numeric(20,2) NOT NULL,
    top_up        numeric(20,2) NOT NULL CHECK (top_up >= 0),
    refund        numeric(20,2) NOT NULL CHECK (refund >= 0),
    settled       numeric(20,2) NOT NULL DEFAULT 0 CHECK (settled >= 0 AND settled <= top_up + refund),
    PRIMARY KEY (adjustment_id, partner_id, tier)
);

-- 变更缴款确认: one ledger transaction each.
CREATE TABLE adjustment_settlements (
    id              bigserial PRIMARY KEY,
    adjustment_id   bigint NOT NULL REFERENCES adjustments (id) ON DELETE CASCADE,
    partner_id      bigint NOT NULL,
    user_id         bigint NOT NULL REFERENCES users (id),
    direction       text NOT NULL CHECK (direction IN ('top_up', 'refund')),
    amount          numeric(20,2) NOT NULL CHECK (amount > 0),
    settled_on      date NOT NULL,
    ledger_tx_id    bigint NOT NULL,
    idempotency_key text NOT NULL UNIQUE,
    created_by      bigint REFERENCES users (id),
    created_by_name text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX adjustment_settlements_adjustment ON adjustment_settlements (adjustment_id);

-- +goose Down
DROP TABLE adjustment_settlements;
DROP TABLE adjustment_lines;
DROP TABLE adjustments;
DROP TABLE peak_changes;
