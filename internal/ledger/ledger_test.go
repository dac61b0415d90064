package ledger_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/jmoiron/sqlx"
	"github.com/shopspring/decimal"

	"hehuo/internal/apperr"
	"hehuo/internal/db"
	"hehuo/internal/db/dbtest"
	"hehuo/internal/ledger"
	"hehuo/internal/ledger/ledgertest"
	"hehuo/internal/money"
)

const project = 12

// newLedger returns a fresh database whose ledger must reconcile when the test ends.
func newLedger(t *testing.T) *db.DB {
	t.Helper()
	d := dbtest.New(t)
	ledgertest.ReconcileAtCleanup(t, d)
	return d
}

func amt(s string) decimal.Decimal { return money.MustParse(s) }

func ptr(v int64) *int64 { return &v }

// payment is a partner's payment received (缴款): bank +x, principal:K −x.
func payment(key string, partner int64, amount string) ledger.Transaction {
	return ledger.Transaction{
		IdempotencyKey: key,
		Kind:           "payment",
		Memo:           "缴款",
		ProjectID:      ptr(project),
		Postings: []ledger.Posting{
			{Account: ledger.Bank(project), Amount: amt(amount)},
			{Account: ledger.Principal(project, partner), Amount: amt(amount).Neg()},
		},
	}
}

func mustPost(t *testing.T, d *db.DB, tr ledger.Transaction) ledger.Posted {
	t.Helper()
	p, err := ledger.PostTx(context.Background(), d, tr)
	if err != nil {
		t.Fatalf("post %s: %v", tr.IdempotencyKey, err)
	}
	return p
}

