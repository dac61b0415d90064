package org

import (
	"context"
	"fmt"
	"strings"

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
