// Package auth signs people in, keeps their sessions in Redis, and decides
// what they may see: a principal's roles and its scope of projects.
package auth

import (
	"slices"

	"hehuo/internal/audit"
	"hehuo/internal/org"
)

// Principal is the signed-in person making a request.
type Principal struct {
	UserID    int64
	Name      string
	Roles     []string
	RequestID string
}

// Has reports whether p holds any of roles.
func (p Principal) Has(roles ...string) bool {
	for _, r := range roles {
		if slices.Contains(p.Roles, r) {
			return true
		}
	}
	return false
}

// IsStaff reports whether p holds any assignable role; people without one are
// partners, who see only their own stakes.
func (p Principal) IsStaff() bool { return len(p.Roles) > 0 }

// ReadOnly reports whether p may only read: an auditor and nothing else.
func (p Principal) ReadOnly() bool {
	return p.Has(org.RoleAuditor) && !p.Has(org.RoleSysadmin, org.RoleBizadmin, org.RoleAccountant)
}

// SeesAllProjects reports whether p's scope is every project.
func (p Principal) SeesAllProjects() bool {
	return p.Has(org.RoleSysadmin, org.RoleBizadmin, org.RoleAuditor)
}

// Actor is p as the author of an audit entry.
func (p Principal) Actor() audit.Actor {
	id := p.UserID
	return audit.Actor{ID: &id, Name: p.Name, RequestID: p.RequestID}
}
