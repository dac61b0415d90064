// Package payout keeps partners' payout accounts (分配账户): the bank account
// refunds and distributions are paid to. The account number is sealed with
// HEHUO_SECRET_KEY in the database and shown masked everywhere else (API,
// audit log, notices); it is never logged. A new or changed account must be
// confirmed by the partner after a confirmation notice before anything is
// paid to it (Confirmed).
package payout

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"hehuo/internal/apperr"
	"hehuo/internal/audit"
	"hehuo/internal/civil"
	"hehuo/internal/config"
	"hehuo/internal/db"
	"hehuo/internal/notify"
	"hehuo/internal/secret"
	"hehuo/internal/text"
)

// numberPurpose binds a sealed number to this use, so a sealed robot secret
// cannot be replayed as an account number or the other way round.
const numberPurpose = "payout_account_number"

// Status is a payout account's state.
type Status string

// The account's states.
const (
	StatusNone        Status = "none" // no account entered yet (never stored)
	StatusUnconfirmed Status = "unconfirmed"
	StatusConfirmed   Status = "confirmed"
)

var statusLabels = map[Status]string{StatusNone: "未填写", StatusUnconfirmed: "待确认", StatusConfirmed: "已确认"}

// Label is the state in Chinese, or the code itself for an unknown state.
func (s Status) Label() string {
	if l, ok := statusLabels[s]; ok {
		return l
	}
	return string(s)
}

func init() { audit.DescribeStates("payout_account", statusLabels) }

// confirmDays is how long the confirmation notice gives the partner.
const confirmDays = 7

// Account is a payout account as every screen shows it: the number masked.
type Account struct {
	UserID       int64      `json:"user_id"`
	Bank         string     `json:"bank"`
	Branch       string     `json:"branch"`
	Holder       string     `json:"holder"`
	NumberMasked string     `json:"number_masked"`
	Status       Status     `json:"status"`
	StatusLabel  string     `json:"status_label"`
	ConfirmedAt  *time.Time `json:"confirmed_at"`
	Version      int        `json:"version"`
	UpdatedAt    *time.Time `json:"updated_at"`
}

// Input is what the partner enters (H5 我的分配账户). Version is 0 for the
// first account and the account's version for a change.
type Input struct {
	Bank    string `json:"bank"`
	Branch  string `json:"branch"`
	Holder  string `json:"holder"`
	Number  string `json:"number"`
	Version int    `json:"version"`
}

// Service keeps payout accounts.
type Service struct {
	db  *db.DB
	cfg config.Config
	log *slog.Logger
}

// NewService returns the service; the secret box comes from cfg.SecretKey
// (demo mode without a key uses the public demo key).
func NewService(d *db.DB, cfg config.Config, log *slog.Logger) *Service {
	return &Service{db: d, cfg: cfg, log: log}
}

func (s *Service) box() (*secret.Box, error) {
	return secret.Configured(s.cfg.SecretKey, s.cfg.Demo, s.log, "number", "无法保存分配账户")
}

type row struct {
	UserID      int64      `db:"user_id"`
	Bank        string     `db:"bank"`
	Branch      string     `db:"branch"`
	Holder      string     `db:"holder"`
	NumberEnc   string     `db:"number_enc"`
	Last4       string     `db:"number_last4"`
	Status      Status     `db:"status"`
	NoticeID    *int64     `db:"notice_id"`
	ConfirmedAt *time.Time `db:"confirmed_at"`
	Version     int        `db:"version"`
	UpdatedAt   time.Time  `db:"updated_at"`
}

const columns = `user_id, bank, branch, holder, number_enc, number_last4, status, notice_id, confirmed_at, version, updated_at`

func (r row) account() Account {
	u := r.UpdatedAt
	return Account{UserID: r.UserID, Bank: r.Bank, Branch: r.Branch, Holder: r.Holder, NumberMasked: Mask(r.Last4),
		Status: r.Status, StatusLabel: r.Status.Label(), ConfirmedAt: r.ConfirmedAt, Version: r.Version, UpdatedAt: &u}
}

