package microapp_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"hehuo/internal/audit"
	"hehuo/internal/auth"
	"hehuo/internal/cache/cachetest"
	"hehuo/internal/config"
	"hehuo/internal/db"
	"hehuo/internal/db/dbtest"
	"hehuo/internal/dtsim/dtsimtest"
	"hehuo/internal/ledger/ledgertest"
	"hehuo/internal/org"
	"hehuo/internal/wire"
	"hehuo/microapp"
)

const (
	adminPassword    = "admin-pass-1"
	bizadminPassword = "bizadmin-pass-1"
)

// env is a running server over a database and Redis of its own.
type env struct {
	t      *testing.T
	db     *db.DB
	deps   microapp.Deps
	server *microapp.Server
	http   *httptest.Server
	sim    *dtsimtest.Server // the DingTalk the server talks to
	wire   *wire.Services    // the service graph behind deps (its Inbox feeds a bot, see startBot)
}

func newEnv(t *testing.T) *env {
	t.Helper()
	d := dbtest.New(t)
	c := cachetest.New(t)
	sim := dtsimtest.Start(t)
	cfg := config.Default()
	cfg.DingTalk = sim.DingTalkConfig()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	svc := wire.New(cfg, d, c, log)
	deps := microapp.FromServices(cfg, d, c, log, "test", svc)
	if err := auth.EnsureBootstrap(context.Background(), d, adminPassword, bizadminPassword); err != nil {
		t.Fatal(err)
	}
	s := microapp.New(deps)
	hs := httptest.NewServer(s.Handler())
	t.Cleanup(hs.Close)
	t.Cleanup(func() { ledgertest.AssertReconciles(t, d) })
	t.Cleanup(func() { assertAuditLabelled(t, d) })
	return &env{t: t, db: d, deps: deps, wire: svc, server: s, http: hs, sim: sim}
}

// assertAuditLabelled fails when the test's audit log holds an action,
// entity or field the 系统日志 cannot name in Chinese.
func assertAuditLabelled(t *testing.T, d *db.DB) {
	t.Helper()
	missing, err := audit.Unlabelled(context.Background(), d)
	if err != nil {
		t.Fatal(err)
	}
	if len(missing) > 0 {
		t.Errorf("audit codes without a Chinese label (internal/audit/labels.go): %v", missing)
	}
}

// response is a decoded reply.
type response struct {
	Status int
	Body   map[string]any
	Raw    []byte
	Header http.Header
}

func (r response) errCode() string {
	e, _ := r.Body["error"].(map[string]any)
	code, _ := e["code"].(string)
	return code
}

func (e *env) do(token, method, path string, body any) response {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		j, _ := json.Marshal(b)
		rd = bytes.NewReader(j)
	}
	req, _ := http.NewRequest(method, e.http.URL+path, rd)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("Content-Type", "application/json")
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

// must fails the test unless the reply has the wanted status.
func (e *env) must(want int, r response) response {
	e.t.Helper()
	if r.Status != want {
		e.t.Fatalf("status %d, want %d: %s", r.Status, want, r.Raw)
	}
	return r
}

func (e *env) signIn(username, password string) string {
	e.t.Helper()
	r := e.must(200, e.do("", "POST", "/api/v1/auth/password", map[string]string{"username": username, "password": password}))
	return r.Body["token"].(string)
}

func (e *env) admin() string { return e.signIn("admin", adminPassword) }

// mustUser creates a user with roles and returns their id and a session token.
func (e *env) mustUser(name string, roles ...string) (int64, string) {
	e.t.Helper()
	u, err := e.deps.Org.CreateUser(context.Background(), audit.System, org.UserInput{
		Name: name, DingTalkUserID: "dt_" + name, Roles: roles,
	})
	if err != nil {
		e.t.Fatal(err)
	}
	token, _, err := e.deps.Auth.SignInUser(context.Background(), u.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	return u.ID, token
}

// world is a small org: group → property → city A (with sub-company A1) and city B.
type world struct {
	group, property, cityA, cityA1, cityB int64
	projA, projA1, projB                  int64
}

func (e *env) mustWorld(admin string) world {
	e.t.Helper()
	var w world
	unit := func(name, kind string, parent *int64) int64 {
		r := e.must(201, e.do(admin, "POST", "/api/v1/org-units", map[string]any{"name": name, "kind": kind, "parent_id": parent}))
		return int64(r.Body["id"].(float64))
	}
	w.group = unit("锦艺集团", "group", nil)
	w.property = unit("置业集团", "property", &w.group)
	w.cityA = unit("环沪城市公司", "city", &w.property)
	w.cityA1 = unit("澄靖直属项目公司", "city", &w.cityA)
	w.cityB = unit("昆明城市公司", "city", &w.property)
	proj := func(name string, city int64) int64 {
		r := e.must(201, e.do(admin, "POST", "/api/v1/projects", map[string]any{
			"name": name, "city_company_id": city, "land_acquired_on": "2019-10-21", "is_open": true,
		}))
		return int64(r.Body["id"].(float64))
	}
	w.projA = proj("常州项目", w.cityA)
	w.projA1 = proj("靖江项目", w.cityA1)
	w.projB = proj("昆明-城市之光", w.cityB)
	return w
}

func ids(r response) []int64 {
	var out []int64
	for _, it := range r.Body["items"].([]any) {
		out = append(out, int64(it.(map[string]any)["id"].(float64)))
	}
	return out
}

// fingerprint hashes every row of every table, to prove a refused request changed nothing.
func fingerprint(t *testing.T, d *db.DB) string {
	t.Helper()
	var tables []string
	if err := d.Select(&tables, `SELECT table_name FROM information_schema.tables
		WHERE table_schema = 'public' AND table_type = 'BASE TABLE' AND table_name NOT LIKE 'goose%' ORDER BY 1`); err != nil {
		t.Fatal(err)
	}
	var sb strings.Builder
	for _, tbl := range tables {
		var h string
		if err := d.Get(&h, fmt.Sprintf(`SELECT coalesce(md5(string_agg(x::text, '|' ORDER BY x::text)), '') FROM %s x`, tbl)); err != nil {
			t.Fatal(err)
		}
		sb.WriteString(tbl + "=" + h + ";")
	}
	return sb.String()
}

func multipartFile(t *testing.T, field, name string, content []byte) (string, *bytes.Buffer) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	fw, _ := w.CreateFormFile(field, name)
	fw.Write(content)
	w.Close()
	return w.FormDataContentType(), &buf
}

func (e *env) upload(token, path string, content []byte) response {
	e.t.Helper()
	ct, body := multipartFile(e.t, "file", "projects.xlsx", content)
	req, _ := http.NewRequest("POST", e.http.URL+path, body)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", ct)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	out := response{Status: res.StatusCode, Raw: raw}
	json.Unmarshal(raw, &out.Body)
	return out
}
