-- +goose Up
-- Files stored in Hehuo (附件): uploaded to a project and linked from OA
-- forms, or generated (a process's calculation sheet). The content lives
-- here so that a backup of Postgres holds everything; files are ≤ 10 MB.
CREATE TABLE attachments (
    id           bigserial PRIMARY KEY,
    project_id   bigint REFERENCES projects (id),
    name         text NOT NULL CHECK (btrim(name) <> '' AND length(name) <= 200),
    ext          text NOT NULL,
    content_type text NOT NULL,
    size         bigint NOT NULL CHECK (size > 0 AND size <= 10485760),
    sha256       text NOT NULL CHECK (length(sha256) = 64),
    content      bytea NOT NULL,
    uploaded_by  bigint REFERENCES users (id),
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX attachments_project ON attachments (project_id);

-- Processes launched to DingTalk OA approval (项目流程). A row is committed
-- as `launching` before DingTalk is called (DingTalk has no idempotency key),
-- then gets its instance id; the approval event moves it to agreed, refused
-- or terminated; a sysadmin resets a refused or terminated one (kept).
CREATE TABLE processes (
    id             bigserial PRIMARY KEY,
    project_id     bigint NOT NULL REFERENCES projects (id),
    kind           text NOT NULL CHECK (kind IN ('peak_capital', 'establishment', 'peak_change', 'adjustment',
                       'supplementary', 'actual_peak', 'principal_distribution', 'profit_distribution',
                       'liquidation', 'disclosure', 'exit')),
    -- The record the process is about (a round, a batch …); 0 is the project itself.
    subject_id     bigint NOT NULL DEFAULT 0,
    status         text NOT NULL CHECK (status IN ('launching', 'running', 'agreed', 'refused', 'terminated', 'reset')),
    process_code   text NOT NULL,
    instance_id    text UNIQUE,
    result         text NOT NULL DEFAULT '',
    initiator_id   bigint REFERENCES users (id),
    initiator_name text NOT NULL DEFAULT '',
    department     text NOT NULL DEFAULT '',
    -- What the user typed (情况说明 …) and the OA form as sent: [{name, value}].
    input          jsonb NOT NULL DEFAULT '{}',
    form           jsonb NOT NULL DEFAULT '[]',
    launch_error   text NOT NULL DEFAULT '',
    launch_attempts integer NOT NULL DEFAULT 0,
    -- Held while one caller talks to DingTalk for this row, so that two
    -- retries cannot both find nothing and both create an instance.
    launch_lease_until timestamptz,
    started_at     timestamptz NOT NULL DEFAULT now(),
    finished_at    timestamptz,
    reset_at       timestamptz,
    reset_by       bigint REFERENCES users (id),
    version        integer NOT NULL DEFAULT 1,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    CHECK ((status = 'launching') OR instance_id IS NOT NULL)
);
-- One active instance per subject: concurrent launches make one.
CREATE UNIQUE INDEX processes_active ON processes (project_id, kind, subject_id)
    WHERE status IN ('launching', 'running');
-- A subject is approved once.
CREATE UNIQUE INDEX processes_agreed ON processes (project_id, kind, subject_id)
    WHERE status = 'agreed';
CREATE INDEX processes_project ON processes (project_id, kind, id);

-- Files linked from a process's form: uploads and the calculation sheet.
CREATE TABLE process_attachments (
    process_id    bigint NOT NULL REFERENCES processes (id),
    attachment_id bigint NOT NULL REFERENCES attachments (id),
    role          text NOT NULL DEFAULT 'upload' CHECK (role IN ('upload', 'sheet')),
    PRIMARY KEY (process_id, attachment_id)
);

-- Approval events for instances Hehuo does not know (launched elsewhere,
-- or a lost launch); recorded for the operator, otherwise ignored.
CREATE TABLE process_unknown_events (
    event_id    text PRIMARY KEY,
    instance_id text NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE process_unknown_events;
DROP TABLE process_attachments;
DROP TABLE processes;
DROP TABLE attachments;
