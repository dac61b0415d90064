package round

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/shopspring/decimal"
	"github.com/xuri/excelize/v2"

	"hehuo/internal/calc"
	"hehuo/internal/civil"
)

// AllocationXLSX writes round roundID's subscription detail (认购明细) as an
// .xlsx to w and returns its file name: a sheet of lines, a sheet of tiers
// and a sheet of the calculation's trace. Amounts are written as numbers so
// that accountants can sum them in Excel; the sums match the screen to the yuan.
func (s *Service) AllocationXLSX(ctx context.Context, roundID int64, w io.Writer) (string, error) {
	r, err := s.Round(ctx, s.db, roundID)
	if err != nil {
		return "", err
	}
	a, err := s.allocation(ctx, s.db, roundID)
	if err != nil {
		return "", err
	}
	x := excelize.NewFile()
	defer x.Close()
	bold, err := x.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	if err != nil {
		return "", err
	}
	money, err := x.NewStyle(&excelize.Style{NumFmt: 4}) // #,##0.00
	if err != nil {
		return "", err
	}
	pct, err := x.NewStyle(&excelize.Style{NumFmt: 10}) // 0.00%
	if err != nil {
		return "", err
	}

	const lines = "认购明细"
	if err := x.SetSheetName("Sheet1", lines); err != nil {
		return "", err
	}
	title := fmt.Sprintf("%s %s 认购明细", r.ProjectName, r.Name)
	status := "测算结果"
	switch {
	case a.Stale:
		status = "已过期：测算后认购有变动，需重新测算"
	case a.Preview:
		status = "预览：认购尚未截止"
	}
	sw, err := x.NewStreamWriter(lines)
	if err != nil {
		return "", err
	}
	row := 1
	put := func(cells ...any) error {
		cell, _ := excelize.CoordinatesToCellName(1, row)
		row++
		return sw.SetRow(cell, cells)
	}
	head := func(names ...string) []any {
		out := make([]any, len(names))
		for i, n := range names {
			out[i] = excelize.Cell{StyleID: bold, Value: n}
		}
		return out
	}
	num := func(d decimal.Decimal, style int) excelize.Cell {
		f, _ := d.Float64()
		return excelize.Cell{StyleID: style, Value: f}
	}
	if err := put(excelize.Cell{StyleID: bold, Value: title}); err != nil {
		return "", err
	}
	if err := put(fmt.Sprintf("%s；测算人 %s，%s", status, a.ComputedBy, a.ComputedAt.In(civil.Shanghai).Format("2006-01-02 15:04"))); err != nil {
		return "", err
	}
	if err := put(head("序号", "合伙人", "层级", "强投", "认购下限", "认购上限", "认购金额", "测算分配额", "分配额", "手工调整", "调整原因", "调整人")...); err != nil {
		return "", err
	}
	for i, l := range a.Lines {
		mandatory, edited, by := "否", "", ""
		if l.Mandatory {
			mandatory = "是"
		}
		if l.Edited {
			edited = "是"
		}
		if l.EditedBy != nil {
			by = *l.EditedBy
		}
		if err := put(i+1, l.Name, calc.TierLabel(l.Tier), mandatory, num(l.Min.Decimal, money), num(l.Max.Decimal, money),
			num(l.Requested.Decimal, money), num(l.Calculated.Decimal, money), num(l.Allocated.Decimal, money), edited, l.Reason, by); err != nil {
			return "", err
		}
	}
	if err := put("合计", "", "", "", "", "", "", "", num(a.Allocated.Decimal, money)); err != nil {
		return "", err
	}
	if err := sw.Flush(); err != nil {
		return "", err
	}

	const tiers = "层级汇总"
	if _, err := x.NewSheet(tiers); err != nil {
		return "", err
	}
	rows := [][]any{head("层级", "额度", "认购合计", "分配合计", "超出额度", "未认足（留归集团）", "计划比例", "实际比例", "人数", "平衡")}
	for _, t := range a.PerTier {
		balanced := "是"
		if !t.Balanced {
			balanced = "否"
		}
		rows = append(rows, []any{t.Label, num(t.Pool.Decimal, money), num(t.Requested.Decimal, money), num(t.Allocated.Decimal, money),
			num(t.Excess.Decimal, money), num(t.Shortfall.Decimal, money), num(decimal.RequireFromString(t.PlannedRatio), pct),
			num(decimal.RequireFromString(t.EffectiveRatio), pct), t.Partners, balanced})
	}
	rows = append(rows, []any{"资金峰值", num(a.PeakCapital.Decimal, money)},
		[]any{"合计分配", num(a.Allocated.Decimal, money)},
		[]any{"实际合伙比例", num(decimal.RequireFromString(a.EffectiveRatio), pct)})
	ts, err := x.NewStreamWriter(tiers)
	if err != nil {
		return "", err
	}
	for i, cells := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := ts.SetRow(cell, cells); err != nil {
			return "", err
		}
	}
	if err := ts.Flush(); err != nil {
		return "", err
	}

	const trace = "测算过程"
	if _, err := x.NewSheet(trace); err != nil {
		return "", err
	}
	tw, err := x.NewStreamWriter(trace)
	if err != nil {
		return "", err
	}
	if err := tw.SetRow("A1", head("项目", "公式", "输入", "取整", "结果", "说明")); err != nil {
		return "", err
	}
	for i, st := range a.Trace {
		cell, _ := excelize.CoordinatesToCellName(1, i+2)
		if err := tw.SetRow(cell, []any{st.Figure, st.Formula, inputs(st.Inputs), st.Rounding, st.Value, st.Note}); err != nil {
			return "", err
		}
	}
	if err := tw.Flush(); err != nil {
		return "", err
	}
	if err := x.Write(w); err != nil {
		return "", err
	}
	return fmt.Sprintf("%s-%s-认购明细.xlsx", r.ProjectName, r.Name), nil
}

// inputs renders a step's inputs as "k=v" in key order, one cell per step.
func inputs(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + m[k]
	}
	return strings.Join(parts, "；")
}
