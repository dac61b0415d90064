-- +goose Up
-- Exits (退投, RULES R9) with takeover by the platform company (承接): the
-- price rules per exit type (editable by sysadmin), the quotes (离职退休测算)
-- with one line per project the partner holds, and the partners' own exit
-- requests from H5 (申请退出).

-- One row per exit type; seeded with calc.DefaultExitPolicies.
CREATE TABLE exit_policies (
    exit_type      text PRIMARY KEY CHECK (exit_type IN ('resignation', 'dismissal', 'retirement', 'transfer', 'death')),
    holding_return boolean NOT NULL,
    version        integer NOT NULL DEFAULT 1,
    updated_by     bigint REFERENCES users (id),
    updated_at     timestamptz NOT NULL DEFAULT now()
);
INSERT INTO exit_policies (exit_type, holding_return) VALUES
    ('resignation', false), ('dismissal', false), ('retirement', true), ('transfer', true), ('death', true);

-- A partner's exit request from H5: submitted → quoted (the accountant
-- quoted it) → launched (its exit process is running) → done, or rejected.
CREATE TABLE exit_requests (
    id           bigserial PRIMARY KEY,
    partner_id   bigint NOT NULL REFERENCES partners (id),
    user_id      bigint NOT NULL REFERENCES users (id),
    reason       text NOT NULL,
    desired_date date NOT NULL,
    status       text NOT NULL DEFAULT 'submitted' CHECK (status IN ('submitted', 'quoted', 'launched', 'done', 'rejected')),
    exit_id      bigint,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    version      integer NOT NULL DEFAULT 1
);
CREATE INDEX exit_requests_partner ON exit_requests (partner_id, id);

-- An exit quote (退出测算): quoted → in_approval → agreed (已承接) → paid; a
-- refused or terminated process returns it to quoted; a newer quote of the
-- same partner supersedes a quoted one.
CREATE TABLE exits (
    id               bigserial PRIMARY KEY,
    partner_id       bigint NOT NULL REFERENCES partners (id),
    user_id          bigint NOT NULL REFERENCES users (id),
    exit_type        text NOT NULL CHECK (exit_type IN ('resignation', 'dismissal', 'retirement', 'transfer', 'death')),
    exit_date        date NOT NULL,
    holding_return   boolean NOT NULL,
    -- Where the exit rate came from: financing_cost (the project's financing
    -- cost rate, establishment.FundingTerms) or none (policy without H).
    rate_source      text NOT NULL,
    status           text NOT NULL DEFAULT 'quoted' CHECK (status IN ('quoted', 'in_approval', 'agreed', 'paid', 'superseded')),
    total            numeric(20,2) NOT NULL,
    request_id       bigint REFERENCES exit_requests (id),
    process_id       bigint,
    launch_project_id bigint REFERENCES projects (id),
    agreed_at        timestamptz,
    paid_on          date,
    paid_amount      numeric(20,2),
    payout_tx_id     bigint,
    created_by       bigint REFERENCES users (id),
    created_by_name  text NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    version          integer NOT NULL DEFAULT 1,
    updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX exits_partner ON exits (partner_id, id);
-- One exit of a partner at a time goes to approval or is agreed.
CREATE UNIQUE INDEX exits_one_active ON exits (partner_id) WHERE status IN ('in_approval', 'agreed');

-- One line per project where the partner held principal outstanding P > 0.
CREATE TABLE exit_lines (
    id           bigserial PRIMARY KEY,
    exit_id      bigint NOT NULL REFERENCES exits (id) ON DELETE CASCADE,
    project_id   bigint NOT NULL REFERENCES projects (id),
    partner_id   bigint NOT NULL REFERENCES partners (id),
    p            numeric(20,2) NOT NULL CHECK (p > 0),
    i            numeric(20,2) NOT NULL CHECK (i <= 0),
    h            numeric(20,2) NOT NULL CHECK (h >= 0),
    payout       numeric(20,2) NOT NULL,
    rate         numeric(12,8),
    trace        jsonb NOT NULL DEFAULT '[]',
    ledger_tx_id bigint,
    UNIQUE (exit_id, project_id)
);
CREATE INDEX exit_lines_project ON exit_lines (project_id, partner_id);
CREATE INDEX exit_lines_partner ON exit_lines (partner_id);

-- +goose Down
DROP TABLE exit_lines;
DROP TABLE exits;
DROP TABLE exit_requests;
DROP TABLE exit_policies;
