package microapp

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"hehuo/internal/audit"
	"hehuo/internal/auth"
	"hehuo/internal/org"
)

type auditPage struct {
	Items []audit.LogEntry `json:"items"`
	Total int              `json:"total"`
}

func (s *Server) auditRoutes() {
	readers := []string{org.RoleSysadmin, org.RoleBizadmin, org.RoleAuditor}
	s.handle(Route{
		Method: http.MethodGet, Path: "/api/v1/audit-log", Tag: "audit",
		Summary: "The audit log (系统日志), newest first; from and to are inclusive dates.",
		Access:  Access{Roles: readers}, Response: auditPage{},
		Query: []Param{{"action", "string", "e.g. project.update"}, {"entity", "string", "e.g. project"}, {"entity_id", "string", ""},
			{"actor_id", "integer", ""}, {"project_id", "integer", ""}, {"from", "string", "YYYY-MM-DD"}, {"to", "string", "YYYY-MM-DD"},
			{"page", "integer", "from 1"}, {"page_size", "integer", "at most 500"}},
		Handle: func(c *gin.Context, _ auth.Principal) (any, error) {
			f := audit.Filter{Action: c.Query("action"), Entity: c.Query("entity"), EntityID: c.Query("entity_id")}
			var err error
			if f.ActorID, err = queryID(c, "actor_id"); err != nil {
				return nil, err
			}
			if f.ProjectID, err = queryID(c, "project_id"); err != nil {
				return nil, err
			}
			if f.Page, f.PageSize, err = queryPage(c, 50, 500); err != nil {
				return nil, err
			}
			from, err := queryDate(c, "from", "开始日期")
			if err != nil {
				return nil, err
			}
			if !from.IsZero() {
				f.From = from.Start()
			}
			to, err := queryDate(c, "to", "结束日期")
			if err != nil {
				return nil, err
			}
			if !to.IsZero() {
				f.To = to.EndExclusive()
			}
			items, total, err := audit.List(c.Request.Context(), s.deps.DB, f)
			return auditPage{Items: items, Total: total}, err
		},
	})
	s.handle(Route{
		Method: http.MethodGet, Path: "/api/v1/audit-log/labels", Tag: "audit",
		Summary: "The Chinese names of the audit log's codes: actions, entities (对象), fields and, per entity, the values of its status field.",
		Access:  Access{Roles: readers}, Response: audit.Labels{},
		Handle: func(c *gin.Context, _ auth.Principal) (any, error) {
			return audit.AllLabels(), nil
		},
	})
	s.handle(Route{
		Method: http.MethodGet, Path: "/api/v1/audit-log/verify", Tag: "audit",
		Summary: "Recompute the audit log's hash chain and report any break.",
		Access:  Access{Roles: readers}, Response: audit.VerifyReport{},
		Handle: func(c *gin.Context, _ auth.Principal) (any, error) {
			return audit.Verify(c.Request.Context(), s.deps.DB)
		},
	})
}
