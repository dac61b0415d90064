package disclosure

import (
	"context"
	"fmt"
	"strings"

	"github.com/jmoiron/sqlx"
	"github.com/shopspring/decimal"

	"hehuo/internal/apperr"
	"hehuo/internal/audit"
	"hehuo/internal/money"
	"hehuo/internal/workflow"
)

// effect is the disclosure process's (披露, repeatable): launched by the
// city company on one P&L update of the project (subject_id), the OA form
// showing the period's indicators against 立项; in approval the period is
// locked; agreed, a disclosure waits in 披露审核 for the merged notices.
func (s *Service) effect() workflow.Effect {
	return workflow.Effect{
		Prepare: func(ctx context.Context, tx *sqlx.Tx, l workflow.Launch) (workflow.Form, error) {
			if l.SubjectID == 0 {
				return workflow.Form{}, apperr.Invalid("profit_update_required", "subject_id", "请选择要披露的盈亏动态")
			}
			u, err := lockUpdate(ctx, tx, l.SubjectID, l.ProjectID)
			if err != nil {
				return workflow.Form{}, err
			}
			if u.Status != StatusDraft {
				return workflow.Form{}, apperr.Rule("profit_update_not_draft", "subject_id", "该期盈亏动态%s，不能再发起披露", u.Status.Label())
			}
			return s.form(ctx, u)
		},
		Launched: func(ctx context.Context, tx *sqlx.Tx, inst workflow.Instance) error {
			u, err := lockUpdate(ctx, tx, inst.SubjectID, inst.ProjectID)
			if err != nil {
				return err
			}
			if u.Status != StatusDraft {
				return apperr.Conflict("profit_update_not_draft", "该期盈亏动态%s，不能再发起披露", u.Status.Label())
			}
			return setStatus(ctx, tx, u, StatusInApproval, inst.ID, "profit_update.in_approval")
		},
		Ended: func(ctx context.Context, tx *sqlx.Tx, inst workflow.Instance) error {
			u, err := lockUpdate(ctx, tx, inst.SubjectID, inst.ProjectID)
			if err != nil {
				return err
			}
			if u.Status != StatusInApproval {
				return nil
			}
			return setStatus(ctx, tx, u, StatusDraft, inst.ID, "profit_update.returned")
		},
		Agreed: func(ctx context.Context, tx *sqlx.Tx, inst workflow.Instance) error {
			u, err := lockUpdate(ctx, tx, inst.SubjectID, inst.ProjectID)
			if err != nil {
				return err
			}
			if u.Status == StatusDisclosed {
				return nil
			}
			if err := setStatus(ctx, tx, u, StatusDisclosed, inst.ID, "profit_update.disclosed"); err != nil {
				return err
			}
			var id int64
			if err := tx.GetContext(ctx, &id, `INSERT INTO disclosures (project_id, profit_update_id, process_id)
				VALUES ($1, $2, $3) RETURNING id`, u.ProjectID, u.ID, inst.ID); err != nil {
				return fmt.Errorf("disclosure of process %d: %w", inst.ID, err)
			}
			return audit.Record(ctx, tx, audit.System, audit.Entry{Action: "disclosure.agreed", Entity: "disclosure", EntityID: id,
				ProjectID: &u.ProjectID, After: map[string]any{"profit_update_id": u.ID, "process_id": inst.ID, "status": SendAgreed}})
		},
	}
}

// lockUpdate loads and locks P&L update id of projectID; another
// project's is 404.
func lockUpdate(ctx context.Context, tx *sqlx.Tx, id, projectID int64) (ProfitUpdate, error) {
	u, err := loadUpdate(ctx, tx, id, true)
	if err == nil && u.ProjectID != projectID {
		return ProfitUpdate{}, ErrNotFound
	}
	return u, err
}

// setStatus moves u to status with its process, audited as action.
func setStatus(ctx context.Context, tx *sqlx.Tx, u ProfitUpdate, status Status, processID int64, action string) error {
	if _, err := tx.ExecContext(ctx, `UPDATE profit_updates SET status = $2, process_id = $3, version = version + 1,
		updated_at = now() WHERE id = $1`, u.ID, status, processID); err != nil {
		return fmt.Errorf("%s: %w", action, err)
	}
	return audit.Record(ctx, tx, audit.System, audit.Entry{Action: action, Entity: "profit_update", EntityID: u.ID,
		ProjectID: &u.ProjectID, Before: map[string]any{"status": u.Status, "process_id": u.ProcessID, "version": u.Version},
		After: map[string]any{"status": status, "process_id": processID, "version": u.Version + 1}})
}

// form is the OA form of a disclosure: the period, then each indicator as
// 立项 / 动态 / 差异.
func (s *Service) form(ctx context.Context, u ProfitUpdate) (workflow.Form, error) {
	base, err := s.baseline(ctx, u.ProjectID)
	if err != nil {
		return workflow.Form{}, err
	}
	f := workflow.Form{Note: u.Note, Label: "披露（" + u.PeriodOn.String() + "）"}
	f.Fields = append(f.Fields, workflow.FormField{Name: "盈亏期间", Value: u.periodName()})
	for _, c := range compare(base, u.Values) {
		f.Fields = append(f.Fields, workflow.FormField{Name: c.Label, Value: fmt.Sprintf("立项 %s；动态 %s；差异 %s",
			display(c.Kind, c.Baseline), display(c.Kind, c.Value), display(c.Kind, c.Difference))})
	}
	return f, nil
}

// display writes an indicator's value for people: amounts with thousands
// separators, ratios as percentages, months with their unit; — when none.
func display(kind string, v *string) string {
	if v == nil {
		return "—"
	}
	d, err := decimal.NewFromString(*v)
	if err != nil {
		return *v
	}
	switch kind {
	case "amount":
		return money.Display(d)
	case "months":
		return d.String() + "个月"
	default:
		p := d.Mul(decimal.NewFromInt(100)).StringFixed(4)
		p = strings.TrimRight(strings.TrimRight(p, "0"), ".")
		return p + "%"
	}
}
