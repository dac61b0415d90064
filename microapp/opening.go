package microapp

import (
	"bytes"
	"net/http"
	"net/url"

	"github.com/gin-gonic/gin"

	"hehuo/internal/auth"
	"hehuo/internal/opening"
	"hehuo/internal/org"
	"hehuo/internal/sheet"
)

// openingRoutes registers 期初数据导入 (后台管理 → 辅助工具): the template, the
// import of one project's opening balances and the imported rows.
func (s *Server) openingRoutes() {
	accountant := []string{org.RoleAccountant}
	s.handle(Route{
		Method: http.MethodPost, Path: "/api/v1/projects/:id/opening-balances", Tag: "tools", Upload: true, Status: http.StatusCreated,
		Summary: "期初数据导入: the project's opening balances from an .xlsx (multipart field file; columns 姓名, 钉钉账号, " +
			"事业合伙本金(已缴), 缴款日期, 资金利息 (≤ 0), 已返还本金, 已分配利润, optional 状态 (退 / 离 / 离 退)): all rows or none, " +
			"every bad cell in error.details with its row and column; one ledger transaction per partner and movement, all in one " +
			"database transaction. The same file again answers the first import (replayed, nothing posted); another file once one " +
			"was imported is 409 opening_exists; a project with payments is 422 project_has_payments.",
		Access: Access{Roles: accountant, ProjectParam: "id", LineWrite: true}, Response: opening.Import{},
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			id, err := pathID(c, "id")
			if err != nil {
				return nil, err
			}
			f, fh, err := uploadedFile(c, sheet.MaxFileSize, sheet.ErrTooLarge, errImportFileRequired)
			if err != nil {
				return nil, err
			}
			defer f.Close()
			return s.deps.Opening.Import(c.Request.Context(), p.Actor(), id, fh.Filename, f)
		},
	})
	s.handle(Route{
		Method: http.MethodGet, Path: "/api/v1/projects/:id/opening-balances", Tag: "tools",
		Summary: "The project's opening import (null when none) and its rows with the 合计 row.",
		Access:  Access{Roles: staff, ProjectParam: "id"}, Response: opening.Result{},
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			id, err := pathID(c, "id")
			if err != nil {
				return nil, err
			}
			return s.deps.Opening.Of(c.Request.Context(), id)
		},
	})
	s.handle(Route{
		Method: http.MethodGet, Path: "/api/v1/opening-balances/template.xlsx", Tag: "tools",
		Summary: "The .xlsx template of 期初数据导入.", Access: Access{Roles: staff}, Raw: true,
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			var buf bytes.Buffer
			if err := opening.Template(&buf); err != nil {
				return nil, err
			}
			c.Header("Content-Disposition", "attachment; filename*=UTF-8''"+url.PathEscape("期初数据导入模板.xlsx"))
			c.Data(http.StatusOK, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", buf.Bytes())
			return nil, nil
		},
	})
}
