package auth

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"

	"github.com/jmoiron/sqlx"
	"golang.org/x/crypto/bcrypt"

	"hehuo/internal/audit"
	"hehuo/internal/db"
	"hehuo/internal/org"
)

// Bootstrap accounts, signed in by password.
const (
	AdminUsername    = "admin"
	BizadminUsername = "hhadmin"
)

// GeneratePassword returns a random password for demo mode.
func GeneratePassword() string {
	b := make([]byte, 12)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// EnsureBootstrap creates admin (sysadmin) and hhadmin (bizadmin) on first
// start and sets their passwords to the given ones, so the environment stays
// the one place their passwords come from.
func EnsureBootstrap(ctx context.Context, d *db.DB, adminPassword, bizadminPassword string) error {
	accounts := []struct{ username, name, role, password string }{
		{AdminUsername, "系统管理员", org.RoleSysadmin, adminPassword},
		{BizadminUsername, "业务管理员", org.RoleBizadmin, bizadminPassword},
	}
	for _, acc := range accounts {
		hash, err := bcrypt.GenerateFromPassword([]byte(acc.password), bcrypt.DefaultCost)
		if err != nil {
			return fmt.Errorf("hash password of %s: %w", acc.username, err)
		}
		err = d.InTx(ctx, func(tx *sqlx.Tx) error {
			var id int64
			err := tx.GetContext(ctx, &id, `SELECT id FROM users WHERE username = $1 FOR UPDATE`, acc.username)
			if db.IsNoRows(err) {
				if err := tx.GetContext(ctx, &id, `INSERT INTO users (username, name, password_hash) VALUES ($1, $2, $3) RETURNING id`,
					acc.username, acc.name, string(hash)); err != nil {
					return fmt.Errorf("create %s: %w", acc.username, err)
				}
				if _, err := tx.ExecContext(ctx, `INSERT INTO user_roles (user_id, role) VALUES ($1, $2)`, id, acc.role); err != nil {
					return fmt.Errorf("role of %s: %w", acc.username, err)
				}
				return audit.Record(ctx, tx, audit.System, audit.Entry{Action: "user.bootstrap", Entity: "user", EntityID: id,
					After: map[string]any{"username": acc.username, "role": acc.role}})
			}
			if err != nil {
				return fmt.Errorf("find %s: %w", acc.username, err)
			}
			_, err = tx.ExecContext(ctx, `UPDATE users SET password_hash = $1 WHERE id = $2`, string(hash), id)
			return err
		})
		if err != nil {
			return err
		}
	}
	return nil
}
