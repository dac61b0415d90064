-- +goose Up
-- 分配账户: the bank account a partner is paid to (refunds, distributions).
-- The account number is sealed with HEHUO_SECRET_KEY (number_enc) so that a
-- database dump does not reveal it; number_last4 is what every screen shows.
-- A new or changed account is 'unconfirmed' until the partner confirms it
-- after the confirmation notice (notice_id); nothing is paid out before.
CREATE TABLE payout_accounts (
    user_id      bigint PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    bank         text NOT NULL CHECK (btrim(bank) <> ''),
    branch       text NOT NULL CHECK (btrim(branch) <> ''),
    holder       text NOT NULL CHECK (btrim(holder) <> ''),
    number_enc   text NOT NULL CHECK (number_enc LIKE 'v1:%'),
    number_last4 text NOT NULL CHECK (number_last4 ~ '^[0-9]{4}$'),
    status       text NOT NULL DEFAULT 'unconfirmed' CHECK (status IN ('unconfirmed', 'confirmed')),
    notice_id    bigint,
    confirmed_at timestamptz,
    version      integer NOT NULL DEFAULT 1,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    CHECK ((status = 'confirmed') = (confirmed_at IS NOT NULL))
);

-- +goose Down
DROP TABLE payout_accounts;
