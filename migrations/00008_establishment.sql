-- +goose Up
-- Establishment (立项). Ratios and rates are fractions (0.0331 = 3.31%) with
-- up to six decimals; money is numeric(20,2).

-- The group's financing rate table (资金成本利率): a rate is in force from
-- its effective date until the next one's.
CREATE TABLE financing_rates (
    id             bigserial PRIMARY KEY,
    effective_from date NOT NULL UNIQUE,
    rate           numeric(9, 6) NOT NULL CHECK (rate >= 0 AND rate < 1),
    note           text NOT NULL DEFAULT '',
    version        integer NOT NULL DEFAULT 1,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now()
);

-- One row per project that has establishment data. Each tab has its own
-- version, so editing 关键节点 does not make an open 立项信息 form stale.
CREATE TABLE establishments (
    project_id                bigint PRIMARY KEY REFERENCES projects (id) ON DELETE CASCADE,
    -- 立项信息 (terms, R1).
    peak_capital              numeric(20, 2) CHECK (peak_capital > 0),
    ratio_holding             numeric(9, 6) NOT NULL DEFAULT 0 CHECK (ratio_holding >= 0),
    ratio_property            numeric(9, 6) NOT NULL DEFAULT 0 CHECK (ratio_property >= 0),
    ratio_city                numeric(9, 6) NOT NULL DEFAULT 0 CHECK (ratio_city >= 0),
    ratio_other               numeric(9, 6) NOT NULL DEFAULT 0 CHECK (ratio_other >= 0),
    group_cap_ratio           numeric(9, 6) NOT NULL DEFAULT 0.10 CHECK (group_cap_ratio > 0 AND group_cap_ratio <= 1),
    per_person_cap_ratio      numeric(9, 6) NOT NULL DEFAULT 0.01 CHECK (per_person_cap_ratio > 0 AND per_person_cap_ratio <= 1),
    funding_date              date,
    -- financing_rate is the override; NULL means the rate in force on the
    -- funding date applies (read from financing_rates until frozen).
    financing_rate            numeric(9, 6) CHECK (financing_rate >= 0 AND financing_rate < 1),
    -- Frozen when the establishment process is launched: the rate in force
    -- then is kept here, and the funding date and rate no longer change.
    frozen_rate_in_force      numeric(9, 6),
    funding_frozen_at         timestamptz,
    collection_bank           text NOT NULL DEFAULT '',
    collection_account_name   text NOT NULL DEFAULT '',
    collection_account_number text NOT NULL DEFAULT '',
    -- Set by the agreed peak_capital process: peak capital and tier ratios
    -- are locked from then on (a peak change creates new values).
    peak_locked_at            timestamptz,
    peak_process_id           bigint,
    terms_version             integer NOT NULL DEFAULT 0,
    milestones_version        integer NOT NULL DEFAULT 0,
    indicators_version        integer NOT NULL DEFAULT 0,
    basic_version             integer NOT NULL DEFAULT 0,
    -- 基础信息 beyond the project master data.
    address                   text NOT NULL DEFAULT '',
    land_area                 numeric(20, 2) CHECK (land_area >= 0),
    building_area             numeric(20, 2) CHECK (building_area >= 0),
    saleable_area             numeric(20, 2) CHECK (saleable_area >= 0),
    saleable_value            numeric(20, 2) CHECK (saleable_value >= 0),
    group_equity_ratio        numeric(9, 6) CHECK (group_equity_ratio >= 0 AND group_equity_ratio <= 1),
    basic_note                text NOT NULL DEFAULT '',
    -- 盈利指标, establishment values (dynamic values come with 盈亏动态).
    sales_revenue             numeric(20, 2),
    total_investment          numeric(20, 2),
    net_profit                numeric(20, 2),
    group_net_profit          numeric(20, 2),
    net_margin                numeric(9, 6),
    irr                       numeric(9, 6),
    payback_months            integer CHECK (payback_months >= 0),
    created_at                timestamptz NOT NULL DEFAULT now(),
    updated_at                timestamptz NOT NULL DEFAULT now()
);

-- 股权合作: every save is a new version; the latest is in force.
CREATE TABLE shareholding_versions (
    id              bigserial PRIMARY KEY,
    project_id      bigint NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    seq             integer NOT NULL CHECK (seq > 0),
    effective_on    date NOT NULL,
    reason          text NOT NULL DEFAULT '',
    created_by      bigint REFERENCES users (id),
    created_by_name text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (project_id, seq)
);

CREATE TABLE shareholders (
    id         bigserial PRIMARY KEY,
    version_id bigint NOT NULL REFERENCES shareholding_versions (id) ON DELETE CASCADE,
    position   integer NOT NULL,
    name       text NOT NULL CHECK (btrim(name) <> ''),
    -- group 锦艺方, cooperator 合作方, partnership 合伙企业.
    kind       text NOT NULL CHECK (kind IN ('group', 'cooperator', 'partnership')),
    stake      numeric(9, 6) NOT NULL CHECK (stake > 0 AND stake <= 1),
    UNIQUE (version_id, position)
);

-- 关键节点: planned and actual date per node.
CREATE TABLE milestones (
    project_id bigint NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    node       text NOT NULL,
    planned_on date,
    actual_on  date,
    note       text NOT NULL DEFAULT '',
    PRIMARY KEY (project_id, node)
);

-- +goose Down
DROP TABLE milestones;
DROP TABLE shareholders;
DROP TABLE shareholding_versions;
DROP TABLE establishments;
DROP TABLE financing_rates;
