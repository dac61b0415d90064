package microapp_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"unicode"

	"github.com/shopspring/decimal"

	"github.com/xuri/excelize/v2"

	"hehuo/internal/distribution"
)

// seedLine is a line of the seed's 34-line table (如何进行手动-非测算-利润分配):
// the name, its 离/退 flags, A, B, D (= E, C empty) and the 第1次利润 F.
type seedLine struct {
	name         string
	left, exited bool
	a, b, d, f   string
}

// seedTable is seed34 (distributions_seed_test.go) as this test reads it:
// a zero F is the seed's blank cell.
var seedTable = func() []seedLine {
	out := make([]seedLine, len(seed34))
	for i, l := range seed34 {
		f := l.f
		if f == "0.00" {
			f = ""
		}
		out[i] = seedLine{name: l.name, left: l.left, exited: l.exited, a: l.a, b: l.b, d: l.d, f: f}
	}
	return out
}()

// seedBatches writes, as the batch service and the approval would leave
// them, the seed's approved principal batch (100%, 分配日期 2020-06-19, C
// empty) over 34 invented partners and a draft first profit batch
// (2020-01-01) with F at 0, and returns the two batches' ids and the
// partners' ids in 序号 order.
func (e *env) seedBatches(projectID int64) (principal, profit int64, partners []int64) {
	e.t.Helper()
	partners = make([]int64, len(seedTable))
	for i, l := range seedTable {
		var user int64
		if err := e.db.Get(&user, `INSERT INTO users (name, dingtalk_userid) VALUES ($1, $2) RETURNING id`,
			l.name, fmt.Sprintf("seed%02d", i+1)); err != nil {
			e.t.Fatal(err)
		}
		var exited, left *string
		if l.exited {
			d := "2020-03-01"
			exited = &d
		}
		if l.left {
			d := "2020-02-01"
			left = &d
		}
		if err := e.db.Get(&partners[i], `INSERT INTO partners (kind, user_id, name, exited_on, left_on)
			VALUES ('employee', $1, $2, $3, $4) RETURNING id`, user, l.name, exited, left); err != nil {
			e.t.Fatal(err)
		}
	}
	if err := e.db.Get(&principal, `INSERT INTO distribution_batches (project_id, kind, seq, status, distribution_date, record_date,
		return_ratio, created_by_name) VALUES ($1, 'principal', 1, 'approved', '2020-06-19', '2020-06-19', 1, '环沪会计') RETURNING id`, projectID); err != nil {
		e.t.Fatal(err)
	}
	if err := e.db.Get(&profit, `INSERT INTO distribution_batches (project_id, kind, seq, status, distribution_date, record_date,
		amount, amount_entered, created_by_name) VALUES ($1, 'profit', 1, 'draft', '2020-01-01', '2020-01-01', 131980.42, true, '环沪会计')
		RETURNING id`, projectID); err != nil {
		e.t.Fatal(err)
	}
	for i, l := range seedTable {
		e.db.MustExec(`INSERT INTO distribution_lines (batch_id, partner_id, user_id, payee_partner_id, seq, a, b, d, e, calc_d, calc_e)
			SELECT $1, p.id, p.user_id, p.id, $3, $4, $5, $6, $6, $6, $6 FROM partners p WHERE p.id = $2`,
			principal, partners[i], i+1, l.a, l.b, l.d)
		e.db.MustExec(`INSERT INTO distribution_lines (batch_id, partner_id, user_id, payee_partner_id, seq)
			SELECT $1, p.id, p.user_id, p.id, $3 FROM partners p WHERE p.id = $2`, profit, partners[i], i+1)
	}
	return principal, profit, partners
}

// mustManualBatch stores an unlocked draft first profit batch of the
// project with a line (F 0) for each partner, and returns its id.
func (e *env) mustManualBatch(projectID int64, partners ...int64) int64 {
	e.t.Helper()
	var id int64
	if err := e.db.Get(&id, `INSERT INTO distribution_batches (project_id, kind, seq, status, distribution_date, record_date, unlocked, created_by_name)
		VALUES ($1, 'profit', (SELECT coalesce(max(seq), 0) + 1 FROM distribution_batches WHERE project_id = $1 AND kind = 'profit'), 'draft', '2024-06-30', '2024-06-30', true, '测试') RETURNING id`, projectID); err != nil {
		e.t.Fatal(err)
	}
	for i, p := range partners {
		e.db.MustExec(`INSERT INTO distribution_lines (batch_id, partner_id, user_id, payee_partner_id, seq)
			SELECT $1, p.id, p.user_id, p.id, $3 FROM partners p WHERE p.id = $2`, id, p, i+1)
	}
	return id
}

