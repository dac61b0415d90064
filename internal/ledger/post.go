package ledger

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	"github.com/shopspring/decimal"

	"hehuo/internal/apperr"
	"hehuo/internal/db"
	"hehuo/internal/money"
)

// KindReversal is the kind of the transactions Reverse posts.
const KindReversal = "reversal"

// Errors callers may check with errors.Is.
var (
	// ErrIdempotencyKeyReused is a key posted before with a different request.
	ErrIdempotencyKeyReused = apperr.Conflict("idempotency_key_reused", "幂等键已用于不同的请求")
	// ErrAlreadyReversed is a second reversal of one transaction.
	ErrAlreadyReversed = apperr.Conflict("ledger_already_reversed", "该笔账务已冲销，不能再次冲销")
	// ErrTransactionNotFound is an unknown ledger transaction.
	ErrTransactionNotFound = apperr.NotFound("ledger_transaction_not_found", "账务记录不存在")
)

var kindPattern = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// maxAmount bounds a posting so that numeric(20,2) balances cannot overflow
// in ordinary use.
var maxAmount = decimal.New(1, 15)

// PostTx posts t in a transaction of its own, for callers that have no other
// rows to write. See Post.
func PostTx(ctx context.Context, d *db.DB, t Transaction) (Posted, error) {
	var p Posted
	err := d.InTx(ctx, func(tx *sqlx.Tx) error {
		var err error
		p, err = Post(ctx, tx, t)
		return err
	})
	return p, err
}

// Post records t in the caller's database transaction: it checks t (at least
// two postings on distinct accounts of the chart, non-zero amounts in fen,
// summing to zero), creates accounts on first use, appends the postings and
// moves the balances, locking them in account order so that concurrent posts
// do not deadlock on each other.
//
// If t's idempotency key was posted before with the same request (kind,
// memo, project and postings; not who asked), Post returns the first result
// with Replayed set and posts nothing. With a different request it returns
// ErrIdempotencyKeyReused. When two database transactions post the same key
// at once, the second waits for the first and then replays it (or, at
// REPEATABLE READ and above, fails with a serialization error that
// db.InTx retries).
//
// One Post per database transaction never deadlocks with another. Several
// Posts in one database transaction take their locks post by post, so two
// such callers that create the same new accounts at once may deadlock;
// Postgres detects it and db.InTx runs the losing transaction again.
func Post(ctx context.Context, tx *sqlx.Tx, t Transaction) (Posted, error) {
	return post(ctx, tx, t, nil)
}

// Reverse posts the negation of ledger transaction id, with the reason as its
// memo. A transaction is reversed at most once (ErrAlreadyReversed), a
// reversal itself cannot be reversed, and the idempotency key behaves as in
// Post: reversing again with the same key returns the first reversal.
func Reverse(ctx context.Context, tx *sqlx.Tx, id int64, idempotencyKey, reason string, by *int64) (Posted, error) {
	if strings.TrimSpace(reason) == "" {
		return Posted{}, apperr.Invalid("ledger_reason_required", "reason", "请填写冲销原因")
	}
	orig, err := Get(ctx, tx, id)
	if err != nil {
		return Posted{}, err
	}
	if orig.ReversesID != nil {
		return Posted{}, apperr.Rule("ledger_reverse_reversal", "", "冲销记录不能再冲销，请重新记账")
	}
	var prior struct {
		ID  int64  `db:"id"`
		Key string `db:"idempotency_key"`
	}
	err = sqlx.GetContext(ctx, tx, &prior, `SELECT id, idempotency_key FROM ledger_transactions WHERE reverses_id = $1`, id)
	switch {
	case err == nil && prior.Key != idempotencyKey:
		return Posted{}, ErrAlreadyReversed
	case err != nil && !db.IsNoRows(err):
		return Posted{}, fmt.Errorf("ledger: find reversal of %d: %w", id, err)
	}
	rev := Transaction{
		IdempotencyKey: idempotencyKey,
		Kind:           KindReversal,
		Memo:           reason,
		ProjectID:      orig.ProjectID,
		CreatedBy:      by,
		Postings:       make([]Posting, len(orig.Postings)),
	}
	for i, p := range orig.Postings {
		rev.Postings[i] = Posting{Account: p.Account, Amount: p.Amount.Neg()}
	}
	return post(ctx, tx, rev, &id)
}

