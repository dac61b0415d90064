package partner

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"hehuo/internal/civil"
)

// Card is a partner as a report lists them: name, the 退 / 离 flags, and
// the org unit and job number of their user (empty for the platform).
type Card struct {
	ID        int64       `db:"id"`
	Kind      string      `db:"kind"`
	UserID    *int64      `db:"user_id"`
	Name      string      `db:"name"`
	ExitedOn  *civil.Date `db:"exited_on"`
	LeftOn    *civil.Date `db:"left_on"`
	OrgUnit   string      `db:"org_unit"`
	JobNumber string      `db:"job_number"`
}

// Cards returns the cards of the partners ids, by id, in one query.
func Cards(ctx context.Context, q sqlx.QueryerContext, ids []int64) (map[int64]Card, error) {
	var rows []Card
	if err := sqlx.SelectContext(ctx, q, &rows, `
		SELECT p.id, p.kind, p.user_id, p.name, p.exited_on, p.left_on,
			coalesce(o.name, '') AS org_unit, coalesce(u.job_number, '') AS job_number
		FROM partners p LEFT JOIN users u ON u.id = p.user_id LEFT JOIN org_units o ON o.id = u.org_unit_id
		WHERE p.id = ANY($1)`, pq.Int64Array(ids)); err != nil {
		return nil, fmt.Errorf("partner cards: %w", err)
	}
	out := make(map[int64]Card, len(rows))
	for _, r := range rows {
		out[r.ID] = r
	}
	return out, nil
}
