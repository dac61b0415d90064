package microapp

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"hehuo/internal/auth"
	"hehuo/internal/leaver"
)

// exitCandidateRoutes registers the exits to start (待发起退出): users a
// DingTalk sync disabled while they still held principal.
func (s *Server) exitCandidateRoutes() {
	s.handle(Route{
		Method: http.MethodGet, Path: "/api/v1/exit-candidates", Tag: "exits",
		Summary: "Exits to start (待发起退出): users the DingTalk sync disabled (they left the company) who still hold principal " +
			"in a project of the caller's scope, newest first, each with those projects and the principal still held " +
			"(from internal/position). An accountant sees a candidate when one of the projects is within their grant.",
		Access: Access{Roles: staff}, Response: list[leaver.Candidate]{},
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			sc, err := s.deps.Auth.Scope(c.Request.Context(), p)
			if err != nil {
				return nil, err
			}
			items, err := leaver.NewService(s.deps.DB).List(c.Request.Context(), sc.All, sc.Contains)
			return list[leaver.Candidate]{items}, err
		},
	})
}
