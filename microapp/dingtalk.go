package microapp

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/redis/go-redis/v9"

	"hehuo/internal/apperr"
	"hehuo/internal/auth"
	"hehuo/internal/dingtalk"
	"hehuo/internal/directory"
	"hehuo/internal/org"
)

// Errors of DingTalk sign-in.
var (
	errAuthCodeRequired = apperr.Invalid("auth_code_required", "auth_code", "缺少钉钉授权码")
	errAuthCodeInvalid  = apperr.Unauthenticated("auth_code_invalid", "钉钉授权码无效或已过期，请重新打开应用")
	errQRStateInvalid   = apperr.Unauthenticated("state_invalid", "登录请求已失效，请重新扫码")
	errNotConfigured    = apperr.Unavailable("dingtalk_not_configured", "未配置钉钉应用，无法使用钉钉登录")
	errURLInvalid       = apperr.Invalid("url_invalid", "url", "页面地址须为本系统的完整 http(s) 地址")
)

// qrStateTTL is how long a PC QR sign-in may take, from the button to the callback.
const qrStateTTL = 10 * time.Minute

// The QR sign-in's state also lives in a cookie of the browser that started it.
const (
	qrStateCookie = "hehuo_qr_state"
	qrCookiePath  = "/api/v1/auth/dingtalk"
)

type dingTalkSignIn struct {
	AuthCode string `json:"auth_code"`
}

// dingTalkApp is what the H5 app needs before it can ask DingTalk for an auth
// code, and whether it may offer the demo's password form outside DingTalk.
type dingTalkApp struct {
	CorpID   string `json:"corpId"`
	ClientID string `json:"clientId"`
	AgentID  string `json:"agentId"`
	// Demo is on only under `hehuo demo`: a production server never offers
	// the H5 password form.
	Demo bool `json:"demo"`
}

