package microapp

import (
	"context"
	"io"
	"net/http"

	"github.com/gin-gonic/gin"

	"hehuo/internal/auth"
	"hehuo/internal/exit"
	"hehuo/internal/org"
	"hehuo/internal/report"
)

// exitTypeOption is an exit type with its Chinese label and its policy.
type exitTypeOption struct {
	Value         string `json:"value"`
	Label         string `json:"label"`
	HoldingReturn bool   `json:"holding_return"`
}

// exitTypes is GET /api/v1/exit-types.
type exitTypes struct {
	Items    []exitTypeOption `json:"items"`
	Statuses []exit.Option    `json:"statuses"`
}

// exitRoutes registers exits (退投, R9): 离职退休测算, the exits list, the
// payout, the exit policies (后台管理), the partners' requests and the
// 退出员工合伙信息查询表. An accountant sees a quote only when every project
// it covers is granted to them (404 otherwise).
func (s *Server) exitRoutes() {
	quoters := []string{org.RoleAccountant, org.RoleBizadmin}
	accountant := []string{org.RoleAccountant}
	s.handle(Route{
		Method: http.MethodGet, Path: "/api/v1/exit-types", Tag: "exits",
		Summary: "The exit types (离职, 辞退, 退休, 调动, 身故) with their Chinese labels and whether their policy pays the holding " +
			"return H, and the exit states with their labels.",
		Access: Access{Roles: staff}, Response: exitTypes{},
		Handle: func(c *gin.Context, _ auth.Principal) (any, error) {
			ps, err := s.deps.Exits.Policies(c.Request.Context())
			if err != nil {
				return nil, err
			}
			out := exitTypes{Items: []exitTypeOption{}, Statuses: exit.Statuses()}
			for _, p := range ps {
				out.Items = append(out.Items, exitTypeOption{Value: string(p.Type), Label: p.Type.Label(), HoldingReturn: p.HoldingReturn})
			}
			return out, nil
		},
	})
	s.handle(Route{
		Method: http.MethodGet, Path: "/api/v1/exit-policies", Tag: "exits",
		Summary: "R9's price table (退出政策): one row per exit type, whether the payout includes the holding return H.",
		Access:  Access{Roles: staff}, Response: list[exit.Policy]{},
		Handle: func(c *gin.Context, _ auth.Principal) (any, error) {
			items, err := s.deps.Exits.Policies(c.Request.Context())
			return list[exit.Policy]{Items: items}, err
		},
	})
	s.handle(Route{
		Method: http.MethodPut, Path: "/api/v1/exit-policies/:type", Tag: "exits",
		Summary: "Edit one exit policy (sysadmin): holding_return and version (stale → 409). Audited.",
		Access:  Access{Roles: []string{org.RoleSysadmin}}, Request: exit.PolicyInput{}, Response: exit.Policy{},
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			var in exit.PolicyInput
			if err := bind(c, &in); err != nil {
				return nil, err
			}
			return s.deps.Exits.SavePolicy(c.Request.Context(), p.Actor(), c.Param("type"), in)
		},
	})
	s.handle(Route{
		Method: http.MethodPost, Path: "/api/v1/exit-quotes", Tag: "exits", Status: http.StatusCreated,
		Summary: "离职退休测算 (R9): user_id, exit_type (resignation|dismissal|retirement|transfer|death), exit_date, optional " +
			"request_id → the stored quote: one line per project the partner holds (P principal outstanding, I capital interest " +
			"not yet deducted, H holding return at the financing cost rate when the type's policy pays it, payout, trace) and the " +
			"total. Nothing is written when refused: unknown type 400 exit_type_invalid, bad date 400, a partner with no stake 422 " +
			"exit_no_stake, a date before the last payment 422 exit_date_before_payment, the caller's own line 403 own_line, a " +
			"project outside the caller's grant 404. A quoted earlier quote of the partner is superseded.",
		Access: Access{Roles: quoters, LineWrite: true}, Request: exit.QuoteInput{}, Response: exit.Exit{},
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			var in exit.QuoteInput
			if err := bind(c, &in); err != nil {
				return nil, err
			}
			sc, err := s.deps.Auth.Scope(c.Request.Context(), p)
			if err != nil {
				return nil, err
			}
			return s.deps.Exits.Quote(c.Request.Context(), p.Actor(), sc, in)
		},
	})
	s.handle(Route{
		Method: http.MethodGet, Path: "/api/v1/exits", Tag: "exits",
		Summary: "退出流程: the exits (quotes) the caller may see, newest first, with their lines, status and payout; " +
			"superseded quotes only with all=1.",
		Access: Access{Roles: staff}, Query: []Param{{"all", "boolean", "include superseded quotes"}}, Response: list[exit.Exit]{},
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			sc, err := s.deps.Auth.Scope(c.Request.Context(), p)
			if err != nil {
				return nil, err
			}
			items, err := s.deps.Exits.List(c.Request.Context(), sc, c.Query("all") == "1" || c.Query("all") == "true")
			return list[exit.Exit]{Items: items}, err
		},
	})
	s.handle(Route{
		Method: http.MethodGet, Path: "/api/v1/exits/:id", Tag: "exits",
		Summary: "One exit (quote) with its lines and traces.",
		Access:  Access{Roles: staff}, Response: exit.Exit{},
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			id, err := s.exitInScope(c, p)
			if err != nil {
				return nil, err
			}
			return s.deps.Exits.Get(c.Request.Context(), nil, id)
		},
	})
	s.handle(Route{
		Method: http.MethodPost, Path: "/api/v1/exits/:id/payout", Tag: "exits",
		Summary: "登记退出打款金额及打款日期: paid_on and amount (= the quoted total, else 422 exit_payout_amount_mismatch) of an " +
			"agreed exit (else 422 exit_not_agreed), posted as external:platform −amount, external:{partner} +amount. The " +
			"Idempotency-Key header is required: the same key and body answer with the first payout (replayed), the same key " +
			"with another body → 409 idempotency_key_reused, another key on a paid exit → 409 exit_paid.",
		Access: Access{Roles: accountant, LineWrite: true}, Request: exit.PayoutInput{}, Response: exit.PayoutResult{},
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			id, err := s.exitInScope(c, p)
			if err != nil {
				return nil, err
			}
			key, err := idempotencyKey(c)
			if err != nil {
				return nil, err
			}
			var in exit.PayoutInput
			if err := bind(c, &in); err != nil {
				return nil, err
			}
			return s.deps.Exits.RegisterPayout(c.Request.Context(), p.Actor(), id, key, in)
		},
	})
	s.handle(Route{
		Method: http.MethodGet, Path: "/api/v1/exit-requests", Tag: "exits",
		Summary: "The partners' exit requests (申请退出) with their status, for partners holding a project in the caller's scope.",
		Access:  Access{Roles: staff}, Response: list[exit.Request]{},
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			sc, err := s.deps.Auth.Scope(c.Request.Context(), p)
			if err != nil {
				return nil, err
			}
			items, err := s.deps.Exits.Requests(c.Request.Context(), sc)
			return list[exit.Request]{Items: items}, err
		},
	})
	s.handle(Route{
		Method: http.MethodPost, Path: "/api/v1/exit-requests/:id/reject", Tag: "exits",
		Summary: "驳回 a partner's exit request (submitted or quoted).",
		Access:  Access{Roles: quoters}, Response: exit.Request{},
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			id, err := pathID(c, "id")
			if err != nil {
				return nil, err
			}
			sc, err := s.deps.Auth.Scope(c.Request.Context(), p)
			if err != nil {
				return nil, err
			}
			return s.deps.Exits.RejectRequest(c.Request.Context(), p.Actor(), sc, id)
		},
	})
	s.handle(Route{
		Method: http.MethodGet, Path: "/api/v1/me/exit-requests", Tag: "exits",
		Summary:  "个人中心 → 申请退出: the signed-in partner's exit requests with their status.",
		Response: list[exit.Request]{},
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			items, err := s.deps.Exits.MyRequests(c.Request.Context(), p.UserID)
			return list[exit.Request]{Items: items}, err
		},
	})
	s.handle(Route{
		Method: http.MethodPost, Path: "/api/v1/me/exit-requests", Tag: "exits", Status: http.StatusCreated,
		Summary: "申请退出: reason and desired_date; a user with no stake → 422 exit_no_stake; one open request at a time (409).",
		Request: exit.RequestInput{}, Response: exit.Request{},
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			var in exit.RequestInput
			if err := bind(c, &in); err != nil {
				return nil, err
			}
			return s.deps.Exits.Request(c.Request.Context(), p.Actor(), p.UserID, in)
		},
	})
	reportParams := []Param{{"project_id", "integer", "one project"}, {"batch_id", "integer", "one batch (管理批次)"}, {"status", "string", "exit state"},
		{"name", "string", "partner name contains"}}
	s.handle(Route{
		Method: http.MethodGet, Path: "/api/v1/reports/exits", Tag: "reports",
		Summary: "退出员工合伙信息查询表: per exit and project in the caller's scope — partner, org unit, exit type, dates, P, I, H, " +
			"payout, paid amount and date, taken over by (the platform company), status.",
		Access: Access{Roles: staff}, Query: reportParams, Response: list[exit.ReportRow]{},
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			f, err := s.exitReportFilter(c, p)
			if err != nil {
				return nil, err
			}
			items, err := s.deps.Exits.Report(c.Request.Context(), f)
			return list[exit.ReportRow]{Items: items}, err
		},
	})
	s.handle(Route{
		Method: http.MethodGet, Path: "/api/v1/reports/exits.xlsx", Tag: "reports",
		Summary: "退出员工合伙信息查询表 as a streamed xlsx workbook; same filters and scope as the JSON.",
		Access:  Access{Roles: staff}, Query: reportParams, Raw: true,
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			f, err := s.exitReportFilter(c, p)
			if err != nil {
				return nil, err
			}
			return nil, s.xlsxReport(c, p, "退出员工合伙信息查询表.xlsx", func(ctx context.Context, _ report.Filter, w io.Writer) error {
				return s.deps.Exits.ReportXLSX(ctx, f, w)
			})
		},
	})
}

// exitInScope is the path's exit id when every project it covers is in
// the caller's scope; 404 otherwise.
func (s *Server) exitInScope(c *gin.Context, p auth.Principal) (int64, error) {
	id, err := pathID(c, "id")
	if err != nil {
		return 0, err
	}
	sc, err := s.deps.Auth.Scope(c.Request.Context(), p)
	if err != nil {
		return 0, err
	}
	return id, s.deps.Exits.InScope(c.Request.Context(), sc, id)
}

func (s *Server) exitReportFilter(c *gin.Context, p auth.Principal) (exit.ReportFilter, error) {
	sc, err := s.deps.Auth.Scope(c.Request.Context(), p)
	if err != nil {
		return exit.ReportFilter{}, err
	}
	f := exit.ReportFilter{Scope: sc, Status: c.Query("status"), Name: c.Query("name")}
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
