// Package sheet reads the Excel files users import (projects, partner
// lists, bank statements): the first sheet, its header row checked against
// the expected columns, its data rows with Excel's row numbers kept.
//
// Imports are bounded before they cost anything: the upload's size
// (MaxFileSize, refused while the request is read), the size the .xlsx
// unzips to (MaxUnzippedSize, checked from the zip directory before the
// workbook is opened), and the number of rows (read one at a time and
// refused at the first row over the limit).
package sheet

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"strings"

	"github.com/xuri/excelize/v2"

	"hehuo/internal/apperr"
)

// MaxFileSize is the largest .xlsx accepted for an import.
const MaxFileSize = 10 << 20

// MaxUnzippedSize is the most an imported .xlsx may unzip to, all its
// parts together: a 10 MB sheet of text unzips to well under this, while a
// "zip bomb" (a few hundred KB inflating to hundreds of MB) is refused
// before any of it is inflated.
const MaxUnzippedSize = 100 << 20

// ErrTooLarge is an upload over MaxFileSize.
var ErrTooLarge = apperr.Invalid("upload_too_large", "file", "上传的文件不能大于%dM", MaxFileSize>>20)

var errUnzippedTooLarge = apperr.Invalid("import_too_large", "file", "文件解压后超过%dM，请删去多余内容或分批导入", MaxUnzippedSize>>20)

// Read returns the data rows of the first sheet of the .xlsx in r (at most
// maxBytes read), after checking that its header row is columns. Row i of
// the result is sheet row i+2; an empty row stays as nil so that numbers
// keep matching the sheet, and trailing empty rows are dropped. No data
// rows, or more than maxRows, is an error.
func Read(r io.Reader, maxBytes int64, columns []string, maxRows int) ([][]string, error) {
	return read(r, maxBytes, columns, maxRows, excelize.Options{})
}

// ReadRaw is Read with the cells' stored values rather than their displayed
// text: an amount column keeps every decimal typed (1.234 under a #,##0.00
// format is "1.234", not "1.23"), so an import can refuse what the sheet
// hides instead of rounding it silently.
func ReadRaw(r io.Reader, maxBytes int64, columns []string, maxRows int) ([][]string, error) {
	return read(r, maxBytes, columns, maxRows, excelize.Options{RawCellValue: true})
}

func read(r io.Reader, maxBytes int64, columns []string, maxRows int, opts excelize.Options) ([][]string, error) {
	content, err := io.ReadAll(io.LimitReader(r, maxBytes+1))
	if err != nil {
		return nil, apperr.Invalid("import_not_xlsx", "file", "文件读取失败，请重新上传")
	}
	if int64(len(content)) > maxBytes {
		return nil, ErrTooLarge
	}
	if err := checkUnzipped(content, MaxUnzippedSize); err != nil {
		return nil, err
	}
	f, err := excelize.OpenReader(bytes.NewReader(content), excelize.Options{UnzipSizeLimit: MaxUnzippedSize})
	if err != nil {
		return nil, apperr.Invalid("import_not_xlsx", "file", "无法读取文件，请上传 .xlsx 格式的 Excel 文件")
	}
	defer f.Close()
	sheets := f.GetSheetList()
	if len(sheets) == 0 {
		return nil, apperr.Invalid("import_empty", "file", "文件中没有工作表")
	}
	it, err := f.Rows(sheets[0])
	if err != nil {
		return nil, apperr.Invalid("import_not_xlsx", "file", "无法读取工作表")
	}
	defer it.Close()
	if !it.Next() {
		return nil, apperr.Invalid("import_empty", "file", "工作表为空")
	}
	header, err := it.Columns(opts)
	if err != nil {
		return nil, apperr.Invalid("import_not_xlsx", "file", "无法读取工作表")
	}
	for i, h := range columns {
		got := ""
		if i < len(header) {
			got = strings.TrimSpace(header[i])
		}
		if got != h {
			return nil, apperr.ImportInvalid([]apperr.RowError{{Row: 1, Column: h, Message: fmt.Sprintf("第%d列表头应为「%s」，实际为「%s」", i+1, h, got)}})
		}
	}
	// Empty rows are held back until a row with data follows them, so
	// trailing ones never count and the limit is met at its first row over.
	var rows [][]string
	empty := 0
	for it.Next() {
		row, err := it.Columns(opts)
		if err != nil {
			return nil, apperr.Invalid("import_not_xlsx", "file", "无法读取工作表")
		}
		if strings.TrimSpace(strings.Join(row, "")) == "" {
			empty++
			continue
		}
		if len(rows)+empty+1 > maxRows {
			return nil, apperr.Invalid("import_too_large", "file", "一次最多导入%d行", maxRows)
		}
		for ; empty > 0; empty-- {
			rows = append(rows, nil)
		}
		rows = append(rows, row)
	}
	if err := it.Error(); err != nil {
		return nil, apperr.Invalid("import_not_xlsx", "file", "无法读取工作表")
	}
	if len(rows) == 0 {
		return nil, apperr.Invalid("import_empty", "file", "工作表中没有数据行")
	}
	return rows, nil
}

// checkUnzipped refuses an .xlsx whose parts unzip to more than limit,
// reading only the zip directory. The sizes it states can be trusted:
// Go's zip reader fails on a part that inflates to more than stated.
func checkUnzipped(content []byte, limit uint64) error {
	z, err := zip.NewReader(bytes.NewReader(content), int64(len(content)))
	if err != nil {
		return apperr.Invalid("import_not_xlsx", "file", "无法读取文件，请上传 .xlsx 格式的 Excel 文件")
	}
	var total uint64
	for _, f := range z.File {
		total += f.UncompressedSize64
		if f.UncompressedSize64 > limit || total > limit {
			return errUnzippedTooLarge
		}
	}
	return nil
}
