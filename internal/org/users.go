package org

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"hehuo/internal/apperr"
	"hehuo/internal/audit"
	"hehuo/internal/db"
	"hehuo/internal/text"
)

// Assignable roles. Being a partner is not a role: it comes from invitations.
const (
	RoleSysadmin   = "sysadmin"
	RoleBizadmin   = "bizadmin"
	RoleAccountant = "accountant"
	RoleAuditor    = "auditor"
)

// Roles lists the assignable roles.
var Roles = []string{RoleSysadmin, RoleBizadmin, RoleAccountant, RoleAuditor}

// Employment statuses.
const (
	StatusActive   = "active"
	StatusResigned = "resigned"
	StatusRetired  = "retired"
)

// User is a person known to Hehuo.
type User struct {
	ID               int64          `db:"id" json:"id"`
	Username         *string        `db:"username" json:"username"`
	Name             string         `db:"name" json:"name"`
	DingTalkUserID   *string        `db:"dingtalk_userid" json:"dingtalk_userid"`
	Mobile           string         `db:"mobile" json:"mobile"`
	JobNumber        string         `db:"job_number" json:"job_number"`
	Title            string         `db:"title" json:"title"`
	Grade            string         `db:"grade" json:"grade"`
	OrgUnitID        *int64         `db:"org_unit_id" json:"org_unit_id"`
	EmploymentStatus string         `db:"employment_status" json:"employment_status"`
	Disabled         bool           `db:"disabled" json:"disabled"` // by a DingTalk sync, see dingtalk.go
	Roles            pq.StringArray `db:"roles" json:"roles"`
	Version          int            `db:"version" json:"version"`
}

// HasRole reports whether u holds role.
func (u User) HasRole(role string) bool { return slices.Contains(u.Roles, role) }

// UserInput creates a user.
type UserInput struct {
	Name           string   `json:"name"`
	DingTalkUserID string   `json:"dingtalk_userid"`
	Mobile         string   `json:"mobile"`
	JobNumber      string   `json:"job_number"`
	Title          string   `json:"title"`
	Grade          string   `json:"grade"`
	OrgUnitID      *int64   `json:"org_unit_id"`
	Roles          []string `json:"roles"`
}

// UserPatch changes a user; nil fields stay as they are.
type UserPatch struct {
	Name             *string   `json:"name"`
	DingTalkUserID   *string   `json:"dingtalk_userid"`
	Mobile           *string   `json:"mobile"`
	JobNumber        *string   `json:"job_number"`
	Title            *string   `json:"title"`
	Grade            *string   `json:"grade"`
	OrgUnitID        *int64    `json:"org_unit_id"`
	EmploymentStatus *string   `json:"employment_status"`
	Roles            *[]string `json:"roles"`
	Version          int       `json:"version"`
}

const userColumns = `u.id, u.username, u.name, u.dingtalk_userid, u.mobile, u.job_number, u.title, u.grade,
	u.org_unit_id, u.employment_status, u.disabled_at IS NOT NULL AS disabled, u.version,
	ARRAY(SELECT role FROM user_roles r WHERE r.user_id = u.id ORDER BY role) AS roles`

// Users returns users whose name, mobile, job number or DingTalk userid contains q.
func (s *Service) Users(ctx context.Context, q string) ([]User, error) {
	users := []User{}
	err := s.db.SelectContext(ctx, &users, `SELECT `+userColumns+` FROM users u
		WHERE $1 = '' OR u.name ILIKE '%' || $1 || '%' OR u.mobile LIKE '%' || $1 || '%'
			OR u.job_number ILIKE '%' || $1 || '%' OR u.dingtalk_userid ILIKE '%' || $1 || '%'
			OR u.username ILIKE '%' || $1 || '%'
		ORDER BY u.id LIMIT 1000`, strings.TrimSpace(q))
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	return users, nil
}

// User returns one user.
func (s *Service) User(ctx context.Context, id int64) (User, error) {
	return GetUser(ctx, s.db, id)
}

// GetUser reads one user with q, which may be a transaction.
func GetUser(ctx context.Context, q sqlx.QueryerContext, id int64) (User, error) {
	var u User
	err := sqlx.GetContext(ctx, q, &u, `SELECT `+userColumns+` FROM users u WHERE u.id = $1`, id)
	if db.IsNoRows(err) {
		return u, apperr.NotFound("user_not_found", "用户不存在")
	}
	if err != nil {
		return u, fmt.Errorf("get user %d: %w", id, err)
	}
	return u, nil
}

var mobileRE = regexp.MustCompile(`^1\d{10}$`)

type userFields struct {
	name, dingtalk, mobile, jobNumber, title, grade string
}

func cleanUserFields(name, dingtalk, mobile, jobNumber, title, grade string) (userFields, error) {
	var f userFields
	var err error
	if f.name, err = text.Clean(name, "name", "姓名", true, 40); err != nil {
		return f, err
	}
	if f.dingtalk, err = text.Clean(dingtalk, "dingtalk_userid", "钉钉用户ID", false, 64); err != nil {
		return f, err
	}
	if f.mobile, err = text.Clean(mobile, "mobile", "手机号", false, 11); err != nil {
		return f, err
	}
	if f.mobile != "" && !mobileRE.MatchString(f.mobile) {
		return f, apperr.Invalid("mobile_invalid", "mobile", "手机号须为11位数字")
	}
	if f.jobNumber, err = text.Clean(jobNumber, "job_number", "工号", false, 32); err != nil {
		return f, err
	}
	if f.title, err = text.Clean(title, "title", "职务", false, 60); err != nil {
		return f, err
	}
	if f.grade, err = text.Clean(grade, "grade", "职级", false, 32); err != nil {
		return f, err
	}
	return f, nil
}