func post(ctx context.Context, tx *sqlx.Tx, t Transaction, reverses *int64) (Posted, error) {
	accounts, err := check(t)
	if err != nil {
		return Posted{}, err
	}
	hash := requestHash(t, reverses)

	var row struct {
		ID        int64     `db:"id"`
		CreatedAt time.Time `db:"created_at"`
	}
	err = sqlx.GetContext(ctx, tx, &row, `
		INSERT INTO ledger_transactions (idempotency_key, request_hash, kind, memo, project_id, reverses_id, created_by)
		VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (idempotency_key) DO NOTHING
		RETURNING id, created_at`,
		t.IdempotencyKey, hash, t.Kind, t.Memo, t.ProjectID, reverses, t.CreatedBy)
	if db.IsNoRows(err) {
		return replay(ctx, tx, t.IdempotencyKey, hash)
	}
	if err != nil {
		if c, ok := db.IsUniqueViolation(err); ok && c == "ledger_transactions_reverses_id_key" {
			return Posted{}, ErrAlreadyReversed
		}
		return Posted{}, fmt.Errorf("ledger: insert transaction: %w", err)
	}

	ids, err := accountIDs(ctx, tx, accounts)
	if err != nil {
		return Posted{}, err
	}
	accountID := make([]int64, len(t.Postings))
	amount := make([]string, len(t.Postings))
	for i, p := range t.Postings {
		accountID[i] = ids[p.Account]
		amount[i] = p.Amount.String()
	}
	// Postings keep the caller's order. Balances are locked in the order of
	// account codes, one order for every post, so that concurrent posts queue
	// instead of deadlocking (bank: sorts before every partner's account).
	// Accounts are distinct (check), so a posting's rank is its index in
	// the postings sorted by account (a sort: a distribution's batch posts
	// tens of thousands of accounts at once).
	order := make([]int, len(t.Postings))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return strings.Compare(t.Postings[a].Account, t.Postings[b].Account) })
	rank := make([]int, len(t.Postings))
	for r, i := range order {
		rank[i] = r
	}
	_, err = tx.ExecContext(ctx, `
		WITH input AS (
			SELECT * FROM unnest($2::bigint[], $3::numeric[], $4::int[]) WITH ORDINALITY AS u (account_id, amount, rank, ord)
		), posted AS (
			INSERT INTO ledger_postings (transaction_id, account_id, amount)
			SELECT $1, account_id, amount FROM input ORDER BY ord
		)
		INSERT INTO ledger_balances AS b (account_id, balance)
		SELECT account_id, amount FROM input ORDER BY rank
		ON CONFLICT (account_id) DO UPDATE SET balance = b.balance + excluded.balance, updated_at = now()`,
		row.ID, pq.Array(accountID), pq.Array(amount), pq.Array(rank))
	if err != nil {
		return Posted{}, fmt.Errorf("ledger: insert postings: %w", err)
	}
	return Posted{Transaction: t, ID: row.ID, ReversesID: reverses, CreatedAt: row.CreatedAt}, nil
}

// replay returns the transaction already posted under key, if hash matches.
func replay(ctx context.Context, tx *sqlx.Tx, key, hash string) (Posted, error) {
	var first struct {
		ID   int64  `db:"id"`
		Hash string `db:"request_hash"`
	}
	err := sqlx.GetContext(ctx, tx, &first, `SELECT id, request_hash FROM ledger_transactions WHERE idempotency_key = $1`, key)
	if err != nil {
		return Posted{}, fmt.Errorf("ledger: read transaction %q: %w", key, err)
	}
	if first.Hash != hash {
		return Posted{}, ErrIdempotencyKeyReused
	}
	p, err := Get(ctx, tx, first.ID)
	if err != nil {
		return Posted{}, err
	}
	p.Replayed = true
	return p, nil
}

