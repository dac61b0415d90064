package adjustment

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"
	"github.com/shopspring/decimal"

	"hehuo/internal/db"
)

// Commitments is the subscribed principal after adjustments (R5: "principal
// figures everywhere reflect the new split"): the approved rounds'
// allocations plus the deltas of every agreed adjustment. It implements
// holding.Commitments, so 我的跟投 shows the new principal.
type Commitments struct{ DB *db.DB }

// Committed returns the principal partnerID subscribed, by project id.
func (c Commitments) Committed(ctx context.Context, partnerID int64) (map[int64]decimal.Decimal, error) {
	var rows []struct {
		ProjectID int64           `db:"project_id"`
		Principal decimal.Decimal `db:"principal"`
	}
	if err := c.DB.SelectContext(ctx, &rows, `SELECT project_id, sum(x) AS principal FROM (
			SELECT r.project_id, l.allocated AS x FROM allocation_lines l JOIN rounds r ON r.id = l.round_id
			WHERE l.partner_id = $1 AND r.status = 'approved'
			UNION ALL
			SELECT a.project_id, l.delta FROM adjustment_lines l JOIN adjustments a ON a.id = l.adjustment_id
			WHERE l.partner_id = $1 AND a.status = 'agreed') t
		GROUP BY project_id`, partnerID); err != nil {
		return nil, fmt.Errorf("commitments of partner %d: %w", partnerID, err)
	}
	out := make(map[int64]decimal.Decimal, len(rows))
	for _, r := range rows {
		out[r.ProjectID] = r.Principal
	}
	return out, nil
}

// PrincipalDeltas returns, per partner id, Σ delta of the project's agreed
// adjustments: what to add to the approved allocations for the principal in
// force (payments, reports).
func PrincipalDeltas(ctx context.Context, q sqlx.QueryerContext, projectID int64) (map[int64]decimal.Decimal, error) {
	var rows []struct {
		PartnerID int64           `db:"partner_id"`
		Delta     decimal.Decimal `db:"delta"`
	}
	if err := sqlx.SelectContext(ctx, q, &rows, `SELECT l.partner_id, sum(l.delta) AS delta FROM adjustment_lines l
		JOIN adjustments a ON a.id = l.adjustment_id WHERE a.project_id = $1 AND a.status = 'agreed'
		GROUP BY l.partner_id`, projectID); err != nil {
		return nil, fmt.Errorf("principal deltas of project %d: %w", projectID, err)
	}
	out := make(map[int64]decimal.Decimal, len(rows))
	for _, r := range rows {
		out[r.PartnerID] = r.Delta
	}
	return out, nil
}
