package distribution

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/jmoiron/sqlx"
	"github.com/shopspring/decimal"
	"github.com/xuri/excelize/v2"

	"hehuo/internal/apperr"
	"hehuo/internal/audit"
	"hehuo/internal/money"
	"hehuo/internal/partner"
	"hehuo/internal/sheet"
)

// The columns of the manual-entry template (导出模板) before the amounts.
const (
	colSeq      = "序号"
	colPartner  = "合伙人ID"
	colName     = "姓名"
	colDingTalk = "钉钉账号"
)

// amountColumn is a column of the template the accountant may type into.
type amountColumn struct {
	key    string // d, e or f
	header string
}

// amountColumns are the columns a kind's amounts are typed in (R8): D and E
// of a principal batch, F of a profit batch, all three for a liquidation.
func amountColumns(k Kind, seq int) []amountColumn {
	d := amountColumn{"d", "D 本金分配 不含其它"}
	e := amountColumn{"e", "E 本金分配 含其它"}
	f := amountColumn{"f", "F " + k.Title(seq, false)}
	switch k {
	case KindPrincipal:
		return []amountColumn{d, e}
	case KindProfit:
		return []amountColumn{f}
	default:
		return []amountColumn{d, e, f}
	}
}

// ImportColumns are the headers of a batch's import, in order: the ones of
// the template it exports.
func ImportColumns(k Kind, seq int) []string {
	cols := []string{colSeq, colPartner, colName, colDingTalk}
	for _, c := range amountColumns(k, seq) {
		cols = append(cols, c.header)
	}
	return cols
}

// maxImportRows bounds one import: a batch has a line per partner of the project.
const maxImportRows = 20000

// Template is the batch's manual-entry template (导出模板): one row per line
// with 序号, 合伙人ID, 姓名, 钉钉账号 and the kind's amounts as they stand, so
// the accountant changes only what differs and imports it back.
func (s *Service) Template(ctx context.Context, id int64) (name string, xlsx []byte, err error) {
	b, err := load(ctx, s.db, id, false)
	if err != nil {
		return "", nil, err
	}
	names, err := readProjectNames(ctx, s.db, b.ProjectID)
	if err != nil {
		return "", nil, err
	}
	dingtalk, err := dingTalkAccounts(ctx, s.db, b.Lines)
	if err != nil {
		return "", nil, err
	}
	x := excelize.NewFile()
	defer x.Close()
	const sh = "分配导入"
	if err := x.SetSheetName("Sheet1", sh); err != nil {
		return "", nil, err
	}
	bold, err := x.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	if err != nil {
		return "", nil, err
	}
	amount, err := x.NewStyle(&excelize.Style{NumFmt: 4}) // #,##0.00
	if err != nil {
		return "", nil, err
	}
	sw, err := x.NewStreamWriter(sh)
	if err != nil {
		return "", nil, err
	}
	cols := ImportColumns(b.Kind, b.Seq)
	if err := sw.SetColWidth(2, len(cols), 18); err != nil {
		return "", nil, err
	}
	head := make([]any, len(cols))
	for i, c := range cols {
		head[i] = excelize.Cell{StyleID: bold, Value: c}
	}
	if err := sw.SetRow("A1", head); err != nil {
		return "", nil, err
	}
	for i, l := range b.Lines {
		row := []any{l.Seq, l.PartnerID, l.Name, dingtalk[l.PartnerID]}
		for _, c := range amountColumns(b.Kind, b.Seq) {
			row = append(row, excelize.Cell{StyleID: amount, Value: lineAmount(l, c.key).InexactFloat64()})
		}
		cell, _ := excelize.CoordinatesToCellName(1, i+2)
		if err := sw.SetRow(cell, row); err != nil {
			return "", nil, err
		}
	}
	if err := sw.Flush(); err != nil {
		return "", nil, err
	}
	var buf bytes.Buffer
	if err := x.Write(&buf); err != nil {
		return "", nil, err
	}
	return names.fileName(b.Kind.Title(b.Seq, false) + "_导入模板"), buf.Bytes(), nil
}

// dingTalkAccounts are the lines' partners' DingTalk accounts, where they have one.
func dingTalkAccounts(ctx context.Context, q sqlx.QueryerContext, lines []Line) (map[int64]string, error) {
	ids := make([]int64, len(lines))
	for i, l := range lines {
		ids[i] = l.PartnerID
	}
	accounts, err := partner.DingTalkAccounts(ctx, q, ids)
	if err != nil {
		return nil, fmt.Errorf("dingtalk accounts: %w", err)
	}
	out := make(map[int64]string, len(accounts))
	for id, a := range accounts {
		out[id] = a.DingTalkID
	}
	return out, nil
}

