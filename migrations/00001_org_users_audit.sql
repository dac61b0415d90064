-- +goose Up
-- Org units form a tree of any depth: group → holding / property → city companies.
CREATE TABLE org_units (
    id         bigserial PRIMARY KEY,
    parent_id  bigint REFERENCES org_units (id),
    name       text NOT NULL CHECK (btrim(name) <> ''),
    kind       text NOT NULL CHECK (kind IN ('group', 'holding', 'property', 'city')),
    version    integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
-- Siblings have distinct names; only one root per name.
CREATE UNIQUE INDEX org_units_sibling_name ON org_units (coalesce(parent_id, 0), name);

CREATE TABLE users (
    id                bigserial PRIMARY KEY,
    username          text UNIQUE,          -- only the password accounts (admin, hhadmin)
    password_hash     text,
    name              text NOT NULL CHECK (btrim(name) <> ''),
    dingtalk_userid   text UNIQUE,
    mobile            text NOT NULL DEFAULT '',
    job_number        text NOT NULL DEFAULT '',
    title             text NOT NULL DEFAULT '',
    grade             text NOT NULL DEFAULT '',
    org_unit_id       bigint REFERENCES org_units (id),
    employment_status text NOT NULL DEFAULT 'active'
        CHECK (employment_status IN ('active', 'resigned', 'retired')),
    version           integer NOT NULL DEFAULT 1,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX users_org_unit ON users (org_unit_id);

-- Assignable roles. Being a partner is not a role: it comes from invitations.
CREATE TABLE user_roles (
    user_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role    text NOT NULL CHECK (role IN ('sysadmin', 'bizadmin', 'accountant', 'auditor')),
    PRIMARY KEY (user_id, role)
);

-- The audit log (系统日志). Rows are written in the business transaction with
-- seq and hash empty; the sealer numbers and chains them after commit, in the
-- order it finds them committed, so writers never queue behind one chain head.
CREATE TABLE audit_log (
    id         bigserial PRIMARY KEY,
    at         timestamptz NOT NULL DEFAULT now(),
    actor_id   bigint REFERENCES users (id),
    actor_name text NOT NULL,
    action     text NOT NULL,
    entity     text NOT NULL,
    entity_id  text NOT NULL,
    project_id bigint,
    before     jsonb,
    after      jsonb,
    request_id text NOT NULL DEFAULT '',
    seq        bigint UNIQUE,
    prev_hash  text,
    hash       text
);
CREATE INDEX audit_log_unsealed ON audit_log (id) WHERE seq IS NULL;
CREATE INDEX audit_log_entity ON audit_log (entity, entity_id);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_actor ON audit_log (actor_id);

-- +goose StatementBegin
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'audit_log is append-only' USING ERRCODE = 'restrict_violation';
    END IF;
    -- The only update allowed is the sealer's: setting seq and hashes once.
    IF OLD.seq IS NOT NULL
       OR (OLD.id, OLD.at, OLD.actor_id, OLD.actor_name, OLD.action, OLD.entity, OLD.entity_id,
           OLD.project_id, OLD.before, OLD.after, OLD.request_id)
          IS DISTINCT FROM
          (NEW.id, NEW.at, NEW.actor_id, NEW.actor_name, NEW.action, NEW.entity, NEW.entity_id,
           NEW.project_id, NEW.before, NEW.after, NEW.request_id) THEN
        RAISE EXCEPTION 'audit_log is append-only' USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END $$;
-- +goose StatementEnd
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();

-- +goose Down
DROP TABLE audit_log;
DROP FUNCTION audit_log_append_only();
DROP TABLE user_roles;
DROP TABLE users;
DROP TABLE org_units;