func balance(t *testing.T, d *db.DB, code string) decimal.Decimal {
	t.Helper()
	b, err := ledger.Balance(context.Background(), d, code)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func wantBalance(t *testing.T, d *db.DB, code, want string) {
	t.Helper()
	if got := balance(t, d, code); !got.Equal(amt(want)) {
		t.Errorf("balance of %s = %s, want %s", code, got, want)
	}
}

func count(t *testing.T, d *db.DB, table string) int {
	t.Helper()
	var n int
	if err := d.Get(&n, `SELECT count(*) FROM `+table); err != nil {
		t.Fatal(err)
	}
	return n
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if e := apperr.As(err); e == nil || e.Code != code {
		t.Fatalf("error = %v, want code %s", err, code)
	}
}

func TestPostMovesBalances(t *testing.T) {
	t.Parallel()
	d := newLedger(t)
	ctx := context.Background()
	p := mustPost(t, d, payment("pay-1", 1, "500000"))
	if p.ID == 0 || p.Replayed || p.CreatedAt.IsZero() {
		t.Fatalf("posted = %+v", p)
	}
	mustPost(t, d, payment("pay-2", 2, "300000"))
	// A principal distribution line (R6): A′ 300,000.00, B −679.32, C 100.00.
	mustPost(t, d, ledger.Transaction{
		IdempotencyKey: "dist-2", Kind: "principal_distribution", ProjectID: ptr(project), CreatedBy: nil,
		Postings: []ledger.Posting{
			{Account: ledger.Principal(project, 2), Amount: amt("300000.00")},
			{Account: ledger.Interest(project), Amount: amt("-679.32")},
			{Account: ledger.Other(project, 2), Amount: amt("100.00")},
			{Account: ledger.Bank(project), Amount: amt("-299420.68")},
		},
	})
	wantBalance(t, d, ledger.Bank(project), "500579.32")
	wantBalance(t, d, ledger.Principal(project, 1), "-500000")
	wantBalance(t, d, ledger.Principal(project, 2), "0")
	wantBalance(t, d, ledger.Interest(project), "-679.32")
	wantBalance(t, d, ledger.Principal(project, 99), "0") // never posted to

	all, err := ledger.ProjectBalances(ctx, d, project)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 5 || all[0].Code != ledger.Bank(project) || all[0].Kind != ledger.KindBank {
		t.Fatalf("project balances = %+v", all)
	}
	principals, err := ledger.BalancesByPrefix(ctx, d, "principal:12:")
	if err != nil {
		t.Fatal(err)
	}
	if len(principals) != 2 || *principals[1].PartnerID != 2 || !principals[0].Balance.Equal(amt("-500000")) {
		t.Fatalf("principal balances = %+v", principals)
	}
	// "_" in a prefix is a letter, not a LIKE wildcard.
	if got, _ := ledger.BalancesByPrefix(ctx, d, "project_"); len(got) != 0 {
		t.Fatalf(`BalancesByPrefix("project_") = %+v, want none`, got)
	}

	lines, err := ledger.Statement(ctx, d, ledger.Principal(project, 2))
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) != 2 || lines[0].Kind != "payment" || !lines[1].Amount.Equal(amt("300000")) || lines[1].IdempotencyKey != "dist-2" {
		t.Fatalf("statement = %+v", lines)
	}

	got, err := ledger.Get(ctx, d, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.IdempotencyKey != "pay-1" || got.Memo != "缴款" || *got.ProjectID != project || len(got.Postings) != 2 ||
		got.Postings[0].Account != ledger.Bank(project) || !got.Postings[1].Amount.Equal(amt("-500000")) {
		t.Fatalf("Get = %+v", got)
	}
	if _, err := ledger.Get(ctx, d, 999); !errors.Is(err, ledger.ErrTransactionNotFound) {
		t.Fatalf("Get(999) error = %v, want not found", err)
	}
}

func TestPostRefusesBadTransactions(t *testing.T) {
	t.Parallel()
	d := newLedger(t)
	bank, principal := ledger.Bank(project), ledger.Principal(project, 1)
	tests := []struct {
		name string
		edit func(*ledger.Transaction)
		code string
	}{
		{"no key", func(t *ledger.Transaction) { t.IdempotencyKey = " " }, "ledger_idempotency_key_invalid"},
		{"bad kind", func(t *ledger.Transaction) { t.Kind = "Payment" }, "ledger_kind_invalid"},
		{"one posting", func(t *ledger.Transaction) { t.Postings = t.Postings[:1] }, "ledger_too_few_postings"},
		{"unbalanced", func(t *ledger.Transaction) { t.Postings[0].Amount = amt("100.01") }, "ledger_unbalanced"},
		{"zero amount", func(t *ledger.Transaction) {
			t.Postings = append(t.Postings, ledger.Posting{Account: ledger.Interest(project), Amount: decimal.Zero})
		}, "ledger_amount_zero"},
		{"three decimals", func(t *ledger.Transaction) {
			t.Postings[0].Amount = decimal.RequireFromString("100.005")
			t.Postings[1].Amount = decimal.RequireFromString("-100.005")
		}, "ledger_amount_too_precise"},
		{"huge amount", func(t *ledger.Transaction) {
			t.Postings[0].Amount = decimal.New(1, 16)
			t.Postings[1].Amount = decimal.New(-1, 16)
		}, "ledger_amount_too_large"},
		{"unknown account", func(t *ledger.Transaction) { t.Postings[0].Account = "cash:12" }, "ledger_account_invalid"},
		{"same account twice", func(t *ledger.Transaction) { t.Postings[1].Account = bank }, "ledger_duplicate_account"},
		{"other project", func(t *ledger.Transaction) { t.Postings[1].Account = ledger.Principal(13, 1) }, "ledger_project_mismatch"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := ledger.Transaction{
				IdempotencyKey: "k-" + tt.name, Kind: "payment", ProjectID: ptr(project),
				Postings: []ledger.Posting{{Account: bank, Amount: amt("100")}, {Account: principal, Amount: amt("-100")}},
			}
			tt.edit(&tr)
			_, err := ledger.PostTx(context.Background(), d, tr)
			wantCode(t, err, tt.code)
			if apperr.KindOf(err) != apperr.KindInvalid {
				t.Errorf("kind = %v, want invalid", apperr.KindOf(err))
			}
		})
	}
	if n := count(t, d, "ledger_transactions"); n != 0 {
		t.Fatalf("%d transactions after refusals, want 0", n)
	}
}

func TestPostSameKeyReplays(t *testing.T) {
	t.Parallel()
	d := newLedger(t)
	first := mustPost(t, d, payment("pay-1", 1, "500000"))
	// The same request again, with the postings in another order and the
	// amounts written differently: the same request.
	again := payment("pay-1", 1, "500000.00")
	again.Postings[0], again.Postings[1] = again.Postings[1], again.Postings[0]
	second := mustPost(t, d, again)
	if !second.Replayed || second.ID != first.ID || !second.CreatedAt.Equal(first.CreatedAt) {
		t.Fatalf("second post = %+v, want a replay of %d", second, first.ID)
	}
	if second.Postings[0].Account != ledger.Bank(project) {
		t.Errorf("replay returned postings %+v, want the first request's", second.Postings)
	}
	if n := count(t, d, "ledger_transactions"); n != 1 {
		t.Fatalf("%d transactions, want 1", n)
	}
	wantBalance(t, d, ledger.Bank(project), "500000")
}