func lineAmount(l Line, key string) decimal.Decimal {
	switch key {
	case "d":
		return l.D.Decimal
	case "e":
		return l.E.Decimal
	default:
		return l.F.Decimal
	}
}

// errNotUnlocked refuses a manual entry on a batch the business admin has
// not unlocked (解锁编辑, R8); the same code as a typed amount's refusal.
var errNotUnlocked = apperr.Rule("distribution_locked", "", "手工录入金额须先由业务管理员解锁编辑")

// manualEditable refuses a manual entry on batch b: it must be editable
// (what is submitted is exactly what was saved) and unlocked.
func manualEditable(b Batch) error {
	if !editable[b.Status] {
		return errLocked
	}
	if !b.Unlocked {
		return errNotUnlocked
	}
	return nil
}

// importedLine is a good row of an import: the line and its amounts by column key.
type importedLine struct {
	partnerID int64
	amounts   map[string]decimal.Decimal
}

// Import sets the batch's amounts from the accountant's sheet (导入, R8):
// every row or none, each bad cell named by its row and column. The rows'
// amounts become manual values marked with who and when; the calculation
// (calc_d, calc_e, calc_f) stays, so each line shows its difference. The
// batch goes back to draft: it must be saved again before it is submitted.
// version, when not 0, is the batch version the sheet was exported from
// (two accountants importing over each other → 409 stale_version). A batch
// holding the importer's own line is refused whole (403 own_line).
func (s *Service) Import(ctx context.Context, a audit.Actor, id int64, version int, r io.Reader) (Batch, error) {
	// The kind fixes the columns; it never changes, so reading it before
	// the transaction holds no lock while the file is parsed. The batch's
	// state is checked inside, after the own-line rule, as every write does.
	head, err := load(ctx, s.db, id, false)
	if err != nil {
		return Batch{}, err
	}
	rows, err := sheet.ReadRaw(r, sheet.MaxFileSize, ImportColumns(head.Kind, head.Seq), maxImportRows)
	if err != nil {
		return Batch{}, err
	}
	var out Batch
	err = s.db.InTx(ctx, func(tx *sqlx.Tx) error {
		// begin: locked, writable, the version the template came from,
		// and no import into a batch holding the importer's own line.
		b, err := begin(ctx, tx, a, id, version)
		if err != nil {
			return err
		}
		if err := manualEditable(b); err != nil {
			return err
		}
		work, errs := parseImport(b, rows)
		if len(errs) > 0 {
			if len(errs) > 200 {
				errs = errs[:200]
			}
			return apperr.ImportInvalid(errs)
		}
		before := b.Totals
		changed := 0
		byPartner := map[int64]Line{}
		for _, l := range b.Lines {
			byPartner[l.PartnerID] = l
		}
		for _, w := range work {
			l := byPartner[w.partnerID]
			set := map[string]decimal.Decimal{"d": l.D.Decimal, "e": l.E.Decimal, "f": l.F.Decimal}
			differs := false
			for k, v := range w.amounts {
				differs = differs || !set[k].Equal(v)
				set[k] = v
			}
			if differs {
				changed++
			}
			if _, err := tx.ExecContext(ctx, `UPDATE distribution_lines SET d = $3, e = $4, f = $5,
				manual = true, manual_by = $6, manual_by_name = $7, manual_at = now()
				WHERE batch_id = $1 AND partner_id = $2`, id, w.partnerID, set["d"], set["e"], set["f"], a.ID, actorName(a)); err != nil {
				return fmt.Errorf("distribution %d import: line %d: %w", id, w.partnerID, err)
			}
		}
		// Back to draft, the saved calculation void (as a typed amount does).
		if _, err := tx.ExecContext(ctx, `UPDATE distribution_batches SET status = 'draft', saved_hash = '', version = version + 1,
			updated_at = now() WHERE id = $1`, id); err != nil {
			return fmt.Errorf("distribution %d import: %w", id, err)
		}
		out, err = get(ctx, tx, id, false)
		if err != nil {
			return err
		}
		pid := b.ProjectID
		return audit.Record(ctx, tx, a, audit.Entry{Action: "distribution.import", Entity: "distribution", EntityID: id, ProjectID: &pid,
			Before: map[string]any{"status": b.Status, "version": b.Version, "totals": before},
			After: map[string]any{"status": out.Status, "version": out.Version, "totals": out.Totals,
				"imported": len(work), "changed": changed}})
	})
	return out, err
}