func (s *Server) dingtalkRoutes() {
	s.handle(Route{
		Method: http.MethodPost, Path: "/api/v1/auth/dingtalk", Tag: "auth",
		Summary: "Sign in inside DingTalk (免登) with an auth code from dd.requestAuthCode; the DingTalk user must be a Hehuo user. " +
			"More than 20 unsuccessful DingTalk sign-ins a minute from one client address are refused before DingTalk is called (429 too_many_requests with Retry-After).",
		Access: Access{Public: true}, Request: dingTalkSignIn{}, Response: signedIn{},
		Handle: func(c *gin.Context, _ auth.Principal) (any, error) {
			var in dingTalkSignIn
			if err := bind(c, &in); err != nil {
				return nil, err
			}
			code := strings.TrimSpace(in.AuthCode)
			if code == "" {
				return nil, errAuthCodeRequired
			}
			if len(code) > 128 {
				// DingTalk's codes are short; a long one is not worth a call.
				return nil, errAuthCodeInvalid
			}
			client, err := s.dingTalk()
			if err != nil {
				return nil, err
			}
			// Counted before DingTalk is called: made-up codes spend the org's API quota.
			attempt, err := s.deps.Auth.BeginDingTalkSignIn(c.Request.Context(), c.ClientIP())
			if err != nil {
				return nil, err
			}
			info, err := client.UserByAuthCode(c.Request.Context(), code)
			if dingtalk.IsInvalidAuthCode(err) {
				return nil, errAuthCodeInvalid
			}
			if err != nil {
				return nil, dingTalkDown(err)
			}
			token, u, err := s.signInDingTalkUser(c.Request.Context(), info.UserID, "auth_code")
			if err != nil {
				return nil, err
			}
			attempt.Succeeded(c.Request.Context())
			s.setSessionCookie(c, token)
			return signedIn{Token: token, User: u}, nil
		},
	})
	s.handle(Route{
		Method: http.MethodGet, Path: "/api/v1/dingtalk/app", Tag: "dingtalk",
		Summary: "The DingTalk app's public identifiers, for dd.requestAuthCode, and whether this is a demo server.",
		Access:  Access{Public: true}, Response: dingTalkApp{},
		Handle: func(c *gin.Context, _ auth.Principal) (any, error) {
			cfg := s.deps.Config.DingTalk
			return dingTalkApp{CorpID: cfg.CorpID, ClientID: cfg.AppKey, AgentID: cfg.AgentID, Demo: s.deps.Config.Demo}, nil
		},
	})
	s.handle(Route{
		Method: http.MethodGet, Path: "/api/v1/auth/dingtalk/qr", Tag: "auth",
		Summary: "Start a PC sign-in by DingTalk QR code: redirects (302) to DingTalk's sign-in page; next is where to go afterwards.",
		Access:  Access{Public: true}, Raw: true, Status: http.StatusFound,
		Query: []Param{{Name: "next", Type: "string", Description: "a path of this site to open after sign-in"}},
		Handle: func(c *gin.Context, _ auth.Principal) (any, error) {
			client, err := s.dingTalk()
			if err != nil {
				c.Redirect(http.StatusFound, signInPage(apperr.As(err).Code))
				return nil, nil
			}
			state, err := s.newQRState(c.Request.Context(), safeNext(c.Query("next")))
			if err != nil {
				return nil, err
			}
			// The state is also kept in this browser, so a callback URL made in
			// another browser cannot sign this one in (login CSRF).
			c.SetSameSite(http.SameSiteLaxMode)
			c.SetCookie(qrStateCookie, state, int(qrStateTTL.Seconds()), qrCookiePath, "", s.deps.Config.HTTP.SecureCookies, true)
			callback := s.publicURL() + "/api/v1/auth/dingtalk/callback"
			c.Redirect(http.StatusFound, client.LoginURL(callback, state))
			return nil, nil
		},
	})
	s.handle(Route{
		Method: http.MethodGet, Path: "/api/v1/auth/dingtalk/callback", Tag: "auth",
		Summary: "Where DingTalk sends the browser after a QR sign-in: starts the session and redirects (302) to next, or to the sign-in page with ?error=<code>.",
		Access:  Access{Public: true}, Raw: true, Status: http.StatusFound,
		Query: []Param{
			{Name: "authCode", Type: "string", Description: "DingTalk's one-time code"},
			{Name: "state", Type: "string", Description: "the state issued by /auth/dingtalk/qr"},
		},
		Handle: func(c *gin.Context, _ auth.Principal) (any, error) {
			state := c.Query("state")
			browserState, _ := c.Cookie(qrStateCookie)
			c.SetSameSite(http.SameSiteLaxMode)
			c.SetCookie(qrStateCookie, "", -1, qrCookiePath, "", s.deps.Config.HTTP.SecureCookies, true)
			next, token, err := s.qrCallback(c.Request.Context(), c.ClientIP(), state, browserState == state, c.Query("authCode"), c.Query("error"))
			if err != nil {
				code := "internal"
				e := shown(err)
				if e != nil {
					code = e.Code
				}
				if e == nil || e.Kind == apperr.KindUnavailable {
					s.log.ErrorContext(c.Request.Context(), "dingtalk qr sign-in failed", "code", code, "err", err, "request_id", requestID(c))
				}
				c.Redirect(http.StatusFound, signInPage(code))
				return nil, nil
			}
			s.setSessionCookie(c, token)
			c.Redirect(http.StatusFound, next)
			return nil, nil
		},
	})
	s.handle(Route{
		Method: http.MethodGet, Path: "/api/v1/dingtalk/jsapi-config", Tag: "dingtalk",
		Summary:  "The signed dd.config for a page of this site (url: the page's location.href).",
		Query:    []Param{{Name: "url", Type: "string", Description: "the page's absolute URL, on this site's public host"}},
		Response: dingtalk.JSAPIConfig{},
		Handle: func(c *gin.Context, _ auth.Principal) (any, error) {
			page, err := s.ownPageURL(c.Query("url"))
			if err != nil {
				return nil, err
			}
			client, err := s.dingTalk()
			if err != nil {
				return nil, err
			}
			cfg, err := client.JSAPIConfig(c.Request.Context(), page)
			if err != nil {
				return nil, dingTalkDown(err)
			}
			return cfg, nil
		},
	})
	s.handle(Route{
		Method: http.MethodPost, Path: "/api/v1/users/sync", Tag: "users",
		Summary: "Sync users from the DingTalk address book (从钉钉同步): create new, update changed, disable inactive and departed users.",
		Access:  Access{Roles: []string{org.RoleSysadmin}}, Response: directory.Report{},
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			client, err := s.dingTalk()
			if err != nil {
				return nil, err
			}
			return directory.NewService(s.deps.DB, client).Sync(c.Request.Context(), p.Actor())
		},
	})
}

// dingTalk returns the DingTalk client, or a 503 when no app is configured.
func (s *Server) dingTalk() (*dingtalk.Client, error) {
	if s.deps.DingTalk == nil || s.deps.Config.DingTalk.AppKey == "" {
		return nil, errNotConfigured
	}
	return s.deps.DingTalk, nil
}

// dingTalkDown reports a failed DingTalk call as 503 dingtalk_unavailable
// (or service_unavailable when it was our Redis, holding DingTalk's tokens,
// that failed); the cause is logged, not shown.
func dingTalkDown(err error) error {
	return directory.Unavailable(err)
}

