package dtsim

import (
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"
)

// userToken is a personal (OAuth) access token of one user.
type userToken struct {
	userID string
	exp    time.Time
}

// writeOld answers in the old family's shape: always HTTP 200, errcode and
// errmsg merged with the fields of extra.
func writeOld(w http.ResponseWriter, code int, msg string, extra map[string]any) {
	body := map[string]any{"errcode": code, "errmsg": msg}
	if code == 0 {
		body["request_id"] = newID()[:12]
	}
	for k, v := range extra {
		body[k] = v
	}
	writeJSON(w, http.StatusOK, body)
}

// writeNewErr answers in the new family's error shape.
func writeNewErr(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, map[string]any{"code": code, "message": msg, "requestid": newID()[:16]})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// decodeOld reads an old-family JSON body; false means the answer was written.
func decodeOld(w http.ResponseWriter, r *http.Request, dst any) bool {
	b, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err := json.Unmarshal(b, dst); err != nil {
		writeOld(w, 40035, "不合法的参数", nil)
		return false
	}
	return true
}

// decodeNew reads a new-family body, which must be application/json
// (DingTalk answers a form body with 400 "body is mandatory").
func decodeNew(w http.ResponseWriter, r *http.Request, dst any) bool {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "application/json" {
		writeNewErr(w, http.StatusBadRequest, "MissingBody", "body is mandatory")
		return false
	}
	b, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err := json.Unmarshal(b, dst); err != nil {
		writeNewErr(w, http.StatusBadRequest, "InvalidParameter", "请求体不是合法的JSON")
		return false
	}
	return true
}

// issueAppToken returns the app token: the same one while it is valid (its
// life is extended, as DingTalk does), a new one after it expired.
func (s *Sim) issueAppToken() (string, time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if s.appToken == "" || !now.Before(s.appTokenExp) {
		if s.appToken != "" {
			s.expiredToken[s.appToken] = true
		}
		s.appToken = "simtok-" + newID()
	}
	s.appTokenExp = now.Add(s.cfg.TokenTTL)
	return s.appToken, s.cfg.TokenTTL
}

// ExpireTokens makes every issued access token (app and user) invalid; the
// next call with one gets 40014 (old) or HTTP 401 InvalidAuthentication (new).
func (s *Sim) ExpireTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.appToken != "" {
		s.revoked[s.appToken] = true
	}
	s.appToken = ""
	for t := range s.userTokens {
		s.revoked[t] = true
	}
	s.userTokens = map[string]userToken{}
	s.jsapiTicket = ""
}

// tokenState classifies an app token: 0 valid, 40014 unknown or revoked, 42001 expired.
func (s *Sim) tokenState(tok string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if tok == "" || tok != s.appToken {
		if s.expiredToken[tok] {
			return 42001
		}
		return 40014
	}
	if !s.now().Before(s.appTokenExp) {
		return 42001
	}
	return 0
}

// oldAuth checks the access_token query parameter of an old-family call.
func (s *Sim) oldAuth(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		switch s.tokenState(r.URL.Query().Get("access_token")) {
		case 0:
			h(w, r)
		case 42001:
			writeOld(w, 42001, "access_token 超时", nil)
		default:
			writeOld(w, 40014, "不合法的access_token", nil)
		}
	}
}

// newAuth checks the x-acs-dingtalk-access-token header of a new-family call.
// Both invalid and expired tokens are HTTP 401 InvalidAuthentication here
// (DingTalk has been seen answering 400 and 401; we pick 401).
func (s *Sim) newAuth(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.tokenState(r.Header.Get("x-acs-dingtalk-access-token")) != 0 {
			writeNewErr(w, http.StatusUnauthorized, "InvalidAuthentication", "不合法的access_token")
			return
		}
		h(w, r)
	}
}

func (s *Sim) getToken(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("appkey") != s.cfg.App.AppKey || q.Get("appsecret") != s.cfg.App.AppSecret {
		writeOld(w, 40089, "不合法的corpid或corpsecret", nil)
		return
	}
	tok, ttl := s.issueAppToken()
	writeOld(w, 0, "ok", map[string]any{"access_token": tok, "expires_in": int(ttl.Seconds())})
}

func (s *Sim) accessToken(w http.ResponseWriter, r *http.Request) {
	var in struct{ AppKey, AppSecret string }
	if !decodeNew(w, r, &in) {
		return
	}
	if in.AppKey != s.cfg.App.AppKey || in.AppSecret != s.cfg.App.AppSecret {
		writeNewErr(w, http.StatusBadRequest, "invalidClientIdOrSecret", "无效的clientId或者clientSecret")
		return
	}
	tok, ttl := s.issueAppToken()
	writeJSON(w, http.StatusOK, map[string]any{"accessToken": tok, "expireIn": int(ttl.Seconds())})
}

// jsapiTicketNow returns the JSAPI ticket, renewing the same one while valid.
func (s *Sim) jsapiTicketNow() (string, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if s.jsapiTicket == "" || !now.Before(s.ticketExp) {
		s.jsapiTicket = "simticket-" + newID()
	}
	s.ticketExp = now.Add(7200 * time.Second)
	return s.jsapiTicket, 7200
}

// JSAPITicket returns the current JSAPI ticket ("" if none was fetched), so a
// test can check a dd.config signature.
func (s *Sim) JSAPITicket() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.jsapiTicket
}

// VerifyJSAPI checks a dd.config signature over the current ticket, as the
// DingTalk client does: lowercase hex SHA-1 of
// "jsapi_ticket=T&noncestr=N&timestamp=TS&url=URL" with URL's fragment cut.
func (s *Sim) VerifyJSAPI(pageURL, nonceStr, timeStamp, signature string) error {
	t := s.JSAPITicket()
	if t == "" {
		return errors.New("jsapi ticket读取失败: no ticket was fetched")
	}
	if i := strings.IndexByte(pageURL, '#'); i >= 0 {
		pageURL = pageURL[:i]
	}
	sum := sha1.Sum([]byte("jsapi_ticket=" + t + "&noncestr=" + nonceStr + "&timestamp=" + timeStamp + "&url=" + pageURL))
	if hex.EncodeToString(sum[:]) != strings.ToLower(signature) {
		return errors.New("52013 签名校验失败")
	}
	return nil
}

func (s *Sim) getJSAPITicket(w http.ResponseWriter, r *http.Request) {
	t, ttl := s.jsapiTicketNow()
	writeOld(w, 0, "ok", map[string]any{"ticket": t, "expires_in": ttl})
}

func (s *Sim) jsapiTickets(w http.ResponseWriter, r *http.Request) {
	t, ttl := s.jsapiTicketNow()
	writeJSON(w, http.StatusOK, map[string]any{"jsapiTicket": t, "expireIn": ttl})
}
