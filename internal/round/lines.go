package round

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"
	"github.com/shopspring/decimal"

	"hehuo/internal/db"
)

// LockedLine is an allocation line locked for a payment: concurrent
// confirmations for the partner queue on it, so their sum never exceeds
// the allocation.
type LockedLine struct {
	PartnerID int64           `db:"partner_id"`
	UserID    int64           `db:"user_id"`
	Allocated decimal.Decimal `db:"allocated"`
}

// LockLines locks the allocation lines of round roundID of partners who are
// users (FOR UPDATE), by partner id. Payments lock before they read what was
// paid; the figures themselves come from internal/position.
func LockLines(ctx context.Context, tx *sqlx.Tx, roundID int64) ([]LockedLine, error) {
	var out []LockedLine
	if err := tx.SelectContext(ctx, &out, `SELECT l.partner_id, p.user_id, l.allocated
		FROM allocation_lines l JOIN partners p ON p.id = l.partner_id
		WHERE l.round_id = $1 AND p.user_id IS NOT NULL ORDER BY l.partner_id FOR UPDATE OF l`, roundID); err != nil {
		return nil, fmt.Errorf("lock allocation lines of round %d: %w", roundID, err)
	}
	return out, nil
}

// LockLine locks user userID's allocation line in round roundID; ok is
// false when the user has none.
func LockLine(ctx context.Context, tx *sqlx.Tx, roundID, userID int64) (l LockedLine, ok bool, err error) {
	err = tx.GetContext(ctx, &l, `SELECT l.partner_id, p.user_id, l.allocated
		FROM allocation_lines l JOIN partners p ON p.id = l.partner_id
		WHERE l.round_id = $1 AND p.user_id = $2 FOR UPDATE OF l`, roundID, userID)
	if err != nil {
		if db.IsNoRows(err) {
			return l, false, nil
		}
		return l, false, fmt.Errorf("lock allocation line of user %d in round %d: %w", userID, roundID, err)
	}
	return l, true, nil
}
