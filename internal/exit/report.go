package exit

import (
	"context"
	"fmt"
	"io"

	"github.com/shopspring/decimal"
	"github.com/xuri/excelize/v2"

	"hehuo/internal/money"
)

// ReportRow is one project of one exit in 退出员工合伙信息查询表.
type ReportRow struct {
	ExitID        int64         `json:"exit_id"`
	PartnerName   string        `json:"partner_name"`
	OrgUnit       string        `json:"org_unit"`
	ExitType      string        `json:"exit_type"`
	ExitTypeLabel string        `json:"exit_type_label"`
	ExitDate      string        `json:"exit_date"`
	QuotedOn      string        `json:"quoted_on"`
	ProjectID     int64         `json:"project_id"`
	ProjectName   string        `json:"project_name"`
	P             money.Amount  `json:"p"`
	I             money.Amount  `json:"i"`
	H             money.Amount  `json:"h"`
	Payout        money.Amount  `json:"payout"`
	Total         money.Amount  `json:"total"`
	PaidAmount    *money.Amount `json:"paid_amount"`
	PaidOn        string        `json:"paid_on"`
	TakenOverBy   string        `json:"taken_over_by"`
	Status        Status        `json:"status"`
	StatusLabel   string        `json:"status_label"`
}

// ReportFilter narrows the report: the caller's scope and, optionally, a
// status and a partner name fragment.
type ReportFilter struct {
	Scope     Scope
	ProjectID int64
	// BatchID keeps the projects of one 管理批次.
	BatchID int64
	Status  string
	Name    string
}

// Report is 退出员工合伙信息查询表: every exit in the caller's scope (not
// superseded), one row per project of the quote, newest exit first.
func (s *Service) Report(ctx context.Context, f ReportFilter) ([]ReportRow, error) {
	exits, err := s.List(ctx, f.Scope, false)
	if err != nil {
		return nil, err
	}
	inBatch := map[int64]bool{}
	if f.BatchID != 0 {
		var ids []int64
		if err := s.db.SelectContext(ctx, &ids, `SELECT id FROM projects WHERE batch_id = $1`, f.BatchID); err != nil {
			return nil, fmt.Errorf("projects of batch %d: %w", f.BatchID, err)
		}
		for _, id := range ids {
			inBatch[id] = true
		}
	}
	out := []ReportRow{}
	for _, e := range exits {
		if f.Status != "" && string(e.Status) != f.Status {
			continue
		}
		if f.Name != "" && !contains(e.PartnerName, f.Name) {
			continue
		}
		for _, l := range e.Lines {
			if (f.ProjectID != 0 && l.ProjectID != f.ProjectID) || (f.BatchID != 0 && !inBatch[l.ProjectID]) {
				continue
			}
			r := ReportRow{ExitID: e.ID, PartnerName: e.PartnerName, OrgUnit: e.OrgUnit, ExitType: string(e.ExitType),
				ExitTypeLabel: e.ExitTypeLabel, ExitDate: e.ExitDate.String(), QuotedOn: e.CreatedAt.In(shanghai()).Format("2006-01-02"),
				ProjectID: l.ProjectID, ProjectName: l.ProjectName, P: l.P, I: l.I, H: l.H, Payout: l.Payout, Total: e.Total,
				PaidAmount: e.PaidAmount, TakenOverBy: e.TakenOverBy, Status: e.Status, StatusLabel: e.StatusLabel}
			if e.PaidOn != nil {
				r.PaidOn = e.PaidOn.String()
			}
			out = append(out, r)
		}
	}
	return out, nil
}

// ReportHead is the report's columns, as in the seed's 退出员工合伙信息查询表.
var ReportHead = []string{"姓名", "所属组织", "退出类型", "退出日期", "测算日期", "项目", "在投本金P", "资金利息I", "持有收益H",
	"退出价款", "退出价款合计", "打款金额", "打款日期", "承接方", "状态"}

// ReportXLSX streams the report to w as an xlsx workbook (excelize
// StreamWriter: rows are written as they come, amounts as numbers).
func (s *Service) ReportXLSX(ctx context.Context, f ReportFilter, w io.Writer) error {
	rows, err := s.Report(ctx, f)
	if err != nil {
		return err
	}
	const sheet = "退出员工合伙信息查询表"
	x := excelize.NewFile()
	defer x.Close()
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
	amount, err := x.NewStyle(&excelize.Style{NumFmt: 4})
	if err != nil {
		return err
	}
	if err := sw.SetColWidth(1, len(ReportHead), 14); err != nil {
		return err
	}
	head := make([]any, len(ReportHead))
	for i, h := range ReportHead {
		head[i] = excelize.Cell{StyleID: bold, Value: h}
	}
	if err := sw.SetRow("A1", head); err != nil {
		return err
	}
	num := func(d decimal.Decimal) excelize.Cell {
		f, _ := d.Float64()
		return excelize.Cell{StyleID: amount, Value: f}
	}
	for i, r := range rows {
		paid := any("")
		if r.PaidAmount != nil {
			paid = num(r.PaidAmount.Decimal)
		}
		row := []any{r.PartnerName, r.OrgUnit, r.ExitTypeLabel, r.ExitDate, r.QuotedOn, r.ProjectName,
			num(r.P.Decimal), num(r.I.Decimal), num(r.H.Decimal), num(r.Payout.Decimal), num(r.Total.Decimal), paid, r.PaidOn,
			r.TakenOverBy, r.StatusLabel}
		cell, err := excelize.CoordinatesToCellName(1, i+2)
		if err != nil {
			return err
		}
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
