-- +goose Up
-- P&L updates (盈亏动态) and disclosures (披露), owned by internal/disclosure.

-- One dated period of a project's profit indicators: the same indicators as
-- the establishment's 盈利指标 (establishments keeps the 立项 values, the
-- baseline). draft → in_approval (a disclosure process runs) → disclosed
-- (agreed); a refused or terminated process returns it to draft. Each save
-- bumps version; the values as they stood before each edit are kept in
-- profit_update_versions.
CREATE TABLE profit_updates (
    id               bigserial PRIMARY KEY,
    project_id       bigint NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    period_on        date NOT NULL,               -- 截至日期 of the period
    title            text NOT NULL DEFAULT '',    -- 2026年第三季度 …
    note             text NOT NULL DEFAULT '',    -- 情况说明
    sales_revenue    numeric(20,2),
    total_investment numeric(20,2),
    net_profit       numeric(20,2),
    group_net_profit numeric(20,2),
    net_margin       numeric(12,6),
    irr              numeric(12,6),
    payback_months   integer CHECK (payback_months >= 0 AND payback_months <= 1200),
    status           text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'in_approval', 'disclosed')),
    process_id       bigint,
    created_by       bigint REFERENCES users (id),
    created_by_name  text NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_by_name  text NOT NULL DEFAULT '',
    updated_at       timestamptz NOT NULL DEFAULT now(),
    version          integer NOT NULL DEFAULT 1,
    UNIQUE (project_id, period_on)
);

-- Every version of a period as it was saved (values as JSON), the current
-- one included: history kept, never rewritten.
CREATE TABLE profit_update_versions (
    profit_update_id bigint NOT NULL REFERENCES profit_updates (id) ON DELETE CASCADE,
    version          integer NOT NULL,
    data             jsonb NOT NULL,
    saved_by_name    text NOT NULL,
    saved_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (profit_update_id, version)
);

-- One 合并发送通知: who sent it and how many notices it queued.
CREATE TABLE disclosure_sends (
    id           bigserial PRIMARY KEY,
    sent_by      bigint REFERENCES users (id),
    sent_by_name text NOT NULL,
    sent_at      timestamptz NOT NULL DEFAULT now(),
    partners     integer NOT NULL DEFAULT 0,
    notices      integer NOT NULL DEFAULT 0
);

-- One per agreed disclosure process: it waits in 披露审核 (agreed) until a
-- merged send (sent, with the send and the outbox rows that carried it).
CREATE TABLE disclosures (
    id               bigserial PRIMARY KEY,
    project_id       bigint NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    profit_update_id bigint NOT NULL UNIQUE REFERENCES profit_updates (id),
    process_id       bigint NOT NULL UNIQUE,
    status           text NOT NULL DEFAULT 'agreed' CHECK (status IN ('agreed', 'sent')),
    agreed_at        timestamptz NOT NULL DEFAULT now(),
    send_id          bigint REFERENCES disclosure_sends (id),
    sent_at          timestamptz,
    notice_ids       bigint[] NOT NULL DEFAULT '{}',
    version          integer NOT NULL DEFAULT 1,
    CHECK ((status = 'sent') = (sent_at IS NOT NULL))
);
CREATE INDEX disclosures_pending ON disclosures (project_id) WHERE status = 'agreed';

-- +goose Down
DROP TABLE disclosures;
DROP TABLE disclosure_sends;
DROP TABLE profit_update_versions;
DROP TABLE profit_updates;