// parseImport checks every row of the sheet against batch b: the partner
// (合伙人ID of a line of the batch, 姓名 matching — with or without the
// 退/离 flags the sheet shows — and once), and each amount
// (a number, not negative, at most two decimals; E = D + C). It returns the
// rows to apply, or every error found.
func parseImport(b Batch, rows [][]string) ([]importedLine, []apperr.RowError) {
	cols := amountColumns(b.Kind, b.Seq)
	lines := map[int64]Line{}
	for _, l := range b.Lines {
		lines[l.PartnerID] = l
	}
	var errs []apperr.RowError
	var work []importedLine
	seen := map[int64]int{}
	for i, row := range rows {
		if row == nil {
			continue // an empty row between the lines
		}
		n := i + 2
		cell := func(c int) string {
			if c < len(row) {
				return strings.TrimSpace(row[c])
			}
			return ""
		}
		bad := func(col, format string, args ...any) {
			errs = append(errs, apperr.RowError{Row: n, Column: col, Message: fmt.Sprintf(format, args...)})
		}
		before := len(errs)
		var l Line
		pid, err := strconv.ParseInt(cell(1), 10, 64)
		switch {
		case cell(1) == "":
			bad(colPartner, "请填写合伙人ID")
		case err != nil:
			bad(colPartner, "合伙人ID应为数字，实际为「%s」", clip(cell(1)))
		default:
			var ok bool
			if l, ok = lines[pid]; !ok {
				bad(colPartner, "合伙人ID %d 不在本分配批次中", pid)
			} else if prev, dup := seen[pid]; dup {
				bad(colPartner, "与第%d行的合伙人重复", prev)
			} else if name := cell(2); name != l.Name && name != flaggedName(l) {
				bad(colName, "姓名应为「%s」，实际为「%s」", l.Name, clip(cell(2)))
			}
			seen[pid] = n
		}
		amounts := map[string]decimal.Decimal{}
		for j, c := range cols {
			v, msg := parseCellAmount(cell(4 + j))
			if msg != "" {
				bad(c.header, "%s", msg)
				continue
			}
			amounts[c.key] = v
		}
		if len(errs) > before {
			continue
		}
		if d, ok := amounts["d"]; ok {
			if want := d.Add(l.C.Decimal); !amounts["e"].Equal(want) {
				bad(cols[1].header, "应等于 D + C = %s（C 为 %s）", money.Display(want), money.Display(l.C.Decimal))
				continue
			}
		}
		work = append(work, importedLine{partnerID: pid, amounts: amounts})
	}
	return work, errs
}

// parseCellAmount reads an amount cell's stored value: blank is 0 (the
// seed's tables leave a zero blank), otherwise a number ≥ 0 with at most two
// decimals. A value Excel stored with binary noise (10207.420000000002, 15
// significant digits or more, within a millionth of a fen value) is that fen
// value: nobody typed it, and refusing it would refuse a correct sheet. The
// message is "" when the cell is good.
func parseCellAmount(raw string) (decimal.Decimal, string) {
	s := strings.ReplaceAll(raw, ",", "")
	if s == "" {
		return decimal.Zero, ""
	}
	d, err := money.Parse(s)
	if err != nil {
		e := apperr.As(err)
		if e == nil || e.Code != "amount_too_precise" {
			return decimal.Zero, fmt.Sprintf("应为金额数字，实际为「%s」", clip(raw))
		}
		// Parse refused only the precision: the syntax is a plain decimal.
		n, nerr := decimal.NewFromString(s)
		if nerr != nil || significantDigits(s) < 15 || n.Sub(n.Round(2)).Abs().GreaterThan(decimal.New(1, -6)) {
			return decimal.Zero, fmt.Sprintf("金额最多两位小数，实际为「%s」", clip(raw))
		}
		d = n.Round(2)
	}
	if d.IsNegative() {
		return decimal.Zero, fmt.Sprintf("金额不能为负数，实际为「%s」", clip(raw))
	}
	return d, ""
}

// significantDigits counts the digits of a plain decimal, leading zeros apart.
func significantDigits(s string) int {
	digits := strings.TrimLeft(strings.NewReplacer("-", "", ".", "").Replace(s), "0")
	return len(digits)
}

// clip shortens a cell's text for a message.
func clip(s string) string {
	if r := []rune(s); len(r) > 30 {
		return string(r[:30]) + "…"
	}
	return s
}