// uploadWithVersion uploads an import with the batch version it was exported from.
func (e *env) uploadWithVersion(token, path string, content []byte, version string) response {
	e.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, _ := mw.CreateFormFile("file", "import.xlsx")
	fw.Write(content)
	mw.WriteField("version", version)
	mw.Close()
	req, _ := http.NewRequest("POST", e.http.URL+path, &buf)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", mw.FormDataContentType())
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

// xlsxRows reads the first sheet of a workbook as its cells display.
func xlsxRows(t *testing.T, b []byte) [][]string {
	t.Helper()
	f, err := excelize.OpenReader(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("not an xlsx: %v (%.200s)", err, b)
	}
	defer f.Close()
	rows, err := f.GetRows(f.GetSheetList()[0])
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// editTemplate sets cells of the template's first sheet (cell → value) and returns the workbook.
func editTemplate(t *testing.T, tpl []byte, cells map[string]any) []byte {
	t.Helper()
	f, err := excelize.OpenReader(bytes.NewReader(tpl))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sh := f.GetSheetList()[0]
	for c, v := range cells {
		if err := f.SetCellValue(sh, c, v); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// decimalSum is Σ of amounts written as strings ("" is 0), with two decimals.
func decimalSum(t *testing.T, amounts ...string) string {
	t.Helper()
	sum := decimal.Zero
	for _, a := range amounts {
		if a != "" {
			sum = sum.Add(decimal.RequireFromString(a))
		}
	}
	return sum.StringFixed(2)
}

// display is an amount as the seed's tables write it: 8,570,917.00.
func display(s string) string {
	if s == "" {
		s = "0.00"
	}
	neg := strings.HasPrefix(s, "-")
	whole, frac, _ := strings.Cut(strings.TrimPrefix(s, "-"), ".")
	var b strings.Builder
	for i, c := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	out := b.String() + "." + frac
	if neg {
		out = "-" + out
	}
	return out
}

// Must show (R8): the seed's manual first profit distribution. The
// accountant exports the template of the unlocked batch, types the seed's F
// column (柏若川 111,573.50, 冯予安 10,199.50, 高念慈 10,207.42, the others 0) and
// imports it: the lines become manual values marked with who and when, the
// calculation untouched, the batch back to draft. The calculation sheet
// (置业集团_环沪城市公司_泰安-锦艺誉峯_利润分配计算表.xlsx) then reads exactly like the
// seed, line by line and in its 合计 row: A 8,570,917.00, B -1,119,979.05,
// D = E 7,450,937.95, F 131,980.42, 分配合计 7,582,918.37.
func TestDistributionManualImportAndSheetLikeTheSeed(t *testing.T) {
	e := newEnv(t)
	admin := e.admin()
	w := e.mustWorld(admin)
	e.db.MustExec(`UPDATE projects SET name = '泰安-锦艺誉峯' WHERE id = $1`, w.projA)
	acctID, acct := e.mustUser("环沪会计", "accountant")
	e.must(200, e.do(admin, "PUT", "/api/v1/org-units/"+itoa(w.cityA)+"/grants",
		map[string]any{"grants": []map[string]any{{"role": "accountant", "user_ids": []int64{acctID}}}}))
	principal, batch, partners := e.seedBatches(w.projA)
	base := "/api/v1/distributions/" + itoa(batch)

	// The template: the batch's lines, F prefilled with the current 0.00.
	tplRes := e.must(200, e.do(acct, "GET", base+"/template.xlsx", nil))
	tpl := tplRes.Raw
	rows := xlsxRows(t, tpl)
	wantHead := distribution.ImportColumns(distribution.KindProfit, 1)
	if strings.Join(rows[0], "|") != strings.Join(wantHead, "|") || len(rows) != 35 {
		t.Fatalf("template header %q, %d rows", rows[0], len(rows))
	}
	if rows[2][1] != itoa(partners[1]) || rows[2][2] != seedTable[1].name || rows[2][3] != "seed02" || rows[2][4] != "0.00" {
		t.Fatalf("template row 3 = %q", rows[2])
	}
	good := editTemplate(t, tpl, map[string]any{"E3": 111573.50, "E10": 10199.50, "E11": 10207.42})

	// Locked until the business admin unlocks it (解锁编辑): 422, nothing read.
	locked := fingerprint(t, e.db)
	e.refused(422, "distribution_locked", e.upload(acct, base+"/import", good))
	if fingerprint(t, e.db) != locked {
		t.Fatal("an import into a locked batch changed the database")
	}
	biz := e.signIn("hhadmin", bizadminPassword)
	if u := e.must(200, e.do(biz, "POST", base+"/unlock", map[string]any{"version": 1})).Body; u["unlocked"] != true || str(u["title"]) != "第1次利润分配(手工)" {
		t.Fatalf("unlocked: %v %v", u["unlocked"], u["title"])
	}

	// Bad files change nothing, each refused naming its row and column.
	before := fingerprint(t, e.db)
	bad := []struct {
		name   string
		file   []byte
		status int
		code   string
		row    int
		column string
	}{
		{"unknown partner", editTemplate(t, good, map[string]any{"B5": 999999}), 400, "import_invalid", 5, "合伙人ID"},
		{"a partner id that is not a number", editTemplate(t, good, map[string]any{"B5": "abc"}), 400, "import_invalid", 5, "合伙人ID"},
		{"a name that does not match", editTemplate(t, good, map[string]any{"C6": "张三"}), 400, "import_invalid", 6, "姓名"},
		{"a bad cell", editTemplate(t, good, map[string]any{"E7": "一万"}), 400, "import_invalid", 7, wantHead[4]},
		{"three decimals", editTemplate(t, good, map[string]any{"E8": 1.234}), 400, "import_invalid", 8, wantHead[4]},
		{"negative", editTemplate(t, good, map[string]any{"E9": -5}), 400, "import_invalid", 9, wantHead[4]},
		{"duplicate partner", editTemplate(t, good, map[string]any{"B12": partners[0], "C12": seedTable[0].name}), 400, "import_invalid", 12, "合伙人ID"},
		{"missing header", editTemplate(t, good, map[string]any{"E1": "金额"}), 400, "import_invalid", 1, wantHead[4]},
		{"not an xlsx", []byte("这不是 Excel 文件"), 400, "import_not_xlsx", 0, ""},
		{"empty file", []byte{}, 400, "import_not_xlsx", 0, ""},
	}
	for _, c := range bad {
		r := e.upload(acct, base+"/import", c.file)
		if r.Status != c.status || r.errCode() != c.code {
			t.Errorf("%s: %d %s, want %d %s", c.name, r.Status, r.Raw, c.status, c.code)
			continue
		}
		msg, _ := r.Body["error"].(map[string]any)["message"].(string)
		if !strings.ContainsFunc(msg, func(r rune) bool { return unicode.Is(unicode.Han, r) }) {
			t.Errorf("%s: message %q is not Chinese", c.name, msg)
		}
		if c.row > 0 {
			details, _ := r.Body["error"].(map[string]any)["details"].([]any)
			if len(details) != 1 {
				t.Errorf("%s: details %v, want one error", c.name, details)
				continue
			}
			d := details[0].(map[string]any)
			if num(d["row"]) != int64(c.row) || str(d["column"]) != c.column || str(d["message"]) == "" {
				t.Errorf("%s: error at %v, want row %d column %s", c.name, d, c.row, c.column)
			}
		}
	}
	if fingerprint(t, e.db) != before {
		t.Fatal("a refused import changed the database")
	}
	// Only an accountant imports; a partner's session never does.
	_, viewer := e.mustUser("审计", "auditor")
	if r := e.upload(viewer, base+"/import", good); r.Status != 403 {
		t.Fatalf("auditor import: %d %s", r.Status, r.Raw)
	}

	// The seed's F column through 导入.
	b := e.must(200, e.upload(acct, base+"/import", good)).Body
	if str(b["status"]) != "draft" || num(b["version"]) != 3 || b["unlocked"] != true {
		t.Fatalf("batch after the import: status %v version %v", b["status"], b["version"])
	}
	lines := b["lines"].([]any)
	for i, l := range lines {
		line := l.(map[string]any)
		want := seedTable[i].f
		if want == "" {
			want = "0.00"
		}
		if str(line["f"]) != want || line["manual"] != true || str(line["manual_by_name"]) != "环沪会计" || line["manual_at"] == nil ||
			line["calc_f"] != nil {
			t.Errorf("line %d after the import: f %v manual %v by %v calc_f %v", i+1, line["f"], line["manual"], line["manual_by_name"], line["calc_f"])
		}
	}
	if f := str(b["totals"].(map[string]any)["f"]); f != "131980.42" {
		t.Fatalf("Σ F = %s, want 131980.42", f)
	}
	// An import from a template of an earlier version: 409, nothing changed.
	stale := fingerprint(t, e.db)
	e.refused(409, "stale_version", e.uploadWithVersion(acct, base+"/import", good, "2"))
	if fingerprint(t, e.db) != stale {
		t.Fatal("a stale import changed the database")
	}
	var entries int
	e.db.Get(&entries, `SELECT count(*) FROM audit_log WHERE action = 'distribution.import' AND entity_id = $1`, batch)
	if entries != 1 {
		t.Fatalf("%d audit entries for the import", entries)
	}

	// The calculation sheet reads like the seed.
	res := e.must(200, e.do(acct, "GET", base+"/export.xlsx", nil))
	wantName := url.PathEscape("置业集团_环沪城市公司_泰安-锦艺誉峯_利润分配计算表.xlsx")
	if cd := res.Header.Get("Content-Disposition"); !strings.Contains(cd, wantName) {
		t.Fatalf("Content-Disposition %q", cd)
	}
	sheet := xlsxRows(t, res.Raw)
	head := sheet[distribution.SheetFirstRow-3]
	if strings.Join(head, "|") != "序号|姓名|事业合伙本金|资金利息|其它|其它说明|本金分配 不含其它|本金分配 含其它|第1次利润|分配合计 不含其它|手工" {
		t.Fatalf("sheet header %q", head)
	}
	if !strings.Contains(strings.Join(sheet[1], "|"), "第1次利润分配(手工)|分配日期|2020-01-01") {
		t.Fatalf("sheet figures %q", sheet[1])
	}
	cell := func(r []string, i int) string {
		if i < len(r) {
			return r[i]
		}
		return ""
	}
	for i, l := range seedTable {
		r := sheet[distribution.SheetFirstRow-1+i]
		name := l.name
		if l.left {
			name += " 离"
		}
		if l.exited {
			name += " 退"
		}
		total := display(decimalSum(t, l.d, l.f))
		got := []string{cell(r, 0), cell(r, 1), cell(r, 2), cell(r, 3), cell(r, 4), cell(r, 6), cell(r, 7), cell(r, 8), cell(r, 9)}
		want := []string{itoa(int64(i + 1)), name, display(l.a), display(l.b), "0.00", display(l.d), display(l.d), display(l.f), total}
		if strings.Join(got, "|") != strings.Join(want, "|") || !strings.HasPrefix(cell(r, 10), "环沪会计 ") {
			t.Errorf("sheet row %d = %q, want %q", i+1, r, want)
		}
	}
	sum := sheet[distribution.SheetFirstRow-1+len(seedTable)]
	got := []string{cell(sum, 1), cell(sum, 2), cell(sum, 3), cell(sum, 6), cell(sum, 7), cell(sum, 8), cell(sum, 9)}
	want := []string{"合计", "8,570,917.00", "-1,119,979.05", "7,450,937.95", "7,450,937.95", "131,980.42", "7,582,918.37"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("合计 row %q, want %q", sum, want)
	}

	// The principal batch's own sheet: its lines, 分配合计 = D, no F yet.
	res = e.must(200, e.do(acct, "GET", "/api/v1/distributions/"+itoa(principal)+"/export.xlsx", nil))
	if cd := res.Header.Get("Content-Disposition"); !strings.Contains(cd, url.PathEscape("泰安-锦艺誉峯_本金分配计算表.xlsx")) {
		t.Fatalf("Content-Disposition %q", cd)
	}
	sheet = xlsxRows(t, res.Raw)
	if head := strings.Join(sheet[distribution.SheetFirstRow-3], "|"); head != "序号|姓名|事业合伙本金|资金利息|其它|其它说明|本金分配 不含其它|本金分配 含其它|分配合计 不含其它|手工" {
		t.Fatalf("principal sheet header %s", head)
	}
	sum = sheet[distribution.SheetFirstRow-1+len(seedTable)]
	if got := strings.Join(sum[1:], "|"); got != "合计|8,570,917.00|-1,119,979.05|0.00||7,450,937.95|7,450,937.95|7,450,937.95" {
		t.Fatalf("principal 合计 row %s", got)
	}
	if r := sheet[distribution.SheetFirstRow]; cell(r, 1) != seedTable[1].name+" 离" || cell(r, 8) != "177,366.50" || cell(r, 9) != "" {
		t.Fatalf("principal row 2 %q", r)
	}

	// Another city's accountant does not see the batch (404).
	otherID, other := e.mustUser("昆明会计", "accountant")
	e.must(200, e.do(admin, "PUT", "/api/v1/org-units/"+itoa(w.cityB)+"/grants",
		map[string]any{"grants": []map[string]any{{"role": "accountant", "user_ids": []int64{otherID}}}}))
	e.refused(404, "distribution_not_found", e.do(other, "GET", base+"/export.xlsx", nil))
	e.refused(404, "distribution_not_found", e.upload(other, base+"/import", good))
}
