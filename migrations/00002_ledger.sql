-- +goose Up
-- The double-entry ledger (DESIGN §4). Every movement of money is one
-- ledger transaction of two or more postings that sum to zero; a posting is
-- positive for a debit and negative for a credit. Transactions, postings and
-- accounts are append-only; ledger_balances is a projection kept in the same
-- database transaction, which reconciliation replays and compares.
--
-- project_id and partner_id are not foreign keys: the ledger is a mechanism
-- below the business areas, and projects and partners are created later.

-- The chart of accounts: bank:{project}, principal:{project}:{partner},
-- interest:{project}, profit:{project}:{partner}, other:{project}:{partner},
-- project_company:{project}, external:{party}. Accounts are made on first use.
CREATE TABLE ledger_accounts (
    id         bigserial PRIMARY KEY,
    code       text NOT NULL UNIQUE CHECK (code ~ '^[a-z_]+(:[a-z0-9_-]+)+$'),
    kind       text NOT NULL CHECK (kind = split_part(code, ':', 1)),
    project_id bigint,
    partner_id bigint,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ledger_accounts_project ON ledger_accounts (project_id, kind);
CREATE INDEX ledger_accounts_partner ON ledger_accounts (partner_id);
-- Prefix searches ("principal:12:") on the code.
CREATE INDEX ledger_accounts_code_prefix ON ledger_accounts (code text_pattern_ops);

CREATE TABLE ledger_transactions (
    id              bigserial PRIMARY KEY,
    -- One ledger transaction per key, ever; request_hash tells a retry of the
    -- same request from a different request reusing the key.
    idempotency_key text NOT NULL UNIQUE CHECK (btrim(idempotency_key) <> '' AND length(idempotency_key) <= 200),
    request_hash    text NOT NULL,
    kind            text NOT NULL CHECK (kind ~ '^[a-z][a-z0-9_]*$'),
    memo            text NOT NULL DEFAULT '',
    project_id      bigint,
    -- A transaction is reversed at most once, and never by itself.
    reverses_id     bigint UNIQUE REFERENCES ledger_transactions (id) CHECK (reverses_id <> id),
    created_by      bigint REFERENCES users (id),
    -- The database transaction that wrote the row (set by a trigger, not by
    -- callers): postings may only join a ledger transaction from the same one.
    db_xact         xid8 NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ledger_transactions_project ON ledger_transactions (project_id, id);

CREATE TABLE ledger_postings (
    id             bigserial PRIMARY KEY,
    transaction_id bigint NOT NULL REFERENCES ledger_transactions (id),
    account_id     bigint NOT NULL REFERENCES ledger_accounts (id),
    amount         numeric(20, 2) NOT NULL CHECK (amount <> 0),
    -- One posting per account in a transaction; also the index to sum a transaction.
    UNIQUE (transaction_id, account_id)
);
CREATE INDEX ledger_postings_account ON ledger_postings (account_id, transaction_id);

-- The projection: Σ postings per account, updated with every posting.
CREATE TABLE ledger_balances (
    account_id bigint PRIMARY KEY REFERENCES ledger_accounts (id),
    balance    numeric(20, 2) NOT NULL DEFAULT 0,
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- +goose StatementBegin
CREATE FUNCTION ledger_stamp_transaction() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.db_xact := pg_current_xact_id();
    RETURN NEW;
END $$;
-- +goose StatementEnd
CREATE TRIGGER ledger_stamp_transaction BEFORE INSERT ON ledger_transactions
    FOR EACH ROW EXECUTE FUNCTION ledger_stamp_transaction();

-- Once per ledger transaction, at COMMIT: at least two postings summing to zero.
-- +goose StatementBegin
CREATE FUNCTION ledger_check_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    n     bigint;
    total numeric;
BEGIN
    SELECT count(*), coalesce(sum(amount), 0) INTO n, total
    FROM ledger_postings WHERE transaction_id = NEW.id;
    IF n < 2 THEN
        RAISE EXCEPTION 'ledger transaction % has % posting(s), needs at least 2', NEW.id, n
            USING ERRCODE = 'check_violation', CONSTRAINT = 'ledger_transaction_balanced';
    END IF;
    IF total <> 0 THEN
        RAISE EXCEPTION 'ledger transaction % is unbalanced: postings sum to %', NEW.id, total
            USING ERRCODE = 'check_violation', CONSTRAINT = 'ledger_transaction_balanced';
    END IF;
    RETURN NULL;
END $$;
-- +goose StatementEnd
CREATE CONSTRAINT TRIGGER ledger_transaction_balanced AFTER INSERT ON ledger_transactions
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION ledger_check_balanced();

-- Postings join only a ledger transaction written by the same database
-- transaction, so a committed transaction can never be unbalanced later.
-- One set-based check per INSERT statement, not one per row.
-- +goose StatementBegin
CREATE FUNCTION ledger_check_postings_join_open_transaction() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    bad bigint;
BEGIN
    SELECT t.id INTO bad
    FROM (SELECT DISTINCT transaction_id FROM new_postings) p
    JOIN ledger_transactions t ON t.id = p.transaction_id
    WHERE t.db_xact <> pg_current_xact_id()
    LIMIT 1;
    IF bad IS NOT NULL THEN
        RAISE EXCEPTION 'ledger transaction % is committed: postings cannot be added to it', bad
            USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NULL;
END $$;
-- +goose StatementEnd
CREATE TRIGGER ledger_postings_join_open_transaction AFTER INSERT ON ledger_postings
    REFERENCING NEW TABLE AS new_postings
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_check_postings_join_open_transaction();

-- Append-only: accounts, transactions and postings are never changed or
-- removed; a correction is a reversing transaction.
-- +goose StatementBegin
CREATE FUNCTION ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'restrict_violation';
END $$;
-- +goose StatementEnd
CREATE TRIGGER ledger_accounts_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON ledger_accounts
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_append_only();
CREATE TRIGGER ledger_transactions_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON ledger_transactions
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_append_only();
CREATE TRIGGER ledger_postings_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON ledger_postings
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_append_only();

-- +goose Down
DROP TABLE ledger_balances;
DROP TABLE ledger_postings;
DROP TABLE ledger_transactions;
DROP TABLE ledger_accounts;
DROP FUNCTION ledger_append_only();
DROP FUNCTION ledger_check_postings_join_open_transaction();
DROP FUNCTION ledger_check_balanced();
DROP FUNCTION ledger_stamp_transaction();
