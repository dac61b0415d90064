package report

import (
	"context"
	"fmt"

	"github.com/lib/pq"
	"github.com/shopspring/decimal"

	"hehuo/internal/money"
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
	Allocated    money.Amount `json:"allocated"` // Σ allocation lines of approved rounds, or the agreed adjustment's new principal
	Paid         money.Amount `json:"paid"`      // principal paid in, from the ledger
	// Unpaid is Σ per partner of max(0, allocated − paid): a partner who paid
	// more (e.g. before a downward adjustment) does not hide another's debt.
	Unpaid money.Amount `json:"unpaid"`
	// PaidRatio is paid / allocated to four places ("0.7500" = 75%); "0.0000"
	// when nothing was allocated.
	PaidRatio    string `json:"paid_ratio"`
	Partners     int    `json:"partners"`      // partners with an allocation
	PaidPartners int    `json:"paid_partners"` // of whom fully paid
	// Interest is the partners' capital interest (R4, ≤ 0) as the payment
	// service computes it; null while no interest source is connected.
	Interest *money.Amount `json:"interest"`
}

// InterestSource gives the capital interest (R4) of each of the projects, as
// the payment service derives it from its receipts; the report does not keep
// a second copy of the rule.
type InterestSource func(ctx context.Context, projectIDs []int64) (map[int64]decimal.Decimal, error)

// UseInterest connects the report to the payment service's capital interest.
func (s *Service) UseInterest(f InterestSource) { s.interest = f }

// partnerFigures is one partner's allocated and paid principal in a project.
type partnerFigures struct {
	ProjectID int64           `db:"project_id"`
	PartnerID int64           `db:"partner_id"`
	UserID    *int64          `db:"user_id"`
	Name      string          `db:"name"`
	Tiers     string          `db:"tiers"`
	Allocated decimal.Decimal `db:"allocated"`
	Paid      decimal.Decimal `db:"paid"`
}

// partnerFiguresSQL lists, for the projects $1, every partner with an
// allocation in an approved round or a principal account: allocated from
// allocation_lines or, once an establishment adjustment (立项调整, R5) is
// agreed, the latest agreed one's new principal (it re-splits every
// partner's principal, so the approved rounds' lines no longer hold); paid as the negated balance of principal:{project}:{partner}
// (credit-normal; payments credit it, refunds and reversals debit it).
const partnerFiguresSQL = `
	WITH latest_adjustment AS (
		SELECT DISTINCT ON (project_id) id, project_id FROM adjustments
		WHERE status = 'agreed' AND project_id = ANY($1) ORDER BY project_id, id DESC
	), alloc AS (
		SELECT project_id, partner_id, sum(principal) AS allocated, string_agg(DISTINCT tier, ',') AS tiers FROM (
			SELECT r.project_id, l.partner_id, l.allocated AS principal, l.tier
			FROM rounds r JOIN allocation_lines l ON l.round_id = r.id
			WHERE r.status = 'approved' AND r.project_id = ANY($1)
			  AND NOT EXISTS (SELECT 1 FROM latest_adjustment x WHERE x.project_id = r.project_id)
			UNION ALL
			SELECT x.project_id, al.partner_id, al.new_principal, al.tier
			FROM latest_adjustment x JOIN adjustment_lines al ON al.adjustment_id = x.id
		) a GROUP BY project_id, partner_id
	), paid AS (
		SELECT a.project_id, a.partner_id, -sum(b.balance) AS paid
		FROM ledger_accounts a JOIN ledger_balances b ON b.account_id = a.id
		WHERE a.kind = 'principal' AND a.project_id = ANY($1)
		GROUP BY a.project_id, a.partner_id
	)
	SELECT coalesce(al.project_id, pd.project_id) AS project_id,
		coalesce(al.partner_id, pd.partner_id) AS partner_id,
		pt.user_id, coalesce(pt.name, '') AS name, coalesce(al.tiers, '') AS tiers,
		coalesce(al.allocated, 0) AS allocated, coalesce(pd.paid, 0) AS paid
	FROM alloc al
	FULL JOIN paid pd ON pd.project_id = al.project_id AND pd.partner_id = al.partner_id
	LEFT JOIN partners pt ON pt.id = coalesce(al.partner_id, pd.partner_id)
	ORDER BY 1, coalesce(pt.name, ''), 2`

func (s *Service) partnerFigures(ctx context.Context, ids []int64) ([]partnerFigures, error) {
	var out []partnerFigures
	if err := s.db.SelectContext(ctx, &out, partnerFiguresSQL, pq.Int64Array(ids)); err != nil {
		return nil, fmt.Errorf("report partner figures: %w", err)
	}
	return out, nil
}

// EstablishmentPayments builds 立项及缴款汇总表 for the projects f chooses.
// Every paid figure is read from the ledger's balances, so the report equals
// the ledger (and the payment list, which reads the same accounts).
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
	figures, err := s.partnerFigures(ctx, ids)
	if err != nil {
		return nil, err
	}
	var interest map[int64]decimal.Decimal
	if s.interest != nil && len(ids) > 0 {
		if interest, err = s.interest(ctx, ids); err != nil {
			return nil, err
		}
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
	for _, pf := range figures {
		r := at[pf.ProjectID]
		r.Allocated.Decimal = r.Allocated.Add(pf.Allocated)
		r.Paid.Decimal = r.Paid.Add(pf.Paid)
		if out := pf.Allocated.Sub(pf.Paid); out.IsPositive() {
			r.Unpaid.Decimal = r.Unpaid.Add(out)
		}
		if pf.Allocated.IsPositive() {
			r.Partners++
			if !pf.Paid.LessThan(pf.Allocated) {
				r.PaidPartners++
			}
		}
	}
	for i := range out {
		r := &out[i]
		r.PaidRatio = paidRatio(r.Paid.Decimal, r.Allocated.Decimal)
		if interest != nil {
			v := money.AmountOf(money.RoundFen(interest[r.ProjectID]))
			r.Interest = &v
		}
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
