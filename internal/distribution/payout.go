package distribution

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/jmoiron/sqlx"
	"github.com/shopspring/decimal"
	"github.com/xuri/excelize/v2"

	"hehuo/internal/apperr"
	"hehuo/internal/audit"
	"hehuo/internal/civil"
	"hehuo/internal/ledger"
	"hehuo/internal/money"
	"hehuo/internal/partner"
	"hehuo/internal/payout"
	"hehuo/internal/project"
	"hehuo/internal/sheet"
)

// PayoutStatus is where a line of a posted batch stands with its payout.
type PayoutStatus string

// The payout states of a line. A line of a batch not yet on the ledger has
// none (empty): nothing is payable before the approval.
const (
	PayoutNothing PayoutStatus = "nothing" // the line's amount is zero (or owed by the partner): nothing to pay
	PayoutUnpaid  PayoutStatus = "unpaid"  // 待支付
	PayoutPaid    PayoutStatus = "paid"    // 已支付
)

var payoutLabels = map[PayoutStatus]string{PayoutNothing: "无需支付", PayoutUnpaid: "待支付", PayoutPaid: "已支付"}

// Label is the payout state in Chinese.
func (p PayoutStatus) Label() string { return payoutLabels[p] }

func init() { audit.DescribeStates("distribution_payout", payoutLabels) }

// payAmount is what a line pays out: E (principal, 含其它) + F (profit).
func payAmount(l Line) decimal.Decimal { return l.E.Add(l.F.Decimal) }

// payoutStatus is the line's payout state in a batch of status st.
func payoutStatus(st Status, l Line) PayoutStatus {
	switch {
	case !st.Posted():
		return ""
	case l.PaidOn != nil:
		return PayoutPaid
	case !payAmount(l).IsPositive():
		return PayoutNothing
	}
	return PayoutUnpaid
}

// describePayouts fills each line's payout state and its label.
func (b *Batch) describePayouts() {
	for i := range b.Lines {
		p := payoutStatus(b.Status, b.Lines[i])
		b.Lines[i].PayoutStatus, b.Lines[i].PayoutLabel = string(p), p.Label()
	}
}

// PayoutInput is the body of POST /distributions/{id}/payouts (登记打款).
type PayoutInput struct {
	PartnerID int64      `json:"partner_id"`
	PaidOn    civil.Date `json:"paid_on"`
}

// Payout is a line's registered payout, with where the batch stands after it.
type Payout struct {
	BatchID   int64  `json:"batch_id"`
	PartnerID int64  `json:"partner_id"`
	Name      string `json:"name"`
	PayeeID   int64  `json:"payee_partner_id"`
	PayeeName string `json:"payee_name"`
	// E and F are the line's principal (含其它) and profit; PaidAmount = E + F.
	E                money.Amount `json:"e"`
	F                money.Amount `json:"f"`
	PaidOn           civil.Date   `json:"paid_on"`
	PaidAmount       money.Amount `json:"paid_amount"`
	LedgerTxID       int64        `json:"ledger_transaction_id"`
	BatchStatus      Status       `json:"batch_status"`
	BatchStatusLabel string       `json:"batch_status_label"`
	// Replayed: the Idempotency-Key had registered this payout before;
	// nothing was posted this time.
	Replayed bool `json:"replayed"`
}

// PayoutImportResult says what a bank-file import of payouts did.
type PayoutImportResult struct {
	Imported int `json:"imported"`
	// Replayed counts rows of a file imported before (same file, same line,
	// same date): they are skipped, so a file can be imported again.
	Replayed         int    `json:"replayed"`
	BatchStatus      Status `json:"batch_status"`
	BatchStatusLabel string `json:"batch_status_label"`
}

// Errors of the payouts.
var (
	ErrNotApproved    = apperr.Rule("distribution_not_approved", "", "分配批次审批通过后才能登记打款")
	errLineNotInBatch = apperr.NotFound("distribution_line_not_found", "该合伙人不在本分配批次中")
)

