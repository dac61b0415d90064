// Package partner keeps partners (合伙人): the employees who hold stakes,
// each tied to their Hehuo user, and the platform company (平台公司), which
// takes over exited stakes and is not a user. Money lines and the ledger's
// {partner} segment carry partners.id.
package partner

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"hehuo/internal/apperr"
	"hehuo/internal/civil"
	"hehuo/internal/db"
	"hehuo/internal/org"
)

// The kinds of partner.
const (
	KindEmployee = "employee"
	KindPlatform = "platform"
)

// Partner is one partner.
type Partner struct {
	ID     int64  `db:"id" json:"id"`
	Kind   string `db:"kind" json:"kind"`
	UserID *int64 `db:"user_id" json:"user_id"`
	Name   string `db:"name" json:"name"`
}

// EnsureForUser returns the partner of user userID, creating it in tx the
// first time the user is invited. Concurrent first invitations of one user
// meet on the unique user_id and both get the same row.
func EnsureForUser(ctx context.Context, tx *sqlx.Tx, userID int64) (int64, error) {
	var id int64
	err := tx.GetContext(ctx, &id, `
		INSERT INTO partners (kind, user_id, name)
		SELECT 'employee', u.id, u.name FROM users u WHERE u.id = $1
		ON CONFLICT (user_id) DO UPDATE SET name = partners.name
		RETURNING id`, userID)
	if db.IsNoRows(err) {
		return 0, apperr.Invalid("user_not_found", "user_id", "用户不存在")
	}
	if err != nil {
		return 0, fmt.Errorf("partner of user %d: %w", userID, err)
	}
	return id, nil
}

// ForUser returns the partner of user userID, if the user has ever been invited.
func ForUser(ctx context.Context, q sqlx.QueryerContext, userID int64) (id int64, ok bool, err error) {
	err = sqlx.GetContext(ctx, q, &id, `SELECT id FROM partners WHERE user_id = $1`, userID)
	if db.IsNoRows(err) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("partner of user %d: %w", userID, err)
	}
	return id, true, nil
}

// Platform returns the platform company's partner id.
func Platform(ctx context.Context, q sqlx.QueryerContext) (int64, error) {
	var id int64
	if err := sqlx.GetContext(ctx, q, &id, `SELECT id FROM partners WHERE kind = 'platform'`); err != nil {
		return 0, fmt.Errorf("platform partner: %w", err)
	}
	return id, nil
}

// Get returns one partner.
func Get(ctx context.Context, q sqlx.QueryerContext, id int64) (Partner, error) {
	var p Partner
	err := sqlx.GetContext(ctx, q, &p, `SELECT id, kind, user_id, name FROM partners WHERE id = $1`, id)
	if db.IsNoRows(err) {
		return p, apperr.NotFound("partner_not_found", "合伙人不存在")
	}
	if err != nil {
		return p, fmt.Errorf("get partner %d: %w", id, err)
	}
	return p, nil
}

// MarkFlags sets the 退 (exited) and 离 (left) flags of partner id as of on,
// keeping a date already recorded: opening balances bring them from the old
// system (exits, issue 12, will set them too). A false flag clears nothing.
func MarkFlags(ctx context.Context, tx *sqlx.Tx, id int64, exited, left bool, on civil.Date) error {
	if !exited && !left {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `UPDATE partners SET
			exited_on = CASE WHEN $2 THEN coalesce(exited_on, $4) ELSE exited_on END,
			left_on = CASE WHEN $3 THEN coalesce(left_on, $4) ELSE left_on END
		WHERE id = $1`, id, exited, left, on); err != nil {
		return fmt.Errorf("flags of partner %d: %w", id, err)
	}
	return nil
}

// DingTalkAccounts returns, for the partners ids that are users with a
// DingTalk account, the user id and the DingTalk userid, by partner id: the
// platform company and users without an account are left out.
func DingTalkAccounts(ctx context.Context, q sqlx.QueryerContext, ids []int64) (map[int64]Account, error) {
	var rows []struct {
		ID     int64 `db:"id"`
		UserID int64 `db:"user_id"`
	}
	if err := sqlx.SelectContext(ctx, q, &rows, `SELECT id, user_id FROM partners WHERE id = ANY($1) AND user_id IS NOT NULL`,
		pq.Int64Array(ids)); err != nil {
		return nil, fmt.Errorf("partner users: %w", err)
	}
	users := make([]int64, len(rows))
	for i, r := range rows {
		users[i] = r.UserID
	}
	dt, err := org.DingTalkIDs(ctx, q, users)
	if err != nil {
		return nil, err
	}
	out := make(map[int64]Account, len(rows))
	for _, r := range rows {
		if id, ok := dt[r.UserID]; ok {
			out[r.ID] = Account{UserID: r.UserID, DingTalkID: id}
		}
	}
	return out, nil
}

// Account is a partner's user and DingTalk userid.
type Account struct {
	UserID     int64
	DingTalkID string
}
