package shareholderdist

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/jmoiron/sqlx"
	"github.com/shopspring/decimal"
	"github.com/xuri/excelize/v2"

	"hehuo/internal/apperr"
	"hehuo/internal/audit"
	"hehuo/internal/ledger"
	"hehuo/internal/money"
	"hehuo/internal/project"
	"hehuo/internal/secret"
	"hehuo/internal/shareholder"
)

func errAlreadyPaid(l Line) error {
	return apperr.Conflict("shareholder_distribution_line_paid", "%s本批次已于 %s 登记打款，不能重复登记", l.Name, *l.PaidOn)
}

// RegisterPayout records that a line of an approved batch was paid
// (登记打款): one balanced ledger transaction under the client's
// Idempotency-Key — minority:{project}:{shareholder} −a,
// external:shareholder_{id} +a. The same key again answers with the first
// payout and posts nothing; another key on a paid line is 409
// shareholder_distribution_line_paid. The batch is paid with its last line.
func (s *Service) RegisterPayout(ctx context.Context, a audit.Actor, id int64, key string, in PayoutInput) (Payout, error) {
	key, err := ledger.ClientKey(key)
	if err != nil {
		return Payout{}, err
	}
	if in.ShareholderID <= 0 {
		return Payout{}, apperr.Invalid("shareholder_id_required", "shareholder_id", "请选择股东")
	}
	if err := s.checkPaidOn(in.PaidOn); err != nil {
		return Payout{}, err
	}
	key = fmt.Sprintf("shareholder_distribution:%d:payout:%s", id, key)
	var out Payout
	err = s.db.InTx(ctx, func(tx *sqlx.Tx) error {
		b, err := load(ctx, tx, id, true)
		if err != nil {
			return err
		}
		var l *Line
		for i := range b.Lines {
			if b.Lines[i].ShareholderID == in.ShareholderID {
				l = &b.Lines[i]
			}
		}
		if l == nil {
			return errLineNotFound
		}
		out = Payout{BatchID: id, ShareholderID: l.ShareholderID, Name: l.Name, PaidOn: in.PaidOn, Amount: l.Amount}
		if l.PaidOn != nil {
			prior, err := ledger.GetByKey(ctx, tx, key)
			switch {
			case errors.Is(err, ledger.ErrTransactionNotFound):
				return errAlreadyPaid(*l)
			case err != nil:
				return err
			case l.LedgerTxID == nil || prior.ID != *l.LedgerTxID || *l.PaidOn != in.PaidOn:
				return ledger.ErrIdempotencyKeyReused
			}
			out.PaidOn, out.LedgerTxID, out.Replayed = *l.PaidOn, prior.ID, true
			out.BatchStatus, out.BatchStatusLabel = b.Status, b.Status.Label()
			return nil
		}
		if err := project.Writable(ctx, tx, b.ProjectID); err != nil {
			return err
		}
		if b.Status != StatusApproved {
			return ErrNotApproved
		}
		if !l.Amount.IsPositive() {
			return apperr.Rule("shareholder_distribution_nothing_to_pay", "shareholder_id", "%s本批次分配金额为 0，无需打款", l.Name)
		}
		posted, err := ledger.Post(ctx, tx, ledger.Transaction{IdempotencyKey: key, Kind: "shareholder_payout",
			Memo: fmt.Sprintf("%s 打款 %s %s", b.Title, l.Name, in.PaidOn), ProjectID: &b.ProjectID, CreatedBy: a.ID,
			Postings: []ledger.Posting{
				{Account: ledger.Minority(b.ProjectID, l.ShareholderID), Amount: l.Amount.Neg()},
				{Account: ledger.ExternalShareholder(l.ShareholderID), Amount: l.Amount.Decimal},
			}})
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE shareholder_distribution_lines SET paid_on = $3, ledger_tx_id = $4
			WHERE distribution_id = $1 AND shareholder_id = $2`, id, l.ShareholderID, in.PaidOn, posted.ID); err != nil {
			return fmt.Errorf("line payout: %w", err)
		}
		var unpaid int
		if err := tx.GetContext(ctx, &unpaid, `SELECT count(*) FROM shareholder_distribution_lines
			WHERE distribution_id = $1 AND amount > 0 AND ledger_tx_id IS NULL`, id); err != nil {
			return fmt.Errorf("unpaid lines: %w", err)
		}
		status := b.Status
		if unpaid == 0 {
			status = StatusPaid
			if _, err := tx.ExecContext(ctx, `UPDATE shareholder_distributions SET status = $2, version = version + 1, updated_at = now()
				WHERE id = $1`, id, status); err != nil {
				return fmt.Errorf("batch paid: %w", err)
			}
		}
		out.LedgerTxID = posted.ID
		out.BatchStatus, out.BatchStatusLabel = status, status.Label()
		return audit.Record(ctx, tx, a, audit.Entry{Action: "shareholder_distribution.payout", Entity: "shareholder_payout", EntityID: id,
			ProjectID: &b.ProjectID, After: map[string]any{"batch_id": id, "shareholder_id": l.ShareholderID, "paid_on": in.PaidOn,
				"paid_amount": l.Amount, "ledger_transaction_id": posted.ID, "batch_status": status}})
	})
	if err != nil {
		return Payout{}, err
	}
	return out, nil
}

// ExportColumns are the columns of a batch's export.
var ExportColumns = []string{"股东", "持股比例", "分配金额", "开户行", "账号", "打款状态", "打款日期"}

// Export is a batch as .xlsx (股东分配明细), accounts masked.
func (s *Service) Export(ctx context.Context, id int64) (name string, content []byte, err error) {
	b, err := load(ctx, s.db, id, false)
	if err != nil {
		return "", nil, err
	}
	projectName, err := project.Name(ctx, s.db, b.ProjectID)
	if err != nil {
		return "", nil, err
	}
	rows := make([][]any, 0, len(b.Lines)+1)
	for _, l := range b.Lines {
		paid := ""
		if l.PaidOn != nil {
			paid = l.PaidOn.String()
		}
		rows = append(rows, []any{l.Name, stakePercent(l.Stake), money.Format(l.Amount.Decimal), l.Bank, l.AccountMasked, l.StatusLabel, paid})
	}
	rows = append(rows, []any{"合计", "", money.Format(b.Amount.Decimal), "", "", b.StatusLabel, ""})
	content, err = xlsx("股东分配明细", ExportColumns, rows)
	return fmt.Sprintf("%s_%s_%s.xlsx", projectName, b.Title, b.DistributionDate), content, err
}

// stakePercent words a fraction as a percentage ("0.15" → "15.00%").
func stakePercent(s string) string {
	d, err := decimal.NewFromString(s)
	if err != nil {
		return s
	}
	return d.Mul(decimal.NewFromInt(100)).StringFixed(2) + "%"
}

// BankFileColumns are the columns of the bank payout file, in order.
var BankFileColumns = []string{"户名", "账号", "开户行", "金额", "用途"}

// BankFile is the bank payout file of an approved batch (银行付款文件): one
// row per unpaid line with an amount, the account numbers unsealed for this
// file alone (shareholder.Payee); the export is recorded in the 系统日志
// without them. A shareholder without an account is 422 naming them.
func (s *Service) BankFile(ctx context.Context, a audit.Actor, id int64) (name string, content []byte, err error) {
	box, err := secret.Configured(s.cfg.SecretKey, s.cfg.Demo, nil, "", "无法导出银行付款文件")
	if err != nil {
		return "", nil, err
	}
	err = s.db.InTx(ctx, func(tx *sqlx.Tx) error {
		b, err := load(ctx, tx, id, false)
		if err != nil {
			return err
		}
		switch b.Status {
		case StatusApproved:
		case StatusPaid:
			return apperr.Rule("shareholder_distribution_nothing_to_pay", "", "本批次已全部登记打款，无需导出银行付款文件")
		default:
			return apperr.Rule("shareholder_distribution_not_approved", "", "股东分配审核通过后才能导出银行付款文件")
		}
		projectName, err := project.Name(ctx, tx, b.ProjectID)
		if err != nil {
			return err
		}
		purpose := projectName + " " + b.Title
		var rows [][]any
		total := decimal.Zero
		for _, l := range b.Lines {
			if l.PaidOn != nil || !l.Amount.IsPositive() {
				continue
			}
			acc, err := shareholder.Payee(ctx, tx, box, l.ShareholderID)
			if err != nil {
				return err
			}
			rows = append(rows, []any{acc.Name, acc.Number, acc.Bank, money.Format(l.Amount.Decimal), purpose})
			total = total.Add(l.Amount.Decimal)
		}
		if len(rows) == 0 {
			return apperr.Rule("shareholder_distribution_nothing_to_pay", "", "本批次没有待打款的股东")
		}
		name = fmt.Sprintf("%s_%s_银行付款文件.xlsx", projectName, b.Title)
		if err := audit.Record(ctx, tx, a, audit.Entry{Action: "shareholder_distribution.bank_file", Entity: "shareholder_payout",
			EntityID: id, ProjectID: &b.ProjectID, After: map[string]any{"batch_id": id, "file_name": name, "count": len(rows),
				"total": money.AmountOf(total)}}); err != nil {
			return err
		}
		content, err = xlsx("银行付款文件", BankFileColumns, rows)
		return err
	})
	if err != nil {
		return "", nil, err
	}
	return name, content, nil
}

// xlsx writes one sheet: a header row and rows, every cell text (a number
// cell would turn a 19-digit account into 1.23E+18).
func xlsx(sheetName string, columns []string, rows [][]any) ([]byte, error) {
	f := excelize.NewFile()
	defer f.Close()
	if err := f.SetSheetName("Sheet1", sheetName); err != nil {
		return nil, err
	}
	header := make([]any, len(columns))
	for i, c := range columns {
		header[i] = c
	}
	if err := f.SetSheetRow(sheetName, "A1", &header); err != nil {
		return nil, err
	}
	style, err := f.NewStyle(&excelize.Style{NumFmt: 49})
	if err != nil {
		return nil, err
	}
	for i, r := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+2)
		if err := f.SetSheetRow(sheetName, cell, &r); err != nil {
			return nil, err
		}
	}
	if len(rows) > 0 {
		last, _ := excelize.CoordinatesToCellName(len(columns), len(rows)+1)
		if err := f.SetCellStyle(sheetName, "A2", last, style); err != nil {
			return nil, err
		}
	}
	_ = f.SetColWidth(sheetName, "A", string(rune('A'+len(columns)-1)), 20)
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		return nil, fmt.Errorf("xlsx: %w", err)
	}
	return buf.Bytes(), nil
}
