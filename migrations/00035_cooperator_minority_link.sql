-- +goose Up
-- 股权合作 ↔ 外部股东: a cooperator row of a shareholding version (table
-- shareholders, internal/establishment's) may name the registered minority
-- shareholder it is (minority_shareholders, internal/shareholder's). Set
-- through the shareholding API only; optional, cooperators only.
ALTER TABLE shareholders ADD COLUMN minority_shareholder_id bigint REFERENCES minority_shareholders (id);
ALTER TABLE shareholders ADD CONSTRAINT shareholders_minority_cooperator
    CHECK (minority_shareholder_id IS NULL OR kind = 'cooperator');

-- +goose Down
ALTER TABLE shareholders DROP CONSTRAINT shareholders_minority_cooperator;
ALTER TABLE shareholders DROP COLUMN minority_shareholder_id;
