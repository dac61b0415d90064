package microapp_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"hehuo/internal/db"
	"hehuo/internal/db/dbtest"
	"hehuo/microapp"
)

func TestHealthReadinessAndMetrics(t *testing.T) {
	e := newEnv(t)
	if r := e.must(200, e.do("", "GET", "/healthz", nil)); r.Body["status"] != "ok" {
		t.Fatalf("healthz = %s", r.Raw)
	}
	if r := e.must(200, e.do("", "GET", "/readyz", nil)); r.Body["postgres"] != "ok" || r.Body["redis"] != "ok" {
		t.Fatalf("readyz = %s", r.Raw)
	}
	e.do("", "GET", "/api/v1/me", nil)
	m := e.must(200, e.do("", "GET", "/metrics", nil))
	if !strings.Contains(string(m.Raw), `hehuo_http_requests_total{method="GET",route="/api/v1/me",status="401"} 1`) {
		t.Fatalf("metrics do not count the request:\n%.2000s", m.Raw)
	}
}

func TestReadinessFailsWithoutPostgres(t *testing.T) {
	e := newEnv(t)
	gone, err := db.Open(context.Background(), dbtest.URL(t, e.db), 1)
	if err != nil {
		t.Fatal(err)
	}
	gone.Close()
	deps := e.deps
	deps.DB = gone
	srv := httptest.NewServer(microapp.New(deps).Handler())
	defer srv.Close()
	res, err := http.Get(srv.URL + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 503 || !strings.Contains(string(body), `"redis":"ok"`) || strings.Contains(string(body), `"postgres":"ok"`) {
		t.Fatalf("readyz with Postgres gone = %d %s", res.StatusCode, body)
	}
}

func TestUnknownAPIPathIsJSON404AndPagesFallBack(t *testing.T) {
	e := newEnv(t)
	if r := e.do("", "GET", "/api/v1/nothing-here", nil); r.Status != 404 || r.errCode() != "route_not_found" {
		t.Fatalf("unknown API path = %d %s", r.Status, r.Raw)
	}
	for _, p := range []string{"/", "/admin/projects", "/m/", "/m/invitations/3"} {
		r := e.do("", "GET", p, nil)
		if r.Status != 200 || !strings.Contains(string(r.Raw), "<") {
			t.Errorf("%s = %d, want an HTML page", p, r.Status)
		}
	}
}

func TestLedgerReconcileRoute(t *testing.T) {
	e := newEnv(t)
	r := e.must(200, e.do(e.admin(), "GET", "/api/v1/ledger/reconcile", nil))
	if string(r.Raw) != `{"ok":true,"transactions":0,"imbalance":"0.00"}` {
		t.Fatalf("reconcile = %s", r.Raw)
	}
}
