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
		Summary: "Sign in with the password of a bootstrap account (admin, hhadmin). Per client address: 20 attempts a minute " +
			"(429 too_many_requests with Retry-After); five failures in a row lock the account for that address for 15 minutes (423 account_locked); " +
			"50 failures from all addresses within an hour refuse it everywhere for 1 s, 2 s, 4 s … up to 5 minutes (423 account_backoff). " +
			"A username over 64 characters is 400 username_too_long.",
		Access: Access{Public: true}, Request: passwordSignIn{}, Response: signedIn{},
		Handle: func(c *gin.Context, _ auth.Principal) (any, error) {
			var in passwordSignIn
			if err := bind(c, &in); err != nil {
				return nil, err
			}
			token, u, err := s.deps.Auth.SignInPassword(c.Request.Context(), in.Username, in.Password, c.ClientIP())
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

// lockRoutes let the sysadmin see and lift the lock-out of password accounts.
func (s *Server) lockRoutes() {
	s.handle(Route{
		Method: http.MethodGet, Path: "/api/v1/auth/locks", Tag: "users",
		Summary: "Password accounts locked out now: for how many client addresses, and the seconds left of a backoff that refuses them everywhere.",
		Access:  Access{Roles: []string{org.RoleSysadmin}}, Response: list[auth.LockState]{},
		Handle: func(c *gin.Context, _ auth.Principal) (any, error) {
			locks, err := s.deps.Auth.Locks(c.Request.Context())
			return list[auth.LockState]{locks}, err
		},
	})
	s.handle(Route{
		Method: http.MethodPost, Path: "/api/v1/users/:id/unlock", Tag: "users",
		Summary: "Lift every lock-out of a user's password sign-in (all addresses and the backoff); audited as user.unlock. Returns the state before.",
		Access:  Access{Roles: []string{org.RoleSysadmin}}, Response: auth.LockState{},
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			id, err := pathID(c, "id")
			if err != nil {
				return nil, err
			}
			return s.deps.Auth.Unlock(c.Request.Context(), p.Actor(), id)
		},
	})
}

func (s *Server) setSessionCookie(c *gin.Context, token string) {
	c.SetSameSite(http.SameSiteLaxMode)
	c.SetCookie(sessionCookie, token, int(s.deps.Auth.SessionTTL().Seconds()), "/", "", s.deps.Config.HTTP.SecureCookies, true)
}
