-- +goose Up
-- User sync from DingTalk departments (hehuo users sync, 从钉钉同步).
-- dingtalk_synced_at: when a sync last found the user in DingTalk; NULL means
--   the user was never synced, so a sync never disables them.
-- dingtalk_dept_ids: the user's DingTalk departments, kept only as a hint for
--   the sysadmin; org units are the business tree and are not derived from them.
-- disabled_at: set by a sync when DingTalk says the user is inactive or no
--   longer lists them; a disabled user cannot sign in. Cleared when DingTalk
--   lists the user as active again.
ALTER TABLE users
    ADD COLUMN dingtalk_synced_at timestamptz,
    ADD COLUMN dingtalk_dept_ids  bigint[] NOT NULL DEFAULT '{}',
    ADD COLUMN disabled_at        timestamptz;
CREATE INDEX users_mobile ON users (mobile) WHERE mobile <> '';

-- +goose Down
DROP INDEX users_mobile;
ALTER TABLE users
    DROP COLUMN disabled_at,
    DROP COLUMN dingtalk_dept_ids,
    DROP COLUMN dingtalk_synced_at;
