// Package ledger is Hehuo's double-entry ledger (DESIGN §4): every movement
// of money is one ledger transaction of two or more postings that sum to
// zero, written once under a unique idempotency key and never changed; a
// correction is a reversing transaction. A posting is positive for a debit
// and negative for a credit. Every figure shown to users is derived from
// postings, and Reconcile proves that the stored balances equal their replay
// and sum to zero.
//
// Post and Reverse run inside the caller's database transaction, so that a
// service writes its own rows, its audit entry, its outbox messages and its
// postings together or not at all. The database enforces the invariants on
// its own as well: it refuses at COMMIT a ledger transaction whose postings
// do not balance, refuses postings added to a transaction committed earlier,
// and refuses any UPDATE, DELETE or TRUNCATE of accounts, transactions and
// postings.
package ledger

import (
	"time"

	"github.com/shopspring/decimal"
)

// Posting is one line of a ledger transaction: an amount in fen, positive
// for a debit, negative for a credit, on the account with the given code.
type Posting struct {
	Account string
	Amount  decimal.Decimal
}

// Transaction is a movement of money to post.
type Transaction struct {
	// IdempotencyKey names the movement once and for all: posting the same
	// key again returns the first result instead of moving money twice.
	IdempotencyKey string
	// Kind says what moved the money, in snake case: payment, refund,
	// principal_distribution, profit_allocation, reversal, …
	Kind string
	// Memo is free text for people.
	Memo string
	// ProjectID is the project the money belongs to; when set, every
	// account of a project must be one of this project's.
	ProjectID *int64
	// CreatedBy is the user who caused the movement, if any.
	CreatedBy *int64
	// Postings are the lines; at least two, on distinct accounts, summing to zero.
	Postings []Posting
}

// Posted is a ledger transaction as recorded.
type Posted struct {
	Transaction
	ID         int64
	ReversesID *int64 // the transaction this one reverses, if it is a reversal
	CreatedAt  time.Time
	// Replayed is true when the idempotency key had been posted before with
	// the same request; nothing was posted this time and the first result is
	// returned (so the caller's own rows were most likely written then, too).
	Replayed bool
}
