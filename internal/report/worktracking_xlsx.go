package report

import (
	"context"
	"fmt"
	"io"

	"github.com/xuri/excelize/v2"

	"hehuo/internal/civil"
)

// WorkTrackingXLSX writes 工作跟踪表 for f as an xlsx workbook to w: one row
// per project, one column per step; a done step shows who and when, a
// pending one whose turn it is. Rows are streamed, so a large scope does not
// build the sheet in memory.
func (s *Service) WorkTrackingXLSX(ctx context.Context, f Filter, w io.Writer) error {
	items, err := s.WorkTracking(ctx, f)
	if err != nil {
		return err
	}
	x := excelize.NewFile()
	defer x.Close()
	const sheet = "工作跟踪表"
	if err := x.SetSheetName("Sheet1", sheet); err != nil {
		return err
	}
	sw, err := x.NewStreamWriter(sheet)
	if err != nil {
		return err
	}
	bold, err := x.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}, Alignment: &excelize.Alignment{Horizontal: "center"}})
	if err != nil {
		return err
	}
	wrap, err := x.NewStyle(&excelize.Style{Alignment: &excelize.Alignment{WrapText: true, Vertical: "top"}})
	if err != nil {
		return err
	}
	// The project column and the header stay in view while scrolling.
	if err := sw.SetPanes(&excelize.Panes{Freeze: true, XSplit: 1, YSplit: 1, TopLeftCell: "B2", ActivePane: "bottomRight"}); err != nil {
		return err
	}
	if err := sw.SetColWidth(1, 3, 18); err != nil {
		return err
	}
	if err := sw.SetColWidth(4, 3+len(workSteps), 16); err != nil {
		return err
	}
	head := []any{excelize.Cell{StyleID: bold, Value: "项目"}, excelize.Cell{StyleID: bold, Value: "城市公司"}, excelize.Cell{StyleID: bold, Value: "批次"}}
	for _, d := range workSteps {
		head = append(head, excelize.Cell{StyleID: bold, Value: d.label})
	}
	if err := sw.SetRow("A1", head, excelize.RowOpts{Height: 20}); err != nil {
		return err
	}
	for i, it := range items {
		row := []any{it.ProjectName, it.CityCompany, it.Batch}
		for _, st := range it.Steps {
			row = append(row, excelize.Cell{StyleID: wrap, Value: stepCell(st)})
		}
		cell, _ := excelize.CoordinatesToCellName(1, i+2)
		if err := sw.SetRow(cell, row); err != nil {
			return err
		}
	}
	if err := sw.Flush(); err != nil {
		return err
	}
	_, err = x.WriteTo(w)
	return err
}

// stepCell is one step as a cell: 已完成 with who and when (Asia/Shanghai),
// 待办 with whose turn it is, or 不适用; then the step's note, if any.
func stepCell(st WorkStep) string {
	if st.Note != "" {
		return stepStatus(st) + "\n" + st.Note
	}
	return stepStatus(st)
}

func stepStatus(st WorkStep) string {
	switch st.Status {
	case StatusDone:
		s := stepStatusLabels[StatusDone]
		if st.By != "" {
			s += " " + st.By
		}
		if st.At != nil {
			s += "\n" + st.At.In(civil.Shanghai).Format("2006-01-02 15:04")
		}
		return s
	case StatusNA:
		return stepStatusLabels[StatusNA]
	default:
		return fmt.Sprintf("%s（%s）", stepStatusLabels[StatusPending], st.Owner)
	}
}
