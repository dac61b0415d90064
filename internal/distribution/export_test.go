package distribution

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
)

// workbookRows reads a workbook's first sheet as its cells display.
func workbookRows(t *testing.T, b []byte) [][]string {
	t.Helper()
	f, err := excelize.OpenReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := f.GetRows(f.GetSheetList()[0])
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// setCells writes cells of a workbook's first sheet and returns it.
func setCells(t *testing.T, b []byte, cells map[string]any) []byte {
	t.Helper()
	f, err := excelize.OpenReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for c, v := range cells {
		if err := f.SetCellValue(f.GetSheetList()[0], c, v); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// R8 on a batch the service made: a profit batch of R3's four partners
// entered by hand. Unlocked by the business admin, its template comes back
// with F typed for 甲 and 乙 (乙 written with the sheet's flags); the import
// sets those and leaves the rest as they were, marked manual; a partner
// importing into a batch holding their own line is refused (403 own_line)
// and nothing changes. After the profit batch is approved, the second one's
// sheet shows both F columns and 分配合计 = F1 + F2 per line.
func TestImportIntoAProfitBatchAndItsSheet(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	b, err := w.s.CreateBatch(ctx, w.acct, w.project, CreateInput{Kind: "profit", BatchFields: BatchFields{
		DistributionDate: str("2026-06-30"), RecordDate: str("2026-06-20"), Amount: str("1000.00")}})
	if err != nil {
		t.Fatal(err)
	}
	w.d.MustExec(`UPDATE partners SET left_on = '2026-01-01' WHERE id = $1`, w.parts[1])
	_, tpl, err := w.s.Template(ctx, b.ID)
	if err != nil {
		t.Fatal(err)
	}
	before := w.fingerprint(t)
	_, err = w.s.Import(ctx, w.acct, b.ID, 0, bytes.NewReader(tpl))
	w.refused(t, "distribution_locked", err, before)
	if b, err = w.s.Unlock(ctx, w.bizadmin, b.ID, VersionInput{Version: b.Version}); err != nil {
		t.Fatal(err)
	}
	rows := workbookRows(t, tpl)
	if len(rows) != 5 || rows[1][2] != "甲" || rows[1][4] != "0.00" {
		t.Fatalf("template %q", rows)
	}
	file := setCells(t, tpl, map[string]any{"E2": 600, "E3": "400.00", "C3": "乙 离"})

	own := w.acct
	own.ID = &w.users[2]
	before = w.fingerprint(t)
	_, err = w.s.Import(ctx, own, b.ID, 0, bytes.NewReader(file))
	w.refused(t, "own_line", err, before)

	got, err := w.s.Import(ctx, w.acct, b.ID, b.Version, bytes.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	wantF := []string{"600.00", "400.00", "0.00", "0.00"}
	for i, l := range got.Lines {
		if l.F.String() != wantF[i] || !l.Manual || l.ManualByName != "会计" || l.ManualAt == nil || l.CalcF != nil {
			t.Errorf("line %d: f %s manual %v by %q", i+1, l.F, l.Manual, l.ManualByName)
		}
	}
	if got.Totals.F.String() != "1000.00" || got.Status != StatusDraft || got.Version != b.Version+1 {
		t.Fatalf("batch: Σ F %s, %s, version %d", got.Totals.F, got.Status, got.Version)
	}

	// A partial file leaves the other lines as they are.
	partial := setCells(t, tpl, map[string]any{"E4": 50})
	f, err := excelize.OpenReader(bytes.NewReader(partial))
	if err != nil {
		t.Fatal(err)
	}
	sh := f.GetSheetList()[0]
	for _, r := range []int{5, 3, 2} { // only 丙's row stays
		if err := f.RemoveRow(sh, r); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if got, err = w.s.Import(ctx, w.acct, b.ID, 0, &buf); err != nil {
		t.Fatal(err)
	}
	if got.Lines[0].F.String() != "600.00" || got.Lines[2].F.String() != "50.00" || got.Totals.F.String() != "1050.00" {
		t.Fatalf("after a partial import: %s %s Σ %s", got.Lines[0].F, got.Lines[2].F, got.Totals.F)
	}

	// Approved (the effect's work), then a second profit batch entered by hand.
	w.d.MustExec(`UPDATE distribution_batches SET status = 'approved' WHERE id = $1`, b.ID)
	second, err := w.s.CreateBatch(ctx, w.acct, w.project, CreateInput{Kind: "profit", BatchFields: BatchFields{
		DistributionDate: str("2026-12-31"), RecordDate: str("2026-12-20"), Amount: str("100.00")}})
	if err != nil {
		t.Fatal(err)
	}
	w.d.MustExec(`UPDATE distribution_lines SET f = 25 WHERE batch_id = $1`, second.ID)
	name, sheet, err := w.s.Sheet(ctx, w.d, second.ID)
	if err != nil {
		t.Fatal(err)
	}
	if name != "集团-泰安城市公司_泰安城市公司_泰安-锦艺誉峯_利润分配计算表.xlsx" {
		t.Fatalf("file name %s", name)
	}
	rows = workbookRows(t, sheet)
	if h := strings.Join(rows[SheetFirstRow-3], "|"); !strings.HasSuffix(h, "|第1次利润|第2次利润|分配合计 不含其它|手工") {
		t.Fatalf("header %s", h)
	}
	if r := strings.Join(rows[SheetFirstRow][1:], "|"); r != "乙 离|0.00|0.00|0.00||0.00|0.00|400.00|25.00|425.00" {
		t.Fatalf("乙's row %s", r)
	}
	if r := strings.Join(rows[SheetFirstRow+3][1:], "|"); r != "合计|0.00|0.00|0.00||0.00|0.00|1,050.00|100.00|1,150.00" {
		t.Fatalf("合计 row %s", r)
	}
}
