package project

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"

	"hehuo/internal/apperr"
	"hehuo/internal/audit"
	"hehuo/internal/db"
)

// Writable is the one rule every business write on a project shares (rounds,
// invitations, subscriptions, allocation, payments and their notices,
// adjustments and settlements, process launches, establishment saves): a
// settled project (清算) is read-only, and a project that is not open (开放)
// is not live yet. A missing project is 404. Each area's service calls it
// inside its own transaction, with q that transaction.
//
// The row is read with FOR KEY SHARE: it conflicts with neither the business
// writes' own locks nor their foreign keys, yet a sysadmin's change of 开放 or
// 清算 (project.Update locks the row FOR UPDATE) waits for writes in flight and
// the writes after it see the new flags.
func Writable(ctx context.Context, q sqlx.QueryerContext, projectID int64) error {
	var st struct {
		Open    bool `db:"is_open"`
		Settled bool `db:"is_settled"`
	}
	err := sqlx.GetContext(ctx, q, &st, `SELECT is_open, is_settled FROM projects WHERE id = $1 FOR KEY SHARE`, projectID)
	if db.IsNoRows(err) {
		return apperr.NotFound("project_not_found", "项目不存在")
	}
	if err != nil {
		return fmt.Errorf("check project %d is writable: %w", projectID, err)
	}
	switch {
	case st.Settled:
		return apperr.Rule("project_settled", "", "项目已清算，只能查看")
	case !st.Open:
		return apperr.Rule("project_not_open", "", "项目未开放，不能办理该业务")
	}
	return nil
}

// Settle marks the project settled (清算) when its liquidation (清算分配)
// is agreed, in the caller's transaction tx: from then on Writable refuses
// every business write (422 project_settled). The change is audited as the
// actor's; settling a settled project changes nothing.
func Settle(ctx context.Context, tx *sqlx.Tx, projectID int64, a audit.Actor) error {
	before, err := get(ctx, tx, projectID)
	if err != nil {
		return err
	}
	if before.IsSettled {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `UPDATE projects SET is_settled = true, version = version + 1, updated_at = now()
		WHERE id = $1`, projectID); err != nil {
		return fmt.Errorf("settle project %d: %w", projectID, err)
	}
	after, err := get(ctx, tx, projectID)
	if err != nil {
		return err
	}
	return audit.Record(ctx, tx, a, audit.Entry{Action: "project.settle", Entity: "project", EntityID: projectID,
		ProjectID: &projectID, Before: before, After: after})
}

// Name is project id's name, on q (a transaction's in a write): what
// notices, memos and sheets of other areas print. A missing project is 404.
func Name(ctx context.Context, q sqlx.QueryerContext, id int64) (string, error) {
	var name string
	err := sqlx.GetContext(ctx, q, &name, `SELECT name FROM projects WHERE id = $1`, id)
	if db.IsNoRows(err) {
		return "", apperr.NotFound("project_not_found", "项目不存在")
	}
	if err != nil {
		return "", fmt.Errorf("project %d name: %w", id, err)
	}
	return name, nil
}

// Load returns project id on q (a transaction's in a write), with its city
// company's name: what other areas' files and forms are titled by.
func Load(ctx context.Context, q sqlx.QueryerContext, id int64) (Project, error) {
	return get(ctx, q, id)
}
