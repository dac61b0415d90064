package distribution

import (
	"bytes"
	"context"
	"fmt"
	"strings"

	"github.com/jmoiron/sqlx"
	"github.com/shopspring/decimal"
	"github.com/xuri/excelize/v2"

	"hehuo/internal/civil"
	"hehuo/internal/org"
	"hehuo/internal/project"
)

// sheetSuffix names a batch's calculation sheet after its kind, as the OA
// form's attachment does (置业集团_环沪城市公司_泰安-锦艺誉峯_利润分配计算表).
var sheetSuffix = map[Kind]string{KindPrincipal: "本金分配计算表", KindProfit: "利润分配计算表", KindLiquidation: "清算分配计算表"}

// projectNames are the names a batch's files are called by: the city
// company's parent (集团), the city company and the project.
type projectNames struct {
	Group   string
	City    string
	Project string
}

func readProjectNames(ctx context.Context, q sqlx.QueryerContext, projectID int64) (projectNames, error) {
	p, err := project.Load(ctx, q, projectID)
	if err != nil {
		return projectNames{}, err
	}
	n := projectNames{City: p.CityCompanyName, Project: p.Name}
	city, err := org.GetUnit(ctx, q, p.CityCompanyID)
	if err != nil {
		return n, fmt.Errorf("project %d names: %w", projectID, err)
	}
	if city.ParentID != nil {
		group, err := org.GetUnit(ctx, q, *city.ParentID)
		if err != nil {
			return n, fmt.Errorf("project %d names: %w", projectID, err)
		}
		n.Group = group.Name
	}
	return n, nil
}

// fileName is {集团}_{城市公司}_{项目}_{what}.xlsx, the parts that exist.
func (n projectNames) fileName(what string) string {
	var parts []string
	for _, p := range []string{n.Group, n.City, n.Project, what} {
		if p = strings.TrimSpace(p); p != "" {
			parts = append(parts, p)
		}
	}
	return strings.Join(parts, "_") + ".xlsx"
}

// sheetRow is one partner's row of the calculation sheet (or the 合计 row).
type sheetRow struct {
	seq           int
	name          string // with the 退/离 flags, as the seed's tables show it
	a, b, c, d, e decimal.Decimal
	cReason       string
	profits       []decimal.Decimal // one per profit column
	total         decimal.Decimal   // 分配合计 不含其它
	manual        string            // who and when, for a manual value
}

// sheetView is the batch's table as the screen shows it: 序号, 姓名, the
// principal block A–E, one F column per profit batch up to this one, and
// 分配合计 (不含其它) across the project's batches up to and including it.
type sheetView struct {
	batch   Batch
	names   projectNames
	profits []string // the F columns' titles: 第1次利润, 第2次利润, 清算利润
	rows    []sheetRow
	sum     sheetRow
}

// batchLine is a line of one of the project's batches, for the view.
type batchLine struct {
	BatchID   int64           `db:"batch_id"`
	Kind      Kind            `db:"kind"`
	Seq       int             `db:"batch_seq"`
	PartnerID int64           `db:"partner_id"`
	A         decimal.Decimal `db:"a"`
	B         decimal.Decimal `db:"b"`
	C         decimal.Decimal `db:"c"`
	CReason   string          `db:"c_reason"`
	D         decimal.Decimal `db:"d"`
	E         decimal.Decimal `db:"e"`
	F         decimal.Decimal `db:"f"`
}

