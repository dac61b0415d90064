package report

import (
	"context"
	"fmt"

	"github.com/lib/pq"
	"github.com/shopspring/decimal"

	"hehuo/internal/money"
	"hehuo/internal/position"
)

// PaymentSummary is one project's row of 立项及缴款汇总表: the pools of its
// approved rounds, what was allocated to partners, what they paid (from the
// ledger), what is still unpaid, the paid ratio and the capital interest.
type PaymentSummary struct {
	ProjectID    int64        `json:"project_id"`
	ProjectName  string       `json:"project_name"`
	CityCompany  string       `json:"city_company"`
	Batch        string       `json:"batch"`
	PoolHolding  money.Amount `json:"pool_holding"`  // 控股层面
	PoolProperty money.Amount `json:"pool_property"` // 地产层面
	PoolCity     money.Amount `json:"pool_city"`     // 城市公司层面
	PoolOther    money.Amount `json:"pool_other"`    // 其他
	PoolTotal    money.Amount `json:"pool_total"`
	Allocated    money.Amount `json:"allocated"` // principal in force: approved rounds' allocations plus agreed adjustments
	Paid         money.Amount `json:"paid"`      // principal paid in less refunds, from the ledger
	// Unpaid is Σ per partner of what is outstanding, max(0, principal in
	// force − paid): a partner who paid more (e.g. before a downward
	// adjustment) does not hide another's debt.
	Unpaid money.Amount `json:"unpaid"`
	// PaidRatio is paid / allocated to four places ("0.7500" = 75%); "0.0000"
	// when nothing was allocated.
	PaidRatio    string `json:"paid_ratio"`
	Partners     int    `json:"partners"`      // partners with an allocation
	PaidPartners int    `json:"paid_partners"` // of whom fully paid
	// Interest is the partners' capital interest charged and not yet
	// deducted (R4, ≤ 0), as internal/position computes it for 缴款确认.
	Interest *money.Amount `json:"interest"`
}

// EstablishmentPayments builds 立项及缴款汇总表 for the projects f chooses.
// Every money figure is internal/position's, read in one query for all the
// projects (and one more for capital interest), so the report equals the
// payment list, 我的跟投 and the ledger.
func (s *Service) EstablishmentPayments(ctx context.Context, f Filter) ([]PaymentSummary, error) {
	projects, err := s.projects(ctx, f)
	if err != nil {
		return nil, err
	}
	ids := make([]int64, len(projects))
	for i, p := range projects {
		ids[i] = p.ID
	}
	var pools []struct {
		ProjectID int64           `db:"project_id"`
		Holding   decimal.Decimal `db:"holding"`
		Property  decimal.Decimal `db:"property"`
		City      decimal.Decimal `db:"city"`
		Other     decimal.Decimal `db:"other"`
	}
	// A supplementary round adds its own pools to the initial one's.
	if err := s.db.SelectContext(ctx, &pools, `
		SELECT r.project_id, sum(a.pool_holding) AS holding, sum(a.pool_property) AS property,
			sum(a.pool_city) AS city, sum(a.pool_other) AS other
		FROM rounds r JOIN allocations a ON a.round_id = r.id
		WHERE r.status = 'approved' AND r.project_id = ANY($1)
		GROUP BY r.project_id`, pq.Int64Array(ids)); err != nil {
		return nil, fmt.Errorf("report pools: %w", err)
	}
	positions, err := s.pos.Positions(ctx, nil, position.Query{ProjectIDs: ids, Interest: true})
	if err != nil {
		return nil, fmt.Errorf("report positions: %w", err)
	}
	out := make([]PaymentSummary, len(projects))
	at := make(map[int64]*PaymentSummary, len(projects))
	for i, p := range projects {
		out[i] = PaymentSummary{ProjectID: p.ID, ProjectName: p.Name, CityCompany: p.CityCompany}
		if p.Batch != nil {
			out[i].Batch = *p.Batch
		}
		at[p.ID] = &out[i]
	}
	for _, pl := range pools {
		r := at[pl.ProjectID]
		r.PoolHolding, r.PoolProperty, r.PoolCity, r.PoolOther = money.AmountOf(pl.Holding), money.AmountOf(pl.Property), money.AmountOf(pl.City), money.AmountOf(pl.Other)
		r.PoolTotal = money.AmountOf(pl.Holding.Add(pl.Property).Add(pl.City).Add(pl.Other))
	}
	interest := make(map[int64]decimal.Decimal, len(projects))
	for _, p := range positions {
		r := at[p.ProjectID]
		r.Allocated.Decimal = r.Allocated.Add(p.Principal)
		r.Paid.Decimal = r.Paid.Add(p.PaidIn())
		r.Unpaid.Decimal = r.Unpaid.Add(p.Outstanding)
		interest[p.ProjectID] = interest[p.ProjectID].Add(p.Interest)
		if p.Principal.IsPositive() {
			r.Partners++
			if p.FullyPaid() {
				r.PaidPartners++
			}
		}
	}
	for i := range out {
		r := &out[i]
		r.PaidRatio = paidRatio(r.Paid.Decimal, r.Allocated.Decimal)
		v := money.AmountOf(interest[r.ProjectID])
		r.Interest = &v
	}
	return out, nil
}

// paidRatio is paid / allocated rounded half away from zero to four places.
func paidRatio(paid, allocated decimal.Decimal) string {
	if !allocated.IsPositive() {
		return "0.0000"
	}
	return paid.DivRound(allocated, 8).Round(4).StringFixed(4)
}
