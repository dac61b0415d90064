-- +goose Up
-- Distributions (分配, RULES R6–R8, R10): the actual peak confirmation, the
-- batches (本金分配, 利润分配 n, 清算分配) with one line per partner, their
-- payouts, and the partners' exit flags the lines show (退/离).

-- 实际资金峰值确认 (process kind actual_peak, repeatable): a principal batch
-- cannot be calculated before one is agreed. draft → in_approval → agreed;
-- a refused or terminated process returns it to draft.
CREATE TABLE actual_peaks (
    id                  bigserial PRIMARY KEY,
    project_id          bigint NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    actual_peak_capital numeric(20,2) NOT NULL CHECK (actual_peak_capital > 0),
    reason              text NOT NULL DEFAULT '',
    status              text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'in_approval', 'agreed')),
    process_id          bigint,
    agreed_at           timestamptz,
    created_by          bigint REFERENCES users (id),
    created_by_name     text NOT NULL,
    created_at          timestamptz NOT NULL DEFAULT now(),
    version             integer NOT NULL DEFAULT 1,
    updated_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX actual_peaks_project ON actual_peaks (project_id, id);

-- A batch: draft → calculated → saved → submitted → reviewed (or rejected,
-- back to saved with the review note) → in_approval → approved → paid; a
-- refused or terminated process returns it to saved. Editing an input
-- (dates, ratio, amount, a line's C) sends a calculated or saved batch back
-- to draft: what is submitted is exactly the saved calculation.
CREATE TABLE distribution_batches (
    id                bigserial PRIMARY KEY,
    project_id        bigint NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    kind              text NOT NULL CHECK (kind IN ('principal', 'profit', 'liquidation')),
    -- seq numbers the batches of one kind in the project: 利润分配 1, 2, …
    seq               integer NOT NULL CHECK (seq > 0),
    status            text NOT NULL DEFAULT 'draft' CHECK (status IN
                      ('draft', 'calculated', 'saved', 'submitted', 'reviewed', 'rejected', 'in_approval', 'approved', 'paid')),
    distribution_date date,
    record_date       date,
    -- 本次返还比例 of a principal batch (1 = 100%); liquidation returns all.
    return_ratio      numeric(9,6) CHECK (return_ratio > 0 AND return_ratio <= 1),
    -- X of a profit or liquidation batch: entered (amount_entered) or
    -- net_profit × partnership_ratio × profit_ratio (R7).
    amount            numeric(20,2) CHECK (amount >= 0),
    amount_entered    boolean NOT NULL DEFAULT false,
    net_profit        numeric(20,2),           -- 锦艺方预计净利润
    partnership_ratio numeric(12,8),           -- 合伙投资占比 (R3), copied at calculation
    profit_ratio      numeric(9,6) CHECK (profit_ratio >= 0 AND profit_ratio <= 1), -- 本次分配比例
    sales_target_on   date,                    -- 销售去化达标时间
    collection_target_on date,                 -- 销售回款达标时间
    note              text NOT NULL DEFAULT '', -- 情况说明
    actual_peak_id    bigint REFERENCES actual_peaks (id),
    -- 解锁编辑 (R8): while unlocked the accountant enters amounts by hand.
    unlocked          boolean NOT NULL DEFAULT false,
    unlocked_by       bigint REFERENCES users (id),
    unlocked_at       timestamptz,
    -- The last calculation and the saved one, each a fingerprint of the
    -- inputs and results: save copies calc_hash, submit recomputes and
    -- compares (stale → 409).
    calc_hash         text NOT NULL DEFAULT '',
    calculated_by     bigint REFERENCES users (id),
    calculated_at     timestamptz,
    saved_hash        text NOT NULL DEFAULT '',
    saved_by          bigint REFERENCES users (id),
    saved_at          timestamptz,
    submitted_by      bigint REFERENCES users (id),
    submitted_at      timestamptz,
    reviewed_by       bigint REFERENCES users (id),
    reviewed_at       timestamptz,
    review_note       text NOT NULL DEFAULT '',
    process_id        bigint,
    approved_at       timestamptz,
    -- The approval's ledger transaction (R6/R7 postings).
    ledger_tx_id      bigint,
    created_by        bigint REFERENCES users (id),
    created_by_name   text NOT NULL,
    created_at        timestamptz NOT NULL DEFAULT now(),
    version           integer NOT NULL DEFAULT 1,
    updated_at        timestamptz NOT NULL DEFAULT now(),
    UNIQUE (project_id, kind, seq)
);
-- One liquidation per project, ever.
CREATE UNIQUE INDEX distribution_batches_one_liquidation ON distribution_batches (project_id) WHERE kind = 'liquidation';
-- One batch in progress per project at a time (the stage bar's current one).
CREATE UNIQUE INDEX distribution_batches_one_open ON distribution_batches (project_id) WHERE status NOT IN ('approved', 'paid');

-- One line per partner of a batch. a, b, c, d, e are R6's columns
-- (principal and liquidation), f is R7's (profit and liquidation). calc_*
-- keep the last calculation, so a manual value shows its difference.
-- payee_partner_id is who receives the money: the partner, or whoever holds
-- the stake after an exit (the platform company).
CREATE TABLE distribution_lines (
    batch_id         bigint NOT NULL REFERENCES distribution_batches (id) ON DELETE CASCADE,
    partner_id       bigint NOT NULL REFERENCES partners (id),
    user_id          bigint REFERENCES users (id),
    payee_partner_id bigint NOT NULL REFERENCES partners (id),
    seq              integer NOT NULL,
    a                numeric(20,2) NOT NULL DEFAULT 0 CHECK (a >= 0),
    b                numeric(20,2) NOT NULL DEFAULT 0 CHECK (b <= 0),
    c                numeric(20,2) NOT NULL DEFAULT 0,
    c_reason         text NOT NULL DEFAULT '',
    d                numeric(20,2) NOT NULL DEFAULT 0,
    e                numeric(20,2) NOT NULL DEFAULT 0,
    f                numeric(20,2) NOT NULL DEFAULT 0 CHECK (f >= 0),
    calc_d           numeric(20,2),
    calc_e           numeric(20,2),
    calc_f           numeric(20,2),
    -- 手工: set when the accountant typed or imported an amount while unlocked.
    manual           boolean NOT NULL DEFAULT false,
    manual_by        bigint REFERENCES users (id),
    manual_by_name   text NOT NULL DEFAULT '',
    manual_at        timestamptz,
    trace            jsonb NOT NULL DEFAULT '[]',
    -- The payout (登记打款): one ledger transaction, under an Idempotency-Key.
    paid_on          date,
    paid_amount      numeric(20,2),
    payout_tx_id     bigint,
    paid_by          bigint REFERENCES users (id),
    PRIMARY KEY (batch_id, partner_id),
    CHECK (c = 0 OR btrim(c_reason) <> '')
);
CREATE INDEX distribution_lines_partner ON distribution_lines (partner_id);
CREATE INDEX distribution_lines_user ON distribution_lines (user_id);

-- 退 (exited: the stake passed to the platform company) and 离 (left the
-- company) flags of a partner, as the seed's tables show them. Exits
-- (issue 12) set them; opening balances may bring them.
ALTER TABLE partners ADD COLUMN exited_on date, ADD COLUMN left_on date;

-- +goose Down
ALTER TABLE partners DROP COLUMN exited_on, DROP COLUMN left_on;
DROP TABLE distribution_lines;
DROP TABLE distribution_batches;
DROP TABLE actual_peaks;
