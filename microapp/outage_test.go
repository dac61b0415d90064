package microapp_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"hehuo/internal/cache"
	"hehuo/internal/cache/cachetest"
	"hehuo/internal/db"
	"hehuo/internal/db/dbtest"
	"hehuo/internal/wire"
	"hehuo/microapp"
)

const outageMessage = "系统维护中，请稍后再试"

// twin is a second server instance over d and c, with e's configuration and
// DingTalk simulator.
func (e *env) twin(d *db.DB, c *cache.Cache) *env {
	e.t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	svc := wire.New(e.deps.Config, d, c, log)
	deps := microapp.FromServices(e.deps.Config, d, c, log, "test", svc)
	s := microapp.New(deps)
	hs := httptest.NewServer(s.Handler())
	e.t.Cleanup(hs.Close)
	return &env{t: e.t, db: d, deps: deps, wire: svc, server: s, http: hs, sim: e.sim}
}

// mustBeOutage fails unless r is the 503 of an outage: service_unavailable,
// the Chinese message and a Retry-After of 5–30 seconds.
func mustBeOutage(t *testing.T, what string, r response) {
	t.Helper()
	if r.Status != 503 || r.errCode() != "service_unavailable" {
		t.Fatalf("%s = %d %s, want 503 service_unavailable", what, r.Status, r.Raw)
	}
	if msg := r.Body["error"].(map[string]any)["message"]; msg != outageMessage {
		t.Errorf("%s message = %q, want %q", what, msg, outageMessage)
	}
	if s, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || s < 5 || s > 30 {
		t.Errorf("%s Retry-After = %q, want 5–30 seconds", what, r.Header.Get("Retry-After"))
	}
}

// readyz asks h for /readyz from remote (host:port), with extra headers.
func readyz(h http.Handler, remote string, header ...string) (int, string) {
	req := httptest.NewRequest("GET", "/readyz", nil)
	req.RemoteAddr = remote
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code, rec.Body.String()
}

// Must show (issue 9, finding 7): with Redis stopped, a signed-in GET, a
// password sign-in and a DingTalk sign-in answer 503 service_unavailable
// with Retry-After (DingTalk is fine: not dingtalk_unavailable), /readyz
// names Redis to a local caller only; with Redis back on the same port the
// same server works again.
func TestRedisOutageAnswers503AndRecovers(t *testing.T) {
	e := newEnv(t)
	rs := cachetest.StartServer(t)
	o := e.twin(e.db, cachetest.NewAt(t, rs.URL()))
	e.dingTalkUser("zhangsan", "张三", true)

	admin := o.signIn("admin", adminPassword)
	o.must(200, o.do(admin, "GET", "/api/v1/me", nil))
	o.must(200, o.do("", "POST", "/api/v1/auth/dingtalk", map[string]string{"auth_code": e.authCode("zhangsan")}))

	rs.Stop()
	mustBeOutage(t, "signed-in GET", o.do(admin, "GET", "/api/v1/me", nil))
	mustBeOutage(t, "signed-in POST", o.do(admin, "POST", "/api/v1/batches", map[string]any{"name": "2026年12月"}))
	mustBeOutage(t, "password sign-in", o.do("", "POST", "/api/v1/auth/password", map[string]string{"username": "admin", "password": adminPassword}))
	mustBeOutage(t, "dingtalk sign-in", o.do("", "POST", "/api/v1/auth/dingtalk", map[string]string{"auth_code": e.authCode("zhangsan")}))

	r := o.do("", "GET", "/readyz", nil) // from loopback: the detail
	if r.Status != 503 || r.Body["redis"] != "unavailable" || r.Body["postgres"] != "ok" || r.Header.Get("Retry-After") == "" {
		t.Fatalf("local readyz with Redis stopped = %d %s", r.Status, r.Raw)
	}
	for _, c := range []struct {
		what, remote string
		header       []string
	}{
		{"a remote caller", "203.0.113.7:41000", nil},
		{"an IPv6 remote caller", "[2001:db8::7]:41000", nil},
		{"a caller through a local proxy", "127.0.0.1:41000", []string{"X-Forwarded-For", "203.0.113.7"}},
	} {
		status, body := readyz(o.server.Handler(), c.remote, c.header...)
		if status != 503 || body != `{"status":"unavailable"}` {
			t.Errorf("readyz for %s = %d %s, want 503 with no detail", c.what, status, body)
		}
	}

	rs.Start()
	// The client's pool, having failed every dial, probes Redis once a second.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		r := o.do("", "GET", "/readyz", nil)
		if r.Status == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("readyz 10 s after Redis came back = %d %s", r.Status, r.Raw)
		}
	}
	// Redis kept no data, so the old session is gone: sign in again.
	if r := o.do(admin, "GET", "/api/v1/me", nil); r.Status != 401 {
		t.Fatalf("old session after the restart = %d %s, want 401", r.Status, r.Raw)
	}
	admin = o.signIn("admin", adminPassword)
	o.must(200, o.do(admin, "GET", "/api/v1/me", nil))
	o.must(201, o.do(admin, "POST", "/api/v1/batches", map[string]any{"name": "2026年12月"}))
	o.must(200, o.do("", "POST", "/api/v1/auth/dingtalk", map[string]string{"auth_code": e.authCode("zhangsan")}))
}