func TestPostSameKeyDifferentRequestConflicts(t *testing.T) {
	t.Parallel()
	d := newLedger(t)
	mustPost(t, d, payment("pay-1", 1, "500000"))
	for name, tr := range map[string]ledger.Transaction{
		"amount":  payment("pay-1", 1, "400000"),
		"partner": payment("pay-1", 2, "500000"),
		"memo":    func() ledger.Transaction { x := payment("pay-1", 1, "500000"); x.Memo = "补缴"; return x }(),
	} {
		_, err := ledger.PostTx(context.Background(), d, tr)
		if !errors.Is(err, ledger.ErrIdempotencyKeyReused) || apperr.KindOf(err) != apperr.KindConflict {
			t.Errorf("%s: error = %v, want idempotency_key_reused", name, err)
		}
		if e := apperr.As(err); e == nil || e.Message != "幂等键已用于不同的请求" {
			t.Errorf("%s: message = %v", name, err)
		}
	}
	if n := count(t, d, "ledger_transactions"); n != 1 {
		t.Fatalf("%d transactions, want 1", n)
	}
	wantBalance(t, d, ledger.Bank(project), "500000")
}

func TestPostRollsBackWithTheCaller(t *testing.T) {
	t.Parallel()
	d := newLedger(t)
	boom := errors.New("the caller's own write failed")
	err := d.InTx(context.Background(), func(tx *sqlx.Tx) error {
		if _, err := ledger.Post(context.Background(), tx, payment("pay-1", 1, "100")); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v", err)
	}
	if n := count(t, d, "ledger_transactions") + count(t, d, "ledger_accounts") + count(t, d, "ledger_balances"); n != 0 {
		t.Fatalf("%d ledger rows after rollback, want 0", n)
	}
	// The key is free again.
	mustPost(t, d, payment("pay-1", 1, "100"))
}

func TestConcurrentPostsOfOneKeyPostOnce(t *testing.T) {
	t.Parallel()
	for _, iso := range []string{"READ COMMITTED", "SERIALIZABLE"} {
		t.Run(iso, func(t *testing.T) {
			d := newLedger(t)
			const n = 8
			results := make([]ledger.Posted, n)
			errs := make([]error, n)
			var wg sync.WaitGroup
			start := make(chan struct{})
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					errs[i] = d.InTx(context.Background(), func(tx *sqlx.Tx) error {
						if _, err := tx.Exec(`SET TRANSACTION ISOLATION LEVEL ` + iso); err != nil {
							return err
						}
						var err error
						results[i], err = ledger.Post(context.Background(), tx, payment("pay-1", 1, "500000"))
						return err
					})
				}()
			}
			close(start)
			wg.Wait()
			fresh := 0
			for i := range n {
				if errs[i] != nil {
					t.Fatalf("caller %d: %v", i, errs[i])
				}
				if results[i].ID != results[0].ID || len(results[i].Postings) != 2 {
					t.Fatalf("caller %d got %+v, caller 0 got %+v", i, results[i], results[0])
				}
				if !results[i].Replayed {
					fresh++
				}
			}
			if fresh != 1 {
				t.Errorf("%d callers posted, want exactly 1", fresh)
			}
			if c := count(t, d, "ledger_transactions"); c != 1 {
				t.Fatalf("%d transactions, want 1", c)
			}
			wantBalance(t, d, ledger.Bank(project), "500000")
		})
	}
}

