-- +goose Up
-- Agreements (协议, docs/agreements.md). A template (合伙协议, 补充协议) is
-- edited in 模板管理 → 协议模板; every save is a new immutable version, so
-- an agreement generated from version n renders the same text forever.
CREATE TABLE agreement_templates (
    id              bigserial PRIMARY KEY,
    code            text NOT NULL CHECK (code IN ('round', 'adjustment')),
    version         integer NOT NULL CHECK (version > 0),
    name            text NOT NULL CHECK (btrim(name) <> ''),
    body            text NOT NULL CHECK (btrim(body) <> ''),
    created_by_name text NOT NULL DEFAULT '系统',
    created_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (code, version)
);

-- One agreement per partner per approved round (establishment or
-- supplementary) or agreed adjustment, created in the approval's
-- transaction: the variables as they were then (vars) and the template
-- version. The PDF is rendered from them on first need and stored with its
-- SHA-256 once; it is never rendered again.
CREATE TABLE agreements (
    id           bigserial PRIMARY KEY,
    project_id   bigint NOT NULL REFERENCES projects (id),
    partner_id   bigint NOT NULL REFERENCES partners (id),
    user_id      bigint NOT NULL REFERENCES users (id),
    subject_kind text NOT NULL CHECK (subject_kind IN ('round', 'adjustment')),
    subject_id   bigint NOT NULL,
    process_id   bigint,
    template_id  bigint NOT NULL REFERENCES agreement_templates (id),
    vars         jsonb NOT NULL,
    pdf          bytea,
    sha256       text CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    generated_at timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (subject_kind, subject_id, partner_id),
    CHECK ((pdf IS NULL) = (sha256 IS NULL) AND (pdf IS NULL) = (generated_at IS NULL))
);
CREATE INDEX agreements_user ON agreements (user_id);
CREATE INDEX agreements_project ON agreements (project_id, subject_kind, subject_id);

-- A sign-off (签署): who (the DingTalk userid), when, the hash of the
-- document signed and the template version. One per agreement: signing
-- again records nothing. provider names the esign.Provider that signed
-- (inhouse: the partner read, ticked and confirmed in H5).
CREATE TABLE agreement_signoffs (
    agreement_id     bigint PRIMARY KEY REFERENCES agreements (id),
    user_id          bigint NOT NULL REFERENCES users (id),
    dingtalk_userid  text NOT NULL DEFAULT '',
    signed_at        timestamptz NOT NULL,
    document_sha256  text NOT NULL CHECK (document_sha256 ~ '^[0-9a-f]{64}$'),
    template_version integer NOT NULL,
    provider         text NOT NULL,
    external_id      text NOT NULL DEFAULT ''
);

INSERT INTO agreement_templates (code, version, name, body) VALUES
('round', 1, '事业合伙协议',
 E'事业合伙协议\n\n甲方（合伙人）：{{.partner_name}}\n乙方（项目）：{{.project_name}}\n\n一、甲方参与乙方{{.round_name}}事业合伙跟投，跟投层级为{{.tiers}}，本轮认购金额为人民币{{.allocated}}元；截至{{.agreement_date}}，甲方在本项目认缴的本金（在执本金）为人民币{{.principal}}元。\n\n二、资金到位日期为{{.funding_date}}。甲方应按缴款通知将款项汇入以下收款账户：\n开户银行：{{.collection_bank}}\n账户名称：{{.collection_account_name}}\n银行账号：{{.collection_account_number}}\n\n三、跟投本金按项目实际资金峰值及事业合伙规则计算资金占用利息，项目分配时按规则扣除。\n\n四、甲方离职、退休、调动或身故的，其份额按事业合伙退出规则由平台公司承接。\n\n五、本协议自甲方在线签署之日起生效，签署记录（签署人、时间、文件摘要）与本协议具有同等效力。'),
('adjustment', 1, '事业合伙补充协议（立项调整）',
 E'事业合伙补充协议\n\n甲方（合伙人）：{{.partner_name}}\n乙方（项目）：{{.project_name}}\n\n一、因项目资金峰值变更，{{.round_name}}已于{{.agreement_date}}审批通过。调整后甲方在本项目的在执本金为人民币{{.principal}}元，跟投层级为{{.tiers}}。\n\n二、需补缴的款项请汇入以下收款账户：\n开户银行：{{.collection_bank}}\n账户名称：{{.collection_account_name}}\n银行账号：{{.collection_account_number}}\n\n三、原协议与本补充协议不一致的，以本补充协议为准；其余条款不变。\n\n四、本补充协议自甲方在线签署之日起生效。');

-- The reminder to partners who have not signed (发送签署提醒).
INSERT INTO notify_templates (code, name, kind, msg_type, title, body) VALUES
('agreement_sign_reminder', '协议签署提醒', 'work_notice', 'action_card',
 '协议签署提醒：{{.project_name}}',
 E'### {{.project_name}} {{.round_name}}\n\n您的事业合伙协议尚未签署，请于应用内阅读全文后签署（{{.sent_on}}）。\n\n请点击下方按钮，在应用内查看。');

-- +goose Down
DELETE FROM notify_templates WHERE code = 'agreement_sign_reminder';
DROP TABLE agreement_signoffs;
DROP TABLE agreements;
DROP TABLE agreement_templates;
