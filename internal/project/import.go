package project

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/jmoiron/sqlx"
	"github.com/xuri/excelize/v2"

	"hehuo/internal/apperr"
	"hehuo/internal/audit"
	"hehuo/internal/civil"
	"hehuo/internal/org"
	"hehuo/internal/sheet"
)

// ImportColumns are the headers of the main-data import sheet (导入主数据项目), in order.
var ImportColumns = []string{"项目编码", "项目名称", "城市公司", "拿地时间", "批次", "开放", "合作操盘", "操盘方", "取得方式"}

// maxImportRows bounds one import; the group has hundreds of projects, not more.
const maxImportRows = 5000

// ImportTemplate writes an empty import sheet with its headers and one example row.
func ImportTemplate(w io.Writer) error {
	f := excelize.NewFile()
	defer f.Close()
	sheet := "项目"
	f.SetSheetName("Sheet1", sheet)
	f.SetSheetRow(sheet, "A1", &[]any{"项目编码", "项目名称", "城市公司", "拿地时间", "批次", "开放", "合作操盘", "操盘方", "取得方式"})
	f.SetSheetRow(sheet, "A2", &[]any{"P-001", "示例项目", "环沪城市公司", "2019-10-21", "2019年10月", "是", "否", "锦艺方", "招拍挂"})
	f.SetColWidth(sheet, "A", "I", 16)
	return f.Write(w)
}

// Import creates every project in the sheet, or none: each bad cell is
// reported with its row and column. Batches named in the sheet that do not
// exist yet are created, since a batch is only a label.
func (s *Service) Import(ctx context.Context, a audit.Actor, r io.Reader) (int, error) {
	rows, err := sheet.Read(r, 10<<20, ImportColumns, maxImportRows)
	if err != nil {
		return 0, err
	}
	var created int
	err = s.db.InTx(ctx, func(tx *sqlx.Tx) error {
		cities := map[string]int64{}
		var cs []struct {
			ID   int64  `db:"id"`
			Name string `db:"name"`
		}
		if err := tx.SelectContext(ctx, &cs, `SELECT id, name FROM org_units WHERE kind = $1`, org.KindCity); err != nil {
			return fmt.Errorf("load city companies: %w", err)
		}
		for _, c := range cs {
			cities[c.Name] = c.ID
		}
		batches := map[string]int64{}
		var bs []Batch
		if err := tx.SelectContext(ctx, &bs, `SELECT id, name FROM batches`); err != nil {
			return fmt.Errorf("load batches: %w", err)
		}
		for _, b := range bs {
			batches[b.Name] = b.ID
		}
		var existing []string
		if err := tx.SelectContext(ctx, &existing, `SELECT name FROM projects UNION ALL SELECT code FROM projects WHERE code IS NOT NULL`); err != nil {
			return fmt.Errorf("load project names: %w", err)
		}
		taken := map[string]bool{}
		for _, n := range existing {
			taken[n] = true
		}

		var bad []apperr.RowError
		fail := func(row int, col int, msg string) {
			bad = append(bad, apperr.RowError{Row: row, Column: ImportColumns[col], Message: msg})
		}
		var inputs []Input
		var batchNames []string
		seen := map[string]int{}
		for i, cells := range rows {
			if cells == nil {
				continue
			}
			rowNo := i + 2 // row 1 holds the headers
			cell := func(c int) string {
				if c < len(cells) {
					return strings.TrimSpace(cells[c])
				}
				return ""
			}
			in := Input{Code: cell(0), Name: cell(1), Operator: cell(7), AcquisitionMethod: cell(8)}
			if _, err := clean(in.Code, in.Name, in.Operator, in.AcquisitionMethod); err != nil {
				e := apperr.As(err)
				col := map[string]int{"code": 0, "name": 1, "operator": 7, "acquisition_method": 8}[e.Field]
				fail(rowNo, col, e.Message)
			}
			if in.Name != "" {
				if taken[in.Name] {
					fail(rowNo, 1, "项目名称已存在")
				} else if prev, dup := seen["n:"+in.Name]; dup {
					fail(rowNo, 1, fmt.Sprintf("与第%d行重名", prev))
				}
				seen["n:"+in.Name] = rowNo
			}
			if in.Code != "" {
				if taken[in.Code] {
					fail(rowNo, 0, "项目编码已被使用")
				} else if prev, dup := seen["c:"+in.Code]; dup {
					fail(rowNo, 0, fmt.Sprintf("与第%d行编码重复", prev))
				}
				seen["c:"+in.Code] = rowNo
			}
			if id, ok := cities[cell(2)]; ok {
				in.CityCompanyID = id
			} else if cell(2) == "" {
				fail(rowNo, 2, "请填写城市公司")
			} else {
				fail(rowNo, 2, fmt.Sprintf("城市公司「%s」不存在", cell(2)))
			}
			if v := cell(3); v != "" {
				d, err := civil.Parse(v)
				if err != nil {
					fail(rowNo, 3, apperr.As(err).Message) // format or the 2000–2100 window
				}
				in.LandAcquiredOn = d
			}
			batch := cell(4)
			if batch != "" {
				if _, err := clean("", batch, "", ""); err != nil {
					fail(rowNo, 4, apperr.As(err).Message)
				}
			}
			batchNames = append(batchNames, batch)
			for _, b := range []struct {
				col int
				dst *bool
			}{{5, &in.IsOpen}, {6, &in.JointOperation}} {
				v, ok := parseBool(cell(b.col))
				if !ok {
					fail(rowNo, b.col, "须为 是 或 否")
				}
				*b.dst = v
			}
			inputs = append(inputs, in)
		}
		if len(bad) > 0 {
			return apperr.ImportInvalid(bad)
		}
		for i, in := range inputs {
			if name := batchNames[i]; name != "" {
				id, ok := batches[name]
				if !ok {
					if err := tx.GetContext(ctx, &id, `INSERT INTO batches (name) VALUES ($1) RETURNING id`, name); err != nil {
						return fmt.Errorf("create batch %s: %w", name, err)
					}
					batches[name] = id
					if err := audit.Record(ctx, tx, a, audit.Entry{Action: "batch.create", Entity: "batch", EntityID: id,
						After: Batch{ID: id, Name: name}}); err != nil {
						return err
					}
				}
				in.BatchID = &id
			}
			if _, err := insert(ctx, tx, a, in); err != nil {
				return fmt.Errorf("import %s: %w", in.Name, err)
			}
		}
		created = len(inputs)
		return nil
	})
	return created, err
}

func parseBool(s string) (bool, bool) {
	switch strings.ToUpper(s) {
	case "是", "Y", "YES", "TRUE", "1", "√", "开放":
		return true, true
	case "否", "N", "NO", "FALSE", "0", "":
		return false, true
	}
	return false, false
}
