-- +goose Up
CREATE TABLE batches (
    id         bigserial PRIMARY KEY,
    name       text NOT NULL UNIQUE CHECK (btrim(name) <> ''),
    created_at timestamptz NOT NULL DEFAULT now()
);

-- Project master data (项目维护).
CREATE TABLE projects (
    id                 bigserial PRIMARY KEY,
    code               text UNIQUE,
    name               text NOT NULL UNIQUE CHECK (btrim(name) <> ''),
    city_company_id    bigint NOT NULL REFERENCES org_units (id),
    land_acquired_on   date,
    batch_id           bigint REFERENCES batches (id),
    is_open            boolean NOT NULL DEFAULT false,
    is_settled         boolean NOT NULL DEFAULT false,
    joint_operation    boolean NOT NULL DEFAULT false,
    operator           text NOT NULL DEFAULT '',
    acquisition_method text NOT NULL DEFAULT '',
    version            integer NOT NULL DEFAULT 1,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX projects_city_company ON projects (city_company_id);
CREATE INDEX projects_batch ON projects (batch_id);

-- Grants (账号及角色): a role on one project, or on an org unit, which covers
-- every project below it, now and later.
CREATE TABLE grants (
    id          bigserial PRIMARY KEY,
    role        text NOT NULL CHECK (role IN ('accountant', 'bizadmin', 'auditor', 'sysadmin')),
    user_id     bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    project_id  bigint REFERENCES projects (id) ON DELETE CASCADE,
    org_unit_id bigint REFERENCES org_units (id) ON DELETE CASCADE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CHECK ((project_id IS NULL) <> (org_unit_id IS NULL))
);
CREATE UNIQUE INDEX grants_project ON grants (project_id, role, user_id) WHERE project_id IS NOT NULL;
CREATE UNIQUE INDEX grants_org_unit ON grants (org_unit_id, role, user_id) WHERE org_unit_id IS NOT NULL;
CREATE INDEX grants_user ON grants (user_id);

-- +goose Down
DROP TABLE grants;
DROP TABLE projects;
DROP TABLE batches;