func get(ctx context.Context, q sqlx.QueryerContext, userID int64, lock bool) (row, bool, error) {
	var r row
	query := `SELECT ` + columns + ` FROM payout_accounts WHERE user_id = $1`
	if lock {
		query += ` FOR UPDATE`
	}
	err := sqlx.GetContext(ctx, q, &r, query, userID)
	if db.IsNoRows(err) {
		return r, false, nil
	}
	if err != nil {
		return r, false, fmt.Errorf("read payout account: %w", err)
	}
	return r, true, nil
}

// Mask shows an account number by its last four digits only.
func Mask(last4 string) string {
	if last4 == "" {
		return ""
	}
	return "**** **** **** " + last4
}

// NormalizeNumber checks an account number for form: digits only (spaces and
// hyphens as typed are dropped), 12 to 30 of them. The number is never put in
// the error message.
func NormalizeNumber(s string) (string, error) {
	n := strings.NewReplacer(" ", "", "-", "", "\u3000", "").Replace(strings.TrimSpace(s))
	if n == "" {
		return "", apperr.Invalid("required", "number", "请填写银行账号")
	}
	if strings.Trim(n, "0123456789") != "" {
		return "", apperr.Invalid("payout_number_invalid", "number", "银行账号只能是数字")
	}
	if len(n) < 12 || len(n) > 30 {
		return "", apperr.Invalid("payout_number_invalid", "number", "银行账号须为12至30位数字")
	}
	return n, nil
}

// Get returns the user's account, with Status "none" when there is none.
func (s *Service) Get(ctx context.Context, userID int64) (Account, error) {
	r, ok, err := get(ctx, s.db, userID, false)
	if err != nil {
		return Account{}, err
	}
	if !ok {
		return Account{UserID: userID, Status: StatusNone, StatusLabel: StatusNone.Label()}, nil
	}
	return r.account(), nil
}

// Confirmed says whether the user has a payout account they confirmed since
// its last change: refunds and distributions are paid only then.
func Confirmed(ctx context.Context, q sqlx.QueryerContext, userID int64) (bool, error) {
	var status Status
	err := sqlx.GetContext(ctx, q, &status, `SELECT status FROM payout_accounts WHERE user_id = $1`, userID)
	if db.IsNoRows(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read payout account: %w", err)
	}
	return status == StatusConfirmed, nil
}

// Save enters or changes the user's account. The holder must be the user
// (by name); the account then needs confirming again, and a confirmation
// notice goes out in the same transaction. Saving the same account again
// changes nothing.
func (s *Service) Save(ctx context.Context, a audit.Actor, userID int64, in Input) (Account, error) {
	return s.save(ctx, a, userID, in, nil)
}

