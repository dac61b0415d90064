-- +goose Up
-- Minority shareholders (小股东 / 外部股东) of project companies: the registry
-- and the registrations of their stakes are owned by internal/shareholder;
-- the shareholder distributions (股东分配) by internal/shareholderdist. Later
-- migrations of either area may add columns.

-- The registry (后台管理 → 外部股东; `shareholders` is 股权合作's table of a
-- shareholding version, internal/establishment's). The ID number (统一社会信用代码 for a
-- company, 身份证号 for a person) and the bank account number are sealed
-- like payout accounts (internal/secret, 'v1:' envelopes); only their last
-- four characters are kept in clear, for masking.
CREATE TABLE minority_shareholders (
    id              bigserial PRIMARY KEY,
    name            text NOT NULL CHECK (btrim(name) <> ''),
    kind            text NOT NULL CHECK (kind IN ('company', 'person')),
    id_number_enc   text NOT NULL CHECK (id_number_enc LIKE 'v1:%'),
    id_number_last4 text NOT NULL,
    contact         text NOT NULL DEFAULT '',
    bank            text NOT NULL DEFAULT '',
    account_enc     text CHECK (account_enc IS NULL OR account_enc LIKE 'v1:%'),
    account_last4   text,
    created_by_name text NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    version         integer NOT NULL DEFAULT 1
);

-- 股东登记: one row per version of a shareholder's stake in a project
-- company. draft → submitted (申请审核) → approved (审核通过) | returned
-- (退回, with reason; editable again); a newer approved version of the same
-- (project, shareholder) marks the older one superseded, so the history of
-- stakes stays. stake is a fraction of the project company (0.15 = 15%).
CREATE TABLE shareholder_registrations (
    id              bigserial PRIMARY KEY,
    project_id      bigint NOT NULL REFERENCES projects (id),
    shareholder_id  bigint NOT NULL REFERENCES minority_shareholders (id),
    stake           numeric(9,6) NOT NULL CHECK (stake > 0 AND stake <= 1),
    contributed     numeric(20,2) NOT NULL CHECK (contributed >= 0),
    contributed_on  date NOT NULL,
    status          text NOT NULL DEFAULT 'draft'
                    CHECK (status IN ('draft', 'submitted', 'approved', 'returned', 'superseded')),
    submitted_by    bigint REFERENCES users (id),
    submitted_at    timestamptz,
    reviewed_by     bigint REFERENCES users (id),
    reviewed_by_name text NOT NULL DEFAULT '',
    reviewed_at     timestamptz,
    review_reason   text NOT NULL DEFAULT '',
    created_by      bigint REFERENCES users (id),
    created_by_name text NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    version         integer NOT NULL DEFAULT 1
);
CREATE INDEX shareholder_registrations_project ON shareholder_registrations (project_id, shareholder_id, id);
-- At most one approved (in force) stake per shareholder and project.
CREATE UNIQUE INDEX shareholder_registrations_in_force ON shareholder_registrations (project_id, shareholder_id)
    WHERE status = 'approved';

-- 股东分配: a batch of one project's distribution to its approved minority
-- shareholders. draft → submitted (录入分配及申请审核) → approved (审核通过)
-- | returned → paid once every line's payout is registered.
CREATE TABLE shareholder_distributions (
    id                bigserial PRIMARY KEY,
    project_id        bigint NOT NULL REFERENCES projects (id),
    seq               integer NOT NULL,
    distribution_date date NOT NULL,
    amount            numeric(20,2) NOT NULL CHECK (amount > 0),
    note              text NOT NULL DEFAULT '',
    status            text NOT NULL DEFAULT 'draft'
                      CHECK (status IN ('draft', 'submitted', 'approved', 'returned', 'paid')),
    submitted_by      bigint REFERENCES users (id),
    submitted_at      timestamptz,
    reviewed_by       bigint REFERENCES users (id),
    reviewed_by_name  text NOT NULL DEFAULT '',
    reviewed_at       timestamptz,
    review_reason     text NOT NULL DEFAULT '',
    created_by        bigint REFERENCES users (id),
    created_by_name   text NOT NULL DEFAULT '',
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    version           integer NOT NULL DEFAULT 1,
    UNIQUE (project_id, seq)
);

-- One line per approved registration at the batch's creation: the stake
-- then in force and the amount (pro rata by default, largest remainder to
-- the fen; Σ amount = the batch's amount), and its payout once registered.
CREATE TABLE shareholder_distribution_lines (
    distribution_id bigint NOT NULL REFERENCES shareholder_distributions (id) ON DELETE CASCADE,
    shareholder_id  bigint NOT NULL REFERENCES minority_shareholders (id),
    registration_id bigint NOT NULL REFERENCES shareholder_registrations (id),
    stake           numeric(9,6) NOT NULL,
    amount          numeric(20,2) NOT NULL CHECK (amount >= 0),
    paid_on         date,
    ledger_tx_id    bigint,
    PRIMARY KEY (distribution_id, shareholder_id)
);
CREATE INDEX shareholder_distribution_lines_shareholder ON shareholder_distribution_lines (shareholder_id);

-- +goose Down
DROP TABLE shareholder_distribution_lines;
DROP TABLE shareholder_distributions;
DROP TABLE shareholder_registrations;
DROP TABLE minority_shareholders;