// view builds batch id's table. The principal block of a principal or
// liquidation batch is its own lines; a profit batch has none of its own
// (R7 pays F only), so it shows the principal already distributed, as the
// seed's 第n次利润分配 screen does beside its F column: A from the first
// principal batch (the principal before any return), B–E summed over the
// project's posted principal batches. 分配合计 is the line's, as the screen
// shows it (get: D and F distributed up to and including this batch).
func view(ctx context.Context, q sqlx.QueryerContext, id int64) (sheetView, error) {
	b, err := get(ctx, q, id, false)
	if err != nil {
		return sheetView{}, err
	}
	names, err := readProjectNames(ctx, q, b.ProjectID)
	if err != nil {
		return sheetView{}, err
	}
	var lines []batchLine
	if err := sqlx.SelectContext(ctx, q, &lines, `SELECT l.batch_id, b.kind, b.seq AS batch_seq, l.partner_id,
			l.a, l.b, l.c, l.c_reason, l.d, l.e, l.f
		FROM distribution_lines l JOIN distribution_batches b ON b.id = l.batch_id
		WHERE b.project_id = $1 AND (b.id = $2 OR (b.id < $2 AND b.status IN ('approved', 'paid')))
		ORDER BY b.id, l.partner_id`, b.ProjectID, b.ID); err != nil {
		return sheetView{}, fmt.Errorf("distribution %d: the project's lines: %w", id, err)
	}
	v := sheetView{batch: b, names: names}

	// The F columns, in batch order: each profit batch, then a liquidation's.
	type column struct {
		batch int64
		title string
	}
	var cols []column
	seen := map[int64]bool{}
	for _, l := range lines {
		if seen[l.BatchID] || l.Kind == KindPrincipal {
			continue
		}
		seen[l.BatchID] = true
		title := fmt.Sprintf("第%d次利润", l.Seq)
		if l.Kind == KindLiquidation {
			title = "清算利润"
		}
		cols = append(cols, column{l.BatchID, title})
	}
	colOf := map[int64]int{}
	for i, c := range cols {
		colOf[c.batch] = i
		v.profits = append(v.profits, c.title)
	}

	rowOf := map[int64]int{}
	for _, l := range b.Lines {
		rowOf[l.PartnerID] = len(v.rows)
		v.rows = append(v.rows, sheetRow{seq: l.Seq, name: flaggedName(l), total: l.Total.Decimal,
			profits: make([]decimal.Decimal, len(cols)), manual: manualMark(l)})
	}
	firstPrincipal := map[int64]bool{}
	for _, l := range lines {
		i, ok := rowOf[l.PartnerID]
		if !ok {
			continue // a partner of an earlier batch only
		}
		r := &v.rows[i]
		own := l.BatchID == b.ID
		if (own && l.Kind != KindProfit) || (b.Kind == KindProfit && l.Kind == KindPrincipal) {
			if !firstPrincipal[l.PartnerID] {
				firstPrincipal[l.PartnerID] = true
				r.a = l.A
			}
			r.b, r.c, r.d, r.e = r.b.Add(l.B), r.c.Add(l.C), r.d.Add(l.D), r.e.Add(l.E)
			if l.CReason != "" {
				r.cReason = strings.TrimPrefix(r.cReason+"；"+l.CReason, "；")
			}
		}
		if l.Kind != KindPrincipal {
			r.profits[colOf[l.BatchID]] = l.F
		}
	}
	v.sum = sheetRow{profits: make([]decimal.Decimal, len(cols))}
	for _, r := range v.rows {
		s := &v.sum
		s.a, s.b, s.c, s.d, s.e, s.total = s.a.Add(r.a), s.b.Add(r.b), s.c.Add(r.c), s.d.Add(r.d), s.e.Add(r.e), s.total.Add(r.total)
		for j, f := range r.profits {
			s.profits[j] = s.profits[j].Add(f)
		}
	}
	return v, nil
}

// flaggedName is the name with the 退/离 flags appended, as in the seed:
// "安景和 退", "蔡知微 离 退".
func flaggedName(l Line) string {
	n := l.Name
	if l.Flags.Left {
		n += " 离"
	}
	if l.Flags.Exited {
		n += " 退"
	}
	return n
}

// manualMark is a manual value's who and when (手工), or "".
func manualMark(l Line) string {
	if !l.Manual {
		return ""
	}
	m := l.ManualByName
	if l.ManualAt != nil {
		m = strings.TrimSpace(m + " " + l.ManualAt.In(civil.Shanghai).Format("2006-01-02 15:04"))
	}
	if m == "" {
		return "手工"
	}
	return m
}

// Sheet is the batch's calculation sheet (测算表) attached to the OA form and
// served as export.xlsx: {集团}_{城市公司}_{项目}_利润分配计算表.xlsx (本金分配计算表,
// 清算分配计算表 for the other kinds) with the table exactly as the screen
// shows it and its 合计 row. Amounts are numbers under #,##0.00, so the
// sheet reads like the screen (8,570,917.00, -1,119,979.05) and sums in Excel.
func (s *Service) Sheet(ctx context.Context, q sqlx.QueryerContext, id int64) (name string, xlsx []byte, err error) {
	v, err := view(ctx, q, id)
	if err != nil {
		return "", nil, err
	}
	b, err := v.workbook()
	if err != nil {
		return "", nil, err
	}
	return v.names.fileName(sheetSuffix[v.batch.Kind]), b, nil
}

