package ledger

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/jmoiron/sqlx"
	"github.com/shopspring/decimal"

	"hehuo/internal/money"
)

// Kinds of reconciliation failure.
const (
	// FailureUnbalanced is a transaction whose postings do not sum to zero.
	FailureUnbalanced = "unbalanced_transaction"
	// FailureTooFewPostings is a transaction with fewer than two postings.
	FailureTooFewPostings = "too_few_postings"
	// FailureBalanceMismatch is a stored balance that differs from the sum of its postings.
	FailureBalanceMismatch = "balance_mismatch"
	// FailureBalancesNotZero is stored balances that do not sum to zero.
	FailureBalancesNotZero = "balances_not_zero"
)

// maxFailures caps the failures a report lists; a broken ledger is broken
// enough at a thousand.
const maxFailures = 1000

// Report is the result of Reconcile. Its JSON is what the reconciliation
// endpoint returns: {"ok":true,"transactions":N,"imbalance":"0.00"}.
type Report struct {
	OK           bool         `json:"ok"`
	Transactions int64        `json:"transactions"`
	Imbalance    money.Amount `json:"imbalance"` // the sum of all stored balances
	Failures     []Failure    `json:"failures,omitempty"`
}

// failureLabels are the Chinese names of the kinds, for the console.
var failureLabels = map[string]string{
	FailureUnbalanced:      "账务借贷不平",
	FailureTooFewPostings:  "账务分录少于两条",
	FailureBalanceMismatch: "账户余额与分录重算不符",
	FailureBalancesNotZero: "全部账户余额合计不为零",
}

// Failure is one thing that does not reconcile.
type Failure struct {
	Kind          string       `json:"kind"`
	KindLabel     string       `json:"kind_label"`
	Account       string       `json:"account,omitempty"`
	AccountLabel  string       `json:"account_label,omitempty"` // the account in Chinese
	TransactionID int64        `json:"transaction_id,omitempty"`
	Want          money.Amount `json:"want"`
	Got           money.Amount `json:"got"`
}

// Reconcile checks the whole ledger: every transaction has two or more
// postings summing to zero, every stored balance equals the replay of its
// account's postings, and the stored balances sum to zero. It is one
// set-based statement, so it reads one consistent snapshot even while others
// post. It lists at most 1000 failures.
func Reconcile(ctx context.Context, q sqlx.QueryerContext) (Report, error) {
	var row struct {
		Transactions int64           `db:"transactions"`
		Imbalance    decimal.Decimal `db:"imbalance"`
		Failures     []byte          `db:"failures"`
	}
	err := sqlx.GetContext(ctx, q, &row, `
		WITH per_transaction AS (
			SELECT transaction_id, count(*) AS n, sum(amount) AS total
			FROM ledger_postings GROUP BY transaction_id
		), per_account AS (
			SELECT account_id, sum(amount) AS total
			FROM ledger_postings GROUP BY account_id
		), failures AS (
			SELECT CASE WHEN coalesce(p.n, 0) < 2 THEN 'too_few_postings' ELSE 'unbalanced_transaction' END AS kind,
			       NULL::text AS account, t.id AS transaction_id,
			       0::numeric AS want, coalesce(p.total, 0) AS got
			FROM ledger_transactions t LEFT JOIN per_transaction p ON p.transaction_id = t.id
			WHERE coalesce(p.n, 0) < 2 OR p.total <> 0
			UNION ALL
			SELECT 'balance_mismatch', a.code, NULL, coalesce(r.total, 0), coalesce(b.balance, 0)
			FROM ledger_accounts a
			LEFT JOIN per_account r ON r.account_id = a.id
			LEFT JOIN ledger_balances b ON b.account_id = a.id
			WHERE coalesce(r.total, 0) <> coalesce(b.balance, 0)
		)
		SELECT (SELECT count(*) FROM ledger_transactions) AS transactions,
		       (SELECT coalesce(sum(balance), 0) FROM ledger_balances) AS imbalance,
		       (SELECT coalesce(json_agg(f), '[]') FROM (
		            SELECT kind, account, transaction_id, want::text, got::text FROM failures
		            ORDER BY kind, transaction_id, account LIMIT `+fmt.Sprint(maxFailures)+`
		        ) f) AS failures`)
	if err != nil {
		return Report{}, fmt.Errorf("ledger: reconcile: %w", err)
	}
	var found []struct {
		Kind          string          `json:"kind"`
		Account       *string         `json:"account"`
		TransactionID *int64          `json:"transaction_id"`
		Want          decimal.Decimal `json:"want"`
		Got           decimal.Decimal `json:"got"`
	}
	if err := json.Unmarshal(row.Failures, &found); err != nil {
		return Report{}, fmt.Errorf("ledger: reconcile: read failures: %w", err)
	}
	r := Report{Transactions: row.Transactions, Imbalance: money.AmountOf(row.Imbalance)}
	for _, f := range found {
		x := Failure{Kind: f.Kind, KindLabel: failureLabels[f.Kind], Want: money.AmountOf(f.Want), Got: money.AmountOf(f.Got)}
		if f.Account != nil {
			x.Account, x.AccountLabel = *f.Account, AccountLabel(*f.Account)
		}
		if f.TransactionID != nil {
			x.TransactionID = *f.TransactionID
		}
		r.Failures = append(r.Failures, x)
	}
	if !row.Imbalance.IsZero() {
		r.Failures = append(r.Failures, Failure{Kind: FailureBalancesNotZero, KindLabel: failureLabels[FailureBalancesNotZero], Got: r.Imbalance})
	}
	r.OK = len(r.Failures) == 0
	return r, nil
}
