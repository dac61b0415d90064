package report

import (
	"context"
	"fmt"

	"github.com/lib/pq"
	"github.com/shopspring/decimal"

	"hehuo/internal/payment"
)

// PaymentsInterest is the InterestSource of the payment service: for each
// project, Σ over its approved rounds of the partners' capital interest as
// 缴款确认 (payment.List) shows it, so the report and that list can never
// disagree about R4.
func (s *Service) PaymentsInterest(p *payment.Service) InterestSource {
	return func(ctx context.Context, projectIDs []int64) (map[int64]decimal.Decimal, error) {
		var rounds []struct {
			ID        int64 `db:"id"`
			ProjectID int64 `db:"project_id"`
		}
		if err := s.db.SelectContext(ctx, &rounds, `SELECT id, project_id FROM rounds
			WHERE status = 'approved' AND project_id = ANY($1) ORDER BY id`, pq.Int64Array(projectIDs)); err != nil {
			return nil, fmt.Errorf("report interest rounds: %w", err)
		}
		out := make(map[int64]decimal.Decimal, len(projectIDs))
		for _, r := range rounds {
			sum, err := p.List(ctx, r.ID)
			if err != nil {
				return nil, err
			}
			for _, l := range sum.Items {
				out[r.ProjectID] = out[r.ProjectID].Add(l.CapitalInterest.Decimal)
			}
		}
		return out, nil
	}
}
