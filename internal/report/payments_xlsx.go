package report

import (
	"context"
	"io"

	"github.com/shopspring/decimal"
	"github.com/xuri/excelize/v2"
)

// EstablishmentPaymentsXLSX writes 立项及缴款汇总表 for f to w: one row per
// project with the same figures as the JSON, then a total row. Amounts are
// written as numbers with two decimals so the sheet sums them.
func (s *Service) EstablishmentPaymentsXLSX(ctx context.Context, f Filter, w io.Writer) error {
	rows, err := s.EstablishmentPayments(ctx, f)
	if err != nil {
		return err
	}
	head := []string{"项目", "城市公司", "批次", "控股层面", "地产层面", "城市公司层面", "其他", "资金池合计",
		"已分配", "已缴款", "未缴款", "缴款比例", "合伙人数", "已缴清人数", "资金利息"}
	var total [9]decimal.Decimal
	body := make([][]any, 0, len(rows)+1)
	for _, r := range rows {
		amounts := []decimal.Decimal{r.PoolHolding.Decimal, r.PoolProperty.Decimal, r.PoolCity.Decimal, r.PoolOther.Decimal,
			r.PoolTotal.Decimal, r.Allocated.Decimal, r.Paid.Decimal, r.Unpaid.Decimal}
		line := []any{r.ProjectName, r.CityCompany, r.Batch}
		for i, a := range amounts {
			total[i] = total[i].Add(a)
			line = append(line, a)
		}
		line = append(line, ratioCell(r.PaidRatio), r.Partners, r.PaidPartners)
		if r.Interest != nil {
			total[8] = total[8].Add(r.Interest.Decimal)
			line = append(line, r.Interest.Decimal)
		} else {
			line = append(line, "")
		}
		body = append(body, line)
	}
	foot := []any{"合计", "", ""}
	for _, a := range total[:8] {
		foot = append(foot, a)
	}
	foot = append(foot, ratioCell(paidRatio(total[6], total[5])), "", "", total[8])
	body = append(body, foot)
	return writeSheet(w, "立项及缴款汇总表", head, body, 3)
}

// ratioCell is a paid ratio as a number for a percent-formatted cell.
func ratioCell(r string) decimal.Decimal { return decimal.RequireFromString(r) }

// writeSheet writes one sheet: a bold frozen header, then rows; a
// decimal.Decimal cell is written as a number (two decimals, thousands
// separators; a ratio column as a percentage) so Excel sums it; text columns
// are the first textCols.
func writeSheet(w io.Writer, name string, head []string, rows [][]any, textCols int) error {
	x := excelize.NewFile()
	defer x.Close()
	if err := x.SetSheetName("Sheet1", name); err != nil {
		return err
	}
	sw, err := x.NewStreamWriter(name)
	if err != nil {
		return err
	}
	bold, err := x.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}, Alignment: &excelize.Alignment{Horizontal: "center"}})
	if err != nil {
		return err
	}
	amount, err := x.NewStyle(&excelize.Style{NumFmt: 4}) // #,##0.00
	if err != nil {
		return err
	}
	percent, err := x.NewStyle(&excelize.Style{NumFmt: 10}) // 0.00%
	if err != nil {
		return err
	}
	if err := sw.SetPanes(&excelize.Panes{Freeze: true, XSplit: 1, YSplit: 1, TopLeftCell: "B2", ActivePane: "bottomRight"}); err != nil {
		return err
	}
	if err := sw.SetColWidth(1, textCols, 18); err != nil {
		return err
	}
	if err := sw.SetColWidth(textCols+1, len(head), 15); err != nil {
		return err
	}
	hr := make([]any, len(head))
	for i, h := range head {
		hr[i] = excelize.Cell{StyleID: bold, Value: h}
	}
	if err := sw.SetRow("A1", hr, excelize.RowOpts{Height: 20}); err != nil {
		return err
	}
	for i, r := range rows {
		cells := make([]any, len(r))
		for j, v := range r {
			switch v := v.(type) {
			case decimal.Decimal:
				style := amount
				if head[j] == "缴款比例" {
					style = percent
				}
				cells[j] = excelize.Cell{StyleID: style, Value: v.InexactFloat64()}
			default:
				cells[j] = v
			}
		}
		cell, _ := excelize.CoordinatesToCellName(1, i+2)
		if err := sw.SetRow(cell, cells); err != nil {
			return err
		}
	}
	if err := sw.Flush(); err != nil {
		return err
	}
	_, err = x.WriteTo(w)
	return err
}
