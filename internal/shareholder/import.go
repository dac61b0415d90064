package shareholder

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/jmoiron/sqlx"
	"github.com/xuri/excelize/v2"

	"hehuo/internal/apperr"
	"hehuo/internal/audit"
	"hehuo/internal/sheet"
)

// ImportColumns are the headers of the registry's import sheet, in order.
var ImportColumns = []string{"股东名称", "类型", "证件号码", "联系方式", "开户银行", "银行账号"}

const maxImportRows = 2000

// ImportTemplate writes an empty import sheet with its headers and two example rows.
func ImportTemplate(w io.Writer) error {
	f := excelize.NewFile()
	defer f.Close()
	name := "外部股东"
	if err := f.SetSheetName("Sheet1", name); err != nil {
		return err
	}
	row := make([]any, len(ImportColumns))
	for i, c := range ImportColumns {
		row[i] = c
	}
	_ = f.SetSheetRow(name, "A1", &row)
	_ = f.SetSheetRow(name, "A2", &[]any{"示例城投有限公司", "企业", "91370900MA3C5LXX1（18位统一社会信用代码）", "王经理 13800000000", "工商银行泰安分行", "6222000000000000000"})
	_ = f.SetSheetRow(name, "A3", &[]any{"示例自然人", "个人", "18位身份证号码", "13900000000", "", ""})
	// Numbers typed as text, so Excel keeps every digit.
	style, _ := f.NewStyle(&excelize.Style{NumFmt: 49})
	_ = f.SetColStyle(name, "C", style)
	_ = f.SetColStyle(name, "F", style)
	_ = f.SetColWidth(name, "A", "F", 22)
	return f.Write(w)
}

var importKinds = map[string]Kind{"企业": KindCompany, "个人": KindPerson, "company": KindCompany, "person": KindPerson}

// Import registers every shareholder of the sheet, or none: each bad cell
// is reported with its row and column (400 import_invalid, as every import), and nothing is
// written. The numbers are never put in a message.
func (s *Service) Import(ctx context.Context, a audit.Actor, r io.Reader) (int, error) {
	rows, err := sheet.Read(r, sheet.MaxFileSize, ImportColumns, maxImportRows)
	if err != nil {
		return 0, err
	}
	var bad []apperr.RowError
	fail := func(row, col int, msg string) {
		bad = append(bad, apperr.RowError{Row: row, Column: ImportColumns[col], Message: msg})
	}
	fieldCol := map[string]int{"name": 0, "kind": 1, "id_number": 2, "contact": 3, "bank": 4, "account_number": 5}
	var inputs []clean
	var rowNos []int
	seen := map[string]int{}
	for i, cells := range rows {
		if cells == nil {
			continue
		}
		rowNo := i + 2
		cell := func(c int) string {
			if c < len(cells) {
				return strings.TrimSpace(cells[c])
			}
			return ""
		}
		kind, ok := importKinds[cell(1)]
		if !ok {
			if cell(1) == "" {
				fail(rowNo, 1, "请填写类型（企业或个人）")
			} else {
				fail(rowNo, 1, "类型须为 企业 或 个人")
			}
			kind = KindPerson
		}
		in := Input{Name: cell(0), Kind: string(kind), IDNumber: cell(2), Contact: cell(3), Bank: cell(4), AccountNumber: cell(5)}
		c, err := in.clean(false)
		if err != nil {
			e := apperr.As(err)
			if e == nil {
				return 0, err
			}
			if ok || e.Field != "id_number" {
				fail(rowNo, fieldCol[e.Field], e.Message)
			}
			continue
		}
		if prev, dup := seen[c.idNumber]; dup {
			fail(rowNo, 2, fmt.Sprintf("证件号码与第%d行相同", prev))
		}
		seen[c.idNumber] = rowNo
		inputs = append(inputs, c)
		rowNos = append(rowNos, rowNo)
	}
	if len(bad) > 0 {
		return 0, apperr.ImportInvalid(bad)
	}
	box, err := s.Box()
	if err != nil {
		return 0, err
	}
	err = s.db.InTx(ctx, func(tx *sqlx.Tx) error {
		for i, c := range inputs {
			if _, err := s.insert(ctx, tx, a, box, c); err != nil {
				if e := apperr.As(err); e != nil && e.Code == "shareholder_duplicate" {
					bad = append(bad, apperr.RowError{Row: rowNos[i], Column: ImportColumns[2], Message: e.Message})
					continue
				}
				return err
			}
		}
		if len(bad) > 0 {
			return apperr.ImportInvalid(bad)
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "minority_shareholder.import", Entity: "minority_shareholder",
			EntityID: 0, After: map[string]any{"count": len(inputs)}})
	})
	if err != nil {
		return 0, err
	}
	return len(inputs), nil
}