// save is Save; behalf is set when staff enter the account for the partner
// (SaveOnBehalf): it runs in the transaction before anything is written and
// names the audit entry's reason.
func (s *Service) save(ctx context.Context, a audit.Actor, userID int64, in Input, behalf *onBehalf) (Account, error) {
	bank, err := text.Clean(in.Bank, "bank", "开户银行", true, 50)
	if err != nil {
		return Account{}, err
	}
	branch, err := text.Clean(in.Branch, "branch", "开户支行", true, 100)
	if err != nil {
		return Account{}, err
	}
	holder, err := text.Clean(in.Holder, "holder", "账户名", true, 50)
	if err != nil {
		return Account{}, err
	}
	number, err := NormalizeNumber(in.Number)
	if err != nil {
		return Account{}, err
	}
	box, err := s.box()
	if err != nil {
		return Account{}, err
	}
	sealed, err := box.Seal(numberPurpose, number)
	if err != nil {
		return Account{}, err
	}
	var out Account
	err = s.db.InTx(ctx, func(tx *sqlx.Tx) error {
		var user struct {
			Name       string  `db:"name"`
			DingTalkID *string `db:"dingtalk_userid"`
		}
		if err := sqlx.GetContext(ctx, tx, &user, `SELECT name, dingtalk_userid FROM users WHERE id = $1`, userID); err != nil {
			if db.IsNoRows(err) {
				return apperr.NotFound("user_not_found", "用户不存在")
			}
			return fmt.Errorf("read user: %w", err)
		}
		if behalf != nil {
			if err := behalf.check(ctx, tx); err != nil {
				return err
			}
		}
		// Money is paid only to the partner's own account: an account in
		// someone else's name is refused, not flagged.
		if holder != strings.TrimSpace(user.Name) {
			return apperr.Invalid("payout_holder_mismatch", "holder", "账户名须为本人姓名（%s）", user.Name)
		}
		before, exists, err := get(ctx, tx, userID, true)
		if err != nil {
			return err
		}
		if exists && before.Version != in.Version || !exists && in.Version != 0 {
			return apperr.ErrStaleVersion
		}
		if exists {
			old, err := box.Open(numberPurpose, before.NumberEnc)
			if err == nil && old == number && before.Bank == bank && before.Branch == branch && before.Holder == holder {
				out = before.account()
				return nil
			}
		}
		last4 := number[len(number)-4:]
		if exists {
			_, err = tx.ExecContext(ctx, `UPDATE payout_accounts SET bank = $2, branch = $3, holder = $4, number_enc = $5,
				number_last4 = $6, status = 'unconfirmed', notice_id = NULL, confirmed_at = NULL, version = version + 1,
				updated_at = now() WHERE user_id = $1`, userID, bank, branch, holder, sealed, last4)
		} else {
			_, err = tx.ExecContext(ctx, `INSERT INTO payout_accounts (user_id, bank, branch, holder, number_enc, number_last4)
				VALUES ($1, $2, $3, $4, $5, $6)`, userID, bank, branch, holder, sealed, last4)
		}
		if err != nil {
			return fmt.Errorf("save payout account: %w", err)
		}
		after, _, err := get(ctx, tx, userID, false)
		if err != nil {
			return err
		}
		if user.DingTalkID != nil && *user.DingTalkID != "" {
			deadline := civil.Today(time.Now()).AddDays(confirmDays)
			id, _, err := notify.Enqueue(ctx, tx, notify.Notice{
				Kind: notify.KindWorkNotice, Recipients: []string{*user.DingTalkID}, Template: "account_confirm_notice",
				Data: map[string]any{"project_name": "分配账户", "distribution_name": "尾号" + last4,
					"deadline": deadline.String(), "link": "/m/#/payout-account"},
				DedupeKey: fmt.Sprintf("payout_confirm:%d:%d", userID, after.Version),
			})
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `UPDATE payout_accounts SET notice_id = $2 WHERE user_id = $1`, userID, id); err != nil {
				return fmt.Errorf("save payout account notice: %w", err)
			}
			after.NoticeID = &id
		}
		var b any
		if exists {
			b = before.account()
		}
		out = after.account()
		// The audit log holds the masked account only, like every screen.
		if behalf != nil {
			return audit.Record(ctx, tx, a, audit.Entry{Action: "payout_account.save_on_behalf", Entity: "payout_account", EntityID: userID,
				ProjectID: &behalf.projectID, Before: b, After: onBehalfEntry{Account: out, Reason: behalf.reason}})
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "payout_account.save", Entity: "payout_account", EntityID: userID,
			Before: b, After: out})
	})
	if err != nil {
		return Account{}, err
	}
	return out, nil
}

