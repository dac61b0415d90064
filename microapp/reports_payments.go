package microapp

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"

	"github.com/gin-gonic/gin"

	"hehuo/internal/auth"
	"hehuo/internal/report"
)

// reportPaymentRoutes registers 立项及缴款汇总表 (JSON and xlsx) and the
// 缴款信息 export of 辅助工具; all read the caller's scope, an ungranted
// project is 404.
func (s *Server) reportPaymentRoutes() {
	filterParams := []Param{{"project_id", "integer", "one project"}, {"batch_id", "integer", "one batch (管理批次)"}}
	s.handle(Route{
		Method: http.MethodGet, Path: "/api/v1/reports/establishment-payments", Tag: "reports",
		Summary: "立项及缴款汇总表: per project in the caller's scope, the pools of its approved rounds, allocated, paid " +
			"(from the ledger), unpaid, paid ratio and capital interest (R4, as 缴款确认 computes it).",
		Access: Access{Roles: staff}, Query: filterParams, Response: list[report.PaymentSummary]{},
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			f, err := s.reportFilter(c, p)
			if err != nil {
				return nil, err
			}
			items, err := s.deps.Reports.EstablishmentPayments(c.Request.Context(), f)
			return list[report.PaymentSummary]{items}, err
		},
	})
	s.handle(Route{
		Method: http.MethodGet, Path: "/api/v1/reports/establishment-payments.xlsx", Tag: "reports",
		Summary: "立项及缴款汇总表 as an xlsx workbook with a total row, same filters and scope as the JSON.",
		Access:  Access{Roles: staff}, Query: filterParams, Raw: true,
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			return nil, s.xlsxReport(c, p, "立项及缴款汇总表.xlsx", s.deps.Reports.EstablishmentPaymentsXLSX)
		},
	})
	s.handle(Route{
		Method: http.MethodGet, Path: "/api/v1/tools/payments-export.xlsx", Tag: "tools",
		Summary: "辅助工具 → 导出缴款信息: one row per partner per project in the caller's scope with allocated, paid " +
			"(from the ledger), outstanding and status (xlsx).",
		Access: Access{Roles: staff}, Query: filterParams, Raw: true,
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			return nil, s.xlsxReport(c, p, "缴款信息.xlsx", s.deps.Reports.PaymentsExportXLSX)
		},
	})
}

// xlsxReport answers a report workbook for the caller's filter. The workbook
// is built whole before the first byte, so a failure is still a clean JSON error.
func (s *Server) xlsxReport(c *gin.Context, p auth.Principal, name string,
	build func(context.Context, report.Filter, io.Writer) error) error {
	f, err := s.reportFilter(c, p)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := build(c.Request.Context(), f, &buf); err != nil {
		return err
	}
	c.Header("Content-Disposition", `attachment; filename*=UTF-8''`+url.PathEscape(name))
	c.Data(http.StatusOK, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", buf.Bytes())
	return nil
}
