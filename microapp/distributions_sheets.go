package microapp

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"hehuo/internal/apperr"
	"hehuo/internal/auth"
	"hehuo/internal/distribution"
	"hehuo/internal/org"
)

// distributionSheetRoutes registers a batch's sheets (RULES R8): the
// calculation sheet (export.xlsx, the file the OA form attaches), the
// manual-entry template and its import.
func (s *Server) distributionSheetRoutes() {
	s.handle(Route{
		Method: http.MethodGet, Path: "/api/v1/distributions/:id/export.xlsx", Tag: "distributions",
		Summary: "The batch's calculation sheet ({集团}_{城市公司}_{项目}_利润分配计算表.xlsx; 本金分配计算表, 清算分配计算表): the batch's figures " +
			"and the table as the screen shows it — 序号, 姓名 with 退/离, A–E, C's reason, F per profit batch, 分配合计 不含其它, 手工 (who, when) — with its 合计 row.",
		Access: Access{Roles: staff}, Raw: true,
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			id, err := s.distributionInScope(c, p)
			if err != nil {
				return nil, err
			}
			name, b, err := s.deps.Distributions.Sheet(c.Request.Context(), s.deps.DB, id)
			if err != nil {
				return nil, err
			}
			sendXLSX(c, name, b)
			return nil, nil
		},
	})
	s.handle(Route{
		Method: http.MethodGet, Path: "/api/v1/distributions/:id/template.xlsx", Tag: "distributions",
		Summary: "The batch's manual-entry template (导出模板): 序号, 合伙人ID, 姓名, 钉钉账号 and the amounts that can be typed for the kind " +
			"(D and E of a principal batch, F of a profit batch, D, E and F of a liquidation), filled with the current values.",
		Access: Access{Roles: staff}, Raw: true,
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			id, err := s.distributionInScope(c, p)
			if err != nil {
				return nil, err
			}
			name, b, err := s.deps.Distributions.Template(c.Request.Context(), id)
			if err != nil {
				return nil, err
			}
			sendXLSX(c, name, b)
			return nil, nil
		},
	})
	s.handle(Route{
		Method: http.MethodPost, Path: "/api/v1/distributions/:id/import", Tag: "distributions", Upload: true,
		Summary: "Import the batch's amounts (导入, RULES R8; multipart field file: the template's .xlsx; optional field version, the batch version " +
			"the template came from, 409 when it moved on). Only while the batch is unlocked (422 distribution_locked) and not submitted. All rows or " +
			"none: every bad cell is reported in error.details with its row and column. The amounts become manual values (who, when); the " +
			"calculation stays beside them; the batch returns to draft (save it again before submitting).",
		Access: Access{Roles: []string{org.RoleAccountant}, LineWrite: true}, Response: distribution.Batch{},
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			id, err := s.distributionInScope(c, p)
			if err != nil {
				return nil, err
			}
			f, err := importFile(c)
			if err != nil {
				return nil, err
			}
			defer f.Close()
			version := 0
			if v := strings.TrimSpace(c.PostForm("version")); v != "" {
				if version, err = strconv.Atoi(v); err != nil || version < 1 {
					return nil, apperr.Invalid("version_invalid", "version", "版本号不正确")
				}
			}
			return s.deps.Distributions.Import(c.Request.Context(), p.Actor(), id, version, f)
		},
	})
}

// sendXLSX answers a workbook built whole, as an attachment named name.
func sendXLSX(c *gin.Context, name string, b []byte) {
	c.Header("Content-Disposition", "attachment; filename*=UTF-8''"+url.PathEscape(name))
	c.Data(http.StatusOK, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", b)
}
