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

-- The payment notice (缴款通知) of an approved round, sent once, with its
-- due date; and the dunning cadence (催缴) it scheduled: one row per day a
-- reminder is due. A job sends each due reminder to the partners not fully
-- paid on that day (not to a list fixed at notice time), under the outbox
-- dedupe key of the round and the day, so a restart never sends it twice.
CREATE TABLE payment_notices (
    round_id  bigint PRIMARY KEY REFERENCES rounds (id),
    due_date  date NOT NULL,
    sent_by   text NOT NULL,
    sent_at   timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE dunning_schedule (
    round_id bigint NOT NULL REFERENCES payment_notices (round_id),
    run_on   date NOT NULL,
    done_at  timestamptz,
    PRIMARY KEY (round_id, run_on)
);
CREATE INDEX dunning_schedule_due ON dunning_schedule (run_on) WHERE done_at IS NULL;

-- The work calendar (工作日历): the days that differ from "Monday to Friday
-- are working days" — public holidays on weekdays and 调休 make-up working
-- days on weekends — as the State Council publishes them each year. Seeded
-- for 2025–2026; the sysadmin edits it (a new year, a late change). Due dates
-- of payment notices count working days on it.
CREATE TABLE work_calendar (
    day        date PRIMARY KEY,
    kind       text NOT NULL CHECK (kind IN ('holiday', 'workday')),
    name       text NOT NULL DEFAULT '',
    updated_by text NOT NULL DEFAULT '系统',
    updated_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO work_calendar (day, kind, name) VALUES
('2025-01-01', 'holiday', '元旦'),
('2025-01-26', 'workday', '春节调休上班'),
('2025-01-28', 'holiday', '春节'),
('2025-01-29', 'holiday', '春节'),
('2025-01-30', 'holiday', '春节'),
('2025-01-31', 'holiday', '春节'),
('2025-02-01', 'holiday', '春节'),
('2025-02-02', 'holiday', '春节'),
('2025-02-03', 'holiday', '春节'),
('2025-02-04', 'holiday', '春节'),
('2025-02-08', 'workday', '春节调休上班'),
('2025-04-04', 'holiday', '清明节'),
('2025-04-05', 'holiday', '清明节'),
('2025-04-06', 'holiday', '清明节'),
('2025-04-27', 'workday', '劳动节调休上班'),
('2025-05-01', 'holiday', '劳动节'),
('2025-05-02', 'holiday', '劳动节'),
('2025-05-03', 'holiday', '劳动节'),
('2025-05-04', 'holiday', '劳动节'),
('2025-05-05', 'holiday', '劳动节'),
('2025-05-31', 'holiday', '端午节'),
('2025-06-01', 'holiday', '端午节'),
('2025-06-02', 'holiday', '端午节'),
('2025-09-28', 'workday', '国庆节调休上班'),
('2025-10-01', 'holiday', '国庆节、中秋节'),
('2025-10-02', 'holiday', '国庆节、中秋节'),
('2025-10-03', 'holiday', '国庆节、中秋节'),
('2025-10-04', 'holiday', '国庆节、中秋节'),
('2025-10-05', 'holiday', '国庆节、中秋节'),
('2025-10-06', 'holiday', '国庆节、中秋节'),
('2025-10-07', 'holiday', '国庆节、中秋节'),
('2025-10-08', 'holiday', '国庆节、中秋节'),
('2025-10-11', 'workday', '国庆节调休上班'),
('2026-01-01', 'holiday', '元旦'),
('2026-01-02', 'holiday', '元旦'),
('2026-01-03', 'holiday', '元旦'),
('2026-01-04', 'workday', '元旦调休上班'),
('2026-02-14', 'workday', '春节调休上班'),
('2026-02-15', 'holiday', '春节'),
('2026-02-16', 'holiday', '春节'),
('2026-02-17', 'holiday', '春节'),
('2026-02-18', 'holiday', '春节'),
('2026-02-19', 'holiday', '春节'),
('2026-02-20', 'holiday', '春节'),
('2026-02-21', 'holiday', '春节'),
('2026-02-22', 'holiday', '春节'),
('2026-02-23', 'holiday', '春节'),
('2026-02-28', 'workday', '春节调休上班'),
('2026-04-04', 'holiday', '清明节'),
('2026-04-05', 'holiday', '清明节'),
('2026-04-06', 'holiday', '清明节'),
('2026-05-01', 'holiday', '劳动节'),
('2026-05-02', 'holiday', '劳动节'),
('2026-05-03', 'holiday', '劳动节'),
('2026-05-04', 'holiday', '劳动节'),
('2026-05-05', 'holiday', '劳动节'),
('2026-05-09', 'workday', '劳动节调休上班'),
('2026-06-19', 'holiday', '端午节'),
('2026-06-20', 'holiday', '端午节'),
('2026-06-21', 'holiday', '端午节'),
('2026-09-20', 'workday', '国庆节调休上班'),
('2026-09-25', 'holiday', '中秋节'),
('2026-09-26', 'holiday', '中秋节'),
('2026-09-27', 'holiday', '中秋节'),
('2026-10-01', 'holiday', '国庆节'),
('2026-10-02', 'holiday', '国庆节'),
('2026-10-03', 'holiday', '国庆节'),
('2026-10-04', 'holiday', '国庆节'),
('2026-10-05', 'holiday', '国庆节'),
('2026-10-06', 'holiday', '国庆节'),
('2026-10-07', 'holiday', '国庆节'),
('2026-10-10', 'workday', '国庆节调休上班');

-- The robot alert of partners still unpaid after the due date (逾期未缴),
-- names only, never amounts (the group is the city company's).
INSERT INTO notify_templates (code, name, kind, msg_type, title, body) VALUES
('payments_overdue', '逾期未缴提醒', 'robot', 'markdown',
 '逾期未缴提醒：{{.project_name}}',
 E'#### {{.project_name}} {{.round_name}}\n\n缴款截止日 **{{.due_date}}** 已过，尚有 **{{.overdue_count}}** 人未缴清：{{.overdue_names}}。\n\n[查看缴款]({{.link}})');

-- +goose Down
DELETE FROM notify_templates WHERE code = 'payments_overdue';
DROP TABLE work_calendar;
DROP TABLE dunning_schedule;
DROP TABLE payment_notices;
DROP TABLE payments;
