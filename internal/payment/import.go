package payment

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	"github.com/shopspring/decimal"
	"github.com/xuri/excelize/v2"

	"hehuo/internal/apperr"
	"hehuo/internal/audit"
	"hehuo/internal/civil"
	"hehuo/internal/money"
	"hehuo/internal/partner"
	"hehuo/internal/project"
	"hehuo/internal/round"
	"hehuo/internal/sheet"
)

// ImportColumns are the headers of the bank-statement import (银行流水导入), in order.
var ImportColumns = []string{"流水号", "工号", "姓名", "金额", "到账日期"}

// maxImportRows bounds one import: a round's receipts, with room to spare.
const maxImportRows = 20000

// ImportResult says what an import did.
type ImportResult struct {
	Imported int `json:"imported"`
	// Replayed counts rows whose 流水号 was imported before with the same
	// content: they are skipped, so a statement can be imported again.
	Replayed int `json:"replayed"`
}

// ImportTemplate writes an empty bank-statement sheet with one example row.
func ImportTemplate(w io.Writer) error {
	f := excelize.NewFile()
	defer f.Close()
	sheet := "银行流水"
	f.SetSheetName("Sheet1", sheet)
	header := make([]any, len(ImportColumns))
	for i, c := range ImportColumns {
		header[i] = c
	}
	f.SetSheetRow(sheet, "A1", &header)
	f.SetSheetRow(sheet, "A2", &[]any{"20240301000123", "E0001", "张三", "500000.00", "2024-03-01"})
	f.SetColWidth(sheet, "A", "E", 18)
	return f.Write(w)
}

