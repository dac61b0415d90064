package microapp_test

import (
	"strconv"
	"strings"
	"testing"
)

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// Every API route registered with the router must be in the OpenAPI document.
func TestOpenAPIDocumentsEveryRoute(t *testing.T) {
	e := newEnv(t)
	doc := e.must(200, e.do("", "GET", "/api/v1/openapi.json", nil)).Body
	if doc["openapi"] != "3.0.3" {
		t.Fatalf("openapi = %v", doc["openapi"])
	}
	paths := doc["paths"].(map[string]any)
	registered := 0
	for _, r := range e.server.Engine().Routes() {
		if !strings.HasPrefix(r.Path, "/api/v1/") || r.Path == "/api/v1/openapi.json" {
			continue
		}
		registered++
		path := r.Path
		for _, part := range strings.Split(path, "/") {
			if strings.HasPrefix(part, ":") {
				path = strings.Replace(path, part, "{"+part[1:]+"}", 1)
			}
		}
		ops, ok := paths[path].(map[string]any)
		if !ok {
			t.Errorf("%s %s is not documented", r.Method, r.Path)
			continue
		}
		op, ok := ops[strings.ToLower(r.Method)].(map[string]any)
		if !ok {
			t.Errorf("%s %s is not documented", r.Method, r.Path)
			continue
		}
		if op["summary"] == "" {
			t.Errorf("%s %s has no summary", r.Method, r.Path)
		}
	}
	if registered < 20 {
		t.Fatalf("only %d API routes registered; the walk is broken", registered)
	}
}
