package microapp_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"hehuo/internal/auth"
	"hehuo/internal/dingtalk"
	"hehuo/microapp"
)

// behind is e served again with changed deps (a second instance on the
// same database and Redis).
func (e *env) behind(change func(d *microapp.Deps)) *env {
	e.t.Helper()
	d := e.deps
	change(&d)
	hs := httptest.NewServer(microapp.New(d).Handler())
	e.t.Cleanup(hs.Close)
	e2 := *e
	e2.deps, e2.http = d, hs
	return &e2
}

// behindProxy is e behind a trusted proxy on 127.0.0.1, so that
// X-Forwarded-For names the client and tests can sign in from many addresses.
func (e *env) behindProxy(opts *auth.Options) *env {
	return e.behind(func(d *microapp.Deps) {
		d.Config.HTTP.TrustedProxies = []string{"127.0.0.1"}
		if opts != nil {
			d.Auth = auth.NewService(e.db, e.deps.Cache, *opts)
		}
	})
}

// signInFrom posts a password sign-in with X-Forwarded-For: addr.
func (e *env) signInFrom(addr, username, password string) response {
	e.t.Helper()
	j, _ := json.Marshal(map[string]string{"username": username, "password": password})
	req, _ := http.NewRequest("POST", e.http.URL+"/api/v1/auth/password", bytes.NewReader(j))
	req.Header.Set("Content-Type", "application/json")
	if addr != "" {
		req.Header.Set("X-Forwarded-For", addr)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	out := response{Status: res.StatusCode, Raw: raw, Header: res.Header}
	json.Unmarshal(raw, &out.Body)
	return out
}

func wantTooMany(t *testing.T, r response, what string) {
	t.Helper()
	if r.Status != 429 || r.errCode() != "too_many_requests" {
		t.Fatalf("%s: %d %s, want 429 too_many_requests", what, r.Status, r.Raw)
	}
	if s, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || s < 1 || s > 60 {
		t.Errorf("%s: Retry-After = %q, want 1…60 seconds", what, r.Header.Get("Retry-After"))
	}
	if msg := r.Body["error"].(map[string]any)["message"].(string); !strings.Contains(msg, "频繁") {
		t.Errorf("%s: message %q, want Chinese", what, msg)
	}
}

// Finding 8: 2,000 password attempts with different user names from one
// address met no limit; an X-Forwarded-For header must not dodge it.
func TestPasswordSignInIsLimitedPerAddress(t *testing.T) {
	e := newEnv(t)
	for i := range 20 {
		r := e.signInFrom(fmt.Sprintf("10.0.0.%d", i), fmt.Sprintf("guess%d", i), "wrong-password")
		if r.Status != 401 {
			t.Fatalf("attempt %d: %d %s", i+1, r.Status, r.Raw)
		}
	}
	// The 21st, from the same connection address whatever the header says, is refused before any check.
	wantTooMany(t, e.signInFrom("10.9.9.9", "admin", adminPassword), "21st attempt with a forged X-Forwarded-For")
	wantTooMany(t, e.signInFrom("", "guess-other", "x"), "21st attempt")

	// Behind a configured proxy the header is believed: another client is not refused.
	p := e.behindProxy(nil)
	if r := p.signInFrom("192.0.2.1", "admin", adminPassword); r.Status != 200 {
		t.Fatalf("another client behind a trusted proxy: %d %s", r.Status, r.Raw)
	}
}

// countingProxy forwards to the simulator and counts the calls whose path contains what.
func countingProxy(t *testing.T, target, what string) (string, *atomic.Int64) {
	u, _ := url.Parse(target)
	rp := httputil.NewSingleHostReverseProxy(u)
	var n atomic.Int64
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, what) {
			n.Add(1)
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(hs.Close)
	return hs.URL, &n
}

// Finding 8: 500 made-up auth codes made 500 DingTalk getuserinfo calls.
// Unsuccessful DingTalk sign-ins are limited per address before DingTalk
// is called; successful ones are not counted.
func TestDingTalkSignInIsLimitedBeforeDingTalkIsCalled(t *testing.T) {
	e := newEnv(t)
	proxy, calls := countingProxy(t, e.sim.URL, "getuserinfo")
	e = e.behind(func(d *microapp.Deps) {
		d.Config.DingTalk.OAPIBase = proxy
		d.DingTalk = dingtalk.New(d.Config.DingTalk, d.Cache, dingtalk.WithLogger(d.Log))
	})
	e.dingTalkUser("staff01", "员工甲", true)
	// A whole office signing in from one address is never refused.
	for i := range 25 {
		e.must(200, e.do("", "POST", "/api/v1/auth/dingtalk", map[string]string{"auth_code": e.authCode("staff01")}))
		_ = i
	}
	for i := range 20 {
		if r := e.do("", "POST", "/api/v1/auth/dingtalk", map[string]string{"auth_code": fmt.Sprintf("made-up-%d", i)}); r.Status != 401 {
			t.Fatalf("made-up code %d: %d %s", i, r.Status, r.Raw)
		}
	}
	before := calls.Load()
	for i := range 30 {
		wantTooMany(t, e.do("", "POST", "/api/v1/auth/dingtalk", map[string]string{"auth_code": fmt.Sprintf("more-%d", i)}), "made-up code over the limit")
	}
	if got := calls.Load() - before; got != 0 {
		t.Errorf("%d getuserinfo calls after the limit, want 0", got)
	}
	if got := calls.Load(); got != 45 {
		t.Errorf("%d getuserinfo calls in all, want 25 good + 20 made-up", got)
	}
	// The QR callback shares the limit: it is refused before DingTalk is called.
	browser := e.browser()
	start := browser("/api/v1/auth/dingtalk/qr?next=/")
	login, _ := url.Parse(start.Header.Get("Location"))
	cb := browser("/api/v1/auth/dingtalk/callback?authCode=made-up&state=" + login.Query().Get("state"))
	if loc := cb.Header.Get("Location"); loc != "/login?error=too_many_requests" {
		t.Errorf("QR callback over the limit redirected to %q", loc)
	}
}

// Finding 8: anyone could lock admin with five requests. The lock is per
// (user name, address): a stranger locks only themselves out.
func TestLockoutIsPerAddressAndStrangersCannotLockAdminOut(t *testing.T) {
	e := newEnv(t)
	p := e.behindProxy(nil)
	for i := 1; i <= 4; i++ {
		if r := p.signInFrom("203.0.113.7", "admin", "wrong-password"); r.errCode() != "invalid_credentials" {
			t.Fatalf("failure %d: %s", i, r.Raw)
		}
	}
	if r := p.signInFrom("203.0.113.7", "admin", "wrong-password"); r.Status != 423 || r.errCode() != "account_locked" {
		t.Fatalf("fifth failure: %d %s", r.Status, r.Raw)
	}
	if r := p.signInFrom("203.0.113.7", "admin", adminPassword); r.Status != 423 {
		t.Fatalf("the right password from the locked address: %d %s, want 423", r.Status, r.Raw)
	}
	if r := p.signInFrom("198.51.100.20", "admin", adminPassword); r.Status != 200 {
		t.Fatalf("admin from their own address: %d %s, want 200", r.Status, r.Raw)
	}
}

// Failures spread over many addresses start a growing backoff of the
// user name everywhere (with Retry-After), lifted by a sysadmin's unlock.
func TestGlobalBackoffAndSysadminUnlock(t *testing.T) {
	e := newEnv(t)
	opts := auth.Options{BackoffAfter: 8, BackoffMax: time.Minute}
	p := e.behindProxy(&opts)
	for i := range 4 {
		for range 2 {
			p.signInFrom(fmt.Sprintf("203.0.113.%d", i+1), "hhadmin", "wrong-password")
		}
	}
	r := p.signInFrom("198.51.100.20", "hhadmin", bizadminPassword)
	if r.Status != 423 || r.errCode() != "account_backoff" || r.Header.Get("Retry-After") == "" {
		t.Fatalf("after 8 failures from 4 addresses: %d %s (Retry-After %q), want 423 account_backoff", r.Status, r.Raw, r.Header.Get("Retry-After"))
	}
	// Lock it for one more address too.
	for range 5 {
		p.signInFrom("203.0.113.99", "hhadmin", "wrong-password")
	}

	admin := p.signInFrom("198.51.100.1", "admin", adminPassword).Body["token"].(string)
	locks := p.must(200, p.do(admin, "GET", "/api/v1/auth/locks", nil)).Body["items"].([]any)
	if len(locks) != 1 || locks[0].(map[string]any)["username"] != "hhadmin" || locks[0].(map[string]any)["backoff_seconds"].(float64) < 1 {
		t.Fatalf("locks = %v, want hhadmin in backoff", locks)
	}
	id := int64(locks[0].(map[string]any)["user_id"].(float64))
	_, accountant := e.mustUser("会计甲", "accountant")
	if r := p.do(accountant, "POST", fmt.Sprintf("/api/v1/users/%d/unlock", id), nil); r.Status != 403 {
		t.Fatalf("unlock by an accountant: %d %s", r.Status, r.Raw)
	}
	p.must(200, p.do(admin, "POST", fmt.Sprintf("/api/v1/users/%d/unlock", id), nil))
	if got := p.must(200, p.do(admin, "GET", "/api/v1/auth/locks", nil)).Body["items"].([]any); len(got) != 0 {
		t.Fatalf("locks after unlock = %v", got)
	}
	for _, addr := range []string{"198.51.100.20", "203.0.113.99"} {
		if r := p.signInFrom(addr, "hhadmin", bizadminPassword); r.Status != 200 {
			t.Fatalf("after unlock from %s: %d %s", addr, r.Status, r.Raw)
		}
	}
	log := p.must(200, p.do(admin, "GET", "/api/v1/audit-log?entity=user&action=user.unlock", nil)).Body["items"].([]any)
	if len(log) != 1 {
		t.Fatalf("audit entries of the unlock: %v", log)
	}
}

// Finding 8: a wrong password for an unknown user answered in 12 ms and
// for admin in 339 ms. Both now compare a bcrypt hash.
func TestUnknownUserTakesAsLongAsAWrongPassword(t *testing.T) {
	e := newEnv(t)
	// The quickest of a few comparisons: a shared machine only ever slows one down.
	hash, _ := bcrypt.GenerateFromPassword([]byte("x"), bcrypt.DefaultCost)
	cost := time.Hour
	for range 5 {
		began := time.Now()
		bcrypt.CompareHashAndPassword(hash, []byte("y"))
		cost = min(cost, time.Since(began))
	}

	timed := func(user string) time.Duration {
		best := time.Hour
		for range 3 {
			began := time.Now()
			e.must(401, e.do("", "POST", "/api/v1/auth/password", map[string]string{"username": user, "password": "wrong-pass"}))
			best = min(best, time.Since(began))
		}
		return best
	}
	known, unknown := timed("admin"), timed("nobody-here")
	if unknown < cost/3 || known < cost/3 {
		t.Fatalf("wrong password for admin %v, for an unknown name %v; one bcrypt comparison takes %v", known, unknown, cost)
	}
}

// Finding 8: 1 MB user names were stored in Redis keys. Long names are
// refused before anything is stored, and keys never hold a user name.
func TestUsernameIsCappedAndHashedInRedis(t *testing.T) {
	e := newEnv(t)
	long := strings.Repeat("名", 65)
	r := e.do("", "POST", "/api/v1/auth/password", map[string]string{"username": long, "password": "x"})
	if r.Status != 400 || r.errCode() != "username_too_long" {
		t.Fatalf("65-character name: %d %s", r.Status, r.Raw)
	}
	if r := e.do("", "POST", "/api/v1/auth/password", map[string]string{"username": strings.Repeat("a", 1<<20-100), "password": "x"}); r.Status != 400 {
		t.Fatalf("1 MB name: %d %s", r.Status, r.Raw)
	}
	e.must(401, e.do("", "POST", "/api/v1/auth/password", map[string]string{"username": strings.Repeat("名", 64), "password": "x"}))
	e.must(401, e.do("", "POST", "/api/v1/auth/password", map[string]string{"username": "hhadmin", "password": "wrong-pass"}))
	ctx := context.Background()
	keys, err := e.deps.Cache.Keys(ctx, e.deps.Cache.Prefix()+"*").Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if strings.Contains(k, "hhadmin") || strings.Contains(k, "名") || len(k) > 200 {
			t.Errorf("Redis key %q holds a user name", k)
		}
	}
	if len(keys) == 0 {
		t.Fatal("no keys: the failures were not counted")
	}
}

