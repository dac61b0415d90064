-- +goose Up
-- Notice templates (模板管理). The code, kind and message type are fixed by
-- the program (each code is sent by one business step with its own
-- variables); the system admin edits the name, title and body. Bodies are Go
-- text/template over variables that are the same for every recipient
-- (project, kind, dates, a link): personal figures are shown only in the H5
-- page after sign-in (DESIGN §8).
CREATE TABLE notify_templates (
    code       text PRIMARY KEY,
    name       text NOT NULL CHECK (btrim(name) <> ''),
    kind       text NOT NULL CHECK (kind IN ('work_notice', 'robot')),
    msg_type   text NOT NULL CHECK (msg_type IN ('markdown', 'action_card', 'text')),
    title      text NOT NULL DEFAULT '',
    body       text NOT NULL CHECK (btrim(body) <> ''),
    version    integer NOT NULL DEFAULT 1,
    updated_by text NOT NULL DEFAULT '系统',
    updated_at timestamptz NOT NULL DEFAULT now()
);

INSERT INTO notify_templates (code, name, kind, msg_type, title, body) VALUES
('subscription_notice', '认购通知', 'work_notice', 'action_card',
 '认购通知：{{.project_name}}',
 E'### {{.project_name}} {{.round_name}}开放认购\n\n您在本轮合伙名单中，请于 **{{.deadline}}** 前完成认购。\n\n认购上下限等个人信息请点击下方按钮，在应用内查看。'),
('payment_notice', '缴款通知', 'work_notice', 'action_card',
 '缴款通知：{{.project_name}}',
 E'### {{.project_name}} {{.round_name}}缴款通知\n\n认购已确认，请于 **{{.due_date}}** 前缴款。\n\n应缴金额与收款账户请点击下方按钮，在应用内查看。'),
('dunning_notice', '催缴通知', 'work_notice', 'action_card',
 '催缴通知：{{.project_name}}（{{.sent_on}}）',
 E'### {{.project_name}} 催缴通知\n\n截至 {{.sent_on}}，您尚有款项未缴清，缴款截止日为 **{{.due_date}}**。\n\n明细请点击下方按钮，在应用内查看。'),
('adjustment_notice', '变更缴款通知', 'work_notice', 'action_card',
 '变更缴款通知：{{.project_name}}',
 E'### {{.project_name}} {{.adjustment_name}}\n\n项目立项信息已调整，您的本金随之变更（补缴或退款），请于 **{{.due_date}}** 前处理。\n\n变更明细请点击下方按钮，在应用内查看。'),
('distribution_notice', '分配通知', 'work_notice', 'action_card',
 '分配通知：{{.project_name}}',
 E'### {{.project_name}} {{.distribution_name}}\n\n分配日为 **{{.distribution_date}}**。\n\n分配明细请点击下方按钮，在应用内查看。'),
('disclosure_notice', '披露通知', 'work_notice', 'action_card',
 '披露通知：{{.project_name}}',
 E'### {{.project_name}} {{.disclosure_title}}\n\n{{.published_on}} 发布了新的项目披露信息。\n\n请点击下方按钮，在应用内查看。'),
('account_confirm_notice', '分配账户确认', 'work_notice', 'action_card',
 '请确认分配账户：{{.project_name}}',
 E'### {{.project_name}} {{.distribution_name}}\n\n分配前请确认您的分配账户，截止日为 **{{.deadline}}**。\n\n请点击下方按钮，在应用内确认。'),
('approval_result', '审批结果', 'robot', 'markdown',
 '审批结果：{{.project_name}}',
 E'#### {{.project_name}} {{.process_name}}\n\n审批结果：**{{.result}}**（{{.finished_at}}）\n\n[查看详情]({{.link}})'),
('deadline_missing', '强投未认购提醒', 'robot', 'markdown',
 '强投未认购提醒：{{.project_name}}',
 E'#### {{.project_name}} {{.round_name}}\n\n认购截止日 **{{.deadline}}**，强投名单中尚有 **{{.missing_count}}** 人未认购。\n\n[查看名单]({{.link}})'),
('daily_receipts', '每日到账汇总', 'robot', 'markdown',
 '每日到账汇总（{{.date}}）',
 E'#### {{.date}} 到账汇总\n\n{{.project_count}} 个项目共到账 **{{.receipt_count}}** 笔，合计 **{{.total_amount}}** 元。\n\n[查看明细]({{.link}})'),
('test_message', '测试消息', 'work_notice', 'markdown',
 '合伙系统测试消息',
 E'#### 合伙系统测试消息\n\n这是一条测试消息，发送于 {{.sent_at}}，由 {{.operator}} 发出，收到即说明钉钉通知配置正常。\n\n[打开合伙系统]({{.link}})');

-- DingTalk app settings (钉钉应用接口配置) saved in the console: one row, each
-- empty value meaning "as configured" (file or HEHUO_DINGTALK_*). They take
-- effect at the next start (notify.EffectiveDingTalk). The app secret is
-- sealed with HEHUO_SECRET_KEY (internal/secret) and never returned.
CREATE TABLE dingtalk_settings (
    id             boolean PRIMARY KEY DEFAULT true CHECK (id),
    corp_id        text NOT NULL DEFAULT '',
    app_key        text NOT NULL DEFAULT '',
    agent_id       text NOT NULL DEFAULT '',
    robot_code     text NOT NULL DEFAULT '',
    api_base       text NOT NULL DEFAULT '',
    oapi_base      text NOT NULL DEFAULT '',
    login_base     text NOT NULL DEFAULT '',
    stream         boolean,
    app_secret_enc text NOT NULL DEFAULT '',
    version        integer NOT NULL DEFAULT 1,
    updated_by     text NOT NULL DEFAULT '系统',
    updated_at     timestamptz NOT NULL DEFAULT now()
);
INSERT INTO dingtalk_settings DEFAULT VALUES;

-- Custom group robots (消息机器人), at most one per org unit; a robot notice
-- for an org unit goes to the nearest enabled robot up the tree. The signing
-- secret ("SEC…") is sealed with HEHUO_SECRET_KEY.
CREATE TABLE dingtalk_robots (
    id          bigserial PRIMARY KEY,
    org_unit_id bigint NOT NULL UNIQUE REFERENCES org_units (id),
    name        text NOT NULL CHECK (btrim(name) <> ''),
    webhook_url text NOT NULL CHECK (webhook_url <> ''),
    secret_enc  text NOT NULL CHECK (secret_enc <> ''),
    -- The secret's last four characters, so the console can tell robots apart
    -- without ever showing the secret.
    secret_hint text NOT NULL DEFAULT '',
    enabled     boolean NOT NULL DEFAULT true,
    version     integer NOT NULL DEFAULT 1,
    updated_by  text NOT NULL DEFAULT '系统',
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE dingtalk_robots;
DROP TABLE dingtalk_settings;
DROP TABLE notify_templates;
