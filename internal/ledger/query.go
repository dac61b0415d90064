package ledger

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/shopspring/decimal"

	"hehuo/internal/db"
)

// AccountBalance is an account with its stored balance (debit positive).
type AccountBalance struct {
	Account
	Balance decimal.Decimal
}

// Entry is one posting on an account, as a line of the account's statement.
type Entry struct {
	TransactionID  int64
	IdempotencyKey string
	Kind           string
	Memo           string
	ReversesID     *int64
	Amount         decimal.Decimal
	CreatedAt      time.Time
}

// Get returns ledger transaction id with its postings in the order posted.
func Get(ctx context.Context, q sqlx.QueryerContext, id int64) (Posted, error) {
	return get(ctx, q, `t.id = $1`, id)
}

// GetByKey returns the ledger transaction posted under an idempotency key.
func GetByKey(ctx context.Context, q sqlx.QueryerContext, key string) (Posted, error) {
	return get(ctx, q, `t.idempotency_key = $1`, key)
}

func get(ctx context.Context, q sqlx.QueryerContext, where string, arg any) (Posted, error) {
	var row struct {
		ID         int64     `db:"id"`
		Key        string    `db:"idempotency_key"`
		Kind       string    `db:"kind"`
		Memo       string    `db:"memo"`
		ProjectID  *int64    `db:"project_id"`
		ReversesID *int64    `db:"reverses_id"`
		CreatedBy  *int64    `db:"created_by"`
		CreatedAt  time.Time `db:"created_at"`
	}
	err := sqlx.GetContext(ctx, q, &row, `
		SELECT id, idempotency_key, kind, memo, project_id, reverses_id, created_by, created_at
		FROM ledger_transactions t WHERE `+where, arg)
	if db.IsNoRows(err) {
		return Posted{}, ErrTransactionNotFound
	}
	if err != nil {
		return Posted{}, fmt.Errorf("ledger: read transaction: %w", err)
	}
	var lines []struct {
		Account string          `db:"code"`
		Amount  decimal.Decimal `db:"amount"`
	}
	err = sqlx.SelectContext(ctx, q, &lines, `
		SELECT a.code, p.amount FROM ledger_postings p JOIN ledger_accounts a ON a.id = p.account_id
		WHERE p.transaction_id = $1 ORDER BY p.id`, row.ID)
	if err != nil {
		return Posted{}, fmt.Errorf("ledger: read postings of %d: %w", row.ID, err)
	}
	p := Posted{
		Transaction: Transaction{
			IdempotencyKey: row.Key,
			Kind:           row.Kind,
			Memo:           row.Memo,
			ProjectID:      row.ProjectID,
			CreatedBy:      row.CreatedBy,
			Postings:       make([]Posting, len(lines)),
		},
		ID:         row.ID,
		ReversesID: row.ReversesID,
		CreatedAt:  row.CreatedAt,
	}
	for i, l := range lines {
		p.Postings[i] = Posting{Account: l.Account, Amount: l.Amount}
	}
	return p, nil
}

// Balance returns the stored balance of the account with the given code;
// an account never posted to has a balance of zero.
func Balance(ctx context.Context, q sqlx.QueryerContext, code string) (decimal.Decimal, error) {
	var b decimal.Decimal
	err := sqlx.GetContext(ctx, q, &b, `
		SELECT b.balance FROM ledger_balances b JOIN ledger_accounts a ON a.id = b.account_id
		WHERE a.code = $1`, code)
	if db.IsNoRows(err) {
		return decimal.Zero, nil
	}
	if err != nil {
		return decimal.Zero, fmt.Errorf("ledger: balance of %s: %w", code, err)
	}
	return b, nil
}

// BalancesByPrefix returns the balances of the accounts whose code starts
// with prefix, by code: "principal:12:" lists every partner's principal in
// project 12.
func BalancesByPrefix(ctx context.Context, q sqlx.QueryerContext, prefix string) ([]AccountBalance, error) {
	return balances(ctx, q, `a.code LIKE $1 ESCAPE '\'`, likePrefix(prefix))
}

