package auth

import (
	"context"
	"fmt"

	"github.com/lib/pq"

	"hehuo/internal/org"
)

// Scope is the set of projects a principal may see.
type Scope struct {
	All      bool
	projects map[int64]bool
}

// Contains reports whether project id is in the scope.
func (s Scope) Contains(id int64) bool { return s.All || s.projects[id] }

// IDs returns the projects of a limited scope, for SQL filters
// (`$all OR id = ANY($ids)`); it is empty when All is set.
func (s Scope) IDs() pq.Int64Array {
	ids := make(pq.Int64Array, 0, len(s.projects))
	for id := range s.projects {
		ids = append(ids, id)
	}
	return ids
}

// Scope returns the projects p may see: all of them for sysadmin, bizadmin
// and auditor; for an accountant the projects granted directly plus every
// project below a granted org unit, at any depth and including projects
// created after the grant; nothing for a partner (who reaches only their own
// stakes through /me routes).
func (s *Service) Scope(ctx context.Context, p Principal) (Scope, error) {
	if p.SeesAllProjects() {
		return Scope{All: true}, nil
	}
	sc := Scope{projects: map[int64]bool{}}
	if !p.Has(org.RoleAccountant) {
		return sc, nil
	}
	var ids []int64
	err := s.db.SelectContext(ctx, &ids, `
		WITH RECURSIVE units AS (
			SELECT org_unit_id AS id FROM grants WHERE user_id = $1 AND role = 'accountant' AND org_unit_id IS NOT NULL
			UNION
			SELECT o.id FROM org_units o JOIN units u ON o.parent_id = u.id)
		SELECT id FROM projects WHERE city_company_id IN (SELECT id FROM units)
		UNION
		SELECT project_id FROM grants WHERE user_id = $1 AND role = 'accountant' AND project_id IS NOT NULL`, p.UserID)
	if err != nil {
		return sc, fmt.Errorf("scope of user %d: %w", p.UserID, err)
	}
	for _, id := range ids {
		sc.projects[id] = true
	}
	return sc, nil
}
