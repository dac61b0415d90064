package shareholderdist

import (
	"context"
	"fmt"

	"github.com/lib/pq"
	"github.com/shopspring/decimal"

	"hehuo/internal/civil"
	"hehuo/internal/money"
	"hehuo/internal/shareholder"
)

// ReportFilter says which projects the minority shareholders report covers:
// the caller's scope (All or IDs), optionally one project.
type ReportFilter struct {
	All       bool
	IDs       pq.Int64Array
	ProjectID int64
}

// ReportRow is one approved minority shareholder of one project.
type ReportRow struct {
	ProjectID     int64        `json:"project_id" db:"project_id"`
	ProjectName   string       `json:"project_name" db:"project_name"`
	ShareholderID int64        `json:"shareholder_id"`
	Name          string       `json:"name"`
	Stake         string       `json:"stake"`
	Contributed   money.Amount `json:"contributed"`
	ContributedOn civil.Date   `json:"contributed_on"`
	// Distributed is Σ of the shareholder's paid distribution lines in the
	// project (the balance of minority:{project}:{shareholder}, negated).
	Distributed money.Amount `json:"distributed"`
}

// Report is the minority shareholders report (小股东信息表).
type Report struct {
	Items       []ReportRow  `json:"items"`
	Contributed money.Amount `json:"contributed"`
	Distributed money.Amount `json:"distributed"`
}

// MinorityReport lists the approved minority shareholders of the projects
// in f, by project then shareholder, with their stake, capital contributed
// and what was distributed to them (paid lines).
func (s *Service) MinorityReport(ctx context.Context, f ReportFilter) (Report, error) {
	var projects []struct {
		ID   int64  `db:"id"`
		Name string `db:"name"`
	}
	if err := s.db.SelectContext(ctx, &projects, `SELECT id, name FROM projects
		WHERE ($1 OR id = ANY($2)) AND ($3 = 0 OR id = $3) ORDER BY id`, f.All, f.IDs, f.ProjectID); err != nil {
		return Report{}, fmt.Errorf("report projects: %w", err)
	}
	var paid []struct {
		ProjectID     int64           `db:"project_id"`
		ShareholderID int64           `db:"shareholder_id"`
		Amount        decimal.Decimal `db:"amount"`
	}
	if err := s.db.SelectContext(ctx, &paid, `SELECT d.project_id, l.shareholder_id, sum(l.amount) AS amount
		FROM shareholder_distribution_lines l JOIN shareholder_distributions d ON d.id = l.distribution_id
		WHERE l.ledger_tx_id IS NOT NULL AND ($1 OR d.project_id = ANY($2)) AND ($3 = 0 OR d.project_id = $3)
		GROUP BY d.project_id, l.shareholder_id`, f.All, f.IDs, f.ProjectID); err != nil {
		return Report{}, fmt.Errorf("report distributed: %w", err)
	}
	type key struct{ p, s int64 }
	dist := map[key]decimal.Decimal{}
	for _, p := range paid {
		dist[key{p.ProjectID, p.ShareholderID}] = p.Amount
	}
	out := Report{Items: []ReportRow{}}
	contributed, distributed := decimal.Zero, decimal.Zero
	for _, p := range projects {
		stakes, err := shareholder.ApprovedStakes(ctx, s.db, p.ID)
		if err != nil {
			return Report{}, err
		}
		for _, st := range stakes {
			d := dist[key{p.ID, st.ShareholderID}]
			out.Items = append(out.Items, ReportRow{ProjectID: p.ID, ProjectName: p.Name, ShareholderID: st.ShareholderID,
				Name: st.Name, Stake: st.Stake.String(), Contributed: money.AmountOf(st.Contributed), ContributedOn: st.ContributedOn,
				Distributed: money.AmountOf(d)})
			contributed, distributed = contributed.Add(st.Contributed), distributed.Add(d)
		}
	}
	out.Contributed, out.Distributed = money.AmountOf(contributed), money.AmountOf(distributed)
	return out, nil
}

// ReportColumns are the report's xlsx columns.
var ReportColumns = []string{"项目", "股东", "持股比例", "出资额", "出资日期", "已分配"}

// MinorityReportXLSX is the report as .xlsx with a total row.
func (s *Service) MinorityReportXLSX(ctx context.Context, f ReportFilter) ([]byte, error) {
	r, err := s.MinorityReport(ctx, f)
	if err != nil {
		return nil, err
	}
	rows := make([][]any, 0, len(r.Items)+1)
	for _, it := range r.Items {
		rows = append(rows, []any{it.ProjectName, it.Name, stakePercent(it.Stake), money.Format(it.Contributed.Decimal),
			it.ContributedOn.String(), money.Format(it.Distributed.Decimal)})
	}
	rows = append(rows, []any{"合计", "", "", money.Format(r.Contributed.Decimal), "", money.Format(r.Distributed.Decimal)})
	return xlsx("小股东信息表", ReportColumns, rows)
}
