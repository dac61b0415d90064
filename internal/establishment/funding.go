package establishment

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	"github.com/shopspring/decimal"

	"hehuo/internal/civil"
	"hehuo/internal/rate"
)

// Funding is what capital interest (RULES R4) needs of a project's terms:
// the funding date (资金投入日) and the financing rate in force (the
// override, the frozen rate, or the rate table's on the funding date). Rate
// is nil while there is none; Date is zero while it is not entered.
type Funding struct {
	Date civil.Date
	Rate *decimal.Decimal
}

// FundingTerms returns the Funding of each of the projects in one query
// (plus one rate-table lookup per distinct funding date), for read models
// that answer for many projects at once. Projects without terms are absent.
// It gives the same date and rate as Terms.
func (s *Service) FundingTerms(ctx context.Context, q sqlx.QueryerContext, projectIDs []int64) (map[int64]Funding, error) {
	var rows []struct {
		ProjectID     int64            `db:"project_id"`
		FundingDate   civil.Date       `db:"funding_date"`
		Override      *decimal.Decimal `db:"financing_rate"`
		FrozenInForce *decimal.Decimal `db:"frozen_rate_in_force"`
		FrozenAt      *time.Time       `db:"funding_frozen_at"`
	}
	if err := sqlx.SelectContext(ctx, q, &rows, `SELECT project_id, funding_date, financing_rate, frozen_rate_in_force, funding_frozen_at
		FROM establishments WHERE project_id = ANY($1)`, pq.Int64Array(projectIDs)); err != nil {
		return nil, fmt.Errorf("funding terms: %w", err)
	}
	onDate := map[civil.Date]*decimal.Decimal{}
	out := make(map[int64]Funding, len(rows))
	for _, r := range rows {
		f := Funding{Date: r.FundingDate, Rate: r.Override}
		if f.Rate == nil {
			switch {
			case r.FrozenAt != nil:
				f.Rate = r.FrozenInForce
			case !r.FundingDate.IsZero():
				in, seen := onDate[r.FundingDate]
				if !seen {
					x, ok, err := rate.RateOn(ctx, q, r.FundingDate)
					if err != nil {
						return nil, err
					}
					if ok {
						in = &x.Rate
					}
					onDate[r.FundingDate] = in
				}
				f.Rate = in
			}
		}
		out[r.ProjectID] = f
	}
	return out, nil
}
