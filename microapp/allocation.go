package microapp

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"

	"github.com/gin-gonic/gin"

	"hehuo/internal/auth"
	"hehuo/internal/org"
	"hehuo/internal/round"
)

// allocationRoutes registers allocation (认购明细测算) and submission.
func (s *Server) allocationRoutes() {
	// Running the calculation, editing lines and submitting are the
	// accountant's (DESIGN §1); every staff role may read the result.
	accountant := []string{org.RoleAccountant}
	s.handle(Route{
		Method: http.MethodPost, Path: "/api/v1/rounds/:id/allocation", Tag: "rounds",
		Summary: "Compute the allocation (认购明细测算, RULES R3) of every tier and store it, replacing the previous one and its edits. " +
			"On an open round it is a preview (preview: true, the round stays open, it goes stale on the next subscription change); " +
			"on a closed round the round becomes calculated.",
		Access: Access{Roles: accountant}, Response: round.Allocation{},
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			id, err := s.roundInScope(c, p)
			if err != nil {
				return nil, err
			}
			return s.deps.Rounds.Allocate(c.Request.Context(), p.Actor(), id)
		},
	})
	s.handle(Route{
		Method: http.MethodGet, Path: "/api/v1/rounds/:id/allocation", Tag: "rounds",
		Summary: "The round's current allocation; stale is true when subscriptions changed after it was computed.",
		Access:  Access{Roles: staff}, Response: round.Allocation{},
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			id, err := s.roundInScope(c, p)
			if err != nil {
				return nil, err
			}
			return s.deps.Rounds.GetAllocation(c.Request.Context(), id)
		},
	})
	s.handle(Route{
		Method: http.MethodPatch, Path: "/api/v1/rounds/:id/allocation/lines/:partner_id", Tag: "rounds",
		Summary: "Edit one line (R3): whole yuan, 0 ≤ allocated ≤ min(partner's max, per-person cap), reason required; " +
			"the line is marked edited. Tiers may be left unbalanced until submit. Nobody edits their own line.",
		Access: Access{Roles: accountant, LineWrite: true}, Request: round.LineEdit{}, Response: round.Allocation{},
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			id, err := s.roundInScope(c, p)
			if err != nil {
				return nil, err
			}
			partnerID, err := pathID(c, "partner_id")
			if err != nil {
				return nil, err
			}
			var in round.LineEdit
			if err := bind(c, &in); err != nil {
				return nil, err
			}
			return s.deps.Rounds.EditLine(c.Request.Context(), p.Actor(), id, partnerID, in)
		},
	})
	s.handle(Route{
		Method: http.MethodPost, Path: "/api/v1/rounds/:id/submit", Tag: "rounds",
		Summary: "Submit the round for review (送审): it must be closed and calculated, the allocation fresh and every tier balanced (Σ allocated ≤ pool).",
		Access:  Access{Roles: accountant}, Response: round.Round{},
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			id, err := s.roundInScope(c, p)
			if err != nil {
				return nil, err
			}
			return s.deps.Rounds.Submit(c.Request.Context(), p.Actor(), id)
		},
	})
	s.handle(Route{
		Method: http.MethodGet, Path: "/api/v1/rounds/:id/allocation.xlsx", Tag: "rounds",
		Summary: "The subscription detail (认购明细) as .xlsx: the lines, the tiers and the calculation's trace.",
		Access:  Access{Roles: staff}, Raw: true,
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			id, err := s.roundInScope(c, p)
			if err != nil {
				return nil, err
			}
			var buf bytes.Buffer
			name, err := s.deps.Rounds.AllocationXLSX(c.Request.Context(), id, &buf)
			if err != nil {
				return nil, err
			}
			c.Header("Content-Disposition", fmt.Sprintf(`attachment; filename*=UTF-8''%s`, url.PathEscape(name)))
			c.Data(http.StatusOK, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", buf.Bytes())
			return nil, nil
		},
	})
}