func errAlreadyPaid(on civil.Date) error {
	return apperr.Conflict("distribution_line_paid", "该合伙人本批次已于 %s 登记打款，不能重复登记", on)
}

// payoutWritable is project.Writable for a payout. A liquidation settles
// the project (read-only) when it is approved, but its own payouts are
// still to be registered: they are the one write a settled project takes.
func payoutWritable(ctx context.Context, tx *sqlx.Tx, b Batch) error {
	err := project.Writable(ctx, tx, b.ProjectID)
	if e := apperr.As(err); e != nil && e.Code == "project_settled" && b.Kind == KindLiquidation {
		return nil
	}
	return err
}

// RegisterPayout records that a line of an approved batch was paid on
// in.PaidOn (登记打款): the line's amount E + F, in one balanced ledger
// transaction — payable:{project}:{payee} +E, profit:{project}:{payee} +F,
// bank:{project} −(E+F) — under the client's Idempotency-Key (ledger.ClientKey,
// never invented). The same key again answers with the first payout and
// posts nothing; another key on a paid line is 409 distribution_line_paid.
// When every line with an amount is paid the batch is paid. Staff never pay
// their own line (403 own_line), and the payee's payout account must be
// confirmed.
func (s *Service) RegisterPayout(ctx context.Context, a audit.Actor, id int64, key string, in PayoutInput) (Payout, error) {
	key, err := ledger.ClientKey(key)
	if err != nil {
		return Payout{}, err
	}
	if in.PartnerID <= 0 {
		return Payout{}, apperr.Invalid("partner_id_required", "partner_id", "请选择合伙人")
	}
	if err := s.checkPaidOn(in.PaidOn, "paid_on"); err != nil {
		return Payout{}, err
	}
	key = fmt.Sprintf("distribution:%d:payout:%s", id, key)
	var out Payout
	err = s.db.InTx(ctx, func(tx *sqlx.Tx) error {
		b, err := load(ctx, tx, id, true)
		if err != nil {
			return err
		}
		if err := payoutWritable(ctx, tx, b); err != nil {
			return err
		}
		var l *Line
		for i := range b.Lines {
			if b.Lines[i].PartnerID == in.PartnerID {
				l = &b.Lines[i]
			}
		}
		if l == nil {
			return errLineNotInBatch
		}
		out, err = s.payLine(ctx, tx, a, &b, *l, key, in.PaidOn)
		if err != nil || out.Replayed {
			return err
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "distribution.payout", Entity: "distribution_payout", EntityID: id,
			ProjectID: &b.ProjectID, After: payoutEntry(out)})
	})
	if err != nil {
		return Payout{}, err
	}
	return out, nil
}

// payoutEntry is what the audit log keeps of a payout.
func payoutEntry(p Payout) map[string]any {
	return map[string]any{"batch_id": p.BatchID, "partner_id": p.PartnerID, "payee_partner_id": p.PayeeID,
		"paid_on": p.PaidOn, "paid_amount": p.PaidAmount, "ledger_transaction_id": p.LedgerTxID, "batch_status": p.BatchStatus}
}

// checkPaidOn refuses a missing, out-of-window or future payout date.
func (s *Service) checkPaidOn(on civil.Date, field string) error {
	if on.IsZero() {
		return apperr.Invalid("paid_on_required", field, "请填写打款日期")
	}
	if err := on.InWindow(field, "打款日期"); err != nil {
		return err
	}
	if civil.Today(s.now()).DaysSince(on) < 0 {
		return apperr.Invalid("paid_on_future", field, "打款日期不能晚于今天")
	}
	return nil
}

