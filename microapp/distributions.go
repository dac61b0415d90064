package microapp

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"hehuo/internal/auth"
	"hehuo/internal/distribution"
	"hehuo/internal/org"
)

// distributionRoutes registers the distribution batches (分配, RULES R6–R8):
// 本金分配, 利润分配 n and 清算分配 with their lines, the calculation, save,
// 申请发布审核 and review, and manual entry (解锁编辑 / 退出编辑).
func (s *Server) distributionRoutes() {
	editors := establishmentEditors
	bizadmin := []string{org.RoleBizadmin}
	s.handle(Route{
		Method: http.MethodPost, Path: "/api/v1/projects/:id/distributions", Tag: "distributions", Status: http.StatusCreated,
		Summary: "Open a distribution batch: kind principal (本金分配), profit (利润分配 n) or liquidation (清算分配), with " +
			"distribution_date, record_date, return_ratio (principal, 0 < r ≤ 1), amount (X entered directly) or net_profit and " +
			"profit_ratio (X computed by R7), sales_target_on, collection_target_on, note — any may be filled later. One line per " +
			"partner holding a stake, A and B from the position. One open batch per project (409 distribution_open); a second " +
			"liquidation → 422 liquidation_exists.",
		Access:  Access{Roles: editors, ProjectParam: "id", LineWrite: true},
		Request: distribution.CreateInput{}, Response: distribution.Batch{},
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			id, err := pathID(c, "id")
			if err != nil {
				return nil, err
			}
			var in distribution.CreateInput
			if err := bind(c, &in); err != nil {
				return nil, err
			}
			return s.deps.Distributions.CreateBatch(c.Request.Context(), p.Actor(), id, in)
		},
	})
	s.handle(Route{
		Method: http.MethodGet, Path: "/api/v1/projects/:id/distributions", Tag: "distributions",
		Summary: "The project's distribution batches with their lines, in the order of the stage bar (本金分配, 第n次利润分配, 清算分配).",
		Access:  Access{Roles: staff, ProjectParam: "id"}, Response: list[distribution.Batch]{},
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			id, err := pathID(c, "id")
			if err != nil {
				return nil, err
			}
			items, err := s.deps.Distributions.List(c.Request.Context(), id)
			return list[distribution.Batch]{Items: items}, err
		},
	})
	s.handle(Route{
		Method: http.MethodGet, Path: "/api/v1/distributions/:id", Tag: "distributions",
		Summary: "One distribution batch with its lines (A–F, manual marks, trace per figure, 分配合计 across the project's batches) and totals.",
		Access:  Access{Roles: staff}, Response: distribution.Batch{},
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			id, err := s.distributionInScope(c, p)
			if err != nil {
				return nil, err
			}
			return s.deps.Distributions.Get(c.Request.Context(), id)
		},
	})
	s.handle(Route{
		Method: http.MethodPatch, Path: "/api/v1/distributions/:id", Tag: "distributions",
		Summary: "Change a batch's inputs (version; absent fields unchanged, \"\" clears one) while it is draft, calculated, saved " +
			"or rejected; the batch goes back to draft. Otherwise 422 distribution_locked; stale version → 409.",
		Access: Access{Roles: editors, LineWrite: true}, Request: distribution.UpdateInput{}, Response: distribution.Batch{},
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			id, err := s.distributionInScope(c, p)
			if err != nil {
				return nil, err
			}
			var in distribution.UpdateInput
			if err := bind(c, &in); err != nil {
				return nil, err
			}
			return s.deps.Distributions.UpdateBatch(c.Request.Context(), p.Actor(), id, in)
		},
	})
	s.handle(Route{
		Method: http.MethodDelete, Path: "/api/v1/distributions/:id", Tag: "distributions",
		Summary: "Delete the current batch (删除当前批次) while it is draft; otherwise 422 distribution_not_draft.",
		Access:  Access{Roles: editors, LineWrite: true},
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			id, err := s.distributionInScope(c, p)
			if err != nil {
				return nil, err
			}
			return nil, s.deps.Distributions.DeleteBatch(c.Request.Context(), p.Actor(), id)
		},
	})
	s.handle(Route{
		Method: http.MethodPatch, Path: "/api/v1/distributions/:id/lines/:partner_id", Tag: "distributions",
		Summary: "Edit a line (version of the batch): c (其它, any sign) with c_reason (required when c ≠ 0: 422 c_reason_required); " +
			"d, e, f typed by hand only while the batch is unlocked (422 distribution_locked), marked manual with who and when. " +
			"The batch goes back to draft.",
		Access: Access{Roles: editors, LineWrite: true}, Request: distribution.LineInput{}, Response: distribution.Batch{},
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			id, err := s.distributionInScope(c, p)
			if err != nil {
				return nil, err
			}
			partnerID, err := pathID(c, "partner_id")
			if err != nil {
				return nil, err
			}
			var in distribution.LineInput
			if err := bind(c, &in); err != nil {
				return nil, err
			}
			return s.deps.Distributions.UpdateLine(c.Request.Context(), p.Actor(), id, partnerID, in)
		},
	})
	s.handle(Route{
		Method: http.MethodPost, Path: "/api/v1/distributions/:id/calculate", Tag: "distributions",
		Summary: "分配测算: compute the batch by RULES R6 (D = round(A × ratio, fen) + B, E = D + C) and R7 (X split pro rata to " +
			"principal by largest remainder) with a trace per figure; manual lines keep their amounts beside the computed ones. " +
			"Blank inputs → 422 inputs_incomplete naming each (details: [{field, label}]); a negative E → 422 line_negative.",
		Access: Access{Roles: editors, LineWrite: true}, Request: distribution.CalculateInput{}, Response: distribution.Batch{},
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			id, err := s.distributionInScope(c, p)
			if err != nil {
				return nil, err
			}
			var in distribution.CalculateInput
			if c.Request.ContentLength != 0 {
				if err := bind(c, &in); err != nil {
					return nil, err
				}
			}
			return s.deps.Distributions.Calculate(c.Request.Context(), p.Actor(), id, in)
		},
	})
	version := func(path, summary string, roles []string, call func(*gin.Context, auth.Principal, int64, distribution.VersionInput) (distribution.Batch, error)) {
		s.handle(Route{
			Method: http.MethodPost, Path: path, Tag: "distributions", Summary: summary,
			Access: Access{Roles: roles, LineWrite: true}, Request: distribution.VersionInput{}, Response: distribution.Batch{},
			Handle: func(c *gin.Context, p auth.Principal) (any, error) {
				id, err := s.distributionInScope(c, p)
				if err != nil {
					return nil, err
				}
				var in distribution.VersionInput
				if err := bind(c, &in); err != nil {
					return nil, err
				}
				return call(c, p, id, in)
			},
		})
	}
	version("/api/v1/distributions/:id/save", "保存: keep exactly the last calculation (version). Only a calculated batch "+
		"(422 calculation_missing before one); figures that moved since (a payment…) → 409 calculation_stale; two saves of one "+
		"version → 409 stale_version.", editors,
		func(c *gin.Context, p auth.Principal, id int64, in distribution.VersionInput) (distribution.Batch, error) {
			return s.deps.Distributions.Save(c.Request.Context(), p.Actor(), id, in)
		})
	version("/api/v1/distributions/:id/submit", "申请发布审核 (version): only a saved batch (422 calculation_unsaved), "+
		"unchanged since it was saved (409 calculation_stale), every payee with an amount holding a confirmed payout account "+
		"(422 payout_account_missing naming them).", editors,
		func(c *gin.Context, p auth.Principal, id int64, in distribution.VersionInput) (distribution.Batch, error) {
			return s.deps.Distributions.Submit(c.Request.Context(), p.Actor(), id, in)
		})
	version("/api/v1/distributions/:id/unlock", "解锁编辑 (business admin, version): the accountant may type amounts by hand (RULES R8).",
		bizadmin, func(c *gin.Context, p auth.Principal, id int64, in distribution.VersionInput) (distribution.Batch, error) {
			return s.deps.Distributions.Unlock(c.Request.Context(), p.Actor(), id, in)
		})
	version("/api/v1/distributions/:id/lock", "退出编辑 (version): end manual entry; the amounts typed stay, marked manual.",
		editors, func(c *gin.Context, p auth.Principal, id int64, in distribution.VersionInput) (distribution.Batch, error) {
			return s.deps.Distributions.Lock(c.Request.Context(), p.Actor(), id, in)
		})
	s.handle(Route{
		Method: http.MethodPost, Path: "/api/v1/distributions/:id/review", Tag: "distributions",
		Summary: "Review a submitted batch (business admin; {approve, reason, version}): approve → reviewed, the batch's process " +
			"may be launched; refuse → rejected with the reason (required). Never one's own submission (403 own_submission).",
		Access: Access{Roles: bizadmin, LineWrite: true}, Request: distribution.ReviewInput{}, Response: distribution.Batch{},
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			id, err := s.distributionInScope(c, p)
			if err != nil {
				return nil, err
			}
			var in distribution.ReviewInput
			if err := bind(c, &in); err != nil {
				return nil, err
			}
			return s.deps.Distributions.Review(c.Request.Context(), p.Actor(), id, in)
		},
	})
}

// distributionInScope reads the batch id of the path: 404 outside the
// caller's scope, as if it did not exist.
func (s *Server) distributionInScope(c *gin.Context, p auth.Principal) (int64, error) {
	return s.subjectInScope(c, p, s.deps.Distributions.ProjectOf, distribution.ErrNotFound)
}
