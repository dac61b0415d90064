package microapp

import (
	"net/http"
	"net/url"

	"github.com/gin-gonic/gin"

	"hehuo/internal/auth"
	"hehuo/internal/org"
	"hehuo/internal/shareholderdist"
)

// shareholderDistributionRoutes registers 股东分配 (issue 13): batches of a
// project company's distributions to its approved minority shareholders,
// their review, payouts, export and bank payout file, and the minority
// shareholders report. Accountants within their grant (and business admins)
// enter; a business admin reviews, never their own submission; auditors
// read; partners reach none of it.
func (s *Server) shareholderDistributionRoutes() {
	editors := establishmentEditors
	bizadmin := []string{org.RoleBizadmin}
	accountant := []string{org.RoleAccountant}
	sd := func() *shareholderdist.Service { return s.deps.ShareholderDists }
	inScope := func(c *gin.Context, p auth.Principal) (int64, error) {
		return s.subjectInScope(c, p, sd().ProjectOf, shareholderdist.ErrNotFound)
	}
	s.handle(Route{
		Method: http.MethodPost, Path: "/api/v1/projects/:id/shareholder-distributions", Tag: "shareholder-distributions",
		Status: http.StatusCreated,
		Summary: "新建分配批次 {distribution_date, amount, note}: one line {shareholder_id, stake, amount} per approved registration " +
			"(股东登记 审核通过), the amount split pro rata to stake by largest remainder to the fen (Σ lines = amount). No approved " +
			"registration → 422 no_approved_shareholders; an amount ≤ 0 or with three decimals → 400.",
		Access:  Access{Roles: editors, ProjectParam: "id"},
		Request: shareholderdist.CreateInput{}, Response: shareholderdist.Batch{},
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			id, err := pathID(c, "id")
			if err != nil {
				return nil, err
			}
			var in shareholderdist.CreateInput
			if err := bind(c, &in); err != nil {
				return nil, err
			}
			return sd().Create(c.Request.Context(), p.Actor(), id, in)
		},
	})
	s.handle(Route{
		Method: http.MethodGet, Path: "/api/v1/projects/:id/shareholder-distributions", Tag: "shareholder-distributions",
		Summary: "The project's shareholder distributions with their lines, newest first.",
		Access:  Access{Roles: staff, ProjectParam: "id"}, Response: list[shareholderdist.Batch]{},
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			id, err := pathID(c, "id")
			if err != nil {
				return nil, err
			}
			items, err := sd().List(c.Request.Context(), id)
			return list[shareholderdist.Batch]{Items: items}, err
		},
	})
	s.handle(Route{
		Method: http.MethodGet, Path: "/api/v1/shareholder-distributions/:id", Tag: "shareholder-distributions",
		Summary: "One shareholder distribution with its lines (stake, amount, masked account, payout state).",
		Access:  Access{Roles: staff}, Response: shareholderdist.Batch{},
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			id, err := inScope(c, p)
			if err != nil {
				return nil, err
			}
			return sd().Get(c.Request.Context(), id)
		},
	})
	s.handle(Route{
		Method: http.MethodPatch, Path: "/api/v1/shareholder-distributions/:id/lines/:shareholder_id", Tag: "shareholder-distributions",
		Summary: "Type a line's amount by hand {amount, version} while the batch is draft or returned (else 422 " +
			"shareholder_distribution_locked); the batch's amount becomes Σ of its lines and the batch goes back to draft.",
		Access: Access{Roles: editors}, Request: shareholderdist.LineInput{}, Response: shareholderdist.Batch{},
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			id, err := inScope(c, p)
			if err != nil {
				return nil, err
			}
			sh, err := pathID(c, "shareholder_id")
			if err != nil {
				return nil, err
			}
			var in shareholderdist.LineInput
			if err := bind(c, &in); err != nil {
				return nil, err
			}
			return sd().UpdateLine(c.Request.Context(), p.Actor(), id, sh, in)
		},
	})
	s.handle(Route{
		Method: http.MethodPost, Path: "/api/v1/shareholder-distributions/:id/submit", Tag: "shareholder-distributions",
		Summary: "录入分配及申请审核 {version}: a draft or returned batch goes to the business admin's review.",
		Access:  Access{Roles: editors}, Request: shareholderdist.VersionInput{}, Response: shareholderdist.Batch{},
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			id, err := inScope(c, p)
			if err != nil {
				return nil, err
			}
			var in shareholderdist.VersionInput
			if err := bind(c, &in); err != nil {
				return nil, err
			}
			return sd().Submit(c.Request.Context(), p.Actor(), id, in)
		},
	})
	s.handle(Route{
		Method: http.MethodPost, Path: "/api/v1/shareholder-distributions/:id/review", Tag: "shareholder-distributions",
		Summary: "审核通过 / 退回 {approve, reason, version} (business admin): the reason is required when returning; never one's own " +
			"submission (403 own_submission).",
		Access: Access{Roles: bizadmin}, Request: shareholderdist.ReviewInput{}, Response: shareholderdist.Batch{},
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			id, err := inScope(c, p)
			if err != nil {
				return nil, err
			}
			var in shareholderdist.ReviewInput
			if err := bind(c, &in); err != nil {
				return nil, err
			}
			return sd().Review(c.Request.Context(), p.Actor(), id, in)
		},
	})
	s.handle(Route{
		Method: http.MethodPost, Path: "/api/v1/shareholder-distributions/:id/payouts", Tag: "shareholder-distributions",
		Status: http.StatusCreated,
		Summary: "登记打款 {shareholder_id, paid_on} on an approved batch, with the Idempotency-Key header (required): one ledger " +
			"transaction minority:{project}:{shareholder} −a, external:shareholder_{id} +a. The same key again returns the first " +
			"payout (replayed) and posts nothing; another key on a paid line → 409 shareholder_distribution_line_paid; a batch not " +
			"approved → 422. The batch is paid (已打款) with its last line.",
		Access: Access{Roles: accountant}, Request: shareholderdist.PayoutInput{}, Response: shareholderdist.Payout{},
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			id, err := inScope(c, p)
			if err != nil {
				return nil, err
			}
			key, err := idempotencyKey(c)
			if err != nil {
				return nil, err
			}
			var in shareholderdist.PayoutInput
			if err := bind(c, &in); err != nil {
				return nil, err
			}
			return sd().RegisterPayout(c.Request.Context(), p.Actor(), id, key, in)
		},
	})
	sendXLSX := func(c *gin.Context, name string, content []byte) {
		c.Header("Cache-Control", "no-store")
		c.Header("Content-Disposition", "attachment; filename*=UTF-8''"+url.PathEscape(name))
		c.Data(http.StatusOK, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", content)
	}
	s.handle(Route{
		Method: http.MethodGet, Path: "/api/v1/shareholder-distributions/:id/export.xlsx", Tag: "shareholder-distributions", Raw: true,
		Summary: "The batch as .xlsx (股东, 持股比例, 分配金额, 开户行, 账号 masked, 打款状态, 打款日期) with a total row.",
		Access:  Access{Roles: staff},
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			id, err := inScope(c, p)
			if err != nil {
				return nil, err
			}
			name, content, err := sd().Export(c.Request.Context(), id)
			if err != nil {
				return nil, err
			}
			sendXLSX(c, name, content)
			return nil, nil
		},
	})
	s.handle(Route{
		Method: http.MethodGet, Path: "/api/v1/shareholder-distributions/:id/bank-file.xlsx", Tag: "shareholder-distributions", Raw: true,
		Summary: "The bank payout file of an approved batch (银行付款文件: 户名, 账号, 开户行, 金额, 用途), one row per unpaid line. The one " +
			"place the shareholders' account numbers appear in clear; the export is recorded in the 系统日志 without them. A " +
			"shareholder without an account → 422 shareholder_account_missing.",
		Access: Access{Roles: accountant},
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			id, err := inScope(c, p)
			if err != nil {
				return nil, err
			}
			name, content, err := sd().BankFile(c.Request.Context(), p.Actor(), id)
			if err != nil {
				return nil, err
			}
			sendXLSX(c, name, content)
			return nil, nil
		},
	})
	params := []Param{{"project_id", "integer", "one project"}}
	filter := func(c *gin.Context, p auth.Principal) (shareholderdist.ReportFilter, error) {
		f, err := s.reportFilter(c, p)
		return shareholderdist.ReportFilter{All: f.All, IDs: f.IDs, ProjectID: f.ProjectID}, err
	}
	s.handle(Route{
		Method: http.MethodGet, Path: "/api/v1/reports/minority-shareholders", Tag: "reports",
		Summary: "小股东信息表: the approved minority shareholders of each project in the caller's scope (project_id filters one; " +
			"outside the scope → 404) with stake, contributed, contributed_on and distributed (paid lines), and totals.",
		Access: Access{Roles: staff}, Query: params, Response: shareholderdist.Report{},
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			f, err := filter(c, p)
			if err != nil {
				return nil, err
			}
			return sd().MinorityReport(c.Request.Context(), f)
		},
	})
	s.handle(Route{
		Method: http.MethodGet, Path: "/api/v1/reports/minority-shareholders.xlsx", Tag: "reports", Raw: true,
		Summary: "小股东信息表 as .xlsx with a total row; same filter and scope as the JSON.",
		Access:  Access{Roles: staff}, Query: params,
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			f, err := filter(c, p)
			if err != nil {
				return nil, err
			}
			content, err := sd().MinorityReportXLSX(c.Request.Context(), f)
			if err != nil {
				return nil, err
			}
			sendXLSX(c, "小股东信息表.xlsx", content)
			return nil, nil
		},
	})
}