// Confirm records that the partner confirmed the account as it is at
// version, after its confirmation notice. Confirming again is a no-op.
func (s *Service) Confirm(ctx context.Context, a audit.Actor, userID int64, version int) (Account, error) {
	if version <= 0 {
		return Account{}, apperr.Invalid("version_required", "version", "缺少版本号")
	}
	var out Account
	err := s.db.InTx(ctx, func(tx *sqlx.Tx) error {
		before, exists, err := get(ctx, tx, userID, true)
		if err != nil {
			return err
		}
		if !exists {
			return apperr.NotFound("payout_account_not_found", "尚未填写分配账户")
		}
		if before.Version != version {
			return apperr.ErrStaleVersion
		}
		if before.Status == StatusConfirmed {
			out = before.account()
			return nil
		}
		if before.NoticeID == nil {
			return apperr.Rule("payout_notice_missing", "version", "尚未发送分配账户确认通知，暂不能确认")
		}
		if _, err := tx.ExecContext(ctx, `UPDATE payout_accounts SET status = 'confirmed', confirmed_at = now(),
			version = version + 1, updated_at = now() WHERE user_id = $1`, userID); err != nil {
			return fmt.Errorf("confirm payout account: %w", err)
		}
		after, _, err := get(ctx, tx, userID, false)
		if err != nil {
			return err
		}
		out = after.account()
		return audit.Record(ctx, tx, a, audit.Entry{Action: "payout_account.confirm", Entity: "payout_account", EntityID: userID,
			Before: before.account(), After: out})
	})
	if err != nil {
		return Account{}, err
	}
	return out, nil
}

// Of returns the accounts of userIDs, masked, keyed by user; users without
// an account are missing. Staff screens that pay partners out (变更缴款确认,
// distributions) show these, never the number.
func Of(ctx context.Context, q sqlx.QueryerContext, userIDs []int64) (map[int64]Account, error) {
	var rows []row
	if err := sqlx.SelectContext(ctx, q, &rows, `SELECT `+columns+` FROM payout_accounts WHERE user_id = ANY($1)`, pq.Array(userIDs)); err != nil {
		return nil, fmt.Errorf("read payout accounts: %w", err)
	}
	out := make(map[int64]Account, len(rows))
	for _, r := range rows {
		out[r.UserID] = r.account()
	}
	return out, nil
}

// BankAccount is a confirmed payout account with its number in clear. Only
// the bank payout file (分配 → 银行付款文件) holds one; it never goes into
// JSON, a log or the audit log.
type BankAccount struct {
	UserID int64
	Bank   string
	Branch string
	Holder string
	Number string `json:"-"`
}

// UnsealForBankFile returns the confirmed accounts of userIDs with their
// numbers unsealed, keyed by user; users without a confirmed account are
// missing. It is the one place a number leaves its seal, for the bank
// payout file only, and it records entry (the export, which must not carry
// the numbers) in tx, so no number is unsealed without a trace in the
// 系统日志.
func (s *Service) UnsealForBankFile(ctx context.Context, tx *sqlx.Tx, a audit.Actor, entry audit.Entry, userIDs []int64) (map[int64]BankAccount, error) {
	box, err := s.box()
	if err != nil {
		return nil, err
	}
	var rows []row
	if err := tx.SelectContext(ctx, &rows, `SELECT `+columns+` FROM payout_accounts WHERE user_id = ANY($1) AND status = $2`,
		pq.Array(userIDs), StatusConfirmed); err != nil {
		return nil, fmt.Errorf("read payout accounts: %w", err)
	}
	out := make(map[int64]BankAccount, len(rows))
	for _, r := range rows {
		n, err := box.Open(numberPurpose, r.NumberEnc)
		if err != nil {
			// Never the number, nor the sealed text, in the error.
			return nil, fmt.Errorf("unseal the payout account of user %d: %w", r.UserID, err)
		}
		out[r.UserID] = BankAccount{UserID: r.UserID, Bank: r.Bank, Branch: r.Branch, Holder: r.Holder, Number: n}
	}
	if err := audit.Record(ctx, tx, a, entry); err != nil {
		return nil, err
	}
	return out, nil
}
