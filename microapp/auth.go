package microapp

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"hehuo/internal/auth"
	"hehuo/internal/org"
)

type passwordSignIn struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

type signedIn struct {
	Token string   `json:"token"`
	User  org.User `json:"user"`
}

func (s *Server) authRoutes() {
	s.handle(Route{
		Method: http.MethodPost, Path: "/api/v1/auth/password", Tag: "auth",
		Summary: "Sign in with the password of a bootstrap account (admin, hhadmin); five failures lock it for 15 minutes.",
		Access:  Access{Public: true}, Request: passwordSignIn{}, Response: signedIn{},
		Handle: func(c *gin.Context, _ auth.Principal) (any, error) {
			var in passwordSignIn
			if err := bind(c, &in); err != nil {
				return nil, err
			}
			token, u, err := s.deps.Auth.SignInPassword(c.Request.Context(), in.Username, in.Password)
			if err != nil {
				return nil, err
			}
			s.setSessionCookie(c, token)
			return signedIn{Token: token, User: u}, nil
		},
	})
	s.handle(Route{
		Method: http.MethodPost, Path: "/api/v1/auth/logout", Tag: "auth",
		Summary: "End the current session.", Access: Access{Public: true},
		Handle: func(c *gin.Context, _ auth.Principal) (any, error) {
			if token := bearer(c); token != "" {
				if err := s.deps.Auth.SignOut(c.Request.Context(), token); err != nil {
					return nil, err
				}
			}
			c.SetSameSite(http.SameSiteLaxMode)
			c.SetCookie(sessionCookie, "", -1, "/", "", s.deps.Config.HTTP.SecureCookies, true)
			return nil, nil
		},
	})
	s.handle(Route{
		Method: http.MethodGet, Path: "/api/v1/me", Tag: "auth",
		Summary: "The signed-in user with their roles.", Response: org.User{},
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			return s.deps.Org.User(c.Request.Context(), p.UserID)
		},
	})
}

func (s *Server) setSessionCookie(c *gin.Context, token string) {
	c.SetSameSite(http.SameSiteLaxMode)
	c.SetCookie(sessionCookie, token, int(s.deps.Auth.SessionTTL().Seconds()), "/", "", s.deps.Config.HTTP.SecureCookies, true)
}
