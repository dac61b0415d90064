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

// idempotencyKey reads the Idempotency-Key header of a request that posts
// money (缴款确认, 变更缴款确认) through ledger.ClientKey: one reader for every
// such route, so a missing or oversized key is the same 400 everywhere and
// no route invents a key for its client.
func idempotencyKey(c *gin.Context) (string, error) {
	return ledger.ClientKey(c.GetHeader("Idempotency-Key"))
}
