package microapp

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"hehuo/internal/auth"
	"hehuo/internal/report"
)

// reportDistributionRoutes registers 分配汇总表 (JSON and xlsx), read in the
// caller's scope like the other reports: an ungranted project is 404.
func (s *Server) reportDistributionRoutes() {
	filterParams := []Param{{"project_id", "integer", "one project"}, {"batch_id", "integer", "one batch (管理批次)"}}
	s.handle(Route{
		Method: http.MethodGet, Path: "/api/v1/reports/distribution-summary", Tag: "reports",
		Summary: "分配汇总表: per project in the caller's scope (group-wide when no filter), the principal paid in, returned and " +
			"the profit distributed and paid (from the ledger), each distribution batch (title, date, status, Σ E, Σ F, paid) " +
			"and the group total.",
		Access: Access{Roles: staff}, Query: filterParams, Response: report.DistributionReport{},
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			f, err := s.reportFilter(c, p)
			if err != nil {
				return nil, err
			}
			return s.deps.Reports.DistributionSummary(c.Request.Context(), f)
		},
	})
	s.handle(Route{
		Method: http.MethodGet, Path: "/api/v1/reports/distribution-summary.xlsx", Tag: "reports",
		Summary: "分配汇总表 as an xlsx workbook: a row per project, one per batch, the total row; same filters and scope as the JSON.",
		Access:  Access{Roles: staff}, Query: filterParams, Raw: true,
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			return nil, s.xlsxReport(c, p, "分配汇总表.xlsx", s.deps.Reports.DistributionSummaryXLSX)
		},
	})
}