func TestConcurrentPostsOnOverlappingAccounts(t *testing.T) {
	t.Parallel()
	d := newLedger(t)
	ctx := context.Background()
	const workers, each = 20, 5
	// line is a principal distribution line for partner k (R6), with its
	// postings listed in an order that depends on the worker.
	line := func(key string, w int, k int64) ledger.Transaction {
		tr := ledger.Transaction{
			IdempotencyKey: key, Kind: "principal_distribution", ProjectID: ptr(project),
			Postings: []ledger.Posting{
				{Account: ledger.Interest(project), Amount: amt("-1.50")},
				{Account: ledger.Principal(project, k), Amount: amt("100.00")},
				{Account: ledger.Bank(project), Amount: amt("-98.50")},
			},
		}
		if w%2 == 1 {
			tr.Postings[0], tr.Postings[2] = tr.Postings[2], tr.Postings[0]
		}
		return tr
	}
	run := func(work func(w int) error) {
		t.Helper()
		var wg sync.WaitGroup
		errs := make(chan error, workers)
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs <- work(w)
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
	}

	// Twenty callers, one ledger transaction per database transaction, on
	// the shared bank and interest accounts and on partners' accounts that
	// several of them create at once on first use.
	run(func(w int) error {
		for i := range each {
			tr := line(fmt.Sprintf("a%d-%d", w, i), w, int64(1+(w+i)%7))
			if _, err := ledger.PostTx(ctx, d, tr); err != nil {
				return err
			}
		}
		return nil
	})
	// Twenty callers posting several ledger transactions in one database
	// transaction each.
	run(func(w int) error {
		return d.InTx(ctx, func(tx *sqlx.Tx) error {
			for i := range each {
				if _, err := ledger.Post(ctx, tx, line(fmt.Sprintf("b%d-%d", w, i), w, int64(1+(w*3+i)%7))); err != nil {
					return err
				}
			}
			return nil
		})
	})

	r, err := ledger.Reconcile(ctx, d)
	if err != nil || !r.OK || r.Transactions != 2*workers*each {
		t.Fatalf("reconcile = %+v, %v", r, err)
	}
	wantBalance(t, d, ledger.Bank(project), "-19700.00")
	wantBalance(t, d, ledger.Interest(project), "-300.00")
	principals, err := ledger.BalancesByPrefix(ctx, d, "principal:12:")
	if err != nil {
		t.Fatal(err)
	}
	sum := decimal.Zero
	for _, p := range principals {
		sum = sum.Add(p.Balance)
	}
	if len(principals) != 7 || !sum.Equal(amt("20000")) {
		t.Fatalf("principal balances = %+v", principals)
	}
}

func TestReverse(t *testing.T) {
	t.Parallel()
	d := newLedger(t)
	ctx := context.Background()
	orig := mustPost(t, d, payment("pay-1", 1, "500000"))
	reverse := func(key string, id int64) (ledger.Posted, error) {
		var p ledger.Posted
		err := d.InTx(ctx, func(tx *sqlx.Tx) error {
			var err error
			p, err = ledger.Reverse(ctx, tx, id, key, "录入错误", ptr(1))
			return err
		})
		return p, err
	}
	if _, err := d.Exec(`INSERT INTO users (id, name) VALUES (1, '会计甲')`); err != nil {
		t.Fatal(err)
	}

	rev, err := reverse("rev-1", orig.ID)
	if err != nil {
		t.Fatal(err)
	}
	if rev.ReversesID == nil || *rev.ReversesID != orig.ID || rev.Kind != ledger.KindReversal || rev.Memo != "录入错误" ||
		*rev.CreatedBy != 1 || !rev.Postings[0].Amount.Equal(amt("-500000")) {
		t.Fatalf("reversal = %+v", rev)
	}
	wantBalance(t, d, ledger.Bank(project), "0")
	wantBalance(t, d, ledger.Principal(project, 1), "0")

	again, err := reverse("rev-1", orig.ID)
	if err != nil || !again.Replayed || again.ID != rev.ID {
		t.Fatalf("reversing again with the same key = %+v, %v; want a replay", again, err)
	}
	if _, err := reverse("rev-2", orig.ID); !errors.Is(err, ledger.ErrAlreadyReversed) {
		t.Fatalf("second reversal error = %v, want already reversed", err)
	}
	_, err = reverse("rev-3", rev.ID)
	wantCode(t, err, "ledger_reverse_reversal")
	_, err = reverse("rev-4", 999)
	if !errors.Is(err, ledger.ErrTransactionNotFound) {
		t.Fatalf("reversing an unknown transaction: %v", err)
	}
	_, err = ledger.Reverse(ctx, nil, orig.ID, "rev-5", " ", nil)
	wantCode(t, err, "ledger_reason_required")
	if n := count(t, d, "ledger_transactions"); n != 2 {
		t.Fatalf("%d transactions, want 2", n)
	}
}

func TestConcurrentReversalsReverseOnce(t *testing.T) {
	t.Parallel()
	d := newLedger(t)
	ctx := context.Background()
	orig := mustPost(t, d, payment("pay-1", 1, "500000"))
	const n = 6
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = d.InTx(ctx, func(tx *sqlx.Tx) error {
				_, err := ledger.Reverse(ctx, tx, orig.ID, fmt.Sprintf("rev-%d", i), "重复点击", nil)
				return err
			})
		}()
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, ledger.ErrAlreadyReversed):
			t.Fatalf("unexpected error %v", err)
		}
	}
	if ok != 1 {
		t.Fatalf("%d reversals succeeded, want 1", ok)
	}
	wantBalance(t, d, ledger.Bank(project), "0")
}

