-- +goose Up
-- The process center names some instances after their subject: the seed's
-- 项目流程 lists 利润分配1, 2, 3 … as rows and the OA form of the nth profit
-- batch is 事业合伙投资-利润n分配审批. The kind's effect gives the label and
-- the title when the process is launched ('' keeps the kind's own).
ALTER TABLE processes ADD COLUMN label text NOT NULL DEFAULT '', ADD COLUMN title text NOT NULL DEFAULT '';

-- Named attachment slots of a kind's form (股东投入与分配明细表（签字版材料）,
-- 项目现金流量表, 项目动态利润测算 for the distribution processes): a file
-- linked in a slot shows under the slot's label in the OA form; '' is the
-- general 附件.
ALTER TABLE process_attachments ADD COLUMN slot text NOT NULL DEFAULT '';

-- One actual peak confirmation open (draft or in approval) per project;
-- the kind is repeatable once the previous one is agreed.
CREATE UNIQUE INDEX actual_peaks_one_open ON actual_peaks (project_id) WHERE status <> 'agreed';

-- +goose Down
DROP INDEX actual_peaks_one_open;
ALTER TABLE process_attachments DROP COLUMN slot;
ALTER TABLE processes DROP COLUMN label, DROP COLUMN title;
