-- +goose Up
-- Partners (合伙人): an employee (a Hehuo user) or the platform company
-- (平台公司), which takes over exited stakes and is not a user. The ledger's
-- {partner} segment is partners.id.
CREATE TABLE partners (
    id         bigserial PRIMARY KEY,
    kind       text NOT NULL CHECK (kind IN ('employee', 'platform')),
    user_id    bigint UNIQUE REFERENCES users (id),
    name       text NOT NULL CHECK (btrim(name) <> ''),
    created_at timestamptz NOT NULL DEFAULT now(),
    CHECK ((kind = 'employee') = (user_id IS NOT NULL))
);
-- There is one platform company.
CREATE UNIQUE INDEX partners_one_platform ON partners (kind) WHERE kind = 'platform';
INSERT INTO partners (kind, name) VALUES ('platform', '平台公司');

-- The mandatory list (强投名单): a minimum subscription by position grade
-- (users.grade). A mandatory partner whose grade is not listed gets the
-- list's other_mandatory_min; voluntary_min is the minimum a voluntary
-- invitation starts from when none is given (RULES R2).
CREATE TABLE mandatory_list (
    id                  integer PRIMARY KEY DEFAULT 1 CHECK (id = 1),
    other_mandatory_min numeric(20,2) NOT NULL CHECK (other_mandatory_min >= 0 AND other_mandatory_min = trunc(other_mandatory_min)),
    voluntary_min       numeric(20,2) NOT NULL CHECK (voluntary_min >= 0 AND voluntary_min = trunc(voluntary_min)),
    version             integer NOT NULL DEFAULT 1,
    updated_by          text NOT NULL DEFAULT '系统',
    updated_at          timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE mandatory_grades (
    grade      text PRIMARY KEY CHECK (btrim(grade) <> ''),
    label      text NOT NULL DEFAULT '',
    min_amount numeric(20,2) NOT NULL CHECK (min_amount >= 0 AND min_amount = trunc(min_amount)),
    position   integer NOT NULL DEFAULT 0
);
INSERT INTO mandatory_list (other_mandatory_min, voluntary_min) VALUES (250000, 100000);
INSERT INTO mandatory_grades (grade, label, min_amount, position) VALUES
    ('M6', '集团条线负责人', 500000, 1),
    ('M5', '城市公司总经理', 500000, 2),
    ('M4', '项目总经理', 500000, 3);

-- Rounds (合伙方案/轮次): initial (立项, one per project) and supplementary
-- (补充立项 n). States: DESIGN §2. subscription_seq counts subscription
-- changes; an allocation records the seq it was computed on (fresh ⇔ equal).
CREATE TABLE rounds (
    id               bigserial PRIMARY KEY,
    project_id       bigint NOT NULL REFERENCES projects (id),
    kind             text NOT NULL CHECK (kind IN ('initial', 'supplementary')),
    seq              integer NOT NULL CHECK (seq >= 1),
    status           text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'open', 'closed', 'calculated',
                         'submitted', 'reviewed', 'in_approval', 'approved')),
    subscription_seq bigint NOT NULL DEFAULT 0,
    notices_sent_at  timestamptz,
    notices_sent_by  text,
    closed_at        timestamptz,
    closed_by        text,
    submitted_at     timestamptz,
    reviewed_at      timestamptz,
    reviewed_by      text,
    review_decision  text CHECK (review_decision IN ('approve', 'reject')),
    review_reason    text NOT NULL DEFAULT '',
    approved_at      timestamptz,
    created_by       text NOT NULL DEFAULT '系统',
    version          integer NOT NULL DEFAULT 1,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (project_id, kind, seq)
);
CREATE UNIQUE INDEX rounds_one_initial ON rounds (project_id) WHERE kind = 'initial';
CREATE INDEX rounds_open ON rounds (status) WHERE status = 'open';

-- The partner list (合伙名单): one invitation per partner per round. amount is
-- the current subscription (the last one counts), NULL until the partner
-- subscribes; every change is kept in subscription_history.
CREATE TABLE invitations (
    id                bigserial PRIMARY KEY,
    round_id          bigint NOT NULL REFERENCES rounds (id),
    partner_id        bigint NOT NULL REFERENCES partners (id),
    user_id           bigint NOT NULL REFERENCES users (id),
    tier              text NOT NULL CHECK (tier IN ('holding', 'property', 'city', 'other')),
    mandatory         boolean NOT NULL DEFAULT false,
    min_amount        numeric(20,2) NOT NULL CHECK (min_amount >= 0 AND min_amount = trunc(min_amount)),
    max_amount        numeric(20,2) NOT NULL CHECK (max_amount = trunc(max_amount)),
    deadline          date NOT NULL,
    amount            numeric(20,2) CHECK (amount = trunc(amount)),
    subscribed_at     timestamptz,
    subscribed_by     text,
    on_behalf         boolean NOT NULL DEFAULT false,
    risk_acknowledged boolean NOT NULL DEFAULT false,
    version           integer NOT NULL DEFAULT 1,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    CHECK (min_amount <= max_amount),
    UNIQUE (round_id, partner_id)
);
CREATE INDEX invitations_user ON invitations (user_id);

CREATE TABLE subscription_history (
    id              bigserial PRIMARY KEY,
    invitation_id   bigint NOT NULL REFERENCES invitations (id) ON DELETE CASCADE,
    round_id        bigint NOT NULL REFERENCES rounds (id),
    amount          numeric(20,2) NOT NULL,
    previous_amount numeric(20,2),
    by_user_id      bigint REFERENCES users (id),
    by_name         text NOT NULL,
    on_behalf       boolean NOT NULL DEFAULT false,
    reason          text NOT NULL DEFAULT '',
    subscription_seq bigint NOT NULL,
    at              timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX subscription_history_invitation ON subscription_history (invitation_id, id);

-- Robot alerts of a round's steps, in the city company's group.
INSERT INTO notify_templates (code, name, kind, msg_type, title, body) VALUES
('subscription_sent', '认购通知已发送', 'robot', 'markdown',
 '认购通知已发送：{{.project_name}}',
 E'#### {{.project_name}} {{.round_name}}\n\n认购通知已发送，共 **{{.partner_count}}** 人，认购截止日 **{{.deadline}}**。\n\n[查看合伙名单]({{.link}})'),
('round_review', '方案审核结果', 'robot', 'markdown',
 '方案审核结果：{{.project_name}}',
 E'#### {{.project_name}} {{.round_name}} 方案审核\n\n审核结果：**{{.result}}**（{{.reviewer}}）\n\n{{.reason}}\n\n[查看方案]({{.link}})');

-- +goose Down
DELETE FROM notify_outbox WHERE template IN ('subscription_sent', 'round_review');
DELETE FROM notify_templates WHERE code IN ('subscription_sent', 'round_review');
DROP TABLE subscription_history;
DROP TABLE invitations;
DROP TABLE rounds;
DROP TABLE mandatory_grades;
DROP TABLE mandatory_list;
DROP TABLE partners;