// signInDingTalkUser starts a session for the Hehuo user behind a DingTalk
// userid. A user Hehuo does not know, or whose account is not enabled, gets
// the same 403, so the answer does not reveal which.
func (s *Server) signInDingTalkUser(ctx context.Context, userid, method string) (string, org.User, error) {
	u, err := s.deps.Org.UserByDingTalkID(ctx, userid)
	if err != nil {
		if apperr.KindOf(err) == apperr.KindForbidden {
			s.log.InfoContext(ctx, "dingtalk sign-in refused", "dingtalk_userid", userid, "method", method, "code", apperr.As(err).Code)
		}
		return "", org.User{}, err
	}
	token, u, err := s.deps.Auth.SignInUser(ctx, u.ID)
	if errors.Is(err, auth.ErrUserInactive) {
		return "", org.User{}, org.ErrUserNotEnabled
	}
	if err != nil {
		return "", org.User{}, err
	}
	// Like password sign-in, a sign-in changes no data and writes no audit
	// entry; the log keeps who signed in and how.
	s.log.InfoContext(ctx, "signed in with dingtalk", "user_id", u.ID, "method", method)
	return token, u, nil
}

func (s *Server) qrStateKey(state string) string { return s.deps.Cache.Key("dingtalk-qr-state", state) }

// newQRState issues a random state for one QR sign-in and remembers where to go after it.
func (s *Server) newQRState(ctx context.Context, next string) (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	state := hex.EncodeToString(b)
	if err := s.deps.Cache.Set(ctx, s.qrStateKey(state), next, qrStateTTL).Err(); err != nil {
		return "", err
	}
	return state, nil
}

// qrCallback finishes a QR sign-in: the state is used up whatever happens
// next, so a callback URL cannot be replayed; sameBrowser says whether the
// browser holds the state cookie /qr gave it.
func (s *Server) qrCallback(ctx context.Context, addr, state string, sameBrowser bool, code, dtError string) (next, token string, err error) {
	if state == "" || len(state) > 64 {
		return "", "", errQRStateInvalid
	}
	next, err = s.deps.Cache.GetDel(ctx, s.qrStateKey(state)).Result()
	if errors.Is(err, redis.Nil) {
		return "", "", errQRStateInvalid
	}
	if err != nil {
		return "", "", err
	}
	if !sameBrowser {
		return "", "", errQRStateInvalid
	}
	if dtError != "" || code == "" {
		return "", "", errAuthCodeInvalid
	}
	client, err := s.dingTalk()
	if err != nil {
		return "", "", err
	}
	// Counted before DingTalk is called, with the auth-code sign-ins of the same address.
	attempt, err := s.deps.Auth.BeginDingTalkSignIn(ctx, addr)
	if err != nil {
		return "", "", err
	}
	userToken, err := client.UserAccessToken(ctx, code)
	var de *dingtalk.Error
	switch {
	case errors.As(err, &de) && de.Code == "corpMismatch":
		return "", "", org.ErrUserNotEnabled
	case dingtalk.IsInvalidAuthCode(err) || (errors.As(err, &de) && de.HTTPStatus == http.StatusBadRequest):
		// The new family answers a bad or used code with a 400 whose code DingTalk does not document.
		return "", "", errAuthCodeInvalid
	case err != nil:
		return "", "", dingTalkDown(err)
	}
	me, err := client.Me(ctx, userToken)
	if err != nil {
		return "", "", dingTalkDown(err)
	}
	userid, err := client.UserIDByUnionID(ctx, me.UnionID)
	if dingtalk.IsUserNotFound(err) {
		return "", "", org.ErrUserNotEnabled
	}
	if err != nil {
		return "", "", dingTalkDown(err)
	}
	token, _, err = s.signInDingTalkUser(ctx, userid, "qr")
	if err != nil {
		return "", "", err
	}
	attempt.Succeeded(ctx)
	return next, token, nil
}

// safeNext keeps a post-sign-in redirect on this site: a relative path,
// never "//host" or "/\host", which browsers treat as another site, and
// without control characters, which browsers drop ("/\t/host" is "//host").
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") ||
		strings.IndexFunc(next, func(r rune) bool { return r < 0x20 || r == 0x7f }) >= 0 {
		return "/"
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" {
		return "/"
	}
	return next
}

// signInPage is the console's sign-in page showing the error code in Chinese.
func signInPage(code string) string {
	return "/login?error=" + url.QueryEscape(code)
}

// publicURL is how browsers reach us, without a trailing slash; config.Load
// defaults it to the listen address, which a bare config.Default() lacks.
func (s *Server) publicURL() string {
	if u := s.deps.Config.HTTP.PublicURL; u != "" {
		return strings.TrimRight(u, "/")
	}
	return "http://" + s.deps.Config.HTTP.Addr
}

// ownPageURL checks that raw is an absolute http(s) URL on our public host
// (DingTalk signs exactly that URL) and cuts off any #fragment.
func (s *Server) ownPageURL(raw string) (string, error) {
	raw = strings.TrimSpace(raw)
	if i := strings.IndexByte(raw, '#'); i >= 0 {
		raw = raw[:i]
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return "", errURLInvalid
	}
	pub, err := url.Parse(s.publicURL())
	if err != nil || !strings.EqualFold(u.Host, pub.Host) {
		return "", errURLInvalid
	}
	return raw, nil
}
