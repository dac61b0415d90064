package ledger_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/jmoiron/sqlx"
	"github.com/shopspring/decimal"

	"hehuo/internal/apperr"
	"hehuo/internal/db"
	"hehuo/internal/ledger"
)

// model is what the ledger should hold, kept in memory beside it.
type model struct {
	balances map[string]decimal.Decimal
	posted   []modelTx
}

type modelTx struct {
	id       int64
	tr       ledger.Transaction
	reversal bool
	reversed bool
}

func (m *model) apply(tr ledger.Transaction) {
	for _, p := range tr.Postings {
		m.balances[p.Account] = m.balances[p.Account].Add(p.Amount)
	}
}

// ledgerState is what a rejected operation must leave alone.
type ledgerState struct{ transactions, postings, accounts int }

func stateOf(t *testing.T, d *db.DB) ledgerState {
	return ledgerState{count(t, d, "ledger_transactions"), count(t, d, "ledger_postings"), count(t, d, "ledger_accounts")}
}

// TestRandomOperations runs random sequences of posts, replays, conflicting
// keys, invalid transactions, reversals and rolled-back callers, and after
// every step checks that the ledger reconciles, that every balance equals the
// in-memory model, and that a refused operation changed nothing.
func TestRandomOperations(t *testing.T) {
	t.Parallel()
	d := newLedger(t)
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(20241225, 42))
	accounts := []string{
		ledger.Bank(project), ledger.Interest(project), ledger.External("platform"), ledger.Bank(13),
		ledger.ProjectCompany(project),
	}
	for k := int64(1); k <= 4; k++ {
		accounts = append(accounts, ledger.Principal(project, k), ledger.Profit(project, k), ledger.ExternalPartner(k))
	}
	m := &model{balances: map[string]decimal.Decimal{}}
	fen := func() decimal.Decimal {
		v := decimal.New(1+rng.Int64N(10_000_000), -2)
		if rng.IntN(2) == 0 {
			v = v.Neg()
		}
		return v
	}
	newTx := func(step int) ledger.Transaction {
		n := 2 + rng.IntN(3)
		perm := rng.Perm(len(accounts))[:n]
		tr := ledger.Transaction{IdempotencyKey: fmt.Sprintf("op-%d", step), Kind: "manual", Memo: fmt.Sprintf("第%d步", step)}
		sum := decimal.Zero
		for _, i := range perm[:n-1] {
			a := fen()
			tr.Postings = append(tr.Postings, ledger.Posting{Account: accounts[i], Amount: a})
			sum = sum.Add(a)
		}
		if sum.IsZero() {
			tr.Postings[0].Amount = tr.Postings[0].Amount.Add(decimal.New(1, -2))
			sum = sum.Add(decimal.New(1, -2))
		}
		return ledger.Transaction{
			IdempotencyKey: tr.IdempotencyKey, Kind: tr.Kind, Memo: tr.Memo,
			Postings: append(tr.Postings, ledger.Posting{Account: accounts[perm[n-1]], Amount: sum.Neg()}),
		}
	}
	reverse := func(id int64, key string) (ledger.Posted, error) {
		var p ledger.Posted
		err := d.InTx(ctx, func(tx *sqlx.Tx) error {
			var err error
			p, err = ledger.Reverse(ctx, tx, id, key, "随机冲销", nil)
			return err
		})
		return p, err
	}
	refused := func(step int, what string, err error, before ledgerState) {
		t.Helper()
		if err == nil {
			t.Fatalf("step %d: %s succeeded, want a refusal", step, what)
		}
		if after := stateOf(t, d); after != before {
			t.Fatalf("step %d: refused %s changed the ledger: %+v → %+v (%v)", step, what, before, after, err)
		}
	}

	for step := 0; step < 150; step++ {
		before := stateOf(t, d)
		switch op := rng.IntN(100); {
		case op < 45 || len(m.posted) == 0: // a new transaction
			tr := newTx(step)
			p := mustPost(t, d, tr)
			m.apply(tr)
			m.posted = append(m.posted, modelTx{id: p.ID, tr: tr})

		case op < 55: // a retry of an earlier request
			prev := m.posted[rng.IntN(len(m.posted))]
			if prev.reversal {
				continue
			}
			p := mustPost(t, d, prev.tr)
			if !p.Replayed || p.ID != prev.id {
				t.Fatalf("step %d: retry of %s = %+v, want a replay of %d", step, prev.tr.IdempotencyKey, p, prev.id)
			}
			if stateOf(t, d) != before {
				t.Fatalf("step %d: a replay changed the ledger", step)
			}

		case op < 65: // an earlier key with a different request
			prev := m.posted[rng.IntN(len(m.posted))]
			tr := newTx(step)
			tr.IdempotencyKey = prev.tr.IdempotencyKey
			_, err := ledger.PostTx(ctx, d, tr)
			if !errors.Is(err, ledger.ErrIdempotencyKeyReused) {
				t.Fatalf("step %d: reused key: %v", step, err)
			}
			refused(step, "a reused key", err, before)

		case op < 75: // an invalid transaction
			tr := newTx(step)
			switch rng.IntN(4) {
			case 0:
				tr.Postings[0].Amount = tr.Postings[0].Amount.Add(decimal.New(1, -2))
			case 1:
				tr.Postings = append(tr.Postings, ledger.Posting{Account: ledger.Interest(99), Amount: decimal.Zero})
			case 2:
				tr.Postings[0].Amount = tr.Postings[0].Amount.Add(decimal.New(1, -3))
				tr.Postings[1].Amount = tr.Postings[1].Amount.Sub(decimal.New(1, -3))
			case 3:
				tr.Postings[1].Account = tr.Postings[0].Account
			}
			_, err := ledger.PostTx(ctx, d, tr)
			if apperr.KindOf(err) != apperr.KindInvalid {
				t.Fatalf("step %d: invalid transaction: %v", step, err)
			}
			refused(step, "an invalid transaction", err, before)

		case op < 90: // a reversal, which succeeds once
			i := rng.IntN(len(m.posted))
			prev := m.posted[i]
			p, err := reverse(prev.id, fmt.Sprintf("rev-%d", step))
			switch {
			case prev.reversal:
				if apperr.As(err) == nil || apperr.As(err).Code != "ledger_reverse_reversal" {
					t.Fatalf("step %d: reversing a reversal: %v", step, err)
				}
				refused(step, "reversing a reversal", err, before)
			case prev.reversed:
				if !errors.Is(err, ledger.ErrAlreadyReversed) {
					t.Fatalf("step %d: second reversal: %v", step, err)
				}
				refused(step, "a second reversal", err, before)
			default:
				if err != nil {
					t.Fatalf("step %d: reversal: %v", step, err)
				}
				m.posted[i].reversed = true
				m.apply(p.Transaction)
				m.posted = append(m.posted, modelTx{id: p.ID, tr: p.Transaction, reversal: true})
			}

		default: // the caller fails after posting, so nothing is kept
			boom := errors.New("caller failed")
			err := d.InTx(ctx, func(tx *sqlx.Tx) error {
				if _, err := ledger.Post(ctx, tx, newTx(step)); err != nil {
					return err
				}
				return boom
			})
			refused(step, "a rolled-back post", err, before)
		}

		r, err := ledger.Reconcile(ctx, d)
		if err != nil || !r.OK || r.Transactions != int64(len(m.posted)) {
			t.Fatalf("step %d: reconcile = %+v, %v; want ok with %d transactions", step, r, err, len(m.posted))
		}
		all, err := ledger.BalancesByPrefix(ctx, d, "")
		if err != nil {
			t.Fatal(err)
		}
		seen := 0
		for _, b := range all {
			if want := m.balances[b.Code]; !b.Balance.Equal(want) {
				t.Fatalf("step %d: balance of %s = %s, model says %s", step, b.Code, b.Balance, want)
			}
			if _, ok := m.balances[b.Code]; ok {
				seen++
			}
		}
		if seen != len(m.balances) {
			t.Fatalf("step %d: the ledger has %d of the model's %d accounts", step, seen, len(m.balances))
		}
	}
}
