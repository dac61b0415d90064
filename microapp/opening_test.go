package microapp_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/xuri/excelize/v2"

	"hehuo/internal/opening"
	"hehuo/internal/opening/openingtest"
)

// 期初数据导入 over HTTP: the template, the seed's 34 rows imported by a
// granted accountant (201, totals to the fen), the same file again (replay,
// nothing written), another file (409), a bad file (400 naming row and
// column, nothing written), a wrong role (403), an ungranted project (404).
func TestOpeningBalancesOverHTTP(t *testing.T) {
	e := newEnv(t)
	admin := e.admin()
	w := e.mustWorld(admin)
	acctID, acct := e.mustUser("期初会计", "accountant")
	e.must(200, e.do(admin, "PUT", "/api/v1/org-units/"+itoa(w.cityA)+"/grants",
		map[string]any{"grants": []map[string]any{{"role": "accountant", "user_ids": []int64{acctID}}}}))
	_, partnerTok := e.mustUser("合伙人甲")

	tpl := e.must(200, e.do(acct, "GET", "/api/v1/opening-balances/template.xlsx", nil))
	f, err := excelize.OpenReader(bytes.NewReader(tpl.Raw))
	if err != nil {
		t.Fatal(err)
	}
	if head, _ := f.GetRows("期初数据"); len(head) != 2 || len(head[0]) != len(opening.Columns) || head[0][1] != "钉钉账号" || head[0][7] != "状态" {
		t.Fatalf("template = %q", head)
	}

	rows, userIDs := openingtest.Users(t, e.db, openingtest.Seed())
	file := openingtest.XLSX(t, rows)
	path := "/api/v1/projects/" + itoa(w.projA) + "/opening-balances"

	// A bad file first: 400 import_invalid naming row and column, nothing written.
	bad := append([]openingtest.Row(nil), rows...)
	bad[4].Paid = "28894.001"
	before := fingerprint(t, e.db)
	r := e.uploadFile(acct, path, "bad.xlsx", openingtest.XLSX(t, bad))
	if r.Status != 400 || r.errCode() != "import_invalid" {
		t.Fatalf("bad file: %d %s", r.Status, r.Raw)
	}
	if d := r.Body["error"].(map[string]any)["details"].([]any); len(d) != 1 || d[0].(map[string]any)["row"] != float64(6) ||
		d[0].(map[string]any)["column"] != "事业合伙本金(已缴)" {
		t.Fatalf("details = %v", d)
	}
	if fingerprint(t, e.db) != before {
		t.Fatal("a refused import changed the database")
	}
	// Wrong role, ungranted project.
	if r := e.uploadFile(partnerTok, path, "a.xlsx", file); r.Status != 403 {
		t.Fatalf("partner: %d %s", r.Status, r.Raw)
	}
	if r := e.uploadFile(acct, "/api/v1/projects/"+itoa(w.projB)+"/opening-balances", "a.xlsx", file); r.Status != 404 {
		t.Fatalf("ungranted: %d %s", r.Status, r.Raw)
	}

	r = e.must(201, e.uploadFile(acct, path, "期初数据.xlsx", file))
	if r.Body["rows"] != float64(34) || r.Body["replayed"] != false || r.Body["file_name"] != "期初数据.xlsx" {
		t.Fatalf("import = %v", r.Body)
	}
	got := e.must(200, e.do(acct, "GET", path, nil))
	tot := got.Body["totals"].(map[string]any)
	items := got.Body["items"].([]any)
	if len(items) != 34 || tot["principal_paid"] != openingtest.SeedPaid || tot["interest"] != openingtest.SeedInterest {
		t.Fatalf("rows = %d totals = %v", len(items), tot)
	}
	if it := items[1].(map[string]any); it["name"] != "柏若川" || it["principal_paid"] != "288940.00" || it["interest"] != "-111573.50" ||
		it["flags"].(map[string]any)["left"] != true || it["flags"].(map[string]any)["exited"] != false {
		t.Fatalf("row 2 = %v", it)
	}

	// 我的跟投 of an opening partner (柏若川) shows what was paid, from the ledger.
	tok, _, err := e.deps.Auth.SignInUser(context.Background(), userIDs[1])
	if err != nil {
		t.Fatal(err)
	}
	h := e.must(200, e.do(tok, "GET", "/api/v1/me/holdings", nil)).Body["items"].([]any)
	if len(h) != 1 || h[0].(map[string]any)["paid"] != "288940.00" || h[0].(map[string]any)["principal"] != "288940.00" ||
		h[0].(map[string]any)["returned"] != "0.00" {
		t.Fatalf("holdings = %v", h)
	}

	// The same file again: the first import, nothing written.
	before = fingerprint(t, e.db)
	again := e.must(201, e.uploadFile(acct, path, "again.xlsx", file))
	if again.Body["replayed"] != true || again.Body["id"] != r.Body["id"] {
		t.Fatalf("again = %v", again.Body)
	}
	if fingerprint(t, e.db) != before {
		t.Fatal("a replayed import changed the database")
	}
	// Another file: 409 opening_exists.
	if r := e.uploadFile(acct, path, "other.xlsx", openingtest.XLSX(t, rows[:2])); r.Status != 409 || r.errCode() != "opening_exists" {
		t.Fatalf("other file: %d %s", r.Status, r.Raw)
	}
	// A project without an import answers null and no rows.
	empty := e.must(200, e.do(admin, "GET", "/api/v1/projects/"+itoa(w.projB)+"/opening-balances", nil))
	if empty.Body["import"] != nil || len(empty.Body["items"].([]any)) != 0 {
		t.Fatalf("empty = %v", empty.Body)
	}
}
