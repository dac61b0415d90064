package org

import (
	"context"
	"fmt"
	"strings"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"hehuo/internal/apperr"
	"hehuo/internal/db"
)

// ErrUserNotEnabled refuses a DingTalk user who has no Hehuo account, or whose
// account is disabled or no longer active: only the sysadmin can open one.
var ErrUserNotEnabled = apperr.Forbidden("user_not_enabled", "未开通事业合伙系统，请联系管理员")

// Enabled reports whether u may sign in. The bootstrap password accounts
// always may; everyone else must be active and not disabled by a DingTalk sync.
func (u User) Enabled() bool {
	return u.Username != nil || (u.EmploymentStatus == StatusActive && !u.Disabled)
}

// UserByDingTalkID returns the user whose DingTalk userid is userid, or
// ErrUserNotEnabled when Hehuo knows no such user or their account is not
// enabled — DingTalk sign-in cannot tell the two apart to the person.
func (s *Service) UserByDingTalkID(ctx context.Context, userid string) (User, error) {
	userid = strings.TrimSpace(userid)
	if userid == "" {
		return User{}, ErrUserNotEnabled
	}
	var u User
	err := s.db.GetContext(ctx, &u, `SELECT `+userColumns+` FROM users u WHERE u.dingtalk_userid = $1`, userid)
	if db.IsNoRows(err) {
		return u, ErrUserNotEnabled
	}
	if err != nil {
		return u, fmt.Errorf("user by dingtalk userid: %w", err)
	}
	if !u.Enabled() {
		return u, ErrUserNotEnabled
	}
	return u, nil
}

// DingTalkIDs returns the DingTalk userids of the users ids that have one
// (blank ones left out), by user id: what notices to many people address.
func DingTalkIDs(ctx context.Context, q sqlx.QueryerContext, ids []int64) (map[int64]string, error) {
	var rows []struct {
		ID         int64  `db:"id"`
		DingTalkID string `db:"dingtalk_userid"`
	}
	if err := sqlx.SelectContext(ctx, q, &rows, `SELECT id, dingtalk_userid FROM users
		WHERE id = ANY($1) AND btrim(coalesce(dingtalk_userid, '')) <> ''`, pq.Int64Array(ids)); err != nil {
		return nil, fmt.Errorf("dingtalk userids: %w", err)
	}
	out := make(map[int64]string, len(rows))
	for _, r := range rows {
		out[r.ID] = r.DingTalkID
	}
	return out, nil
}

// Brief is a user as other areas' lists print one: id, name and DingTalk
// userid ("" when none).
type Brief struct {
	ID         int64  `db:"id"`
	Name       string `db:"name"`
	DingTalkID string `db:"dingtalk_userid"`
}

// Briefs returns the users ids that exist, by id, in one query.
func Briefs(ctx context.Context, q sqlx.QueryerContext, ids []int64) (map[int64]Brief, error) {
	var rows []Brief
	if err := sqlx.SelectContext(ctx, q, &rows, `SELECT id, name, coalesce(dingtalk_userid, '') AS dingtalk_userid
		FROM users WHERE id = ANY($1)`, pq.Int64Array(ids)); err != nil {
		return nil, fmt.Errorf("users: %w", err)
	}
	out := make(map[int64]Brief, len(rows))
	for _, r := range rows {
		out[r.ID] = r
	}
	return out, nil
}

// BriefsByDingTalkID returns the users with the DingTalk userids accounts
// (unique per user), by userid, in one query.
func BriefsByDingTalkID(ctx context.Context, q sqlx.QueryerContext, accounts []string) (map[string]Brief, error) {
	var rows []Brief
	if err := sqlx.SelectContext(ctx, q, &rows, `SELECT id, name, dingtalk_userid FROM users WHERE dingtalk_userid = ANY($1)`,
		pq.StringArray(accounts)); err != nil {
		return nil, fmt.Errorf("users by dingtalk userid: %w", err)
	}
	out := make(map[string]Brief, len(rows))
	for _, r := range rows {
		out[r.DingTalkID] = r
	}
	return out, nil
}
