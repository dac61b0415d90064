package microapp_test

import (
	"testing"

	"hehuo/internal/holding/holdingtest"
)

// 我的跟投: a partner reads only their own stakes, by partners.id, with the
// principal of approved rounds and what was paid, to the fen; someone never
// invited gets an empty list, not an error.
func TestMyHoldings(t *testing.T) {
	e := newEnv(t)
	w := e.mustWorld(e.admin())
	meID, me := e.mustUser("张三")
	otherID, other := e.mustUser("李四")
	_, stranger := e.mustUser("王五")

	pm, po := holdingtest.Partner(t, e.db, meID), holdingtest.Partner(t, e.db, otherID)
	holdingtest.Round(t, e.db, w.projA, "approved", map[int64]string{pm: "297143", po: "500000"})
	holdingtest.Round(t, e.db, w.projB, "submitted", map[int64]string{pm: "300000"}) // not approved: nothing yet
	holdingtest.Pay(t, e.db, w.projA, pm, "100000.50")

	got := e.must(200, e.do(me, "GET", "/api/v1/me/holdings", nil))
	items, _ := got.Body["items"].([]any)
	if len(items) != 1 {
		t.Fatalf("张三's holdings: %s, want one project", got.Raw)
	}
	h := items[0].(map[string]any)
	want := map[string]any{"project_id": float64(w.projA), "principal": "297143.00", "paid": "100000.50", "returned": "0.00", "profit_received": "0.00"}
	for k, v := range want {
		if h[k] != v {
			t.Errorf("%s = %v, want %v (%s)", k, h[k], v, got.Raw)
		}
	}
	if h["project_name"] == "" {
		t.Errorf("no project name: %s", got.Raw)
	}

	got = e.must(200, e.do(other, "GET", "/api/v1/me/holdings", nil))
	if items, _ := got.Body["items"].([]any); len(items) != 1 || items[0].(map[string]any)["principal"] != "500000.00" {
		t.Fatalf("李四's holdings: %s, want only his 500000.00", got.Raw)
	}
	got = e.must(200, e.do(stranger, "GET", "/api/v1/me/holdings", nil))
	if items, ok := got.Body["items"].([]any); !ok || len(items) != 0 {
		t.Fatalf("never invited: %s, want an empty list", got.Raw)
	}
}