// countingZeros is an endless body of zeros that counts what was read of it.
type countingZeros struct {
	n    atomic.Int64
	size int64
}

func (z *countingZeros) Read(p []byte) (int, error) {
	left := z.size - z.n.Load()
	if left <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > left {
		p = p[:left]
	}
	clear(p)
	z.n.Add(int64(len(p)))
	return len(p), nil
}

// Finding 8: imports read a 150 MB upload whole before refusing it. The
// body is capped before it is read: with a Content-Length it is refused
// unread, without one it is cut off at the cap.
func TestOversizedUploadsAreRefusedUnread(t *testing.T) {
	e := newEnv(t)
	admin := e.admin()
	w := e.mustWorld(admin)
	for _, path := range []string{"/api/v1/projects/import", fmt.Sprintf("/api/v1/projects/%d/attachments", w.projA)} {
		for _, chunked := range []bool{false, true} {
			body := &countingZeros{size: 150 << 20}
			part := "--xyz\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.xlsx\"\r\n\r\n"
			req, _ := http.NewRequest("POST", e.http.URL+path, io.MultiReader(strings.NewReader(part), body))
			if !chunked {
				req.ContentLength = int64(len(part)) + body.size
			}
			req.Header.Set("Authorization", "Bearer "+admin)
			req.Header.Set("Content-Type", "multipart/form-data; boundary=xyz")
			began := time.Now()
			res, err := http.DefaultClient.Do(req)
			sent := body.n.Load()
			if err == nil {
				raw, _ := io.ReadAll(res.Body)
				res.Body.Close()
				want := map[string]string{"/api/v1/projects/import": "upload_too_large"}[path]
				if want == "" {
					want = "attachment_too_large"
				}
				if res.StatusCode/100 != 4 || !strings.Contains(string(raw), want) {
					t.Errorf("%s (chunked %v): %d %s, want %s", path, chunked, res.StatusCode, raw, want)
				}
			}
			// The server may close the connection while the client still writes; what matters is what it read.
			if sent > 16<<20 {
				t.Errorf("%s (chunked %v): the client could send %d MB before being refused", path, chunked, sent>>20)
			}
			if took := time.Since(began); took > 5*time.Second {
				t.Errorf("%s (chunked %v): refused after %v", path, chunked, took)
			}
		}
	}
}

