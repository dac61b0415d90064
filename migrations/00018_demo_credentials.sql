-- +goose Up
-- The passwords `hehuo demo` generated for admin and hhadmin at the first
-- start of a demo database, sealed with the secret key, so that the ones it
-- printed stay valid across restarts of the same demo (a production serve
-- takes them from the environment and never writes here).
CREATE TABLE demo_credentials (
    username   text PRIMARY KEY,
    sealed     text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE demo_credentials;
