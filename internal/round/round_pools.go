package round

import (
	"context"

	"github.com/jmoiron/sqlx"

	"hehuo/internal/calc"
)

// Pools returns the tier pools round roundID allocates: for the initial round
// the terms' pools (R1); for a supplementary round what approved rounds left
// of them (DESIGN §2), never below zero.
func (s *Service) Pools(ctx context.Context, q sqlx.QueryerContext, roundID int64) (calc.Pools, error) {
	r, err := s.Round(ctx, q, roundID)
	if err != nil {
		return calc.Pools{}, err
	}
	terms, err := s.est.Terms(ctx, q, r.ProjectID)
	if err != nil {
		return calc.Pools{}, err
	}
	pools := terms.Sizing().Pools
	if r.Kind == KindInitial {
		return pools, nil
	}
	var approved []int64
	if err := sqlx.SelectContext(ctx, q, &approved, `SELECT id FROM rounds WHERE project_id = $1 AND status = 'approved' AND id <> $2 ORDER BY id`,
		r.ProjectID, r.ID); err != nil {
		return calc.Pools{}, err
	}
	for _, id := range approved {
		used, err := s.AllocatedTotals(ctx, q, id)
		if err != nil {
			return calc.Pools{}, err
		}
		for _, t := range Tiers {
			left := pools.Get(t).Sub(used.Get(t))
			if left.IsNegative() {
				left = left.Sub(left)
			}
			pools = pools.Set(t, left)
		}
	}
	return pools, nil
}

// PoolsOf is Pools read outside any transaction.
func (s *Service) PoolsOf(ctx context.Context, roundID int64) (calc.Pools, error) {
	return s.Pools(ctx, s.db, roundID)
}
