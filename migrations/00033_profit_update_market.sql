-- +goose Up
-- 货值 (saleable value of the stock) and 回款 (sales collections to date):
-- P&L update indicators with no 立项 baseline, as the issue's 盈亏动态 lists them.
ALTER TABLE profit_updates ADD COLUMN saleable_value numeric(20,2), ADD COLUMN collections numeric(20,2);

-- +goose Down
ALTER TABLE profit_updates DROP COLUMN saleable_value, DROP COLUMN collections;
