-- +goose Up
-- Payments (缴款确认): one row per confirmed receipt of a partner's allocation
-- in an approved round. The money itself is on the ledger (bank +x,
-- principal −x); this row ties the ledger transaction to the round, the
-- payment date (which capital interest R4 counts from) and the client's
-- Idempotency-Key, so that a retried confirmation returns the first answer.
-- A reversal (冲销) posts the negating ledger transaction and is noted here;
-- the row itself stays, as the ledger does.
CREATE TABLE payments (
    id                      bigserial PRIMARY KEY,
    round_id                bigint NOT NULL REFERENCES rounds (id),
    project_id              bigint NOT NULL REFERENCES projects (id),
    partner_id              bigint NOT NULL REFERENCES partners (id),
    user_id                 bigint REFERENCES users (id),
    amount                  numeric(20,2) NOT NULL CHECK (amount > 0),
    paid_on                 date NOT NULL,
    idempotency_key         text NOT NULL UNIQUE,
    ledger_transaction_id   bigint NOT NULL REFERENCES ledger_transactions (id),
    reversal_transaction_id bigint REFERENCES ledger_transactions (id),
    reversal_reason         text,
    reversed_by             text,
    reversed_at             timestamptz,
    created_by              text NOT NULL,
    created_at              timestamptz NOT NULL DEFAULT now(),
    version                 integer NOT NULL DEFAULT 1
);
CREATE INDEX payments_round_partner ON payments (round_id, partner_id);

-- +goose Down
DROP TABLE payments;
