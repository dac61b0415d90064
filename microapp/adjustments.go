package microapp

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"hehuo/internal/adjustment"
	"hehuo/internal/apperr"
	"hehuo/internal/auth"
	"hehuo/internal/org"
)

// adjustmentRoutes registers peak changes (峰值变更) and establishment
// adjustments (立项调整, RULES R5) with their settlements (变更缴款确认).
func (s *Server) adjustmentRoutes() {
	project := func(roles []string) Access { return Access{Roles: roles, ProjectParam: "id"} }
	editors := establishmentEditors
	s.handle(Route{
		Method: http.MethodPost, Path: "/api/v1/projects/:id/peak-changes", Tag: "adjustments", Status: http.StatusCreated,
		Summary: "Create a peak change (峰值变更): the new peak capital and the shareholding that take effect when the peak_change " +
			"process is agreed (launch it with POST /projects/{id}/processes {\"kind\":\"peak_change\",\"subject_id\"}). The peak " +
			"must be locked and differ from the current one; one open change per project (409 peak_change_open).",
		Access: project(editors), Request: adjustment.PeakChangeInput{}, Response: adjustment.PeakChange{},
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			id, err := pathID(c, "id")
			if err != nil {
				return nil, err
			}
			var in adjustment.PeakChangeInput
			if err := bind(c, &in); err != nil {
				return nil, err
			}
			return s.deps.Adjustments.CreatePeakChange(c.Request.Context(), p.Actor(), id, in)
		},
	})
	s.handle(Route{
		Method: http.MethodGet, Path: "/api/v1/projects/:id/peak-changes", Tag: "adjustments",
		Summary: "The project's peak changes, newest first.",
		Access:  project(staff), Response: list[adjustment.PeakChange]{},
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			id, err := pathID(c, "id")
			if err != nil {
				return nil, err
			}
			items, err := s.deps.Adjustments.PeakChanges(c.Request.Context(), id)
			return list[adjustment.PeakChange]{Items: items}, err
		},
	})
	s.handle(Route{
		Method: http.MethodPost, Path: "/api/v1/projects/:id/adjustments", Tag: "adjustments", Status: http.StatusCreated,
		Summary: "Compute the establishment adjustment (立项调整) of an agreed peak change by RULES R5: per tier and partner " +
			"old_principal, new_principal, delta, paid, top_up (补缴) and refund (退款), tier totals, pool_delta and the trace. " +
			"peak_change_id 0 takes the latest agreed change without adjustment.",
		Access: project(editors), Request: adjustment.CreateInput{}, Response: adjustment.Adjustment{},
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			id, err := pathID(c, "id")
			if err != nil {
				return nil, err
			}
			var in adjustment.CreateInput
			if c.Request.ContentLength != 0 {
				if err := bind(c, &in); err != nil {
					return nil, err
				}
			}
			return s.deps.Adjustments.Create(c.Request.Context(), p.Actor(), id, in)
		},
	})
	s.handle(Route{
		Method: http.MethodGet, Path: "/api/v1/projects/:id/adjustments", Tag: "adjustments",
		Summary: "The project's adjustments with their lines, newest first.",
		Access:  project(staff), Response: list[adjustment.Adjustment]{},
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			id, err := pathID(c, "id")
			if err != nil {
				return nil, err
			}
			items, err := s.deps.Adjustments.List(c.Request.Context(), id)
			return list[adjustment.Adjustment]{Items: items}, err
		},
	})
	s.handle(Route{
		Method: http.MethodGet, Path: "/api/v1/adjustments/:id", Tag: "adjustments",
		Summary: "One adjustment with its lines and trace.",
		Access:  Access{Roles: staff}, Response: adjustment.Adjustment{},
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			id, err := s.adjustmentInScope(c, p)
			if err != nil {
				return nil, err
			}
			return s.deps.Adjustments.Get(c.Request.Context(), id)
		},
	})
	s.handle(Route{
		Method: http.MethodPost, Path: "/api/v1/adjustments/:id/submit", Tag: "adjustments",
		Summary: "Submit a draft adjustment for review (version; stale → 409).",
		Access:  Access{Roles: editors}, Request: adjustment.VersionInput{}, Response: adjustment.Adjustment{},
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			id, err := s.adjustmentInScope(c, p)
			if err != nil {
				return nil, err
			}
			var in adjustment.VersionInput
			if err := bind(c, &in); err != nil {
				return nil, err
			}
			return s.deps.Adjustments.Submit(c.Request.Context(), p.Actor(), id, in)
		},
	})
	s.handle(Route{
		Method: http.MethodPost, Path: "/api/v1/adjustments/:id/review", Tag: "adjustments",
		Summary: "Review a submitted adjustment (bizadmin): approve → reviewed (the adjustment process may be launched), " +
			"or return to draft with a note.",
		Access: Access{Roles: []string{org.RoleBizadmin}, LineWrite: true}, Request: adjustment.ReviewInput{}, Response: adjustment.Adjustment{},
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			id, err := s.adjustmentInScope(c, p)
			if err != nil {
				return nil, err
			}
			var in adjustment.ReviewInput
			if err := bind(c, &in); err != nil {
				return nil, err
			}
			return s.deps.Adjustments.Review(c.Request.Context(), p.Actor(), id, in)
		},
	})
	s.handle(Route{
		Method: http.MethodPost, Path: "/api/v1/adjustments/:id/settlements", Tag: "adjustments", Status: http.StatusCreated,
		Summary: "Confirm a top-up received or a refund paid (变更缴款确认) for a partner of an agreed adjustment: one balanced " +
			"ledger transaction (top-up: bank +x / principal −x; refund: principal +x / bank −x). The Idempotency-Key header " +
			"is required, as for payments: the same key with the same request returns the first settlement and posts nothing; with " +
			"another request it is 409 idempotency_key_reused; without it 400 idempotency_key_required. More than outstanding → 422 settlement_over; a refund to a partner " +
			"without a confirmed payout account → 422 payout_account_unconfirmed.",
		Access: Access{Roles: editors, LineWrite: true}, Request: adjustment.SettlementInput{}, Response: adjustment.Settlement{},
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			id, err := s.adjustmentInScope(c, p)
			if err != nil {
				return nil, err
			}
			key, err := idempotencyKey(c)
			if err != nil {
				return nil, err
			}
			var in adjustment.SettlementInput
			if err := bind(c, &in); err != nil {
				return nil, err
			}
			return s.deps.Adjustments.Settle(c.Request.Context(), p.Actor(), id, key, in)
		},
	})
	s.handle(Route{
		Method: http.MethodGet, Path: "/api/v1/adjustments/:id/settlements", Tag: "adjustments",
		Summary: "The adjustment's settlements in order.",
		Access:  Access{Roles: staff}, Response: list[adjustment.Settlement]{},
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			id, err := s.adjustmentInScope(c, p)
			if err != nil {
				return nil, err
			}
			items, err := s.deps.Adjustments.Settlements(c.Request.Context(), id)
			return list[adjustment.Settlement]{Items: items}, err
		},
	})
	s.handle(Route{
		Method: http.MethodPost, Path: "/api/v1/adjustments/:id/settlements/:settlement_id/reversal", Tag: "adjustments",
		Summary: "Reverse (冲销) a mistyped settlement with a reason: the ledger transaction is reversed and the amount is due " +
			"again. A second reversal → 409 settlement_reversed.",
		Access: Access{Roles: editors, LineWrite: true}, Request: adjustment.ReversalInput{}, Response: adjustment.Settlement{},
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			id, err := s.adjustmentInScope(c, p)
			if err != nil {
				return nil, err
			}
			sid, err := pathID(c, "settlement_id")
			if err != nil {
				return nil, err
			}
			var in adjustment.ReversalInput
			if err := bind(c, &in); err != nil {
				return nil, err
			}
			return s.deps.Adjustments.Reverse(c.Request.Context(), p.Actor(), id, sid, in)
		},
	})
	s.handle(Route{
		Method: http.MethodGet, Path: "/api/v1/me/adjustments", Tag: "partners",
		Summary: "The signed-in partner's top-ups (补缴) and refunds (退款) of agreed adjustments, per adjustment: old and new " +
			"principal, top_up, refund and what is settled so far.",
		Response: list[adjustment.MyLine]{},
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			items, err := s.deps.Adjustments.Mine(c.Request.Context(), p.UserID)
			return list[adjustment.MyLine]{Items: items}, err
		},
	})
}

// adjustmentInScope reads the adjustment id of the path: 404 outside the
// caller's scope, as if it did not exist.
func (s *Server) adjustmentInScope(c *gin.Context, p auth.Principal) (int64, error) {
	return s.subjectInScope(c, p, s.deps.Adjustments.ProjectOf, apperr.NotFound("adjustment_not_found", "立项调整不存在"))
}
