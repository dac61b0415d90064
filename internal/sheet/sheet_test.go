package sheet_test

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"fmt"
	"io"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"hehuo/internal/apperr"
	"hehuo/internal/sheet"
)

var columns = []string{"工号", "姓名"}

// workbook writes an .xlsx whose first sheet holds rows (row 1 first).
func workbook(t *testing.T, rows map[int][]any) []byte {
	t.Helper()
	f := excelize.NewFile()
	for n, r := range rows {
		if err := f.SetSheetRow("Sheet1", fmt.Sprintf("A%d", n), &r); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func code(err error) string {
	if e := apperr.As(err); e != nil {
		return e.Code
	}
	return fmt.Sprint(err)
}

func TestReadKeepsRowNumbersAndDropsTrailingEmptyRows(t *testing.T) {
	b := workbook(t, map[int][]any{1: {"工号", "姓名"}, 2: {"E1", "甲"}, 4: {"E3", "丙"}, 6: {" ", ""}})
	rows, err := sheet.Read(bytes.NewReader(b), sheet.MaxFileSize, columns, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 || rows[0][0] != "E1" || rows[1] != nil || rows[2][1] != "丙" {
		t.Fatalf("rows = %q", rows)
	}
}

func TestReadRefusesBadInput(t *testing.T) {
	rows := func(n int) map[int][]any {
		m := map[int][]any{1: {"工号", "姓名"}}
		for i := range n {
			m[i+2] = []any{fmt.Sprint("E", i), "某"}
		}
		return m
	}
	tests := []struct {
		name    string
		content []byte
		code    string
	}{
		{"not a zip", []byte("hello"), "import_not_xlsx"},
		{"wrong header", workbook(t, map[int][]any{1: {"姓名", "工号"}, 2: {"a", "b"}}), "import_invalid"},
		{"no data rows", workbook(t, rows(0)), "import_empty"},
		{"one row over the limit", workbook(t, rows(6)), "import_too_large"},
		{"over the size", bytes.Repeat([]byte("x"), sheet.MaxFileSize+1), "upload_too_large"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := sheet.Read(bytes.NewReader(tt.content), sheet.MaxFileSize, columns, 5); code(err) != tt.code {
				t.Fatalf("got %v, want %s", err, tt.code)
			}
		})
	}
	if _, err := sheet.Read(bytes.NewReader(workbook(t, rows(5))), sheet.MaxFileSize, columns, 5); err != nil {
		t.Fatalf("exactly the limit: %v", err)
	}
}

// bomb is a small .xlsx whose sheet unzips to about size bytes: rows of
// the same cell over and over, as in the 572 KB file that inflated to 196 MB.
func bomb(t *testing.T, size int) []byte {
	t.Helper()
	small := workbook(t, map[int][]any{1: {"工号", "姓名"}})
	src, err := zip.NewReader(bytes.NewReader(small), int64(len(small)))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	w := zip.NewWriter(&out)
	w.RegisterCompressor(zip.Deflate, func(out io.Writer) (io.WriteCloser, error) { return flate.NewWriter(out, flate.BestSpeed) })
	for _, f := range src.File {
		dst, err := w.Create(f.Name)
		if err != nil {
			t.Fatal(err)
		}
		if f.Name != "xl/worksheets/sheet1.xml" {
			r, _ := f.Open()
			io.Copy(dst, r)
			r.Close()
			continue
		}
		io.WriteString(dst, `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>`)
		io.WriteString(dst, `<row r="1"><c r="A1" t="inlineStr"><is><t>工号</t></is></c><c r="B1" t="inlineStr"><is><t>姓名</t></is></c></row>`)
		row := []byte(`<row><c t="inlineStr"><is><t>E0001</t></is></c><c t="inlineStr"><is><t>某某某</t></is></c></row>`)
		chunk := bytes.Repeat(row, 1<<20/len(row))
		for written := 0; written < size; written += len(chunk) {
			dst.Write(chunk)
		}
		io.WriteString(dst, `</sheetData></worksheet>`)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// Finding 8: a 572 KB .xlsx that inflated to 196 MB took 41 s and 632 MB
// of memory before import_too_large. It is refused from the zip directory.
func TestReadRefusesAZipBombQuickly(t *testing.T) {
	b := bomb(t, 200<<20)
	if len(b) > sheet.MaxFileSize {
		t.Fatalf("the bomb is %d bytes, meant to be small", len(b))
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	began := time.Now()
	_, err := sheet.Read(bytes.NewReader(b), sheet.MaxFileSize, columns, 20000)
	took := time.Since(began)
	runtime.ReadMemStats(&after)
	if code(err) != "import_too_large" || !strings.Contains(apperr.As(err).Message, "解压") {
		t.Fatalf("got %v, want import_too_large for the unzipped size", err)
	}
	if took > 2*time.Second {
		t.Errorf("refused after %v, want well under 2 s", took)
	}
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 64<<20 {
		t.Errorf("allocated %d MB to refuse a %d KB file", grew>>20, len(b)>>10)
	}
}

// Rows are read one at a time: a sheet within the unzipped limit but with
// far more rows than allowed stops at the first row over the limit.
func TestReadStopsAtTheRowLimit(t *testing.T) {
	b := bomb(t, 40<<20) // ≈ 400,000 rows
	began := time.Now()
	_, err := sheet.Read(bytes.NewReader(b), sheet.MaxFileSize, columns, 1000)
	if code(err) != "import_too_large" || strings.Contains(apperr.As(err).Message, "解压") {
		t.Fatalf("got %v, want import_too_large for the rows", err)
	}
	if took := time.Since(began); took > 5*time.Second {
		t.Errorf("took %v to stop at row 1,001", took)
	}
}
