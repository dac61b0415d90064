-- +goose Up
-- A robot webhook's access_token lets anyone post to the group, so the full
-- URL is sealed with HEHUO_SECRET_KEY (webhook_enc) like the signing secret,
-- and webhook_url keeps only the masked URL the console shows. Sealing needs
-- the key, which SQL does not have: rows stored before this migration are
-- sealed by the server when it starts (notify.SealWebhooks); until then
-- webhook_enc is NULL and the stored URL is used as it is.
ALTER TABLE dingtalk_robots ADD COLUMN webhook_enc text CHECK (webhook_enc LIKE 'v1:%');

-- +goose Down
-- Sealed URLs cannot be opened in SQL: a robot sealed since must have its
-- webhook entered again after going down.
ALTER TABLE dingtalk_robots DROP COLUMN webhook_enc;
