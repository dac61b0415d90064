-- +goose Up
-- Opening balances (期初数据导入): a group moving from its current system
-- brings its running projects, one imported .xlsx per project. The import
-- is kept with the file's SHA-256 so that posting the same file twice
-- answers the first import and moves no money; a project has at most one
-- opening import (a second, different file is refused: the first is on
-- the ledger). The rows keep what the file said; the money itself is on
-- the ledger (principal paid, returned, profit), except the capital
-- interest to date, which the old system computed and internal/position
-- reads from here (R4's B of an opening partner).
CREATE TABLE opening_imports (
    id              bigserial PRIMARY KEY,
    project_id      bigint NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    file_hash       text NOT NULL CHECK (file_hash ~ '^[0-9a-f]{64}$'),
    file_name       text NOT NULL DEFAULT '',
    rows            integer NOT NULL CHECK (rows > 0),
    created_by      bigint REFERENCES users (id),
    created_by_name text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (project_id, file_hash)
);
-- One opening import per project.
CREATE UNIQUE INDEX opening_imports_one_per_project ON opening_imports (project_id);

CREATE TABLE opening_balances (
    import_id          bigint NOT NULL REFERENCES opening_imports (id) ON DELETE CASCADE,
    project_id         bigint NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    partner_id         bigint NOT NULL REFERENCES partners (id),
    user_id            bigint NOT NULL REFERENCES users (id),
    row_no             integer NOT NULL,
    principal_paid     numeric(20,2) NOT NULL CHECK (principal_paid > 0),
    paid_on            date NOT NULL,
    -- 资金利息 to date (R4's B, ≤ 0), not yet deducted.
    interest           numeric(20,2) NOT NULL CHECK (interest <= 0),
    principal_returned numeric(20,2) NOT NULL DEFAULT 0 CHECK (principal_returned >= 0 AND principal_returned <= principal_paid),
    profit_received    numeric(20,2) NOT NULL DEFAULT 0 CHECK (profit_received >= 0),
    exited             boolean NOT NULL DEFAULT false,
    left_company       boolean NOT NULL DEFAULT false,
    PRIMARY KEY (project_id, partner_id)
);
CREATE INDEX opening_balances_import ON opening_balances (import_id, row_no);
CREATE INDEX opening_balances_partner ON opening_balances (partner_id);

-- +goose Down
DROP TABLE opening_balances;
DROP TABLE opening_imports;
