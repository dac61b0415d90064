package microapp

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"hehuo/internal/auth"
	"hehuo/internal/org"
)

type grantSet struct {
	Grants []auth.Grant `json:"grants"`
}

func (s *Server) grantRoutes() {
	readers := []string{org.RoleSysadmin, org.RoleBizadmin, org.RoleAuditor}
	sysadmin := []string{org.RoleSysadmin}
	for _, t := range []struct {
		path, what, param string
		target            func(id int64) auth.Target
		exists            func(c *gin.Context, id int64) error
	}{
		{"/api/v1/projects/:id/grants", "project", "id",
			func(id int64) auth.Target { return auth.Target{ProjectID: &id} },
			func(c *gin.Context, id int64) error {
				_, err := s.deps.Projects.Get(c.Request.Context(), id)
				return err
			}},
		{"/api/v1/org-units/:id/grants", "org unit, covering every project below it now and later", "",
			func(id int64) auth.Target { return auth.Target{OrgUnitID: &id} },
			func(c *gin.Context, id int64) error { _, err := s.deps.Org.Unit(c.Request.Context(), id); return err }},
	} {
		s.handle(Route{
			Method: http.MethodGet, Path: t.path, Tag: "grants",
			Summary: "Who holds each grantable role on this " + t.what + ".",
			Access:  Access{Roles: readers, ProjectParam: t.param}, Response: grantSet{},
			Handle: func(c *gin.Context, _ auth.Principal) (any, error) {
				id, err := pathID(c, "id")
				if err != nil {
					return nil, err
				}
				if err := t.exists(c, id); err != nil {
					return nil, err
				}
				gs, err := s.deps.Auth.Grants(c.Request.Context(), t.target(id))
				return grantSet{gs}, err
			},
		})
		s.handle(Route{
			Method: http.MethodPut, Path: t.path, Tag: "grants",
			Summary: "Replace, for each role listed, the users granted that role on this " + t.what + " (账号及角色).",
			Access:  Access{Roles: sysadmin, ProjectParam: t.param}, Request: grantSet{}, Response: grantSet{},
			Handle: func(c *gin.Context, p auth.Principal) (any, error) {
				id, err := pathID(c, "id")
				if err != nil {
					return nil, err
				}
				var in grantSet
				if err := bind(c, &in); err != nil {
					return nil, err
				}
				if err := t.exists(c, id); err != nil {
					return nil, err
				}
				gs, err := s.deps.Auth.SetGrants(c.Request.Context(), p.Actor(), t.target(id), in.Grants)
				return grantSet{gs}, err
			},
		})
	}
}