// serveWithTimeouts serves e's routes through microapp's own http.Server
// with short timeouts, as `hehuo serve` does with the configured ones.
func (e *env) serveWithTimeouts(readHeader, read, write, export time.Duration) string {
	e.t.Helper()
	d := e.deps
	d.Config.HTTP.ReadHeaderTimeout, d.Config.HTTP.ReadTimeout = readHeader, read
	d.Config.HTTP.WriteTimeout, d.Config.HTTP.ExportWriteTimeout = write, export
	srv := microapp.New(d).HTTPServer()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		e.t.Fatal(err)
	}
	go srv.Serve(ln)
	e.t.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}

// trickle writes head, then one byte of more every 50 ms, and returns how
// long until the server answered or closed the connection.
func trickle(t *testing.T, addr, head, more string) time.Duration {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	began := time.Now()
	done := make(chan struct{})
	go func() {
		io.ReadAll(conn) // until the server closes it
		close(done)
	}()
	conn.Write([]byte(head))
	for i := 0; i < len(more); i++ {
		select {
		case <-done:
			return time.Since(began)
		case <-time.After(50 * time.Millisecond):
			if _, err := conn.Write([]byte{more[i]}); err != nil {
				<-done
				return time.Since(began)
			}
		}
	}
	<-done
	return time.Since(began)
}

