package adjustment

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"

	"hehuo/internal/money"
)

// MyLine is what the signed-in partner has to settle after an agreed
// adjustment (补缴 or 退款), summed over their tiers, for the H5 personal
// center.
type MyLine struct {
	AdjustmentID int64        `json:"adjustment_id" db:"adjustment_id"`
	ProjectID    int64        `json:"project_id" db:"project_id"`
	ProjectName  string       `json:"project_name" db:"project_name"`
	OldPrincipal money.Amount `json:"old_principal" db:"old_principal"`
	NewPrincipal money.Amount `json:"new_principal" db:"new_principal"`
	TopUp        money.Amount `json:"top_up" db:"top_up"`
	Refund       money.Amount `json:"refund" db:"refund"`
	Settled      money.Amount `json:"settled" db:"settled"`
}

// Mine lists the user's lines of agreed adjustments, newest first.
func (s *Service) Mine(ctx context.Context, userID int64) ([]MyLine, error) {
	out := []MyLine{}
	if err := sqlx.SelectContext(ctx, s.db, &out, `SELECT a.id AS adjustment_id, a.project_id, p.name AS project_name,
			sum(l.old_principal) AS old_principal, sum(l.new_principal) AS new_principal,
			sum(l.top_up) AS top_up, sum(l.refund) AS refund, sum(l.settled) AS settled
		FROM adjustment_lines l JOIN adjustments a ON a.id = l.adjustment_id JOIN projects p ON p.id = a.project_id
		JOIN partners pt ON pt.id = l.partner_id
		WHERE pt.user_id = $1 AND a.status = 'agreed'
		GROUP BY a.id, a.project_id, p.name ORDER BY a.id DESC`, userID); err != nil {
		return nil, fmt.Errorf("my adjustments: %w", err)
	}
	return out, nil
}