// ProjectBalances returns the balances of every account of a project, by code.
func ProjectBalances(ctx context.Context, q sqlx.QueryerContext, projectID int64) ([]AccountBalance, error) {
	return balances(ctx, q, `a.project_id = $1`, projectID)
}

func balances(ctx context.Context, q sqlx.QueryerContext, where string, arg any) ([]AccountBalance, error) {
	var rows []struct {
		Code      string          `db:"code"`
		Kind      string          `db:"kind"`
		ProjectID *int64          `db:"project_id"`
		PartnerID *int64          `db:"partner_id"`
		Balance   decimal.Decimal `db:"balance"`
	}
	err := sqlx.SelectContext(ctx, q, &rows, `
		SELECT a.code, a.kind, a.project_id, a.partner_id, coalesce(b.balance, 0) AS balance
		FROM ledger_accounts a LEFT JOIN ledger_balances b ON b.account_id = a.id
		WHERE `+where+` ORDER BY a.code`, arg)
	if err != nil {
		return nil, fmt.Errorf("ledger: balances: %w", err)
	}
	out := make([]AccountBalance, len(rows))
	for i, r := range rows {
		out[i] = AccountBalance{
			Account: Account{Code: r.Code, Kind: AccountKind(r.Kind), ProjectID: r.ProjectID, PartnerID: r.PartnerID},
			Balance: r.Balance,
		}
	}
	return out, nil
}

// Statement returns the postings on one account, oldest first.
func Statement(ctx context.Context, q sqlx.QueryerContext, code string) ([]Entry, error) {
	var rows []struct {
		TransactionID  int64           `db:"transaction_id"`
		IdempotencyKey string          `db:"idempotency_key"`
		Kind           string          `db:"kind"`
		Memo           string          `db:"memo"`
		ReversesID     *int64          `db:"reverses_id"`
		Amount         decimal.Decimal `db:"amount"`
		CreatedAt      time.Time       `db:"created_at"`
	}
	err := sqlx.SelectContext(ctx, q, &rows, `
		SELECT p.transaction_id, t.idempotency_key, t.kind, t.memo, t.reverses_id, p.amount, t.created_at
		FROM ledger_accounts a
		JOIN ledger_postings p ON p.account_id = a.id
		JOIN ledger_transactions t ON t.id = p.transaction_id
		WHERE a.code = $1 ORDER BY p.transaction_id`, code)
	if err != nil {
		return nil, fmt.Errorf("ledger: statement of %s: %w", code, err)
	}
	out := make([]Entry, len(rows))
	for i, r := range rows {
		out[i] = Entry(r)
	}
	return out, nil
}

// likePrefix escapes prefix for LIKE (the chart's "_" is a wildcard there).
func likePrefix(prefix string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return r.Replace(prefix) + "%"
}

// ProjectReceipts is the money a project's bank account received in a
// period: how many ledger transactions debited it and their total.
type ProjectReceipts struct {
	ProjectID int64           `db:"project_id"`
	Count     int             `db:"count"`
	Amount    decimal.Decimal `db:"amount"`
}

// BankReceipts lists, per project, the ledger transactions created in
// [from, to) that debit the project's bank account, except reversals and
// transactions reversed since, whose money did not stay; by project id.
func BankReceipts(ctx context.Context, q sqlx.QueryerContext, from, to time.Time) ([]ProjectReceipts, error) {
	var out []ProjectReceipts
	err := sqlx.SelectContext(ctx, q, &out, `
		SELECT a.project_id, count(*) AS count, sum(lp.amount) AS amount
		FROM ledger_transactions t
		JOIN ledger_postings lp ON lp.transaction_id = t.id
		JOIN ledger_accounts a ON a.id = lp.account_id AND a.kind = 'bank'
		WHERE t.created_at >= $1 AND t.created_at < $2 AND lp.amount > 0
		  AND t.reverses_id IS NULL
		  AND NOT EXISTS (SELECT 1 FROM ledger_transactions r WHERE r.reverses_id = t.id)
		GROUP BY a.project_id ORDER BY a.project_id`, from, to)
	if err != nil {
		return nil, fmt.Errorf("ledger: bank receipts: %w", err)
	}
	return out, nil
}
