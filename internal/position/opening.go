package position

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	"github.com/shopspring/decimal"
)

// openingInterest adds to out, per (project, partner), the capital interest
// to date that opening balances (期初数据导入, internal/opening) brought from
// the old system: Hehuo has no payments of its own for those partners to
// charge R4 on, so the imported B is their interest not yet deducted. One
// set-based query for the projects (or the partner) q chooses.
func (s *Service) openingInterest(ctx context.Context, conn sqlx.QueryerContext, q Query, out map[key]decimal.Decimal) error {
	var rows []struct {
		ProjectID int64           `db:"project_id"`
		PartnerID int64           `db:"partner_id"`
		Interest  decimal.Decimal `db:"interest"`
	}
	var err error
	if q.PartnerID != 0 {
		err = sqlx.SelectContext(ctx, conn, &rows, `SELECT project_id, partner_id, interest FROM opening_balances
			WHERE partner_id = $1 AND interest <> 0`, q.PartnerID)
	} else {
		err = sqlx.SelectContext(ctx, conn, &rows, `SELECT project_id, partner_id, interest FROM opening_balances
			WHERE project_id = ANY($1) AND interest <> 0`, pq.Int64Array(q.ProjectIDs))
	}
	if err != nil {
		return fmt.Errorf("position: opening interest: %w", err)
	}
	for _, r := range rows {
		k := key{r.ProjectID, r.PartnerID}
		out[k] = out[k].Add(r.Interest)
	}
	return nil
}
