package shareholder

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/jmoiron/sqlx"

	"hehuo/internal/apperr"
	"hehuo/internal/audit"
	"hehuo/internal/config"
	"hehuo/internal/db"
	"hehuo/internal/secret"
	"hehuo/internal/text"
)

// Service keeps the registry and the registrations.
type Service struct {
	db  *db.DB
	cfg config.Config
	log *slog.Logger
}

// NewService returns the service; the secret box comes from cfg.SecretKey
// (demo mode without a key uses the public demo key), as for payout accounts.
func NewService(d *db.DB, cfg config.Config, log *slog.Logger) *Service {
	return &Service{db: d, cfg: cfg, log: log}
}

// Box returns the box the numbers are sealed with (for the bank payout file's Payee).
func (s *Service) Box() (*secret.Box, error) {
	return secret.Configured(s.cfg.SecretKey, s.cfg.Demo, s.log, "id_number", "无法保存外部股东的证件号码和银行账号")
}

// Input is a shareholder as entered (后台管理 → 外部股东). On a change
// (Update) an empty id_number or account_number keeps the one on file;
// Version is the shareholder's version then.
type Input struct {
	Name          string `json:"name"`
	Kind          string `json:"kind"`
	IDNumber      string `json:"id_number"`
	Contact       string `json:"contact"`
	Bank          string `json:"bank"`
	AccountNumber string `json:"account_number"`
	Version       int    `json:"version"`
}

// clean is an input checked for form, numbers in clear (never logged).
type clean struct {
	name, contact, bank string
	kind                Kind
	idNumber, account   string
}

func (in Input) clean(update bool) (clean, error) {
	var c clean
	var err error
	if c.name, err = text.Clean(in.Name, "name", "股东名称", true, 100); err != nil {
		return c, err
	}
	if c.kind, err = parseKind(in.Kind); err != nil {
		return c, err
	}
	if !update || in.IDNumber != "" {
		if c.idNumber, err = normalizeIDNumber(c.kind, in.IDNumber); err != nil {
			return c, err
		}
	}
	if c.contact, err = text.Clean(in.Contact, "contact", "联系方式", false, 100); err != nil {
		return c, err
	}
	if c.bank, err = text.Clean(in.Bank, "bank", "开户银行", false, 100); err != nil {
		return c, err
	}
	if c.account, err = normalizeAccount(in.AccountNumber); err != nil {
		return c, err
	}
	if c.account != "" && c.bank == "" {
		return c, apperr.Invalid("required", "bank", "请填写开户银行")
	}
	return c, nil
}

func last4(s string) string {
	if len(s) <= 4 {
		return s
	}
	return s[len(s)-4:]
}

// duplicate refuses a second shareholder with the same ID number (409
// shareholder_duplicate). The numbers are sealed with a fresh nonce each, so
// the candidates with the same last four are opened and compared.
func duplicate(ctx context.Context, tx *sqlx.Tx, box *secret.Box, idNumber string, except int64) error {
	var rows []struct {
		ID   int64  `db:"id"`
		Name string `db:"name"`
		Enc  string `db:"id_number_enc"`
	}
	if err := tx.SelectContext(ctx, &rows, `SELECT id, name, id_number_enc FROM minority_shareholders
		WHERE id_number_last4 = $1 AND id <> $2`, last4(idNumber), except); err != nil {
		return fmt.Errorf("read minority shareholders: %w", err)
	}
	for _, r := range rows {
		if n, err := box.Open(idPurpose, r.Enc); err == nil && n == idNumber {
			return apperr.Conflict("shareholder_duplicate", "证件号码与已登记的外部股东「%s」相同", r.Name)
		}
	}
	return nil
}

