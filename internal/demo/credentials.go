package demo

import (
	"context"
	"fmt"

	"hehuo/internal/db"
	"hehuo/internal/secret"
)

// credentialPurpose binds a sealed demo password to its use.
const credentialPurpose = "demo_password"

// Password returns the demo password of username: the one stored (sealed)
// at the first start of this demo database, or a new one from generate,
// stored for the next start. A password that cannot be opened (the secret
// key changed) is replaced, so the demo still starts and prints it.
func Password(ctx context.Context, d *db.DB, box *secret.Box, username string, generate func() string) (string, error) {
	var sealed string
	err := d.GetContext(ctx, &sealed, `SELECT sealed FROM demo_credentials WHERE username = $1`, username)
	switch {
	case err == nil:
		if pw, err := box.Open(credentialPurpose, sealed); err == nil {
			return pw, nil
		}
	case !db.IsNoRows(err):
		return "", fmt.Errorf("demo password of %s: %w", username, err)
	}
	pw := generate()
	if sealed, err = box.Seal(credentialPurpose, pw); err != nil {
		return "", fmt.Errorf("seal demo password of %s: %w", username, err)
	}
	if _, err := d.ExecContext(ctx, `INSERT INTO demo_credentials (username, sealed) VALUES ($1, $2)
		ON CONFLICT (username) DO UPDATE SET sealed = EXCLUDED.sealed, created_at = now()`, username, sealed); err != nil {
		return "", fmt.Errorf("store demo password of %s: %w", username, err)
	}
	return pw, nil
}
