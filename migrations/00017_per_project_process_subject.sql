-- +goose Up
-- 项目资金峰值 is about the project itself: its subject is 0 however it was
-- launched (the demo once named the project id, the console 0), so that the
-- duplicate check and 工作跟踪表 see one subject per project.
-- A project that has both (launched once each way) keeps them as they are.
UPDATE processes p SET subject_id = 0
WHERE p.kind = 'peak_capital' AND p.subject_id = p.project_id
  AND NOT EXISTS (SELECT 1 FROM processes o WHERE o.project_id = p.project_id AND o.kind = 'peak_capital' AND o.subject_id = 0);

-- +goose Down
SELECT 1;
