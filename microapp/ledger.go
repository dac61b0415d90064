package microapp

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"hehuo/internal/auth"
	"hehuo/internal/ledger"
	"hehuo/internal/org"
)

func (s *Server) ledgerRoutes() {
	s.handle(Route{
		Method: http.MethodGet, Path: "/api/v1/ledger/reconcile", Tag: "ledger",
		Summary: "Check that every ledger transaction balances, stored balances equal the replay of postings, and all balances sum to zero.",
		Access:  Access{Roles: []string{org.RoleSysadmin, org.RoleBizadmin, org.RoleAuditor}}, Response: ledger.Report{},
		Handle: func(c *gin.Context, _ auth.Principal) (any, error) {
			return ledger.Reconcile(c.Request.Context(), s.deps.DB)
		},
	})
}