// payLine pays line l of batch b (locked by the caller) under the full
// ledger key, and marks the batch paid when it was its last line to pay.
func (s *Service) payLine(ctx context.Context, tx *sqlx.Tx, a audit.Actor, b *Batch, l Line, key string, on civil.Date) (Payout, error) {
	out := Payout{BatchID: b.ID, PartnerID: l.PartnerID, Name: l.Name, PayeeID: l.PayeeID, PayeeName: l.PayeeName,
		E: l.E, F: l.F, PaidOn: on, PaidAmount: money.AmountOf(payAmount(l))}
	if l.PaidOn != nil {
		// A paid line: the same key answers with its payout; any other key
		// would pay it twice.
		var txID *int64
		if err := tx.GetContext(ctx, &txID, `SELECT payout_tx_id FROM distribution_lines WHERE batch_id = $1 AND partner_id = $2`,
			b.ID, l.PartnerID); err != nil {
			return Payout{}, fmt.Errorf("line payout: %w", err)
		}
		prior, err := ledger.GetByKey(ctx, tx, key)
		switch {
		case errors.Is(err, ledger.ErrTransactionNotFound):
			return Payout{}, errAlreadyPaid(*l.PaidOn)
		case err != nil:
			return Payout{}, err
		case txID == nil || prior.ID != *txID || *l.PaidOn != on:
			return Payout{}, ledger.ErrIdempotencyKeyReused
		}
		out.PaidOn, out.LedgerTxID, out.Replayed = *l.PaidOn, prior.ID, true
		if l.PaidAmount != nil {
			out.PaidAmount = *l.PaidAmount
		}
		out.BatchStatus, out.BatchStatusLabel = b.Status, b.Status.Label()
		return out, nil
	}
	if b.Status != StatusApproved {
		return Payout{}, ErrNotApproved
	}
	amount := payAmount(l)
	if !amount.IsPositive() {
		return Payout{}, apperr.Rule("distribution_nothing_to_pay", "partner_id", "%s本批次分配金额为 %s，无需打款", l.Name, money.Display(amount))
	}
	if err := partner.RefuseOwnLine(ctx, tx, a, l.PartnerID, l.PayeeID); err != nil {
		return Payout{}, err
	}
	payee, err := partner.Get(ctx, tx, l.PayeeID)
	if err != nil {
		return Payout{}, fmt.Errorf("payee: %w", err)
	}
	payeeUser := payee.UserID
	// The platform company (no user) is paid without a payout account;
	// an employee only to the account they confirmed.
	if payeeUser != nil {
		ok, err := payout.Confirmed(ctx, tx, *payeeUser)
		if err != nil {
			return Payout{}, err
		}
		if !ok {
			return Payout{}, apperr.Rule("payout_account_unconfirmed", "partner_id", "%s尚未确认分配账户，不能登记打款", l.PayeeName)
		}
	}
	postings := make([]ledger.Posting, 0, 3)
	if !l.E.IsZero() {
		postings = append(postings, ledger.Posting{Account: ledger.Payable(b.ProjectID, l.PayeeID), Amount: l.E.Decimal})
	}
	if !l.F.IsZero() {
		postings = append(postings, ledger.Posting{Account: ledger.Profit(b.ProjectID, l.PayeeID), Amount: l.F.Decimal})
	}
	postings = append(postings, ledger.Posting{Account: ledger.Bank(b.ProjectID), Amount: amount.Neg()})
	title := b.Kind.Title(b.Seq, false)
	posted, err := ledger.Post(ctx, tx, ledger.Transaction{IdempotencyKey: key, Kind: "distribution_payout",
		Memo: fmt.Sprintf("%s 打款 %s %s", title, l.PayeeName, on), ProjectID: &b.ProjectID, CreatedBy: a.ID, Postings: postings})
	if err != nil {
		return Payout{}, err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE distribution_lines SET paid_on = $3, paid_amount = $4, payout_tx_id = $5, paid_by = $6
		WHERE batch_id = $1 AND partner_id = $2`, b.ID, l.PartnerID, on, amount, posted.ID, a.ID); err != nil {
		return Payout{}, fmt.Errorf("line payout: %w", err)
	}
	var unpaid int
	if err := tx.GetContext(ctx, &unpaid, `SELECT count(*) FROM distribution_lines WHERE batch_id = $1 AND e + f > 0 AND payout_tx_id IS NULL`,
		b.ID); err != nil {
		return Payout{}, fmt.Errorf("unpaid lines: %w", err)
	}
	if unpaid == 0 {
		if _, err := tx.ExecContext(ctx, `UPDATE distribution_batches SET status = $2, version = version + 1, updated_at = now() WHERE id = $1`,
			b.ID, StatusPaid); err != nil {
			return Payout{}, fmt.Errorf("batch paid: %w", err)
		}
		b.Status = StatusPaid
	}
	out.LedgerTxID = posted.ID
	out.BatchStatus, out.BatchStatusLabel = b.Status, b.Status.Label()
	return out, nil
}

// PayoutImportColumns are the headers of the bank-file import of payouts
// (打款导入), in order. The first may also read 姓名.
var PayoutImportColumns = []string{"户名", "金额", "打款日期"}

const maxPayoutImportRows = 20000

// ImportPayouts registers the payouts a bank file reports, every row or
// none; each bad cell is reported with its row and column. A row names the
// payee (户名 or 姓名, unique among the batch's lines), the amount (equal to
// the line's E + F) and the date paid. The file's hash is its idempotency
// key: importing the same file again skips the rows it registered.
func (s *Service) ImportPayouts(ctx context.Context, a audit.Actor, id int64, r io.Reader) (PayoutImportResult, error) {
	content, err := io.ReadAll(io.LimitReader(r, sheet.MaxFileSize+1))
	if err != nil {
		return PayoutImportResult{}, apperr.Invalid("import_not_xlsx", "file", "文件读取失败，请重新上传")
	}
	rows, err := sheet.Read(bytes.NewReader(content), sheet.MaxFileSize, PayoutImportColumns, maxPayoutImportRows)
	if e := apperr.As(err); e != nil && e.Code == "import_invalid" && firstColumnIs(e, PayoutImportColumns[0]) {
		alt := append([]string{"姓名"}, PayoutImportColumns[1:]...)
		if rows2, err2 := sheet.Read(bytes.NewReader(content), sheet.MaxFileSize, alt, maxPayoutImportRows); err2 == nil {
			rows, err = rows2, nil
		}
	}
	if err != nil {
		return PayoutImportResult{}, err
	}
	sum := sha256.Sum256(content)
	fileKey := hex.EncodeToString(sum[:12])
	today := civil.Today(s.now())
	var out PayoutImportResult
	err = s.db.InTx(ctx, func(tx *sqlx.Tx) error {
		out = PayoutImportResult{}
		b, err := load(ctx, tx, id, true)
		if err != nil {
			return err
		}
		if err := payoutWritable(ctx, tx, b); err != nil {
			return err
		}
		if !b.Status.Posted() {
			return ErrNotApproved
		}
		byName := map[string][]int{}
		for i, l := range b.Lines {
			byName[strings.TrimSpace(l.PayeeName)] = append(byName[strings.TrimSpace(l.PayeeName)], i)
		}
		type todo struct {
			line Line
			on   civil.Date
		}
		var work []todo
		var errs []apperr.RowError
		seen := map[int64]int{}
		nameCol := PayoutImportColumns[0]
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
			if row == nil {
				bad(nameCol, "空行，请删除")
				continue
			}
			before := len(errs)
			var l Line
			switch idx := byName[cell(0)]; {
			case cell(0) == "":
				bad(nameCol, "请填写户名")
			case len(idx) == 0:
				bad(nameCol, "「%s」不在本分配批次中", cell(0))
			case len(idx) > 1:
				bad(nameCol, "本批次有%d位「%s」，无法区分，请逐行登记打款", len(idx), cell(0))
			default:
				l = b.Lines[idx[0]]
				if prev := seen[l.PartnerID]; prev > 0 {
					bad(nameCol, "与第%d行重复", prev)
				}
				seen[l.PartnerID] = n
			}
			amount, err := money.Parse(strings.ReplaceAll(cell(1), ",", ""))
			if err != nil {
				bad("金额", "金额应为数字，最多两位小数")
			} else if l.PartnerID != 0 && !amount.Equal(payAmount(l)) {
				bad("金额", "金额应等于本批次分配金额 %s，实际为 %s", money.Display(payAmount(l)), money.Display(amount))
			}
			on, err := civil.Parse(cell(2))
			if err != nil {
				bad("打款日期", "%s", apperr.As(err).Message)
			} else if today.DaysSince(on) < 0 {
				bad("打款日期", "打款日期不能晚于今天")
			}
			if len(errs) > before {
				continue
			}
			if !payAmount(l).IsPositive() {
				bad(nameCol, "%s本批次分配金额为 %s，无需打款", l.Name, money.Display(payAmount(l)))
				continue
			}
			work = append(work, todo{l, on})
		}
		if len(errs) > 0 {
			if len(errs) > 200 {
				errs = errs[:200]
			}
			return apperr.ImportInvalid(errs)
		}
		var items []map[string]any
		for _, w := range work {
			p, err := s.payLine(ctx, tx, a, &b, w.line, fmt.Sprintf("distribution:%d:payout:file:%s:%d", id, fileKey, w.line.PartnerID), w.on)
			if err != nil {
				if e := apperr.As(err); e != nil && (e.Code == "distribution_line_paid" || e.Code == ledger.ErrIdempotencyKeyReused.Code) {
					return apperr.ImportInvalid([]apperr.RowError{{Row: seen[w.line.PartnerID], Column: nameCol, Message: e.Message}})
				}
				return err
			}
			if p.Replayed {
				out.Replayed++
				continue
			}
			out.Imported++
			items = append(items, map[string]any{"partner_id": p.PartnerID, "paid_on": p.PaidOn, "paid_amount": p.PaidAmount,
				"ledger_transaction_id": p.LedgerTxID})
		}
		out.BatchStatus, out.BatchStatusLabel = b.Status, b.Status.Label()
		if out.Imported == 0 {
			return nil
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "distribution.payout_import", Entity: "distribution_payout", EntityID: id,
			ProjectID: &b.ProjectID, After: map[string]any{"imported": out.Imported, "replayed": out.Replayed, "items": items,
				"batch_status": b.Status}})
	})
	if err != nil {
		return PayoutImportResult{}, err
	}
	return out, nil
}

// firstColumnIs reports an import error about the header of column col.
func firstColumnIs(e *apperr.Error, col string) bool {
	rows, ok := e.Details.([]apperr.RowError)
	return ok && len(rows) == 1 && rows[0].Row == 1 && rows[0].Column == col
}

// BankFileColumns are the columns of the bank payout file, in order.
var BankFileColumns = []string{"户名", "账号", "开户行", "金额", "用途"}

// BankFile is the bank payout file of an approved batch (银行付款文件): one
// row per unpaid line with an amount, payable to an employee — 户名, 账号 in
// clear, 开户行, 金额 (E + F), 用途 ("泰安-锦艺誉峯 第1次利润分配"). The
// numbers are unsealed for this file alone (payout.UnsealForBankFile), which
// records the export in the 系统日志 without them. A payee without a
// confirmed account is 422 naming them; the platform company, which has no
// payout account, is paid apart and left out.
func (s *Service) BankFile(ctx context.Context, a audit.Actor, id int64, accounts *payout.Service) (name string, content []byte, err error) {
	err = s.db.InTx(ctx, func(tx *sqlx.Tx) error {
		b, err := load(ctx, tx, id, false)
		if err != nil {
			return err
		}
		if b.Status != StatusApproved {
			if b.Status == StatusPaid {
				return apperr.Rule("distribution_nothing_to_pay", "", "本批次已全部登记打款，无需导出银行付款文件")
			}
			return apperr.Rule("distribution_not_approved", "", "分配批次审批通过后才能导出银行付款文件")
		}
		var payees []struct {
			PartnerID int64  `db:"partner_id"`
			UserID    *int64 `db:"user_id"`
		}
		if err := tx.SelectContext(ctx, &payees, `SELECT l.partner_id, py.user_id FROM distribution_lines l
			JOIN partners py ON py.id = l.payee_partner_id WHERE l.batch_id = $1`, id); err != nil {
			return fmt.Errorf("payees: %w", err)
		}
		userOf := map[int64]int64{}
		var userIDs []int64
		for _, p := range payees {
			if p.UserID != nil {
				userOf[p.PartnerID] = *p.UserID
				userIDs = append(userIDs, *p.UserID)
			}
		}
		var lines []Line
		var missing []string
		total := decimal.Zero
		for _, l := range b.Lines {
			if _, employee := userOf[l.PartnerID]; !employee || payoutStatus(b.Status, l) != PayoutUnpaid {
				continue
			}
			lines = append(lines, l)
			total = total.Add(payAmount(l))
		}
		if len(lines) == 0 {
			return apperr.Rule("distribution_nothing_to_pay", "", "本批次没有待打款的合伙人")
		}
		projectName, err := project.Name(ctx, tx, b.ProjectID)
		if err != nil {
			return err
		}
		title := b.Kind.Title(b.Seq, false)
		purpose := projectName + " " + title
		name = fmt.Sprintf("%s_%s_银行付款文件.xlsx", projectName, title)
		clear, err := accounts.UnsealForBankFile(ctx, tx, a, audit.Entry{Action: "distribution.bank_file", Entity: "distribution_payout",
			EntityID: id, ProjectID: &b.ProjectID, After: map[string]any{"batch_id": id, "file_name": name, "count": len(lines),
				"total": money.AmountOf(total)}}, userIDs)
		if err != nil {
			return err
		}
		for _, l := range lines {
			if _, ok := clear[userOf[l.PartnerID]]; !ok {
				missing = append(missing, l.PayeeName)
			}
		}
		if len(missing) > 0 {
			return apperr.Rule("payout_account_unconfirmed", "", "以下合伙人尚未确认分配账户，不能导出银行付款文件：%s", strings.Join(missing, "、"))
		}
		f := excelize.NewFile()
		defer f.Close()
		sh := "银行付款文件"
		if err := f.SetSheetName("Sheet1", sh); err != nil {
			return err
		}
		header := make([]any, len(BankFileColumns))
		for i, c := range BankFileColumns {
			header[i] = c
		}
		if err := f.SetSheetRow(sh, "A1", &header); err != nil {
			return err
		}
		// Account numbers and amounts are text: a number cell would turn a
		// 19-digit account into 1.23E+18, and amounts travel as strings.
		text, err := f.NewStyle(&excelize.Style{NumFmt: 49})
		if err != nil {
			return err
		}
		for i, l := range lines {
			acc := clear[userOf[l.PartnerID]]
			cell, _ := excelize.CoordinatesToCellName(1, i+2)
			row := []any{acc.Holder, acc.Number, strings.TrimSpace(acc.Bank + " " + acc.Branch), money.Format(payAmount(l)), purpose}
			if err := f.SetSheetRow(sh, cell, &row); err != nil {
				return err
			}
		}
		last, _ := excelize.CoordinatesToCellName(len(BankFileColumns), len(lines)+1)
		if err := f.SetCellStyle(sh, "A2", last, text); err != nil {
			return err
		}
		f.SetColWidth(sh, "A", "A", 14)
		f.SetColWidth(sh, "B", "B", 26)
		f.SetColWidth(sh, "C", "C", 30)
		f.SetColWidth(sh, "D", "D", 16)
		f.SetColWidth(sh, "E", "E", 36)
		var buf bytes.Buffer
		if err := f.Write(&buf); err != nil {
			return fmt.Errorf("bank file: %w", err)
		}
		content = buf.Bytes()
		return nil
	})
	if err != nil {
		return "", nil, err
	}
	return name, content, nil
}
