// Package sheet reads the Excel files users import (projects, partner
// lists, bank statements): the first sheet, its header row checked against
// the expected columns, its data rows with Excel's row numbers kept.
package sheet

import (
	"fmt"
	"io"
	"strings"

	"github.com/xuri/excelize/v2"

	"hehuo/internal/apperr"
)

// Read returns the data rows of the first sheet of the .xlsx in r (at most
// maxBytes read), after checking that its header row is columns. Row i of
// the result is sheet row i+2; an empty row stays as nil so that numbers
// keep matching the sheet, and trailing empty rows are dropped. No data
// rows, or more than maxRows, is an error.
func Read(r io.Reader, maxBytes int64, columns []string, maxRows int) ([][]string, error) {
	f, err := excelize.OpenReader(io.LimitReader(r, maxBytes))
	if err != nil {
		return nil, apperr.Invalid("import_not_xlsx", "file", "无法读取文件，请上传 .xlsx 格式的 Excel 文件")
	}
	defer f.Close()
	sheets := f.GetSheetList()
	if len(sheets) == 0 {
		return nil, apperr.Invalid("import_empty", "file", "文件中没有工作表")
	}
	all, err := f.GetRows(sheets[0])
	if err != nil {
		return nil, apperr.Invalid("import_not_xlsx", "file", "无法读取工作表")
	}
	if len(all) == 0 {
		return nil, apperr.Invalid("import_empty", "file", "工作表为空")
	}
	for i, h := range columns {
		got := ""
		if i < len(all[0]) {
			got = strings.TrimSpace(all[0][i])
		}
		if got != h {
			return nil, apperr.ImportInvalid([]apperr.RowError{{Row: 1, Column: h, Message: fmt.Sprintf("第%d列表头应为「%s」，实际为「%s」", i+1, h, got)}})
		}
	}
	rows := make([][]string, 0, len(all)-1)
	for _, row := range all[1:] {
		if strings.TrimSpace(strings.Join(row, "")) == "" {
			row = nil
		}
		rows = append(rows, row)
	}
	for len(rows) > 0 && rows[len(rows)-1] == nil {
		rows = rows[:len(rows)-1]
	}
	if len(rows) == 0 {
		return nil, apperr.Invalid("import_empty", "file", "工作表中没有数据行")
	}
	if len(rows) > maxRows {
		return nil, apperr.Invalid("import_too_large", "file", "一次最多导入%d行", maxRows)
	}
	return rows, nil
}
