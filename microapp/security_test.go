package microapp_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"hehuo/microapp"
)

// raw sends one request with the given headers (no token, no content type
// unless given) and decodes the reply.
func (e *env) raw(method, path, body string, headers map[string]string) response {
	e.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, e.http.URL+path, rd)
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	out := response{Status: res.StatusCode, Raw: b, Header: res.Header}
	json.Unmarshal(b, &out.Body)
	return out
}

// A page on another site cannot write with the admin's session cookie: a
// form or text/plain fetch to a JSON route was a "simple request" that
// needs no CORS preflight, and it created a batch (201).
func TestCrossSiteWritesWithTheCookieAreRefused(t *testing.T) {
	e := newEnv(t)
	token := e.admin()
	cookie := "hehuo_session=" + token
	batch := `{"name":"跨站批次"}`
	batches := func() int {
		var n int
		if err := e.db.Get(&n, `SELECT count(*) FROM batches`); err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := batches()

	cases := []struct {
		name    string
		headers map[string]string
		body    string
		status  int
		code    string
	}{
		{"evil origin, text/plain", map[string]string{"Cookie": cookie, "Origin": "https://evil.example", "Content-Type": "text/plain"}, batch, 403, "bad_origin"},
		{"evil origin, JSON", map[string]string{"Cookie": cookie, "Origin": "https://evil.example", "Content-Type": "application/json"}, batch, 403, "bad_origin"},
		{"opaque origin", map[string]string{"Cookie": cookie, "Origin": "null", "Content-Type": "application/json"}, batch, 403, "bad_origin"},
		{"evil referer, no origin", map[string]string{"Cookie": cookie, "Referer": "https://evil.example/page", "Content-Type": "text/plain"}, batch, 403, "bad_origin"},
		{"own origin, text/plain", map[string]string{"Cookie": cookie, "Origin": e.http.URL, "Content-Type": "text/plain"}, batch, 415, "unsupported_media_type"},
		{"own origin, form", map[string]string{"Cookie": cookie, "Origin": e.http.URL, "Content-Type": "application/x-www-form-urlencoded"}, "name=x", 415, "unsupported_media_type"},
		{"own origin, multipart on a JSON route", map[string]string{"Cookie": cookie, "Origin": e.http.URL, "Content-Type": "multipart/form-data; boundary=x"}, "--x--", 415, "unsupported_media_type"},
		{"no content type", map[string]string{"Cookie": cookie}, batch, 415, "unsupported_media_type"},
	}
	for _, c := range cases {
		r := e.raw("POST", "/api/v1/batches", c.body, c.headers)
		if r.Status != c.status || r.errCode() != c.code {
			t.Errorf("%s: %d %s, want %d %s", c.name, r.Status, r.Raw, c.status, c.code)
		}
	}
	if n := batches(); n != before {
		t.Fatalf("%d batches created by refused requests", n-before)
	}

	// The app's own pages, programs with a bearer token and bodiless posts still work.
	e.must(201, e.raw("POST", "/api/v1/batches", `{"name":"本站批次"}`, map[string]string{
		"Cookie": cookie, "Origin": e.http.URL, "Content-Type": "application/json; charset=utf-8"}))
	e.must(201, e.raw("POST", "/api/v1/batches", `{"name":"本站页面批次"}`, map[string]string{
		"Cookie": cookie, "Referer": e.http.URL + "/projects", "Content-Type": "application/json"}))
	e.must(201, e.raw("POST", "/api/v1/batches", `{"name":"程序批次"}`, map[string]string{
		"Authorization": "Bearer " + token, "Origin": "https://evil.example", "Content-Type": "application/json"}))
	e.must(201, e.raw("POST", "/api/v1/batches", `{"name":"命令行批次"}`, map[string]string{
		"Cookie": cookie, "Content-Type": "application/json"}))
	e.must(204, e.raw("POST", "/api/v1/auth/logout", "", map[string]string{"Cookie": cookie, "Origin": e.http.URL}))
}

// Upload routes take multipart forms only; the same Origin rule holds.
func TestUploadRoutesTakeMultipartOnly(t *testing.T) {
	e := newEnv(t)
	admin := e.admin()
	if r := e.raw("POST", "/api/v1/projects/import", "x", map[string]string{
		"Authorization": "Bearer " + admin, "Content-Type": "text/plain"}); r.Status != 415 || r.errCode() != "unsupported_media_type" {
		t.Fatalf("text upload: %d %s", r.Status, r.Raw)
	}
	if r := e.upload(admin, "/api/v1/projects/import", []byte("not a sheet")); r.Status == 415 || r.Status == 403 {
		t.Fatalf("a multipart upload was refused: %d %s", r.Status, r.Raw)
	}
	ct, body := multipartFile(t, "file", "p.xlsx", []byte("x"))
	req, _ := http.NewRequest("POST", e.http.URL+"/api/v1/projects/import", body)
	req.Header.Set("Content-Type", ct)
	req.Header.Set("Cookie", "hehuo_session="+admin)
	req.Header.Set("Origin", "https://evil.example")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 403 {
		t.Fatalf("a cross-site upload with the cookie: %d, want 403", res.StatusCode)
	}
}

// Every response carries the browser protections; the H5 app may be framed
// by DingTalk and the simulator's phone, the console by itself only, the API
// by nobody.
func TestSecurityHeaders(t *testing.T) {
	e := newEnv(t)
	sim := e.sim.URL
	for _, c := range []struct {
		path, frame, xfo string
	}{
		{"/api/v1/me", "frame-ancestors 'none'", "DENY"},
		{"/healthz", "frame-ancestors 'none'", "DENY"},
		{"/", "frame-ancestors 'self'", "SAMEORIGIN"},
		{"/projects", "frame-ancestors 'self'", "SAMEORIGIN"},
		{"/m/", "frame-ancestors 'self' https://*.dingtalk.com " + sim, ""},
	} {
		r := e.do("", "GET", c.path, nil)
		h := r.Header
		if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Referrer-Policy") != "same-origin" {
			t.Errorf("%s: nosniff %q, referrer policy %q", c.path, h.Get("X-Content-Type-Options"), h.Get("Referrer-Policy"))
		}
		csp := h.Get("Content-Security-Policy")
		if !strings.Contains(csp, c.frame) {
			t.Errorf("%s: CSP %q lacks %q", c.path, csp, c.frame)
		}
		if h.Get("X-Frame-Options") != c.xfo {
			t.Errorf("%s: X-Frame-Options %q, want %q", c.path, h.Get("X-Frame-Options"), c.xfo)
		}
		if !strings.HasPrefix(c.path, "/api/") && c.path != "/healthz" {
			for _, want := range []string{"script-src 'self';", "style-src 'self' 'unsafe-inline'", "connect-src 'self' https://*.dingtalk.com " + sim, "object-src 'none'"} {
				if !strings.Contains(csp, want) {
					t.Errorf("%s: CSP %q lacks %q", c.path, csp, want)
				}
			}
		}
	}
	// A production server names only DingTalk.
	deps := e.deps
	deps.Config.DingTalk.APIBase, deps.Config.DingTalk.OAPIBase, deps.Config.DingTalk.LoginBase = "https://api.dingtalk.com", "https://oapi.dingtalk.com", "https://login.dingtalk.com"
	srv := httptest.NewServer(microapp.New(deps).Handler())
	defer srv.Close()
	res, err := http.Get(srv.URL + "/m/")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'self' https://*.dingtalk.com;") && !strings.HasSuffix(csp, "frame-ancestors 'self' https://*.dingtalk.com") {
		t.Fatalf("production H5 CSP %q", csp)
	}
}

// The H5 app offers its password form only when the server says it is a
// demo: a production server answers demo: false.
func TestAppInfoSaysWhetherDemo(t *testing.T) {
	e := newEnv(t)
	if r := e.must(200, e.do("", "GET", "/api/v1/dingtalk/app", nil)); r.Body["demo"] != false {
		t.Fatalf("production app info: %s", r.Raw)
	}
	deps := e.deps
	deps.Config.Demo = true
	srv := httptest.NewServer(microapp.New(deps).Handler())
	defer srv.Close()
	res, err := http.Get(srv.URL + "/api/v1/dingtalk/app")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var info map[string]any
	json.NewDecoder(res.Body).Decode(&info)
	if info["demo"] != true {
		t.Fatalf("demo app info: %v", info)
	}
}