func TestReconcileReportsACorruptBalance(t *testing.T) {
	t.Parallel()
	d := dbtest.New(t) // no reconcile at cleanup: this ledger is broken on purpose
	ctx := context.Background()
	mustPost(t, d, payment("pay-1", 1, "500000"))
	mustPost(t, d, payment("pay-2", 2, "300000"))
	r, err := ledger.Reconcile(ctx, d)
	if err != nil || !r.OK {
		t.Fatalf("before corruption: %+v, %v", r, err)
	}
	b, _ := json.Marshal(r)
	if got, want := string(b), `{"ok":true,"transactions":2,"imbalance":"0.00"}`; got != want {
		t.Errorf("report json = %s, want %s", got, want)
	}

	if _, err := d.Exec(`UPDATE ledger_balances SET balance = balance + 0.01
		WHERE account_id = (SELECT id FROM ledger_accounts WHERE code = $1)`, ledger.Principal(project, 2)); err != nil {
		t.Fatal(err)
	}
	r, err = ledger.Reconcile(ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	if r.OK || len(r.Failures) != 2 || !r.Imbalance.Equal(amt("0.01")) {
		t.Fatalf("report = %+v", r)
	}
	f := r.Failures[0]
	if f.Kind != ledger.FailureBalanceMismatch || f.Account != ledger.Principal(project, 2) ||
		!f.Want.Equal(amt("-300000")) || !f.Got.Equal(amt("-299999.99")) {
		t.Errorf("failure = %+v", f)
	}
	if r.Failures[1].Kind != ledger.FailureBalancesNotZero {
		t.Errorf("failure = %+v", r.Failures[1])
	}
	b, _ = json.Marshal(r)
	want := `{"ok":false,"transactions":2,"imbalance":"0.01","failures":[` +
		`{"kind":"balance_mismatch","kind_label":"账户余额与分录重算不符","account":"principal:12:2","account_label":"合伙人本金（项目 12，合伙人 2）","want":"-300000.00","got":"-299999.99"},` +
		`{"kind":"balances_not_zero","kind_label":"全部账户余额合计不为零","want":"0.00","got":"0.01"}]}`
	if string(b) != want {
		t.Errorf("report json = %s\nwant %s", b, want)
	}

	// Transactions that slipped past the database's own check (its trigger
	// disabled by a superuser) are reported as well.
	if _, err := d.Exec(`ALTER TABLE ledger_transactions DISABLE TRIGGER ledger_transaction_balanced`); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Exec(`
		WITH t AS (INSERT INTO ledger_transactions (idempotency_key, request_hash, kind)
		           VALUES ('bad-1', 'x', 'manual'), ('bad-2', 'x', 'manual') RETURNING id, idempotency_key)
		INSERT INTO ledger_postings (transaction_id, account_id, amount)
		SELECT t.id, a.id, 7 FROM t, ledger_accounts a WHERE t.idempotency_key = 'bad-1' AND a.code LIKE 'principal:%'`); err != nil {
		t.Fatal(err)
	}
	r, _ = ledger.Reconcile(ctx, d)
	kinds := map[string]int64{}
	for _, f := range r.Failures {
		if f.TransactionID != 0 {
			kinds[f.Kind] = f.TransactionID
			if f.Kind == ledger.FailureUnbalanced && !f.Got.Equal(amt("14")) {
				t.Errorf("unbalanced failure = %+v, want got 14.00", f)
			}
		}
	}
	if r.OK || r.Transactions != 4 || kinds[ledger.FailureUnbalanced] != 3 || kinds[ledger.FailureTooFewPostings] != 4 {
		t.Fatalf("report with unbalanced transactions = %+v", r)
	}

	// A deleted balance row is caught too.
	if _, err := d.Exec(`DELETE FROM ledger_balances WHERE account_id = (SELECT id FROM ledger_accounts WHERE code = $1)`, ledger.Bank(project)); err != nil {
		t.Fatal(err)
	}
	r, _ = ledger.Reconcile(ctx, d)
	if r.OK || r.Failures[0].Account != ledger.Bank(project) || !r.Failures[0].Got.IsZero() || !r.Failures[0].Want.Equal(amt("800000")) {
		t.Fatalf("report after deleting a balance = %+v", r)
	}
}

func TestAccountLabel(t *testing.T) {
	for _, c := range []struct{ code, want string }{
		{ledger.Bank(7), "项目银行账户（项目 7）"},
		{ledger.Principal(12, 3), "合伙人本金（项目 12，合伙人 3）"},
		{ledger.External("platform"), "外部（平台公司）"},
		{ledger.ExternalPartner(5), "外部（合伙人 5）"},
		{"cash:1", "cash:1"},
	} {
		if got := ledger.AccountLabel(c.code); got != c.want {
			t.Errorf("AccountLabel(%q) = %q, want %q", c.code, got, c.want)
		}
	}
}
