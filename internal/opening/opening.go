// Package opening imports opening balances (期初数据导入): a group moving
// from its current system to Hehuo brings its running projects, each as one
// .xlsx of partners with what they paid in, when, the capital interest to
// date, the principal already returned and the profit already received.
//
// The import is all or nothing and posts the money on the ledger, in one
// database transaction with its rows and its audit entry: per partner and
// per movement one ledger transaction of kind opening_balance (the ledger
// refuses two postings on one account in one ledger transaction, so the
// issue's "one opening transaction per partner" is one per partner and
// movement — paid, returned, profit allocated, profit paid). Idempotency
// keys derive from the project, the file's SHA-256 and the partner, and the
// same file posted again answers the first import and posts nothing.
//
// It owns opening_imports and opening_balances. The capital interest to
// date is not on the ledger (R4 charges it at distribution, as B); internal/
// position reads it from opening_balances into Interest.
package opening

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/shopspring/decimal"
	"github.com/xuri/excelize/v2"

	"hehuo/internal/apperr"
	"hehuo/internal/audit"
	"hehuo/internal/civil"
	"hehuo/internal/db"
	"hehuo/internal/ledger"
	"hehuo/internal/money"
	"hehuo/internal/org"
	"hehuo/internal/partner"
	"hehuo/internal/payment"
	"hehuo/internal/project"
	"hehuo/internal/sheet"
	"hehuo/internal/text"
)

// Columns are the headers of the opening-balance sheet, in order; the
// eighth, 状态, is optional (its header may be left out).
var Columns = []string{"姓名", "钉钉账号", "事业合伙本金(已缴)", "缴款日期", "资金利息", "已返还本金", "已分配利润", "状态"}

const (
	colName = iota
	colUser
	colPaid
	colPaidOn
	colInterest
	colReturned
	colProfit
	colStatus
)

// KindOpening is the ledger kind of every opening transaction.
const KindOpening = "opening_balance"

// maxRows bounds one import: a project has hundreds of partners.
const maxRows = 10000

// ErrExists is a second, different opening file for a project.
var ErrExists = apperr.Conflict("opening_exists", "该项目已导入过期初数据，不能再次导入")

// ErrHasPayments is an opening import into a project whose payments Hehuo already keeps.
var ErrHasPayments = apperr.Rule("project_has_payments", "", "该项目已有缴款记录，不能导入期初数据")

// Service imports and lists opening balances.
type Service struct {
	db *db.DB
	// Now is the clock: a payment dated after today is refused, and the
	// 退/离 flags are dated the day of the import.
	Now func() time.Time
}

// NewService returns the opening-balance service.
func NewService(d *db.DB) *Service { return &Service{db: d, Now: time.Now} }

// Import is one imported file.
type Import struct {
	ID            int64     `db:"id" json:"id"`
	ProjectID     int64     `db:"project_id" json:"project_id"`
	FileHash      string    `db:"file_hash" json:"file_hash"`
	FileName      string    `db:"file_name" json:"file_name"`
	Rows          int       `db:"rows" json:"rows"`
	CreatedByName string    `db:"created_by_name" json:"created_by_name"`
	CreatedAt     time.Time `db:"created_at" json:"created_at"`
	// Replayed: the same file was imported before; nothing was posted this time.
	Replayed bool `db:"-" json:"replayed"`
}

// Flags are the 退 / 离 marks of a row.
type Flags struct {
	Exited bool `json:"exited"` // 退
	Left   bool `json:"left"`   // 离
}

// Balance is one imported row.
type Balance struct {
	RowNo             int          `db:"row_no" json:"row_no"`
	PartnerID         int64        `db:"partner_id" json:"partner_id"`
	UserID            int64        `db:"user_id" json:"user_id"`
	Name              string       `db:"-" json:"name"`
	DingTalkUserID    string       `db:"-" json:"dingtalk_userid"`
	PrincipalPaid     money.Amount `db:"principal_paid" json:"principal_paid"`
	PaidOn            civil.Date   `db:"paid_on" json:"paid_on"`
	Interest          money.Amount `db:"interest" json:"interest"`
	PrincipalReturned money.Amount `db:"principal_returned" json:"principal_returned"`
	ProfitReceived    money.Amount `db:"profit_received" json:"profit_received"`
	Exited            bool         `db:"exited" json:"-"`
	Left              bool         `db:"left_company" json:"-"`
	Flags             Flags        `db:"-" json:"flags"`
}

