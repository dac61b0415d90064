package microapp

import (
	"bytes"
	"net/http"
	"net/url"

	"github.com/gin-gonic/gin"

	"hehuo/internal/auth"
	"hehuo/internal/report"
)

// reportRoutes registers reports (报表) such as 工作跟踪表.
func (s *Server) reportRoutes() {
	filterParams := []Param{{"project_id", "integer", "one project"}, {"batch_id", "integer", "one batch (管理批次)"}}
	s.handle(Route{
		Method: http.MethodGet, Path: "/api/v1/reports/work-tracking", Tag: "reports",
		Summary: "工作跟踪表: per project in the caller's scope, each lifecycle step done (by whom, when), pending (whose turn) or n/a.",
		Access:  Access{Roles: staff}, Query: filterParams, Response: list[report.WorkItem]{},
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			f, err := s.reportFilter(c, p)
			if err != nil {
				return nil, err
			}
			items, err := s.deps.Reports.WorkTracking(c.Request.Context(), f)
			return list[report.WorkItem]{items}, err
		},
	})
	s.handle(Route{
		Method: http.MethodGet, Path: "/api/v1/reports/work-tracking.xlsx", Tag: "reports",
		Summary: "工作跟踪表 as an xlsx workbook, same filters and scope as the JSON.",
		Access:  Access{Roles: staff}, Query: filterParams, Raw: true,
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			f, err := s.reportFilter(c, p)
			if err != nil {
				return nil, err
			}
			// Built whole before the first byte, so a failure is still a clean JSON error.
			var buf bytes.Buffer
			if err := s.deps.Reports.WorkTrackingXLSX(c.Request.Context(), f, &buf); err != nil {
				return nil, err
			}
			c.Header("Content-Disposition", `attachment; filename*=UTF-8''`+url.PathEscape("工作跟踪表.xlsx"))
			c.Data(http.StatusOK, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", buf.Bytes())
			return nil, nil
		},
	})
}

// reportFilter reads a report's project_id / batch_id within the caller's
// scope; a project outside it is 404, as if it did not exist.
func (s *Server) reportFilter(c *gin.Context, p auth.Principal) (report.Filter, error) {
	sc, err := s.deps.Auth.Scope(c.Request.Context(), p)
	if err != nil {
		return report.Filter{}, err
	}
	f := report.Filter{All: sc.All, IDs: sc.IDs()}
	if f.ProjectID, err = queryID(c, "project_id"); err != nil {
		return f, err
	}
	if f.BatchID, err = queryID(c, "batch_id"); err != nil {
		return f, err
	}
	if f.ProjectID != 0 && !sc.Contains(f.ProjectID) {
		return f, errOutOfScope
	}
	return f, nil
}
