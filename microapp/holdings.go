package microapp

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"hehuo/internal/auth"
	"hehuo/internal/money"
)

// holdingJSON is one of the partner's stakes (我的跟投) as the H5 home shows it.
type holdingJSON struct {
	ProjectID   int64  `json:"project_id"`
	ProjectName string `json:"project_name"`
	// Principal is the principal subscribed: allocated in approved rounds (认缴本金).
	Principal money.Amount `json:"principal"`
	// Paid is the principal paid in (已缴).
	Paid money.Amount `json:"paid"`
	// Returned is the principal paid back (已返还本金).
	Returned money.Amount `json:"returned"`
	// ProfitReceived is the profit paid out (已分配收益).
	ProfitReceived money.Amount `json:"profit_received"`
	// Transferred is the principal the platform company took over at the
	// partner's exit (已转让); "0.00" while the partner holds the stake.
	Transferred money.Amount `json:"transferred"`
}

// holdingRoutes registers the signed-in partner's own stakes.
func (s *Server) holdingRoutes() {
	s.handle(Route{
		Method: http.MethodGet, Path: "/api/v1/me/holdings", Tag: "partners",
		Summary:  "The signed-in partner's stakes per project (我的跟投): principal subscribed, paid, returned, profit received and transferred to the platform company at an exit (已转让).",
		Response: list[holdingJSON]{},
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			hs, err := s.deps.Holdings.ForUser(c.Request.Context(), p.UserID)
			if err != nil {
				return nil, err
			}
			out := list[holdingJSON]{Items: make([]holdingJSON, 0, len(hs))}
			for _, h := range hs {
				out.Items = append(out.Items, holdingJSON{
					ProjectID: h.ProjectID, ProjectName: h.ProjectName,
					Principal: money.AmountOf(h.Principal), Paid: money.AmountOf(h.Paid),
					Returned: money.AmountOf(h.Returned), ProfitReceived: money.AmountOf(h.ProfitReceived),
					Transferred: money.AmountOf(h.Transferred),
				})
			}
			return out, nil
		},
	})
}