// proxy forwards TCP connections to target until closed, which drops every
// connection it carries and leaves nothing listening on its port.
type proxy struct {
	l     net.Listener
	mu    sync.Mutex
	conns []net.Conn
}

func startProxy(t *testing.T, target string) *proxy {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{l: l}
	go func() {
		for {
			in, err := l.Accept()
			if err != nil {
				return
			}
			out, err := net.Dial("tcp", target)
			if err != nil {
				in.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, in, out)
			p.mu.Unlock()
			go func() { io.Copy(out, in); out.Close() }()
			go func() { io.Copy(in, out); in.Close() }()
		}
	}()
	t.Cleanup(p.Close)
	return p
}

func (p *proxy) Addr() string { return p.l.Addr().String() }

// Close stops listening and cuts every connection.
func (p *proxy) Close() {
	p.l.Close()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// Must show (issue 9, finding 7): a server whose Postgres goes away answers
// every kind of route — public sign-in, a signed-in GET whose session is in
// Redis, a write, /readyz — with 503, never 500. Its pool reaches Postgres
// through a proxy that the test closes: the pool's open connections break
// and new ones are refused, as when Postgres stops under a running server.
func TestPostgresOutageAnswers503(t *testing.T) {
	e := newEnv(t)
	u, err := url.Parse(dbtest.URL(t, e.db))
	if err != nil {
		t.Fatal(err)
	}
	pg := startProxy(t, u.Host)
	u.Host = pg.Addr()
	pd, err := db.Open(context.Background(), u.String(), 4)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pd.Close() })
	o := e.twin(pd, e.deps.Cache)
	e.dingTalkUser("lisi", "李四", true)
	admin := o.signIn("admin", adminPassword)
	o.must(200, o.do(admin, "GET", "/api/v1/me", nil))

	pg.Close()
	mustBeOutage(t, "password sign-in", o.do("", "POST", "/api/v1/auth/password", map[string]string{"username": "admin", "password": adminPassword}))
	mustBeOutage(t, "dingtalk sign-in", o.do("", "POST", "/api/v1/auth/dingtalk", map[string]string{"auth_code": e.authCode("lisi")}))
	mustBeOutage(t, "signed-in GET", o.do(admin, "GET", "/api/v1/me", nil))
	mustBeOutage(t, "signed-in list", o.do(admin, "GET", "/api/v1/batches", nil))
	mustBeOutage(t, "signed-in POST", o.do(admin, "POST", "/api/v1/batches", map[string]any{"name": "2026年12月"}))
	r := o.do("", "GET", "/readyz", nil)
	if r.Status != 503 || r.Body["postgres"] != "unavailable" || r.Body["redis"] != "ok" {
		t.Fatalf("readyz with Postgres gone = %d %s", r.Status, r.Raw)
	}
	if status, body := readyz(o.server.Handler(), "198.51.100.2:5000"); status != 503 || body != `{"status":"unavailable"}` {
		t.Fatalf("remote readyz with Postgres gone = %d %s", status, body)
	}
}

// A remote caller's /readyz says ok and nothing else.
func TestReadinessShowsRemoteCallersNoDetail(t *testing.T) {
	e := newEnv(t)
	if status, body := readyz(e.server.Handler(), "203.0.113.7:41000"); status != 200 || body != `{"status":"ok"}` {
		t.Fatalf("remote readyz = %d %s", status, body)
	}
}

// A handler that panics with an outage's error answers 503, not 500.
func TestPanicWithOutageAnswers503(t *testing.T) {
	e := newEnv(t)
	s := microapp.New(e.deps)
	refused := fmt.Errorf("find user: %w", &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connect: connection refused")})
	s.Engine().GET("/test/panic-outage", func(*gin.Context) { panic(refused) })
	s.Engine().GET("/test/panic-bug", func(*gin.Context) { panic("a bug") })
	for path, want := range map[string]int{"/test/panic-outage": 503, "/test/panic-bug": 500} {
		rec := httptest.NewRecorder()
		s.Handler().ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		if rec.Code != want || (want == 503 && !strings.Contains(rec.Body.String(), "service_unavailable")) {
			t.Errorf("%s = %d %s, want %d", path, rec.Code, rec.Body, want)
		}
	}
}
