package microapp

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"hehuo/internal/auth"
	"hehuo/internal/org"
)

// staff are the roles that work in the console.
var staff = []string{org.RoleSysadmin, org.RoleBizadmin, org.RoleAccountant, org.RoleAuditor}

// list wraps a slice as {"items": [...]}.
type list[T any] struct {
	Items []T `json:"items"`
}

func (s *Server) orgRoutes() {
	s.handle(Route{
		Method: http.MethodGet, Path: "/api/v1/org-units", Tag: "org",
		Summary: "Every org unit (城市公司 page), parents before children.",
		Access:  Access{Roles: staff}, Response: list[org.Unit]{},
		Handle: func(c *gin.Context, _ auth.Principal) (any, error) {
			units, err := s.deps.Org.Units(c.Request.Context())
			return list[org.Unit]{units}, err
		},
	})
	s.handle(Route{
		Method: http.MethodPost, Path: "/api/v1/org-units", Tag: "org", Status: http.StatusCreated,
		Summary: "Add an org unit; only a group may be a root.",
		Access:  Access{Roles: []string{org.RoleSysadmin}}, Request: org.UnitInput{}, Response: org.Unit{},
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			var in org.UnitInput
			if err := bind(c, &in); err != nil {
				return nil, err
			}
			return s.deps.Org.CreateUnit(c.Request.Context(), p.Actor(), in)
		},
	})
	s.handle(Route{
		Method: http.MethodPatch, Path: "/api/v1/org-units/:id", Tag: "org",
		Summary: "Rename or move an org unit; carries version (stale → 409).",
		Access:  Access{Roles: []string{org.RoleSysadmin}}, Request: org.UnitPatch{}, Response: org.Unit{},
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			id, err := pathID(c, "id")
			if err != nil {
				return nil, err
			}
			var in org.UnitPatch
			if err := bind(c, &in); err != nil {
				return nil, err
			}
			return s.deps.Org.UpdateUnit(c.Request.Context(), p.Actor(), id, in)
		},
	})
}

func (s *Server) userRoutes() {
	s.handle(Route{
		Method: http.MethodGet, Path: "/api/v1/users", Tag: "users",
		Summary: "Users whose name, mobile, job number or DingTalk userid contains q.",
		Access:  Access{Roles: staff}, Query: []Param{{"q", "string", "search text"}}, Response: list[org.User]{},
		Handle: func(c *gin.Context, _ auth.Principal) (any, error) {
			users, err := s.deps.Org.Users(c.Request.Context(), c.Query("q"))
			return list[org.User]{users}, err
		},
	})
	s.handle(Route{
		Method: http.MethodGet, Path: "/api/v1/users/:id", Tag: "users", Summary: "One user.",
		Access: Access{Roles: staff}, Response: org.User{},
		Handle: func(c *gin.Context, _ auth.Principal) (any, error) {
			id, err := pathID(c, "id")
			if err != nil {
				return nil, err
			}
			return s.deps.Org.User(c.Request.Context(), id)
		},
	})
	s.handle(Route{
		Method: http.MethodPost, Path: "/api/v1/users", Tag: "users", Status: http.StatusCreated,
		Summary: "Add a user with roles (账号及角色).",
		Access:  Access{Roles: []string{org.RoleSysadmin}}, Request: org.UserInput{}, Response: org.User{},
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			var in org.UserInput
			if err := bind(c, &in); err != nil {
				return nil, err
			}
			return s.deps.Org.CreateUser(c.Request.Context(), p.Actor(), in)
		},
	})
	s.handle(Route{
		Method: http.MethodPatch, Path: "/api/v1/users/:id", Tag: "users",
		Summary: "Change a user, their roles or employment status; carries version (stale → 409).",
		Access:  Access{Roles: []string{org.RoleSysadmin}}, Request: org.UserPatch{}, Response: org.User{},
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			id, err := pathID(c, "id")
			if err != nil {
				return nil, err
			}
			var in org.UserPatch
			if err := bind(c, &in); err != nil {
				return nil, err
			}
			return s.deps.Org.UpdateUser(c.Request.Context(), p.Actor(), id, in)
		},
	})
}
