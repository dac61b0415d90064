package partner

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"hehuo/internal/apperr"
	"hehuo/internal/audit"
	"hehuo/internal/db"
)

// ErrOwnLine refuses a staff write whose subject is the actor's own partner
// line (DESIGN §1, §7: segregation of duties).
var ErrOwnLine = apperr.Forbidden("own_line", "不能操作本人的跟投记录（职责分离）")

// ErrOwnSubmission refuses a review by the person who submitted the subject.
var ErrOwnSubmission = apperr.Forbidden("own_submission", "不能审核本人提交的内容（职责分离）")

// RefuseOwnLine is the one segregation-of-duties rule every staff write on a
// partner line shares: it answers ErrOwnLine when any of partnerIDs belongs
// to the acting user, whatever their roles. Services call it inside their
// transaction once the subject's partner is known, so no route can bypass
// it; a partner acting on their own line through a /me route is not a
// staff write and does not call it. System actors (no user) pass.
func RefuseOwnLine(ctx context.Context, q sqlx.QueryerContext, a audit.Actor, partnerIDs ...int64) error {
	if a.ID == nil || len(partnerIDs) == 0 {
		return nil
	}
	var own bool
	if err := sqlx.GetContext(ctx, q, &own, `SELECT EXISTS (SELECT 1 FROM partners WHERE id = ANY($1) AND user_id = $2)`,
		pq.Array(partnerIDs), *a.ID); err != nil {
		return fmt.Errorf("own line of user %d: %w", *a.ID, err)
	}
	if own {
		return ErrOwnLine
	}
	return nil
}

// RefuseOwnSubmission answers ErrOwnSubmission when the acting user made the
// latest submitAction on entity entityID (as the audit log records it): a
// reviewer never reviews their own work.
func RefuseOwnSubmission(ctx context.Context, q sqlx.QueryerContext, a audit.Actor, entity string, entityID int64, submitAction string) error {
	if a.ID == nil {
		return nil
	}
	var by *int64
	err := sqlx.GetContext(ctx, q, &by, `SELECT actor_id FROM audit_log WHERE entity = $1 AND entity_id = $2 AND action = $3
		ORDER BY id DESC LIMIT 1`, entity, fmt.Sprint(entityID), submitAction)
	if db.IsNoRows(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("submitter of %s %d: %w", entity, entityID, err)
	}
	if by != nil && *by == *a.ID {
		return ErrOwnSubmission
	}
	return nil
}
