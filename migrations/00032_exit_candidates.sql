-- +goose Up
-- Exit candidates (待发起退出): users a DingTalk sync (从钉钉同步) disabled
-- while they still held principal in a project (R9's P > 0). A row is
-- written once per user, in the sync's transaction, with the robot alert to
-- the city companies of their projects; it is how the next sync knows the
-- user was already alerted. Whether they still hold anything is read from
-- internal/position each time the list is shown, so an agreed exit takes
-- them off the list without touching this table. Owned by internal/leaver.
CREATE TABLE exit_candidates (
    user_id     bigint PRIMARY KEY REFERENCES users (id),
    disabled_at timestamptz NOT NULL,
    alerted_at  timestamptz NOT NULL DEFAULT now()
);

-- The robot alert in the city company's group: names only, never amounts
-- or ids (the group is wider than the accountants).
INSERT INTO notify_templates (code, name, kind, msg_type, title, body) VALUES
('exit_candidates', '离职人员待发起退出提醒', 'robot', 'markdown',
 '离职人员待发起退出：{{.names}}',
 E'#### 离职人员待发起退出\n\n以下人员已从钉钉通讯录离职（账号已停用），仍持有合伙份额，请发起退出流程：**{{.names}}**。\n\n[查看待发起退出]({{.link}})');

-- +goose Down
DELETE FROM notify_outbox WHERE template = 'exit_candidates';
DELETE FROM notify_templates WHERE code = 'exit_candidates';
DROP TABLE exit_candidates;