// Import confirms every receipt of a bank statement on round roundID, or
// none: each bad cell is reported with its row and column. A row is a
// partner's receipt (found by 工号, 姓名 must match); its 流水号 is its
// idempotency key, so re-importing a statement skips the rows already in.
// The partners' lines are locked for the whole import and Σ per partner
// may not exceed what they still owe.
func (s *Service) Import(ctx context.Context, a audit.Actor, roundID int64, r io.Reader) (ImportResult, error) {
	rows, err := sheet.Read(r, sheet.MaxFileSize, ImportColumns, maxImportRows)
	if err != nil {
		return ImportResult{}, err
	}
	today := civil.Today(s.Now())
	var out ImportResult
	err = s.db.InTx(ctx, func(tx *sqlx.Tx) error {
		out = ImportResult{}
		rd, err := lockRound(ctx, tx, roundID)
		if err != nil {
			return err
		}
		if err := project.Writable(ctx, tx, rd.ProjectID); err != nil {
			return err
		}
		if rd.Status != round.StatusApproved {
			return ErrNotApproved
		}
		lines, err := round.LockLines(ctx, tx, roundID)
		if err != nil {
			return fmt.Errorf("payment import: %w", err)
		}
		userIDs := make([]int64, len(lines))
		for i, l := range lines {
			userIDs[i] = l.UserID
		}
		var users []struct {
			ID        int64  `db:"id"`
			Name      string `db:"name"`
			JobNumber string `db:"job_number"`
		}
		if err := tx.SelectContext(ctx, &users, `SELECT id, name, job_number FROM users WHERE id = ANY($1)`, pq.Int64Array(userIDs)); err != nil {
			return fmt.Errorf("payment import: users: %w", err)
		}
		userByID := map[int64]int{}
		for i, u := range users {
			userByID[u.ID] = i
		}
		type lineT = struct {
			partner, user int64
			name          string
			allocated     decimal.Decimal
		}
		byJob := map[string]lineT{}
		for _, l := range lines {
			if i, ok := userByID[l.UserID]; ok && users[i].JobNumber != "" {
				byJob[users[i].JobNumber] = lineT{l.PartnerID, l.UserID, users[i].Name, l.Allocated}
			}
		}
		rp, err := s.pos.Round(ctx, tx, roundID, rd.ProjectID)
		if err != nil {
			return fmt.Errorf("payment import: paid: %w", err)
		}
		paid := map[int64]decimal.Decimal{}
		for _, l := range rp.Lines {
			paid[l.PartnerID] = l.Paid
		}
		var prior []Payment
		if err := tx.SelectContext(ctx, &prior, `SELECT * FROM payments WHERE round_id = $1 AND idempotency_key LIKE 'bank:%'`, roundID); err != nil {
			return err
		}
		priorByKey := map[string]Payment{}
		for _, p := range prior {
			priorByKey[p.IdempotencyKey] = p
		}
		type todo struct {
			line   lineT
			key    string
			amount decimal.Decimal
			on     civil.Date
		}
		var errs []apperr.RowError
		var work []todo
		seen := map[string]int{}
		for i, row := range rows {
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
			serial := cell(0)
			switch {
			case serial == "":
				bad("流水号", "请填写流水号")
			case len(serial) > 100:
				bad("流水号", "流水号过长")
			case seen[serial] > 0:
				bad("流水号", "与第%d行流水号重复", seen[serial])
			}
			seen[serial] = n
			l, ok := byJob[cell(1)]
			if !ok {
				bad("工号", "工号「%s」不在本轮认购名单中", cell(1))
			} else if l.name != cell(2) {
				bad("姓名", "姓名应为「%s」，实际为「%s」", l.name, cell(2))
			}
			amount, err := money.Parse(strings.ReplaceAll(cell(3), ",", ""))
			if err != nil || !amount.IsPositive() {
				bad("金额", "金额应为大于 0 的数字，最多两位小数")
			}
			on, err := civil.Parse(cell(4))
			if err != nil {
				bad("到账日期", "%s", apperr.As(err).Message) // format or the 2000–2100 window
			} else if today.DaysSince(on) < 0 {
				bad("到账日期", "到账日期不能晚于今天")
			} else if err := paidOnInReach(ctx, tx, roundID, on); err != nil {
				if e := apperr.As(err); e != nil {
					bad("到账日期", "%s", e.Message)
				} else {
					return err
				}
			}
			if len(errs) > before {
				continue
			}
			key := "bank:" + serial
			if p, ok := priorByKey[key]; ok {
				if p.PartnerID == l.partner && p.Amount.Equal(amount) && p.PaidOn == on {
					out.Replayed++
					continue
				}
				bad("流水号", "流水号已导入过，且内容不同")
				continue
			}
			if adjusted, err := s.pos.Adjusted(ctx, tx, rd.ProjectID, l.partner); err != nil {
				return err
			} else if adjusted {
				bad("工号", "项目已立项调整，该合伙人的补缴请在「变更缴款确认」中登记")
				continue
			}
			if np := paid[l.partner].Add(amount); np.GreaterThan(l.allocated) {
				bad("金额", "超过待缴金额：认购 %s，已缴及本次累计 %s", money.Display(l.allocated), money.Display(np))
				continue
			}
			paid[l.partner] = paid[l.partner].Add(amount)
			work = append(work, todo{l, key, amount, on})
		}
		if len(errs) > 0 {
			if len(errs) > 200 {
				errs = errs[:200]
			}
			return apperr.ImportInvalid(errs)
		}
		// A statement row for the importer's own line is refused as a whole.
		own := make([]int64, 0, len(work))
		for _, w := range work {
			own = append(own, w.line.partner)
		}
		if err := partner.RefuseOwnLine(ctx, tx, a, own...); err != nil {
			return err
		}
		for _, w := range work {
			if _, err := record(ctx, tx, rd.ProjectID, roundID, w.line.partner, w.line.user, w.key, w.amount, w.on, a); err != nil {
				return err
			}
		}
		out.Imported = len(work)
		return audit.Record(ctx, tx, a, audit.Entry{Action: "payment.import", Entity: "round", EntityID: roundID, ProjectID: &rd.ProjectID,
			After: map[string]any{"imported": out.Imported, "replayed": out.Replayed}})
	})
	return out, err
}
