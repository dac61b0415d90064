package microapp_test

import (
	"encoding"
	"encoding/json"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"hehuo/microapp"
)

// probes are the hostile values the sweep sends in every parameter and field:
// a NUL byte, a number beyond int64, a negative number, an emoji and an
// exponent.
var probes = []string{"\x00", "99999999999999999999", "-1", "😀", "1e5"}

// leaf is one scalar field of a request body: its JSON path and Go type.
type leaf struct {
	path []string
	typ  reflect.Type
}

var (
	jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// leaves lists the scalar fields of t, following nested structs, pointers,
// slices (one element) and maps (one key "k").
func leaves(t reflect.Type, prefix []string, depth int) []leaf {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if depth > 6 {
		return nil
	}
	if reflect.PointerTo(t).Implements(jsonUnmarshaler) || reflect.PointerTo(t).Implements(textUnmarshaler) {
		return []leaf{{prefix, t}}
	}
	switch t.Kind() {
	case reflect.Struct:
		var out []leaf
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "-" {
				continue
			}
			if f.Anonymous && name == "" {
				out = append(out, leaves(f.Type, prefix, depth+1)...)
				continue
			}
			if name == "" {
				name = f.Name
			}
			out = append(out, leaves(f.Type, append(append([]string{}, prefix...), name), depth+1)...)
		}
		return out
	case reflect.Slice, reflect.Array:
		return leaves(t.Elem(), append(append([]string{}, prefix...), "[]"), depth+1)
	case reflect.Map:
		return leaves(t.Elem(), append(append([]string{}, prefix...), "k"), depth+1)
	}
	return []leaf{{prefix, t}}
}

// plausible is a value of the leaf's type that passes most checks, so a probe
// in one field is not refused only because its neighbours are empty.
func plausible(l leaf) any {
	name := ""
	if len(l.path) > 0 {
		name = l.path[len(l.path)-1]
	}
	switch l.typ.Kind() {
	case reflect.Bool:
		return true
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Float32, reflect.Float64:
		return 1
	}
	switch {
	case l.typ.Name() == "Date" || strings.Contains(name, "date") || strings.HasSuffix(name, "_on") || strings.Contains(name, "deadline"):
		return time.Now().Format("2006-01-02")
	case l.typ.Name() == "Amount" || strings.Contains(name, "amount") || strings.Contains(name, "ratio") || strings.Contains(name, "rate") ||
		strings.Contains(name, "area") || strings.Contains(name, "capital") || strings.Contains(name, "value") ||
		strings.Contains(name, "margin") || strings.Contains(name, "irr") || strings.Contains(name, "revenue") || strings.Contains(name, "profit"):
		return "1"
	}
	return "测试"
}

// probeValue is probe as the leaf would carry it: numbers as bare JSON
// numbers when the probe is numeric, everything else as a string.
func probeValue(l leaf, probe string) any {
	switch l.typ.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Float32, reflect.Float64:
		if json.Valid([]byte(probe)) {
			return json.RawMessage(probe)
		}
	}
	return probe
}

// set puts v at path in the JSON tree root (maps and one-element arrays).
func set(root map[string]any, path []string, v any) {
	var cur any = root
	for i, k := range path {
		last := i == len(path)-1
		m := cur.(map[string]any)
		if last {
			m[k] = v
			return
		}
		next := path[i+1]
		if next == "[]" {
			arr, _ := m[k].([]any)
			if arr == nil {
				arr = []any{nil}
				m[k] = arr
			}
			if i+1 == len(path)-1 {
				arr[0] = v
				return
			}
			el, _ := arr[0].(map[string]any)
			if el == nil {
				el = map[string]any{}
				arr[0] = el
			}
			// Skip the "[]" step.
			set(el, path[i+2:], v)
			return
		}
		child, _ := m[k].(map[string]any)
		if child == nil {
			child = map[string]any{}
			m[k] = child
		}
		cur = child
	}
}