func checkRoles(roles []string) ([]string, error) {
	out := []string{}
	for _, r := range roles {
		if !slices.Contains(Roles, r) {
			return nil, apperr.Invalid("role_invalid", "roles", "角色「%s」不存在", r)
		}
		if !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	slices.Sort(out)
	return out, nil
}

func translateUserErr(err error) error {
	if c, dup := db.IsUniqueViolation(err); dup {
		if strings.Contains(c, "dingtalk") {
			return apperr.Conflict("dingtalk_userid_taken", "该钉钉用户ID已被其他用户使用").WithField("dingtalk_userid")
		}
		return apperr.Conflict("user_taken", "用户已存在")
	}
	if _, fk := db.IsForeignKeyViolation(err); fk {
		return apperr.Invalid("org_unit_not_found", "org_unit_id", "所属组织不存在")
	}
	return err
}

// CreateUser adds a user with roles.
func (s *Service) CreateUser(ctx context.Context, a audit.Actor, in UserInput) (User, error) {
	f, err := cleanUserFields(in.Name, in.DingTalkUserID, in.Mobile, in.JobNumber, in.Title, in.Grade)
	if err != nil {
		return User{}, err
	}
	roles, err := checkRoles(in.Roles)
	if err != nil {
		return User{}, err
	}
	var u User
	err = s.db.InTx(ctx, func(tx *sqlx.Tx) error {
		var id int64
		err := tx.GetContext(ctx, &id, `INSERT INTO users (name, dingtalk_userid, mobile, job_number, title, grade, org_unit_id)
			VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
			f.name, text.OrNil(f.dingtalk), f.mobile, f.jobNumber, f.title, f.grade, in.OrgUnitID)
		if err != nil {
			return fmt.Errorf("insert user: %w", translateUserErr(err))
		}
		if err := setRoles(ctx, tx, id, roles); err != nil {
			return err
		}
		if u, err = GetUser(ctx, tx, id); err != nil {
			return err
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "user.create", Entity: "user", EntityID: id, After: u})
	})
	return u, err
}

// setRoles replaces a user's roles inside tx.
func setRoles(ctx context.Context, tx *sqlx.Tx, userID int64, roles []string) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM user_roles WHERE user_id = $1`, userID); err != nil {
		return fmt.Errorf("clear roles: %w", err)
	}
	for _, r := range roles {
		if _, err := tx.ExecContext(ctx, `INSERT INTO user_roles (user_id, role) VALUES ($1, $2)`, userID, r); err != nil {
			return fmt.Errorf("set role %s: %w", r, err)
		}
	}
	return nil
}

// UpdateUser changes a user. Losing a role also drops that role's grants.
func (s *Service) UpdateUser(ctx context.Context, a audit.Actor, id int64, p UserPatch) (User, error) {
	if p.Version <= 0 {
		return User{}, apperr.Invalid("version_required", "version", "缺少版本号")
	}
	var after User
	err := s.db.InTx(ctx, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, `SELECT 1 FROM users WHERE id = $1 FOR UPDATE`, id); err != nil {
			return fmt.Errorf("lock user: %w", err)
		}
		before, err := GetUser(ctx, tx, id)
		if err != nil {
			return err
		}
		if before.Version != p.Version {
			return apperr.ErrStaleVersion
		}
		pick := func(p *string, cur string) string {
			if p != nil {
				return *p
			}
			return cur
		}
		f, err := cleanUserFields(pick(p.Name, before.Name), pick(p.DingTalkUserID, text.Deref(before.DingTalkUserID)),
			pick(p.Mobile, before.Mobile), pick(p.JobNumber, before.JobNumber), pick(p.Title, before.Title), pick(p.Grade, before.Grade))
		if err != nil {
			return err
		}
		status := pick(p.EmploymentStatus, before.EmploymentStatus)
		if status != StatusActive && status != StatusResigned && status != StatusRetired {
			return apperr.Invalid("employment_status_invalid", "employment_status", "在职状态须为 active、resigned 或 retired")
		}
		orgUnit := before.OrgUnitID
		if p.OrgUnitID != nil {
			orgUnit = p.OrgUnitID
		}
		_, err = tx.ExecContext(ctx, `UPDATE users SET name = $1, dingtalk_userid = $2, mobile = $3, job_number = $4, title = $5,
			grade = $6, org_unit_id = $7, employment_status = $8, version = version + 1, updated_at = now() WHERE id = $9`,
			f.name, text.OrNil(f.dingtalk), f.mobile, f.jobNumber, f.title, f.grade, orgUnit, status, id)
		if err != nil {
			return fmt.Errorf("update user %d: %w", id, translateUserErr(err))
		}
		if p.Roles != nil {
			roles, err := checkRoles(*p.Roles)
			if err != nil {
				return err
			}
			if err := setRoles(ctx, tx, id, roles); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `DELETE FROM grants WHERE user_id = $1 AND NOT (role = ANY($2))`, id, pq.StringArray(roles)); err != nil {
				return fmt.Errorf("drop grants of removed roles: %w", err)
			}
		}
		if after, err = GetUser(ctx, tx, id); err != nil {
			return err
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "user.update", Entity: "user", EntityID: id, Before: before, After: after})
	})
	return after, err
}
