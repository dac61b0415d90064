package microapp

import (
	"fmt"
	"net/http"
	"net/url"

	"github.com/gin-gonic/gin"

	"hehuo/internal/auth"
	"hehuo/internal/disclosure"
	"hehuo/internal/org"
)

// disclosureRoutes registers 披露: the P&L updates (盈亏动态) of a project,
// 披露审核 with the merged notices (合并发送通知), and the partner's H5
// 披露 pages with the documents.
func (s *Server) disclosureRoutes() {
	accountant := []string{org.RoleAccountant}
	bizadmin := []string{org.RoleBizadmin}
	s.handle(Route{
		Method: http.MethodGet, Path: "/api/v1/projects/:id/profit-updates", Tag: "disclosures",
		Summary: "盈亏动态: the project's indicators (the 盈利指标 of 立项, in order), the 立项 values as the baseline and every " +
			"period oldest first, each with its values, status (未披露/披露审批中/已披露), version, comparison (per indicator: " +
			"baseline 立项, value 动态, difference) and history (every saved version, newest first).",
		Access: Access{Roles: staff, ProjectParam: "id"}, Response: disclosure.Updates{},
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			id, err := pathID(c, "id")
			if err != nil {
				return nil, err
			}
			return s.deps.Disclosures.ProfitUpdates(c.Request.Context(), id)
		},
	})
	s.handle(Route{
		Method: http.MethodPost, Path: "/api/v1/projects/:id/profit-updates", Tag: "disclosures", Status: http.StatusCreated,
		Summary: "Add a period (accountant within grant): period_on (截至日期, one per date: 409 profit_update_period_exists), title, " +
			"note and the indicators (saleable_value 货值, collections 回款 — no 立项 baseline —, sales_revenue, total_investment, net_profit, group_net_profit as amounts; net_margin, irr as " +
			"fractions; payback_months); at least one indicator (422 indicators_required).",
		Access:  Access{Roles: accountant, ProjectParam: "id"},
		Request: disclosure.Input{}, Response: disclosure.ProfitUpdate{},
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			id, err := pathID(c, "id")
			if err != nil {
				return nil, err
			}
			var in disclosure.Input
			if err := bind(c, &in); err != nil {
				return nil, err
			}
			return s.deps.Disclosures.Create(c.Request.Context(), p.Actor(), id, in)
		},
	})
	s.handle(Route{
		Method: http.MethodGet, Path: "/api/v1/profit-updates/:id", Tag: "disclosures",
		Summary: "One period of a project's P&L with its comparison to 立项 and its history.",
		Access:  Access{Roles: staff}, Response: disclosure.ProfitUpdate{},
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			id, err := s.subjectInScope(c, p, s.deps.Disclosures.ProjectOf, disclosure.ErrNotFound)
			if err != nil {
				return nil, err
			}
			return s.deps.Disclosures.Get(c.Request.Context(), id)
		},
	})
	s.handle(Route{
		Method: http.MethodPatch, Path: "/api/v1/profit-updates/:id", Tag: "disclosures",
		Summary: "Edit a period (accountant; every field as POST, with the version read: stale → 409 stale_version). The " +
			"previous version stays in the history. A period in a disclosure process or disclosed → 422 profit_update_locked.",
		Access:  Access{Roles: accountant},
		Request: disclosure.Input{}, Response: disclosure.ProfitUpdate{},
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			id, err := s.subjectInScope(c, p, s.deps.Disclosures.ProjectOf, disclosure.ErrNotFound)
			if err != nil {
				return nil, err
			}
			var in disclosure.Input
			if err := bind(c, &in); err != nil {
				return nil, err
			}
			return s.deps.Disclosures.Update(c.Request.Context(), p.Actor(), id, in)
		},
	})
	s.handle(Route{
		Method: http.MethodGet, Path: "/api/v1/disclosures", Tag: "disclosures",
		Summary: "披露审核: the agreed disclosures of the caller's projects, those waiting to be sent (待发送) first, then those " +
			"sent (已发送) newest first, each with its project, period, process, partners holding the project, sent_at and notice ids.",
		Access: Access{Roles: staff}, Response: list[disclosure.Disclosure]{},
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			sc, err := s.deps.Auth.Scope(c.Request.Context(), p)
			if err != nil {
				return nil, err
			}
			items, err := s.deps.Disclosures.Disclosures(c.Request.Context(), disclosure.Scope{All: sc.All, IDs: sc.IDs()})
			return list[disclosure.Disclosure]{Items: items}, err
		},
	})
	s.handle(Route{
		Method: http.MethodPost, Path: "/api/v1/disclosures/notices", Tag: "disclosures",
		Summary: "合并发送通知 (business admin): every agreed disclosure not yet sent becomes one work notice per partner naming " +
			"every project they hold that has news; the disclosures are marked sent with the notices. test: true sends that merged " +
			"notice to the caller only and marks nothing. Nothing waiting → 422 disclosures_none_pending.",
		Access: Access{Roles: bizadmin}, Request: disclosure.SendInput{}, Response: disclosure.SendResult{},
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			var in disclosure.SendInput
			if err := bind(c, &in); err != nil {
				return nil, err
			}
			sc, err := s.deps.Auth.Scope(c.Request.Context(), p)
			if err != nil {
				return nil, err
			}
			return s.deps.Disclosures.Send(c.Request.Context(), p.Actor(), p.UserID, disclosure.Scope{All: sc.All, IDs: sc.IDs()}, in)
		},
	})
	s.handle(Route{
		Method: http.MethodGet, Path: "/api/v1/me/disclosures", Tag: "disclosures",
		Summary:  "披露 (H5): the projects the signed-in partner holds that have disclosures sent, the latest news first.",
		Response: list[disclosure.MyProject]{},
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			items, err := s.deps.Disclosures.Mine(c.Request.Context(), p.UserID)
			return list[disclosure.MyProject]{Items: items}, err
		},
	})
	s.handle(Route{
		Method: http.MethodGet, Path: "/api/v1/me/disclosures/:id", Tag: "disclosures",
		Summary: "One project's disclosures for the signed-in partner: the indicators, the 立项 baseline, the disclosed periods " +
			"oldest first (the chart) and the documents; a project they do not hold, or without a disclosure sent → 404.",
		Response: disclosure.MyDisclosure{},
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			id, err := pathID(c, "id")
			if err != nil {
				return nil, err
			}
			return s.deps.Disclosures.MyProject(c.Request.Context(), p.UserID, id)
		},
	})
	s.handle(Route{
		Method: http.MethodGet, Path: "/api/v1/me/disclosures/:id/documents/:doc", Tag: "disclosures", Raw: true,
		Summary: "Download a document of a project's disclosures (a file of its disclosure processes) as the partner holding it; " +
			"anything else → 404.",
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			id, err := pathID(c, "id")
			if err != nil {
				return nil, err
			}
			doc, err := pathID(c, "doc")
			if err != nil {
				return nil, err
			}
			ctx := c.Request.Context()
			if err := s.deps.Disclosures.MyDocument(ctx, p.UserID, id, doc); err != nil {
				return nil, err
			}
			a, content, err := s.deps.Attachments.Content(ctx, doc)
			if err != nil {
				return nil, err
			}
			c.Header("Content-Disposition", fmt.Sprintf("attachment; filename*=UTF-8''%s", url.PathEscape(a.Name)))
			c.Header("X-Content-Type-Options", "nosniff")
			c.Data(http.StatusOK, a.ContentType, content)
			return nil, nil
		},
	})
}
