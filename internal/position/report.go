package position

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	"github.com/shopspring/decimal"
)

// ReturnedByDistribution is the principal paid back by distributions:
// Returned less what adjustments refunded.
func (p Position) ReturnedByDistribution() decimal.Decimal { return p.Returned.Sub(p.Refunded) }

// Key names one partner's position in one project.
type Key struct {
	ProjectID int64 `db:"project_id"`
	PartnerID int64 `db:"partner_id"`
}

// KeyQuery chooses the employees' positions of a report page: those in the
// projects ProjectIDs whose partner's name contains Name (any case),
// ordered by partner name, partner id, project id, Limit rows from Offset
// (Limit 0: every row). The platform company is left out: the report is of
// employees.
type KeyQuery struct {
	ProjectIDs []int64
	Name       string
	Limit      int
	Offset     int
}

// keysSQL lists the (project, partner) pairs with a position: an allocation
// in an approved round, a line of an agreed adjustment, or postings on the
// partner's principal or profit account (the ledger opens an account with
// its first posting); the same pairs Positions answers for, less the lines
// that allocate nothing. The total rides on every row
// (count(*) OVER), so the page and its total are one scan.
const keysSQL = `
	WITH x AS (
		SELECT r.project_id, l.partner_id FROM rounds r JOIN allocation_lines l ON l.round_id = r.id
		WHERE ` + RoundApproved + ` AND r.project_id = ANY($1) AND l.allocated <> 0
		UNION
		SELECT a.project_id, l.partner_id FROM adjustments a JOIN adjustment_lines l ON l.adjustment_id = a.id
		WHERE ` + AdjustmentAgreed + ` AND a.project_id = ANY($1)
		UNION
		SELECT la.project_id, la.partner_id FROM ledger_accounts la
		WHERE la.kind IN ('principal', 'profit') AND la.project_id = ANY($1) AND la.partner_id IS NOT NULL
	)
	SELECT x.project_id, x.partner_id, count(*) OVER () AS total
	FROM x JOIN partners pt ON pt.id = x.partner_id
	WHERE pt.kind = 'employee' AND ($2 = '' OR strpos(lower(pt.name), lower($2)) > 0)
	ORDER BY pt.name, pt.id, x.project_id
	LIMIT $3 OFFSET $4`

// Keys returns the page of (project, partner) pairs q chooses and how many
// there are in all, in one set-based query: a report decides its page
// before it reads money, then asks Positions for the page's projects only.
func (s *Service) Keys(ctx context.Context, conn sqlx.QueryerContext, q KeyQuery) ([]Key, int, error) {
	if conn == nil {
		conn = s.db
	}
	var limit any
	if q.Limit > 0 {
		limit = q.Limit
	}
	rows, err := conn.QueryContext(ctx, keysSQL, pq.Int64Array(q.ProjectIDs), q.Name, limit, q.Offset)
	if err != nil {
		return nil, 0, fmt.Errorf("position: keys: %w", err)
	}
	defer rows.Close()
	var out []Key
	total := 0
	for rows.Next() {
		var k Key
		if err := rows.Scan(&k.ProjectID, &k.PartnerID, &total); err != nil {
			return nil, 0, fmt.Errorf("position: keys: %w", err)
		}
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("position: keys: %w", err)
	}
	if len(out) == 0 && q.Offset > 0 {
		// A page past the end carries no total: count the rows alone.
		if err := sqlx.GetContext(ctx, conn, &total, `SELECT count(*) FROM (`+keysSQL+`) k`,
			pq.Int64Array(q.ProjectIDs), q.Name, nil, 0); err != nil {
			return nil, 0, fmt.Errorf("position: count keys: %w", err)
		}
	}
	return out, total, nil
}

// Stake is a principal a user still holds in a project (R9's P > 0).
type Stake struct {
	UserID        int64           `db:"user_id" json:"-"`
	PartnerID     int64           `db:"partner_id" json:"-"`
	ProjectID     int64           `db:"project_id" json:"project_id"`
	ProjectName   string          `db:"project_name" json:"project_name"`
	CityCompanyID int64           `db:"city_company_id" json:"-"`
	Held          decimal.Decimal `db:"held" json:"-"`
}

// Stakes returns, for the users userIDs, every project where they still
// hold principal (Position.Held > 0), by user then project, in one
// set-based query over their principal accounts: a reversal and the
// transaction it reverses cancel in the sum, as Paid − Returned leaves them
// out.
func (s *Service) Stakes(ctx context.Context, conn sqlx.QueryerContext, userIDs []int64) ([]Stake, error) {
	if conn == nil {
		conn = s.db
	}
	out := []Stake{}
	if len(userIDs) == 0 {
		return out, nil
	}
	if err := sqlx.SelectContext(ctx, conn, &out, `
		SELECT pt.user_id, pt.id AS partner_id, la.project_id, pr.name AS project_name, pr.city_company_id, h.held
		FROM partners pt
		JOIN ledger_accounts la ON la.partner_id = pt.id AND la.kind = 'principal'
		CROSS JOIN LATERAL (SELECT -coalesce(sum(p.amount), 0) AS held FROM ledger_postings p WHERE p.account_id = la.id) h
		JOIN projects pr ON pr.id = la.project_id
		WHERE pt.user_id = ANY($1) AND h.held > 0
		ORDER BY pt.user_id, la.project_id`, pq.Int64Array(userIDs)); err != nil {
		return nil, fmt.Errorf("position: stakes of users: %w", err)
	}
	return out, nil
}