// Totals is the 合计 row of an import.
type Totals struct {
	PrincipalPaid     money.Amount `json:"principal_paid"`
	Interest          money.Amount `json:"interest"`
	PrincipalReturned money.Amount `json:"principal_returned"`
	ProfitReceived    money.Amount `json:"profit_received"`
}

// Result is a project's opening import with its rows (nil import, no rows
// when none was made).
type Result struct {
	Import *Import   `json:"import"`
	Items  []Balance `json:"items"`
	Totals Totals    `json:"totals"`
}

// Template writes the empty sheet with one example row.
func Template(w io.Writer) error {
	f := excelize.NewFile()
	defer f.Close()
	name := "期初数据"
	if err := f.SetSheetName("Sheet1", name); err != nil {
		return err
	}
	header := make([]any, len(Columns))
	for i, c := range Columns {
		header[i] = c
	}
	if err := f.SetSheetRow(name, "A1", &header); err != nil {
		return err
	}
	if err := f.SetSheetRow(name, "A2", &[]any{"张三", "zhangsan01", "288940.00", "2019-10-21", "-111573.50", "0", "0", "离 退"}); err != nil {
		return err
	}
	// Text cells, so that Excel keeps dates and amounts as typed.
	textStyle, err := f.NewStyle(&excelize.Style{NumFmt: 49})
	if err != nil {
		return err
	}
	if err := f.SetColStyle(name, "A:H", textStyle); err != nil {
		return err
	}
	if err := f.SetColWidth(name, "A", "H", 18); err != nil {
		return err
	}
	return f.Write(w)
}

// row is a checked row of the sheet.
type row struct {
	no                       int
	userID, partnerID        int64
	name                     string
	paid, interest, returned decimal.Decimal
	profit                   decimal.Decimal
	paidOn                   civil.Date
	exited, left             bool
}

