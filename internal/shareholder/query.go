package shareholder

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/shopspring/decimal"

	"hehuo/internal/apperr"
	"hehuo/internal/civil"
	"hehuo/internal/db"
	"hehuo/internal/secret"
)

type shRow struct {
	ID           int64     `db:"id"`
	Name         string    `db:"name"`
	Kind         Kind      `db:"kind"`
	IDNumberEnc  string    `db:"id_number_enc"`
	IDLast4      string    `db:"id_number_last4"`
	Contact      string    `db:"contact"`
	Bank         string    `db:"bank"`
	AccountEnc   *string   `db:"account_enc"`
	AccountLast4 *string   `db:"account_last4"`
	Version      int       `db:"version"`
	CreatedAt    time.Time `db:"created_at"`
	UpdatedAt    time.Time `db:"updated_at"`
}

const shColumns = `id, name, kind, id_number_enc, id_number_last4, contact, bank, account_enc, account_last4, version, created_at, updated_at`

func (r shRow) shareholder() Shareholder {
	acct := ""
	if r.AccountLast4 != nil {
		acct = Mask(*r.AccountLast4)
	}
	return Shareholder{ID: r.ID, Name: r.Name, Kind: r.Kind, KindLabel: r.Kind.Label(), IDNumberMasked: Mask(r.IDLast4),
		Contact: r.Contact, Bank: r.Bank, AccountMasked: acct, Version: r.Version, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
}

func getRow(ctx context.Context, q sqlx.QueryerContext, id int64, lock bool) (shRow, error) {
	var r shRow
	query := `SELECT ` + shColumns + ` FROM minority_shareholders WHERE id = $1`
	if lock {
		query += ` FOR UPDATE`
	}
	err := sqlx.GetContext(ctx, q, &r, query, id)
	if db.IsNoRows(err) {
		return r, apperr.NotFound("shareholder_not_found", "外部股东不存在")
	}
	if err != nil {
		return r, fmt.Errorf("read minority shareholder: %w", err)
	}
	return r, nil
}

// Get returns a registered shareholder, its numbers masked (404
// shareholder_not_found when there is none).
func Get(ctx context.Context, q sqlx.QueryerContext, id int64) (Shareholder, error) {
	r, err := getRow(ctx, q, id, false)
	if err != nil {
		return Shareholder{}, err
	}
	return r.shareholder(), nil
}

// ApprovedStakes returns the approved (in force) registrations of a
// project, by shareholder id. Only these count: a shareholder with a draft,
// submitted or returned registration only is not among them.
func ApprovedStakes(ctx context.Context, q sqlx.QueryerContext, projectID int64) ([]Stake, error) {
	var rows []struct {
		RegistrationID int64           `db:"id"`
		ShareholderID  int64           `db:"shareholder_id"`
		Name           string          `db:"name"`
		Stake          decimal.Decimal `db:"stake"`
		Contributed    decimal.Decimal `db:"contributed"`
		ContributedOn  civil.Date      `db:"contributed_on"`
	}
	if err := sqlx.SelectContext(ctx, q, &rows, `SELECT r.id, r.shareholder_id, s.name, r.stake, r.contributed, r.contributed_on
		FROM shareholder_registrations r JOIN minority_shareholders s ON s.id = r.shareholder_id
		WHERE r.project_id = $1 AND r.status = 'approved' ORDER BY r.shareholder_id`, projectID); err != nil {
		return nil, fmt.Errorf("read approved stakes: %w", err)
	}
	out := make([]Stake, len(rows))
	for i, r := range rows {
		out[i] = Stake{RegistrationID: r.RegistrationID, ShareholderID: r.ShareholderID, Name: r.Name, Stake: r.Stake,
			Contributed: r.Contributed, ContributedOn: r.ContributedOn}
	}
	return out, nil
}

// Payee returns a shareholder's bank account with the number unsealed, for
// the bank payout file only (see payout.UnsealForBankFile: the caller
// records the export in the audit log, without the number). A shareholder
// without an account is 422 shareholder_account_missing.
func Payee(ctx context.Context, q sqlx.QueryerContext, box *secret.Box, id int64) (BankAccount, error) {
	r, err := getRow(ctx, q, id, false)
	if err != nil {
		return BankAccount{}, err
	}
	if r.AccountEnc == nil || *r.AccountEnc == "" {
		return BankAccount{}, apperr.Rule("shareholder_account_missing", "shareholder_id", "外部股东「%s」尚未填写银行账号", r.Name)
	}
	n, err := box.Open(accountPurpose, *r.AccountEnc)
	if err != nil {
		// Never the number, nor the sealed text, in the error.
		return BankAccount{}, fmt.Errorf("unseal the account of minority shareholder %d: %w", r.ID, err)
	}
	return BankAccount{ShareholderID: r.ID, Name: r.Name, Bank: r.Bank, Number: n}, nil
}
