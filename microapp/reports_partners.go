package microapp

import (
	"bytes"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"hehuo/internal/auth"
	"hehuo/internal/report"
)

// reportPartnerRoutes registers 员工合伙信息查询表 (JSON, paged, and xlsx),
// read in the caller's scope like the other reports: an ungranted project is
// 404, and an accountant sees only the rows of projects within their grant.
func (s *Server) reportPartnerRoutes() {
	params := []Param{
		{"project_id", "integer", "one project"},
		{"org_unit_id", "integer", "projects of this org unit and every unit below it"},
		{"name", "string", "partners whose name contains this text"},
		{"page", "integer", "page from 1"},
		{"page_size", "integer", "rows per page (default 50, at most 500)"},
	}
	s.handle(Route{
		Method: http.MethodGet, Path: "/api/v1/reports/partners", Tag: "reports",
		Summary: "员工合伙信息查询表: a row per employee partner per project in the caller's scope (by name, then project), " +
			"with the principal in force, paid, capital interest, returned, held, profit received (all from internal/position), " +
			"the status (with its label; statuses lists them all) and the 退 / 离 flags; paged.",
		Access: Access{Roles: staff}, Query: params, Response: report.PartnerPage{},
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			f, err := s.partnerFilter(c, p)
			if err != nil {
				return nil, err
			}
			if f.Page, f.PageSize, err = queryPage(c, 50, 500); err != nil {
				return nil, err
			}
			return s.deps.Reports.Partners(c.Request.Context(), f)
		},
	})
	s.handle(Route{
		Method: http.MethodGet, Path: "/api/v1/reports/partners.xlsx", Tag: "reports",
		Summary: "员工合伙信息查询表 as an xlsx workbook: every row of the filter (no paging) and a total row; same filters and scope as the JSON.",
		Access:  Access{Roles: staff}, Query: params[:3], Raw: true,
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			f, err := s.partnerFilter(c, p)
			if err != nil {
				return nil, err
			}
			var buf bytes.Buffer
			if err := s.deps.Reports.PartnersXLSX(c.Request.Context(), f, &buf); err != nil {
				return nil, err
			}
			c.Header("Content-Disposition", `attachment; filename*=UTF-8''`+url.PathEscape("员工合伙信息查询表.xlsx"))
			c.Data(http.StatusOK, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", buf.Bytes())
			return nil, nil
		},
	})
}

// partnerFilter reads 员工合伙信息查询表's filters within the caller's scope:
// a project outside it is 404; an unknown org unit is 404; a name longer
// than a user's name can be is 400.
func (s *Server) partnerFilter(c *gin.Context, p auth.Principal) (report.PartnerFilter, error) {
	base, err := s.reportFilter(c, p)
	if err != nil {
		return report.PartnerFilter{}, err
	}
	f := report.PartnerFilter{Filter: base, Name: strings.TrimSpace(c.Query("name"))}
	if utf8.RuneCountInString(f.Name) > 40 || strings.ContainsAny(f.Name, "\t\r\n") {
		return f, badParam("name", "姓名筛选不能超过40个字，且不能换行")
	}
	if f.OrgUnitID, err = queryID(c, "org_unit_id"); err != nil {
		return f, err
	}
	if f.OrgUnitID != 0 {
		if _, err := s.deps.Org.Unit(c.Request.Context(), f.OrgUnitID); err != nil {
			return f, err
		}
	}
	return f, nil
}
