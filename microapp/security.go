package microapp

import (
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"

	"hehuo/internal/apperr"
)

// Errors of the request checks every route shares.
var (
	errBadOrigin = apperr.Forbidden("bad_origin", "请求来源不是本系统，已拒绝")
	errMediaType = apperr.New(apperr.KindMediaType, "unsupported_media_type", "请求内容须为 JSON")
	errNotUpload = apperr.New(apperr.KindMediaType, "unsupported_media_type", "请以表单（multipart/form-data）上传文件")
)

// checkRequest refuses cross-site writes before any handler runs (after the
// access checks, so that 401, 403 and 404 say nothing about bodies). A write
// that a browser sends by itself on a session cookie — a form or a
// text/plain fetch from another site — must come from the app's own origin
// (403 bad_origin); bearer tokens are never sent by a browser on its own and
// are not checked. Every body must be of the type the route takes (415), so
// that no cross-site "simple request" without a CORS preflight reaches a
// JSON route.
func (s *Server) checkRequest(c *gin.Context, r Route) error {
	switch c.Request.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return nil
	}
	if !strings.HasPrefix(c.GetHeader("Authorization"), "Bearer ") {
		if origin := requestOrigin(c.Request); origin != "" && !s.ownOrigin(c.Request, origin) {
			return errBadOrigin
		}
	}
	if !hasBody(c.Request) {
		return nil
	}
	mt, _, _ := mime.ParseMediaType(c.GetHeader("Content-Type"))
	if r.Upload {
		if mt != "multipart/form-data" {
			return errNotUpload
		}
		return nil
	}
	if mt != "application/json" {
		return errMediaType
	}
	return nil
}

// hasBody reports whether the request carries a body (chunked ones included).
func hasBody(r *http.Request) bool {
	return r.ContentLength > 0 || (r.ContentLength < 0 && r.Body != nil && r.Body != http.NoBody)
}

// requestOrigin is the Origin header, or the origin of the Referer when a
// browser sent no Origin; "" when neither says where the request came from
// (a program, not a browser).
func requestOrigin(r *http.Request) string {
	if o := r.Header.Get("Origin"); o != "" {
		return o
	}
	if ref := r.Header.Get("Referer"); ref != "" {
		u, err := url.Parse(ref)
		if err != nil || u.Host == "" {
			return "null"
		}
		return u.Scheme + "://" + u.Host
	}
	return ""
}

// ownOrigin reports whether origin is the app's own: http.public_url's; in
// demo mode (and without a public URL) also the address the browser used to
// reach this server, so that http://localhost:8080 works as well as
// http://127.0.0.1:8080.
func (s *Server) ownOrigin(r *http.Request, origin string) bool {
	origin = strings.ToLower(origin)
	if own := originOf(s.deps.Config.HTTP.PublicURL); own != "" && origin == own {
		return true
	}
	if s.deps.Config.Demo || s.deps.Config.HTTP.PublicURL == "" {
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		return origin == strings.ToLower(scheme+"://"+r.Host)
	}
	return false
}

// originOf returns scheme://host of a URL, lower-cased, or "".
func originOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return ""
	}
	return strings.ToLower(u.Scheme + "://" + u.Host)
}

// securityHeaders sets the browser protections of every response: no MIME
// sniffing, no referrer to other sites, and a content security policy. The
// API answers JSON only and may not be framed. The pages load their own
// scripts only (dingtalk-jsapi is bundled), take Element Plus's and Vant's
// inline styles, and call their own API and DingTalk's. The H5 app may be
// framed by DingTalk's container (and by the simulator's phone, whose origin
// is the configured DingTalk base in the demo); the console by itself only.
func (s *Server) securityHeaders() gin.HandlerFunc {
	dingtalk := []string{"https://*.dingtalk.com"}
	cfg := s.deps.Config.DingTalk
	for _, b := range []string{cfg.APIBase, cfg.OAPIBase, cfg.LoginBase} {
		if o := originOf(b); o != "" && !slices.Contains(dingtalk, o) && !strings.HasSuffix(o, ".dingtalk.com") {
			dingtalk = append(dingtalk, o)
		}
	}
	dt := strings.Join(dingtalk, " ")
	page := "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob: https:; " +
		"font-src 'self' data:; connect-src 'self' " + dt + "; object-src 'none'; base-uri 'self'; form-action 'self' " + dt + "; "
	console := page + "frame-ancestors 'self'"
	h5 := page + "frame-ancestors 'self' " + dt
	const api = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'"
	return func(c *gin.Context) {
		h := c.Writer.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		path := c.Request.URL.Path
		switch {
		case strings.HasPrefix(path, "/api/") || path == "/healthz" || path == "/readyz" || path == "/metrics":
			h.Set("Content-Security-Policy", api)
			h.Set("X-Frame-Options", "DENY")
		case path == "/m" || strings.HasPrefix(path, "/m/"):
			// No X-Frame-Options: it cannot name DingTalk; frame-ancestors does.
			h.Set("Content-Security-Policy", h5)
		default:
			h.Set("Content-Security-Policy", console)
			h.Set("X-Frame-Options", "SAMEORIGIN")
		}
		c.Next()
	}
}