// Finding 8: only ReadHeaderTimeout was set. A client trickling its
// headers or its body is cut off, and a file download outlasting the write
// timeout still completes.
func TestSlowClientsAreCutOffAndLongDownloadsComplete(t *testing.T) {
	e := newEnv(t)
	admin := e.admin()
	w := e.mustWorld(admin)
	big := bytes.Repeat([]byte("甲,乙\n"), 8<<20/8)
	att := e.must(201, e.uploadFile(admin, fmt.Sprintf("/api/v1/projects/%d/attachments", w.projA), "大.csv", big))
	addr := e.serveWithTimeouts(300*time.Millisecond, 500*time.Millisecond, 200*time.Millisecond, time.Minute)

	slowHeaders := trickle(t, addr, "GET /healthz HTTP/1.1\r\nHost: x\r\n", strings.Repeat("X-Slow: 1\r\n", 20))
	if slowHeaders > 2*time.Second {
		t.Errorf("a client trickling headers held the connection %v", slowHeaders)
	}
	body := `{"username":"admin","password":"` + strings.Repeat("x", 200) + `"}`
	slowBody := trickle(t, addr, fmt.Sprintf("POST /api/v1/auth/password HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", len(body)), body)
	if slowBody > 2*time.Second {
		t.Errorf("a client trickling its body held the connection %v", slowBody)
	}

	// The download is read slowly: it lasts far longer than the 200 ms write timeout.
	req, _ := http.NewRequest("GET", fmt.Sprintf("http://%s/api/v1/attachments/%d", addr, int64(att.Body["id"].(float64))), nil)
	req.Header.Set("Authorization", "Bearer "+admin)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var got bytes.Buffer
	began := time.Now()
	for {
		n, err := io.CopyN(&got, res.Body, 1<<20)
		if err != nil || n == 0 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if res.StatusCode != 200 || !bytes.Equal(got.Bytes(), big) {
		t.Fatalf("slow download: status %d, %d of %d bytes after %v", res.StatusCode, got.Len(), len(big), time.Since(began))
	}
}
