package auth

import (
	"context"
	"fmt"
	"slices"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"hehuo/internal/apperr"
	"hehuo/internal/audit"
	"hehuo/internal/db"
	"hehuo/internal/org"
)

// GrantableRoles are the roles a grant can carry. The others already see
// every project, so a grant would mean nothing.
var GrantableRoles = []string{org.RoleAccountant}

// Grant is the set of users holding one role on one project or org unit.
type Grant struct {
	Role    string        `json:"role"`
	UserIDs []int64       `json:"user_ids"`
	Users   []GrantedUser `json:"users,omitempty"`
}

// GrantedUser names a user in a grant.
type GrantedUser struct {
	ID   int64  `db:"id" json:"id"`
	Name string `db:"name" json:"name"`
}

// Target is what a grant is on: exactly one of ProjectID and OrgUnitID.
type Target struct {
	ProjectID *int64
	OrgUnitID *int64
}

func (t Target) column() (string, int64) {
	if t.ProjectID != nil {
		return "project_id", *t.ProjectID
	}
	return "org_unit_id", *t.OrgUnitID
}

// Grants lists the grants on t, one entry per grantable role.
func (s *Service) Grants(ctx context.Context, t Target) ([]Grant, error) {
	return grants(ctx, s.db, t)
}

func grants(ctx context.Context, q sqlx.QueryerContext, t Target) ([]Grant, error) {
	col, id := t.column()
	out := []Grant{}
	for _, role := range GrantableRoles {
		users := []GrantedUser{}
		err := sqlx.SelectContext(ctx, q, &users, `SELECT u.id, u.name FROM grants g JOIN users u ON u.id = g.user_id
			WHERE g.`+col+` = $1 AND g.role = $2 ORDER BY u.id`, id, role)
		if err != nil {
			return nil, fmt.Errorf("list grants: %w", err)
		}
		g := Grant{Role: role, UserIDs: []int64{}, Users: users}
		for _, u := range users {
			g.UserIDs = append(g.UserIDs, u.ID)
		}
		out = append(out, g)
	}
	return out, nil
}

// SetGrants replaces, for each role listed, the users granted that role on t.
// Every user must hold the role.
func (s *Service) SetGrants(ctx context.Context, a audit.Actor, t Target, set []Grant) ([]Grant, error) {
	for _, g := range set {
		if !slices.Contains(GrantableRoles, g.Role) {
			return nil, apperr.Invalid("grant_role_invalid", "grants", "只能授权经营会计（accountant）角色；其它角色本就能看到全部项目")
		}
	}
	col, id := t.column()
	var after []Grant
	err := s.db.InTx(ctx, func(tx *sqlx.Tx) error {
		before, err := grants(ctx, tx, t)
		if err != nil {
			return err
		}
		for _, g := range set {
			ids := slices.Compact(slices.Sorted(slices.Values(g.UserIDs)))
			var holders []int64
			if err := tx.SelectContext(ctx, &holders, `SELECT user_id FROM user_roles WHERE role = $1 AND user_id = ANY($2)`,
				g.Role, pq.Int64Array(ids)); err != nil {
				return fmt.Errorf("check grantees: %w", err)
			}
			for _, uid := range ids {
				if !slices.Contains(holders, uid) {
					return apperr.Rule("grantee_lacks_role", "grants", "用户 %d 没有经营会计角色，不能授权", uid)
				}
			}
			if _, err := tx.ExecContext(ctx, `DELETE FROM grants WHERE `+col+` = $1 AND role = $2`, id, g.Role); err != nil {
				return fmt.Errorf("clear grants: %w", err)
			}
			for _, uid := range ids {
				_, err := tx.ExecContext(ctx, `INSERT INTO grants (role, user_id, `+col+`) VALUES ($1, $2, $3)`, g.Role, uid, id)
				if _, fk := db.IsForeignKeyViolation(err); fk {
					return apperr.NotFound("grant_target_not_found", "授权对象不存在")
				}
				if err != nil {
					return fmt.Errorf("insert grant: %w", err)
				}
			}
		}
		if after, err = grants(ctx, tx, t); err != nil {
			return err
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "grants.set", Entity: col[:len(col)-3], EntityID: id,
			ProjectID: t.ProjectID, Before: before, After: after})
	})
	return after, err
}