func (s *Service) insert(ctx context.Context, tx *sqlx.Tx, a audit.Actor, box *secret.Box, c clean) (Shareholder, error) {
	if err := duplicate(ctx, tx, box, c.idNumber, 0); err != nil {
		return Shareholder{}, err
	}
	idEnc, err := box.Seal(idPurpose, c.idNumber)
	if err != nil {
		return Shareholder{}, err
	}
	var accEnc, accLast4 *string
	if c.account != "" {
		e, err := box.Seal(accountPurpose, c.account)
		if err != nil {
			return Shareholder{}, err
		}
		l := last4(c.account)
		accEnc, accLast4 = &e, &l
	}
	var id int64
	if err := tx.GetContext(ctx, &id, `INSERT INTO minority_shareholders (name, kind, id_number_enc, id_number_last4, contact, bank,
		account_enc, account_last4, created_by_name) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
		c.name, c.kind, idEnc, last4(c.idNumber), c.contact, c.bank, accEnc, accLast4, a.Name); err != nil {
		return Shareholder{}, fmt.Errorf("insert minority shareholder: %w", err)
	}
	out, err := Get(ctx, tx, id)
	if err != nil {
		return Shareholder{}, err
	}
	// The audit log holds the masked numbers only, like every screen.
	return out, audit.Record(ctx, tx, a, audit.Entry{Action: "minority_shareholder.create", Entity: "minority_shareholder",
		EntityID: id, After: out})
}

// Create registers a shareholder.
func (s *Service) Create(ctx context.Context, a audit.Actor, in Input) (Shareholder, error) {
	c, err := in.clean(false)
	if err != nil {
		return Shareholder{}, err
	}
	box, err := s.Box()
	if err != nil {
		return Shareholder{}, err
	}
	var out Shareholder
	err = s.db.InTx(ctx, func(tx *sqlx.Tx) error {
		out, err = s.insert(ctx, tx, a, box, c)
		return err
	})
	return out, err
}

// Update changes a shareholder at version (409 when stale). A kind change
// needs the ID number again (a credit code is no ID number).
func (s *Service) Update(ctx context.Context, a audit.Actor, id int64, in Input) (Shareholder, error) {
	if in.Version <= 0 {
		return Shareholder{}, apperr.Invalid("version_required", "version", "缺少版本号")
	}
	c, err := in.clean(true)
	if err != nil {
		return Shareholder{}, err
	}
	box, err := s.Box()
	if err != nil {
		return Shareholder{}, err
	}
	var out Shareholder
	err = s.db.InTx(ctx, func(tx *sqlx.Tx) error {
		before, err := getRow(ctx, tx, id, true)
		if err != nil {
			return err
		}
		if before.Version != in.Version {
			return apperr.ErrStaleVersion
		}
		idEnc, idLast4 := before.IDNumberEnc, before.IDLast4
		if c.idNumber == "" && c.kind != before.Kind {
			return apperr.Invalid("required", "id_number", "修改股东类型时须重新填写证件号码")
		}
		if c.idNumber != "" {
			if err := duplicate(ctx, tx, box, c.idNumber, id); err != nil {
				return err
			}
			if idEnc, err = box.Seal(idPurpose, c.idNumber); err != nil {
				return err
			}
			idLast4 = last4(c.idNumber)
		}
		accEnc, accLast4 := before.AccountEnc, before.AccountLast4
		if c.account != "" {
			e, err := box.Seal(accountPurpose, c.account)
			if err != nil {
				return err
			}
			l := last4(c.account)
			accEnc, accLast4 = &e, &l
		} else if accEnc != nil && c.bank == "" {
			return apperr.Invalid("required", "bank", "请填写开户银行")
		}
		if _, err := tx.ExecContext(ctx, `UPDATE minority_shareholders SET name = $2, kind = $3, id_number_enc = $4,
			id_number_last4 = $5, contact = $6, bank = $7, account_enc = $8, account_last4 = $9, version = version + 1,
			updated_at = now() WHERE id = $1`, id, c.name, c.kind, idEnc, idLast4, c.contact, c.bank, accEnc, accLast4); err != nil {
			return fmt.Errorf("update minority shareholder: %w", err)
		}
		if out, err = Get(ctx, tx, id); err != nil {
			return err
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "minority_shareholder.update", Entity: "minority_shareholder",
			EntityID: id, Before: before.shareholder(), After: out})
	})
	return out, err
}

// List returns every registered shareholder, numbers masked, by name.
func (s *Service) List(ctx context.Context) ([]Shareholder, error) {
	var rows []shRow
	if err := sqlx.SelectContext(ctx, s.db, &rows, `SELECT `+shColumns+` FROM minority_shareholders ORDER BY name, id`); err != nil {
		return nil, fmt.Errorf("list minority shareholders: %w", err)
	}
	out := make([]Shareholder, len(rows))
	for i, r := range rows {
		out[i] = r.shareholder()
	}
	return out, nil
}

// Get returns one shareholder, numbers masked.
func (s *Service) Get(ctx context.Context, id int64) (Shareholder, error) { return Get(ctx, s.db, id) }