// sheetHeader is the table's header row and its formula row.
func (v sheetView) sheetHeader() (top, formula []any) {
	top = []any{"序号", "姓名", "事业合伙本金", "资金利息", "其它", "其它说明", "本金分配 不含其它", "本金分配 含其它"}
	formula = []any{"-", "-", "A", "B", "C", "", "D", "E"}
	for _, p := range v.profits {
		top = append(top, p)
		formula = append(formula, "F")
	}
	top = append(top, "分配合计 不含其它", "手工")
	formula = append(formula, "-", "")
	return top, formula
}

func (v sheetView) workbook() ([]byte, error) {
	x := excelize.NewFile()
	defer x.Close()
	const sh = "分配计算表"
	if err := x.SetSheetName("Sheet1", sh); err != nil {
		return nil, err
	}
	bold, err := x.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	if err != nil {
		return nil, err
	}
	amount, err := x.NewStyle(&excelize.Style{NumFmt: 4}) // #,##0.00
	if err != nil {
		return nil, err
	}
	boldAmount, err := x.NewStyle(&excelize.Style{NumFmt: 4, Font: &excelize.Font{Bold: true}})
	if err != nil {
		return nil, err
	}
	pct, err := x.NewStyle(&excelize.Style{NumFmt: 10}) // 0.00%
	if err != nil {
		return nil, err
	}
	sw, err := x.NewStreamWriter(sh)
	if err != nil {
		return nil, err
	}
	top, formula := v.sheetHeader()
	if err := sw.SetColWidth(2, 2, 14); err != nil {
		return nil, err
	}
	if err := sw.SetColWidth(3, len(top), 18); err != nil {
		return nil, err
	}
	row := 1
	put := func(cells ...any) error {
		cell, _ := excelize.CoordinatesToCellName(1, row)
		row++
		return sw.SetRow(cell, cells)
	}
	num := func(d decimal.Decimal, style int) excelize.Cell {
		return excelize.Cell{StyleID: style, Value: d.InexactFloat64()}
	}
	date := func(d *civil.Date) string {
		if d == nil {
			return ""
		}
		return d.String()
	}
	b := v.batch
	if err := put(excelize.Cell{StyleID: bold, Value: fmt.Sprintf("%s %s 计算表", v.names.Project, b.Title)}); err != nil {
		return nil, err
	}
	if err := put("项目名称", v.names.Project, "分配批次", b.Title, "分配日期", date(b.DistributionDate), "登记日", date(b.RecordDate)); err != nil {
		return nil, err
	}
	third := []any{"状态", b.StatusLabel}
	if b.ReturnRatio != nil {
		third = append(third, "本次返还比例", excelize.Cell{StyleID: pct, Value: b.ReturnRatio.InexactFloat64()})
	}
	if b.Amount != nil {
		third = append(third, "本次分配金额", num(b.Amount.Decimal, amount))
	}
	if err := put(third...); err != nil {
		return nil, err
	}
	if err := put(); err != nil {
		return nil, err
	}
	head := make([]any, len(top))
	for i, h := range top {
		head[i] = excelize.Cell{StyleID: bold, Value: h}
	}
	if err := put(head...); err != nil {
		return nil, err
	}
	if err := put(formula...); err != nil {
		return nil, err
	}
	cells := func(r sheetRow, style int, seq any, name string) []any {
		out := []any{seq, name, num(r.a, style), num(r.b, style), num(r.c, style), r.cReason, num(r.d, style), num(r.e, style)}
		for _, f := range r.profits {
			out = append(out, num(f, style))
		}
		return append(out, num(r.total, style), r.manual)
	}
	for _, r := range v.rows {
		if err := put(cells(r, amount, r.seq, r.name)...); err != nil {
			return nil, err
		}
	}
	if err := put(cells(v.sum, boldAmount, "", "合计")...); err != nil {
		return nil, err
	}
	if err := sw.Flush(); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := x.Write(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// SheetFirstRow is the sheet row of the first partner: the title, the
// batch's figures, a blank row, the header and the formula row come first.
const SheetFirstRow = 7