// check validates t in Go, before anything touches the database, and
// returns the accounts it names.
func check(t Transaction) ([]Account, error) {
	if k := t.IdempotencyKey; strings.TrimSpace(k) == "" || len(k) > 200 {
		return nil, apperr.Invalid("ledger_idempotency_key_invalid", "idempotency_key", "幂等键不能为空，且不超过 200 个字符")
	}
	if !kindPattern.MatchString(t.Kind) {
		return nil, apperr.Invalid("ledger_kind_invalid", "kind", "账务类型不正确：%s", t.Kind)
	}
	if len(t.Postings) < 2 {
		return nil, apperr.Invalid("ledger_too_few_postings", "postings", "一笔账务至少需要两条分录")
	}
	accounts := make([]Account, len(t.Postings))
	seen := make(map[string]bool, len(t.Postings))
	sum := decimal.Zero
	for i, p := range t.Postings {
		field := fmt.Sprintf("postings[%d]", i)
		a, err := ParseAccount(p.Account)
		if err != nil {
			return nil, apperr.As(err).WithField(field + ".account")
		}
		if seen[p.Account] {
			return nil, apperr.Invalid("ledger_duplicate_account", field+".account", "同一账户在一笔账务中只能出现一次：%s", p.Account)
		}
		seen[p.Account] = true
		if t.ProjectID != nil && a.ProjectID != nil && *a.ProjectID != *t.ProjectID {
			return nil, apperr.Invalid("ledger_project_mismatch", field+".account", "账户 %s 不属于项目 %d", p.Account, *t.ProjectID)
		}
		switch {
		case p.Amount.IsZero():
			return nil, apperr.Invalid("ledger_amount_zero", field+".amount", "分录金额不能为零")
		case !money.IsFen(p.Amount):
			return nil, apperr.Invalid("ledger_amount_too_precise", field+".amount", "分录金额最多两位小数：%s", p.Amount)
		case p.Amount.Abs().GreaterThanOrEqual(maxAmount):
			return nil, apperr.Invalid("ledger_amount_too_large", field+".amount", "分录金额超出范围：%s", p.Amount)
		}
		accounts[i] = a
		sum = sum.Add(p.Amount)
	}
	if !sum.IsZero() {
		return nil, apperr.Invalid("ledger_unbalanced", "postings", "借贷不平衡：分录合计 %s，应为 0.00", money.Display(sum))
	}
	return accounts, nil
}

// requestHash fingerprints what a request does (not who asked), so that a
// retry matches and a different request under the same key does not. The
// order of postings and the way amounts are written do not matter.
func requestHash(t Transaction, reverses *int64) string {
	lines := make([][2]string, len(t.Postings))
	for i, p := range t.Postings {
		lines[i] = [2]string{p.Account, money.Format(p.Amount)}
	}
	slices.SortFunc(lines, func(a, b [2]string) int { return strings.Compare(a[0], b[0]) })
	b, _ := json.Marshal(struct {
		Kind     string      `json:"kind"`
		Memo     string      `json:"memo"`
		Project  *int64      `json:"project"`
		Reverses *int64      `json:"reverses"`
		Postings [][2]string `json:"postings"`
	}{t.Kind, t.Memo, t.ProjectID, reverses, lines})
	sum := sha256.Sum256(b)
	return "v1:" + hex.EncodeToString(sum[:])
}

// accountIDs returns the ids of accounts, creating the missing ones.
func accountIDs(ctx context.Context, tx *sqlx.Tx, accounts []Account) (map[string]int64, error) {
	codes := make([]string, len(accounts))
	for i, a := range accounts {
		codes[i] = a.Code
	}
	ids, err := findAccounts(ctx, tx, codes)
	if err != nil || len(ids) == len(accounts) {
		return ids, err
	}
	var code, kind []string
	var project, partner []sql.NullInt64
	for _, a := range accounts {
		if _, ok := ids[a.Code]; ok {
			continue
		}
		code = append(code, a.Code)
		kind = append(kind, string(a.Kind))
		project = append(project, nullInt(a.ProjectID))
		partner = append(partner, nullInt(a.PartnerID))
	}
	// Concurrent creators of one account wait for each other here; a new
	// statement then sees the winner's row.
	_, err = tx.ExecContext(ctx, `
		INSERT INTO ledger_accounts (code, kind, project_id, partner_id)
		SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[]) ORDER BY 1
		ON CONFLICT (code) DO NOTHING`,
		pq.Array(code), pq.Array(kind), pq.Array(project), pq.Array(partner))
	if err != nil {
		return nil, fmt.Errorf("ledger: create accounts: %w", err)
	}
	ids, err = findAccounts(ctx, tx, codes)
	if err == nil && len(ids) != len(accounts) {
		err = fmt.Errorf("ledger: %d of %d accounts missing after creating them", len(accounts)-len(ids), len(accounts))
	}
	return ids, err
}

func findAccounts(ctx context.Context, q sqlx.QueryerContext, codes []string) (map[string]int64, error) {
	rows, err := q.QueryContext(ctx, `SELECT code, id FROM ledger_accounts WHERE code = ANY($1)`, pq.Array(codes))
	if err != nil {
		return nil, fmt.Errorf("ledger: find accounts: %w", err)
	}
	defer rows.Close()
	ids := make(map[string]int64, len(codes))
	for rows.Next() {
		var c string
		var id int64
		if err := rows.Scan(&c, &id); err != nil {
			return nil, fmt.Errorf("ledger: find accounts: %w", err)
		}
		ids[c] = id
	}
	return ids, rows.Err()
}

func nullInt(p *int64) sql.NullInt64 {
	if p == nil {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: *p, Valid: true}
}