// Import reads the .xlsx in r (named fileName) and posts it as projectID's
// opening balances: every row or none, each bad cell reported with its row
// and column. The same file again returns the first import (Replayed) and
// posts nothing; another file once one was imported is ErrExists (409); a
// project with payments is ErrHasPayments (422).
func (s *Service) Import(ctx context.Context, a audit.Actor, projectID int64, fileName string, r io.Reader) (Import, error) {
	content, err := io.ReadAll(io.LimitReader(r, sheet.MaxFileSize+1))
	if err != nil {
		return Import{}, apperr.Invalid("import_not_xlsx", "file", "文件读取失败，请重新上传")
	}
	if int64(len(content)) > sheet.MaxFileSize {
		return Import{}, sheet.ErrTooLarge
	}
	sum := sha256.Sum256(content)
	hash := hex.EncodeToString(sum[:])
	name, err := text.Clean(fileName, "file", "文件名", false, 200)
	if err != nil {
		name = ""
	}
	cells, err := sheet.Read(bytes.NewReader(content), sheet.MaxFileSize, Columns[:colStatus], maxRows)
	if err != nil {
		return Import{}, err
	}
	withStatus, err := statusColumn(content)
	if err != nil {
		return Import{}, err
	}
	today := civil.Today(s.Now())
	var out Import
	err = s.db.InTx(ctx, func(tx *sqlx.Tx) error {
		out = Import{}
		if err := project.Writable(ctx, tx, projectID); err != nil {
			return err
		}
		// One import of a project at a time: the second waits, then replays
		// the first or meets ErrExists.
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('opening:' || $1::text, 0))`, projectID); err != nil {
			return fmt.Errorf("opening: lock project %d: %w", projectID, err)
		}
		var prior Import
		err := tx.GetContext(ctx, &prior, `SELECT id, project_id, file_hash, file_name, rows, created_by_name, created_at
			FROM opening_imports WHERE project_id = $1`, projectID)
		switch {
		case err == nil && prior.FileHash == hash:
			prior.Replayed = true
			out = prior
			return nil
		case err == nil:
			return ErrExists
		case !db.IsNoRows(err):
			return fmt.Errorf("opening: prior import: %w", err)
		}
		if has, err := payment.ProjectHasPayments(ctx, tx, projectID); err != nil {
			return err
		} else if has {
			return ErrHasPayments
		}
		rows, err := check(ctx, tx, cells, withStatus, today)
		if err != nil {
			return err
		}
		ids := make([]int64, len(rows))
		for i := range rows {
			if rows[i].partnerID, err = partner.EnsureForUser(ctx, tx, rows[i].userID); err != nil {
				return err
			}
			ids[i] = rows[i].partnerID
		}
		// Whoever imports may not post their own line.
		if err := partner.RefuseOwnLine(ctx, tx, a, ids...); err != nil {
			return err
		}
		if err := tx.GetContext(ctx, &out, `INSERT INTO opening_imports (project_id, file_hash, file_name, rows, created_by, created_by_name)
			VALUES ($1, $2, $3, $4, $5, $6) RETURNING id, project_id, file_hash, file_name, rows, created_by_name, created_at`,
			projectID, hash, name, len(rows), a.ID, actorName(a)); err != nil {
			return fmt.Errorf("opening: insert import: %w", err)
		}
		var t Totals
		for _, rw := range rows {
			if err := post(ctx, tx, a, projectID, hash, rw); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO opening_balances (import_id, project_id, partner_id, user_id, row_no,
					principal_paid, paid_on, interest, principal_returned, profit_received, exited, left_company)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
				out.ID, projectID, rw.partnerID, rw.userID, rw.no, rw.paid, rw.paidOn, rw.interest, rw.returned, rw.profit,
				rw.exited, rw.left); err != nil {
				return fmt.Errorf("opening: insert row %d: %w", rw.no, err)
			}
			if err := partner.MarkFlags(ctx, tx, rw.partnerID, rw.exited, rw.left, today); err != nil {
				return err
			}
			t.add(rw.paid, rw.interest, rw.returned, rw.profit)
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "opening.import", Entity: "opening_import", EntityID: out.ID,
			ProjectID: &projectID, After: map[string]any{"file_name": name, "file_hash": hash, "rows": len(rows),
				"principal_paid": t.PrincipalPaid, "interest": t.Interest, "principal_returned": t.PrincipalReturned,
				"profit_received": t.ProfitReceived}})
	})
	return out, err
}

func (t *Totals) add(paid, interest, returned, profit decimal.Decimal) {
	t.PrincipalPaid.Decimal = t.PrincipalPaid.Add(paid)
	t.Interest.Decimal = t.Interest.Add(interest)
	t.PrincipalReturned.Decimal = t.PrincipalReturned.Add(returned)
	t.ProfitReceived.Decimal = t.ProfitReceived.Add(profit)
}

// post writes one row's movements on the ledger, each its own ledger
// transaction (an account appears once per ledger transaction): principal
// paid in (bank +, principal −); returned (principal +, bank −); profit
// allocated (bank +, profit −) and paid out (profit +, bank −).
func post(ctx context.Context, tx *sqlx.Tx, a audit.Actor, projectID int64, hash string, rw row) error {
	bank, principal, profit := ledger.Bank(projectID), ledger.Principal(projectID, rw.partnerID), ledger.Profit(projectID, rw.partnerID)
	moves := []struct {
		what, memo    string
		amount        decimal.Decimal
		debit, credit string
	}{
		{"paid", "已缴本金", rw.paid, bank, principal},
		{"returned", "已返还本金", rw.returned, principal, bank},
		{"profit_allocated", "已分配利润", rw.profit, bank, profit},
		{"profit_paid", "已支付利润", rw.profit, profit, bank},
	}
	for _, m := range moves {
		if !m.amount.IsPositive() {
			continue
		}
		if _, err := ledger.Post(ctx, tx, ledger.Transaction{
			IdempotencyKey: fmt.Sprintf("opening:%d:%s:%d:%s", projectID, hash, rw.partnerID, m.what),
			Kind:           KindOpening,
			Memo:           fmt.Sprintf("期初数据导入 %s %s %s", rw.name, m.memo, rw.paidOn),
			ProjectID:      &projectID,
			CreatedBy:      a.ID,
			Postings:       []ledger.Posting{{Account: m.debit, Amount: m.amount}, {Account: m.credit, Amount: m.amount.Neg()}},
		}); err != nil {
			return err
		}
	}
	return nil
}

// statusColumn reads the eighth header: 状态, or nothing (no status column).
// sheet.Read has already bounded the file.
func statusColumn(content []byte) (bool, error) {
	f, err := excelize.OpenReader(bytes.NewReader(content), excelize.Options{UnzipSizeLimit: sheet.MaxUnzippedSize})
	if err != nil {
		return false, apperr.Invalid("import_not_xlsx", "file", "无法读取文件，请上传 .xlsx 格式的 Excel 文件")
	}
	defer f.Close()
	h, err := f.GetCellValue(f.GetSheetList()[0], "H1")
	if err != nil {
		return false, apperr.Invalid("import_not_xlsx", "file", "无法读取工作表")
	}
	switch strings.TrimSpace(h) {
	case Columns[colStatus]:
		return true, nil
	case "":
		return false, nil
	}
	return false, apperr.ImportInvalid([]apperr.RowError{{Row: 1, Column: Columns[colStatus],
		Message: fmt.Sprintf("第8列表头应为「状态」或留空，实际为「%s」", strings.TrimSpace(h))}})
}

// check reads every row of cells (row i is sheet row i+2) and returns them
// checked, or every bad cell with its row and column.
func check(ctx context.Context, tx *sqlx.Tx, cells [][]string, withStatus bool, today civil.Date) ([]row, error) {
	var accounts []string
	for _, c := range cells {
		if len(c) > colUser {
			accounts = append(accounts, strings.TrimSpace(c[colUser]))
		}
	}
	// The users the sheet names, found by their DingTalk userid (unique),
	// the name checked against it as the partner-list import checks 工号.
	byAccount, err := org.BriefsByDingTalkID(ctx, tx, accounts)
	if err != nil {
		return nil, fmt.Errorf("opening: %w", err)
	}
	var errs []apperr.RowError
	var out []row
	seen := map[int64]int{}
	for i, c := range cells {
		if c == nil {
			continue
		}
		rw := row{no: i + 2}
		cell := func(col int) string {
			if col < len(c) {
				return strings.TrimSpace(c[col])
			}
			return ""
		}
		before := len(errs)
		bad := func(col int, format string, args ...any) {
			errs = append(errs, apperr.RowError{Row: rw.no, Column: Columns[col], Message: fmt.Sprintf(format, args...)})
		}
		rw.name = cell(colName)
		account := cell(colUser)
		u, ok := byAccount[account]
		switch {
		case account == "":
			bad(colUser, "请填写钉钉账号")
		case !ok:
			bad(colUser, "钉钉账号「%s」不是合伙系统中的用户", clip(account))
		default:
			rw.userID = u.ID
			if u.Name != rw.name {
				bad(colName, "姓名与钉钉账号不符（系统中为「%s」）", u.Name)
			} else if prev, dup := seen[rw.userID]; dup {
				bad(colUser, "与第%d行是同一合伙人", prev)
			}
			seen[rw.userID] = rw.no
		}
		amount := func(col int, blankZero bool) decimal.Decimal {
			s := strings.ReplaceAll(cell(col), ",", "")
			if s == "" && blankZero {
				return decimal.Zero
			}
			if s == "" {
				bad(col, "请填写%s", Columns[col])
				return decimal.Zero
			}
			d, err := money.Parse(s)
			if err != nil {
				if e := apperr.As(err); e != nil && e.Code == "amount_too_precise" {
					bad(col, "金额最多两位小数：%s", clip(s))
				} else {
					bad(col, "金额格式不正确：%s", clip(s))
				}
				return decimal.Zero
			}
			return d
		}
		n := len(errs)
		rw.paid = amount(colPaid, false)
		if len(errs) == n && !rw.paid.IsPositive() {
			bad(colPaid, "已缴本金应大于 0")
		}
		on, err := civil.Parse(strings.ReplaceAll(cell(colPaidOn), "/", "-"))
		switch {
		case cell(colPaidOn) == "":
			bad(colPaidOn, "请填写缴款日期")
		case err != nil:
			bad(colPaidOn, "%s", apperr.As(err).Message) // format or the 2000–2100 window
		case today.DaysSince(on) < 0:
			bad(colPaidOn, "缴款日期不能晚于今天")
		}
		rw.paidOn = on
		rw.interest = amount(colInterest, true)
		if rw.interest.IsPositive() {
			bad(colInterest, "资金利息应为负数或 0（如 -9760.63），实际为 %s", money.Display(rw.interest))
		}
		rw.returned = amount(colReturned, true)
		switch {
		case rw.returned.IsNegative():
			bad(colReturned, "已返还本金不能为负数")
		case rw.returned.GreaterThan(rw.paid) && rw.paid.IsPositive():
			bad(colReturned, "已返还本金 %s 超过已缴本金 %s", money.Display(rw.returned), money.Display(rw.paid))
		}
		rw.profit = amount(colProfit, true)
		if rw.profit.IsNegative() {
			bad(colProfit, "已分配利润不能为负数")
		}
		status := ""
		if len(c) > colStatus {
			status = strings.TrimSpace(c[colStatus])
		}
		if status != "" && !withStatus {
			bad(colStatus, "第8列没有表头「状态」，请补上表头或清空该列")
		} else if rw.exited, rw.left, ok = parseStatus(status); !ok {
			bad(colStatus, "状态只能填 退、离 或 离 退，实际为「%s」", clip(status))
		}
		if len(errs) == before {
			out = append(out, rw)
		}
	}
	if len(errs) > 0 {
		if len(errs) > 200 {
			errs = errs[:200]
		}
		return nil, apperr.ImportInvalid(errs)
	}
	return out, nil
}

// parseStatus reads 状态: empty, 退, 离, or both (离 退, 退 离, 离退…).
func parseStatus(s string) (exited, left, ok bool) {
	for _, r := range s {
		switch r {
		case '退':
			exited = true
		case '离':
			left = true
		case ' ', '　', '、', ',', '，', '/':
		default:
			return false, false, false
		}
	}
	return exited, left, true
}

// clip shortens what a message repeats of a cell.
func clip(s string) string {
	if r := []rune(s); len(r) > 40 {
		return string(r[:40]) + "…"
	}
	return s
}

func actorName(a audit.Actor) string {
	if a.Name == "" {
		return audit.System.Name
	}
	return a.Name
}

// Of returns projectID's opening import and its rows, by row.
func (s *Service) Of(ctx context.Context, projectID int64) (Result, error) {
	out := Result{Items: []Balance{}}
	var imp Import
	err := s.db.GetContext(ctx, &imp, `SELECT id, project_id, file_hash, file_name, rows, created_by_name, created_at
		FROM opening_imports WHERE project_id = $1`, projectID)
	if db.IsNoRows(err) {
		return out, nil
	}
	if err != nil {
		return out, fmt.Errorf("opening import of project %d: %w", projectID, err)
	}
	out.Import = &imp
	if err := s.db.SelectContext(ctx, &out.Items, `SELECT row_no, partner_id, user_id, principal_paid, paid_on, interest,
			principal_returned, profit_received, exited, left_company
		FROM opening_balances WHERE import_id = $1 ORDER BY row_no`, imp.ID); err != nil {
		return out, fmt.Errorf("opening rows of project %d: %w", projectID, err)
	}
	ids := make([]int64, len(out.Items))
	for i, b := range out.Items {
		ids[i] = b.UserID
	}
	users, err := org.Briefs(ctx, s.db, ids)
	if err != nil {
		return out, fmt.Errorf("opening rows of project %d: %w", projectID, err)
	}
	for i := range out.Items {
		b := &out.Items[i]
		b.Name, b.DingTalkUserID = users[b.UserID].Name, users[b.UserID].DingTalkID
		b.Flags = Flags{Exited: b.Exited, Left: b.Left}
		out.Totals.add(b.PrincipalPaid.Decimal, b.Interest.Decimal, b.PrincipalReturned.Decimal, b.ProfitReceived.Decimal)
	}
	return out, nil
}
