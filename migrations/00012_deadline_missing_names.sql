-- +goose Up
-- The deadline alert names the mandatory partners to chase (R2: listed for
-- follow-up), not just how many. The accountants' group sees names, never
-- amounts. A template the system admin has already edited is left alone.
UPDATE notify_templates
SET body = E'#### {{.project_name}} {{.round_name}}\n\n认购截止日 **{{.deadline}}**，强投名单中尚有 **{{.missing_count}}** 人未认购：{{.missing_names}}。\n\n[查看名单]({{.link}})'
WHERE code = 'deadline_missing' AND version = 1;

-- +goose Down
UPDATE notify_templates
SET body = E'#### {{.project_name}} {{.round_name}}\n\n认购截止日 **{{.deadline}}**，强投名单中尚有 **{{.missing_count}}** 人未认购。\n\n[查看名单]({{.link}})'
WHERE code = 'deadline_missing' AND version = 1;
