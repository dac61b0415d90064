package microapp

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"hehuo/internal/auth"
	"hehuo/internal/payout"
)

// payoutConfirmJSON confirms the payout account as it is at version.
type payoutConfirmJSON struct {
	Version int `json:"version"`
}

// payoutRoutes registers the signed-in partner's own payout account (我的分配账户).
// There is no staff route that reveals a number: screens show it masked.
func (s *Server) payoutRoutes() {
	s.handle(Route{
		Method: http.MethodGet, Path: "/api/v1/me/payout-account", Tag: "partners",
		Summary:  "The signed-in partner's payout account (分配账户), number masked; status none, unconfirmed or confirmed.",
		Response: payout.Account{},
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			return s.deps.Payout.Get(c.Request.Context(), p.UserID)
		},
	})
	s.handle(Route{
		Method: http.MethodPut, Path: "/api/v1/me/payout-account", Tag: "partners",
		Summary: "Enter or change the payout account: bank, branch, holder (must be the partner), number (12–30 digits). " +
			"Stored encrypted; a change needs confirming again and sends a confirmation notice. version 0 for the first account; stale → 409.",
		Request: payout.Input{}, Response: payout.Account{},
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			var in payout.Input
			if err := bind(c, &in); err != nil {
				return nil, err
			}
			return s.deps.Payout.Save(c.Request.Context(), p.Actor(), p.UserID, in)
		},
	})
	s.handle(Route{
		Method: http.MethodPost, Path: "/api/v1/me/payout-account/confirm", Tag: "partners",
		Summary: "Confirm the payout account after its confirmation notice; refunds and distributions are paid only to a confirmed account.",
		Request: payoutConfirmJSON{}, Response: payout.Account{},
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			var in payoutConfirmJSON
			if err := bind(c, &in); err != nil {
				return nil, err
			}
			return s.deps.Payout.Confirm(c.Request.Context(), p.Actor(), p.UserID, in.Version)
		},
	})
}