// bodies builds, for every leaf of the request type and every probe, a body
// holding only the probe and one with plausible values everywhere else.
func bodies(req any) []any {
	if req == nil {
		return nil
	}
	ls := leaves(reflect.TypeOf(req), nil, 0)
	if len(ls) == 1 && len(ls[0].path) == 0 || len(ls) == 0 {
		return nil
	}
	var out []any
	for _, l := range ls {
		if len(l.path) == 0 || l.path[0] == "[]" {
			continue
		}
		for _, p := range probes {
			alone := map[string]any{}
			set(alone, l.path, probeValue(l, p))
			full := map[string]any{}
			for _, o := range ls {
				if len(o.path) > 0 && o.path[0] != "[]" {
					set(full, o.path, plausible(o))
				}
			}
			set(full, l.path, probeValue(l, p))
			out = append(out, alone, full)
		}
	}
	return out
}

// Must show (issue 9): no input reaches a 5xx. Every registered route gets a
// NUL byte, an overlong number, a negative number, an emoji and an exponent
// in every path parameter, every documented query parameter and every field
// of its request body, sent by a caller allowed to reach the handler.
func TestNoInputAnswers5xx(t *testing.T) {
	e := newEnv(t)
	admin := e.admin()
	w := e.mustWorld(admin)
	noticeID := e.mustNotice("sweep", "dt_sweep")
	partnerID, partner := e.mustUser("合伙人扫")
	_, staff := e.mustUser("全能扫", "sysadmin", "bizadmin", "accountant")
	roundID, invitationID := e.mustRoundFixture(w.projA, partnerID)
	e.mustAllocationFixture(w.projA, roundID)
	processID, attachmentID := e.mustProcessFixture(w.projA)
	adjustmentID := e.mustAdjustmentFixture(w.projA)
	distributionID := e.mustDistributionFixture(w.projA)

	real := func(r microapp.Route) string {
		p := fillProcessPath(fillRoundPath(fillNotifyPath(fillPath(r, w.projA, w.cityA, partnerID), noticeID), roundID, invitationID), processID, attachmentID)
		p = fillDistributionPath(fillAdjustmentPath(p, adjustmentID), distributionID)
		p = strings.NewReplacer(":partner_id", itoa(partnerID), ":settlement_id", "1", ":rate_id", "1", ":day", "2026-01-05").Replace(p)
		return p
	}
	sent := 0
	check := func(token, method, path string, body any, what string) {
		t.Helper()
		sent++
		got := e.do(token, method, path, body)
		if got.Status >= 500 {
			b, _ := json.Marshal(body)
			t.Errorf("%s %s (%s) body %s: %d %s", method, path, what, b, got.Status, got.Raw)
		}
	}
	start := time.Now()
	for _, r := range e.server.Routes() {
		if r.Path == "/api/v1/auth/logout" {
			continue // it would end the session the sweep runs under
		}
		token := staff
		if strings.HasPrefix(r.Path, "/api/v1/me") {
			token = partner
		}
		base := real(r)
		segs := strings.Split(r.Path, "/")
		for i, s := range segs {
			if !strings.HasPrefix(s, ":") {
				continue
			}
			for _, p := range probes {
				filled := strings.Split(strings.SplitN(base, "?", 2)[0], "/")
				filled[i] = url.PathEscape(p)
				check(token, r.Method, strings.Join(filled, "/"), map[string]any{}, "path "+s)
			}
		}
		for _, q := range r.Query {
			for _, p := range probes {
				sep := "?"
				if strings.Contains(base, "?") {
					sep = "&"
				}
				check(token, r.Method, base+sep+q.Name+"="+url.QueryEscape(p), nil, "query "+q.Name)
			}
		}
		if r.Method != http.MethodGet {
			for _, b := range bodies(r.Request) {
				check(token, r.Method, base, b, "body")
			}
		}
	}
	// Page numbers far beyond any result must not reach Postgres as a negative offset.
	for _, path := range []string{"/api/v1/audit-log?page=99999999999999999999", "/api/v1/audit-log?page=9223372036854775807&page_size=100"} {
		check(admin, "GET", path, nil, "page")
	}
	t.Logf("%d requests in %s", sent, time.Since(start))
	if sent < 500 {
		t.Fatalf("only %d requests sent; the sweep is not walking the routes", sent)
	}
}
