package report

import (
	"context"
	"fmt"

	"github.com/lib/pq"
	"github.com/shopspring/decimal"

	"hehuo/internal/audit"
	"hehuo/internal/civil"
	"hehuo/internal/money"
	"hehuo/internal/partner"
	"hehuo/internal/position"
)

// PartnerStatus is the state of one partner's stake in one project as
// 员工合伙信息查询表 shows it.
type PartnerStatus string

// The statuses of a stake, derived from the position and the flags (never stored).
const (
	// PartnerUnpaid: principal in force, nothing paid in yet.
	PartnerUnpaid PartnerStatus = "unpaid"
	// PartnerActive: the partner holds principal in the project (在投).
	PartnerActive PartnerStatus = "active"
	// PartnerExited: the partner is flagged 退 and holds nothing any more
	// (the platform company took the stake over).
	PartnerExited PartnerStatus = "exited"
	// PartnerSettled: the project is settled, or distributions paid every
	// fen of principal back (已清算).
	PartnerSettled PartnerStatus = "settled"
)

var partnerStatusLabels = map[PartnerStatus]string{
	PartnerUnpaid: "待缴款", PartnerActive: "在投", PartnerExited: "已退出", PartnerSettled: "已清算",
}

// PartnerStatuses are the statuses in the order the console lists them.
var PartnerStatuses = []PartnerStatus{PartnerUnpaid, PartnerActive, PartnerExited, PartnerSettled}

// Label is the status's one Chinese name.
func (s PartnerStatus) Label() string { return partnerStatusLabels[s] }

func init() { audit.DescribeStates("partner_stake", partnerStatusLabels) }

// StatusOption is a status with its label, served with the report so the
// console's filter and legend keep no table of their own.
type StatusOption struct {
	Code  PartnerStatus `json:"code"`
	Label string        `json:"label"`
}

// PartnerFilter chooses the rows of 员工合伙信息查询表: the projects of the
// caller's scope (Filter: All or IDs, one ProjectID), those of the org unit
// OrgUnitID and every unit below it, partners whose name contains Name;
// page Page (from 1) of PageSize rows (PageSize 0: every row, for the xlsx).
type PartnerFilter struct {
	Filter
	OrgUnitID int64
	Name      string
	Page      int
	PageSize  int
}

// PartnerRow is one partner's stake in one project. Every amount is
// internal/position's.
type PartnerRow struct {
	PartnerID   int64  `json:"partner_id"`
	UserID      *int64 `json:"user_id"`
	PartnerName string `json:"partner_name"`
	OrgUnit     string `json:"org_unit"` // the partner's own org unit (所属组织), '' when unknown
	JobNumber   string `json:"job_number"`
	ProjectID   int64  `json:"project_id"`
	ProjectName string `json:"project_name"`
	CityCompany string `json:"city_company"`
	// Principal is the principal in force (认缴本金): approved rounds plus agreed adjustments.
	Principal money.Amount `json:"principal"`
	// Paid is the principal paid in less refunds (实缴本金).
	Paid money.Amount `json:"paid"`
	// Interest is the capital interest charged and not yet deducted (资金利息, R4, ≤ 0).
	Interest money.Amount `json:"interest"`
	// Returned is the principal paid back by distributions (已返还本金).
	Returned money.Amount `json:"returned"`
	// Held is the principal still held (本金余额, R9's P): paid − returned.
	Held money.Amount `json:"held"`
	// Profit is the profit paid out to the partner (已收利润).
	Profit      money.Amount  `json:"profit"`
	Status      PartnerStatus `json:"status"`
	StatusLabel string        `json:"status_label"`
	// Exited (退) and Left (离) are the partner's flags, with their dates.
	Exited   bool        `json:"exited"`
	ExitedOn *civil.Date `json:"exited_on"`
	Left     bool        `json:"left"`
	LeftOn   *civil.Date `json:"left_on"`
}

// PartnerPage is one page of 员工合伙信息查询表.
type PartnerPage struct {
	Items    []PartnerRow   `json:"items"`
	Total    int            `json:"total"`
	Page     int            `json:"page"`
	PageSize int            `json:"page_size"`
	Statuses []StatusOption `json:"statuses"`
}

// partnerProject is a project as the report heads its rows.
type partnerProject struct {
	ID          int64  `db:"id"`
	Name        string `db:"name"`
	CityCompany string `db:"city_company"`
	Settled     bool   `db:"is_settled"`
}

// partnerProjects returns the projects f chooses (scope, project, org unit subtree), by id.
func (s *Service) partnerProjects(ctx context.Context, f PartnerFilter) (map[int64]partnerProject, []int64, error) {
	var rows []partnerProject
	err := s.db.SelectContext(ctx, &rows, `
		WITH RECURSIVE units AS (
			SELECT id FROM org_units WHERE id = $4
			UNION
			SELECT o.id FROM org_units o JOIN units u ON o.parent_id = u.id
		)
		SELECT p.id, p.name, o.name AS city_company, p.is_settled
		FROM projects p JOIN org_units o ON o.id = p.city_company_id
		WHERE ($1 OR p.id = ANY($2))
		  AND ($3 = 0 OR p.id = $3)
		  AND ($4 = 0 OR p.city_company_id IN (SELECT id FROM units))
		ORDER BY p.id`, f.All, f.IDs, f.ProjectID, f.OrgUnitID)
	if err != nil {
		return nil, nil, fmt.Errorf("report partner projects: %w", err)
	}
	by := make(map[int64]partnerProject, len(rows))
	ids := make([]int64, len(rows))
	for i, r := range rows {
		by[r.ID] = r
		ids[i] = r.ID
	}
	return by, ids, nil
}

// Partners builds one page of 员工合伙信息查询表: a row per employee partner
// per project of f, ordered by partner name then project. The page is
// chosen first, without money (position.Keys); the money is then read for
// the page's projects only, in one set-based query with capital interest,
// so the first page does not cost the whole group.
func (s *Service) Partners(ctx context.Context, f PartnerFilter) (PartnerPage, error) {
	if f.Page < 1 {
		f.Page = 1
	}
	out := PartnerPage{Items: []PartnerRow{}, Page: f.Page, PageSize: f.PageSize, Statuses: statusOptions()}
	rows, total, err := s.partnerRows(ctx, f)
	if err != nil {
		return out, err
	}
	out.Items, out.Total = rows, total
	return out, nil
}

// partnerRows reads the rows of f's page (every row when PageSize is 0) and the total.
func (s *Service) partnerRows(ctx context.Context, f PartnerFilter) ([]PartnerRow, int, error) {
	projects, ids, err := s.partnerProjects(ctx, f)
	if err != nil || len(ids) == 0 {
		return []PartnerRow{}, 0, err
	}
	q := position.KeyQuery{ProjectIDs: ids, Name: f.Name}
	if f.PageSize > 0 {
		q.Limit, q.Offset = f.PageSize, (max(f.Page, 1)-1)*f.PageSize
	}
	keys, total, err := s.pos.Keys(ctx, nil, q)
	if err != nil || len(keys) == 0 {
		return []PartnerRow{}, total, err
	}
	pageProjects := ids
	if f.PageSize > 0 {
		seen := map[int64]bool{}
		pageProjects = nil
		for _, k := range keys {
			if !seen[k.ProjectID] {
				seen[k.ProjectID] = true
				pageProjects = append(pageProjects, k.ProjectID)
			}
		}
	}
	positions, err := s.pos.Positions(ctx, nil, position.Query{ProjectIDs: pageProjects, Interest: true})
	if err != nil {
		return nil, 0, fmt.Errorf("report partner positions: %w", err)
	}
	at := make(map[position.Key]*position.Position, len(positions))
	for i := range positions {
		p := &positions[i]
		at[position.Key{ProjectID: p.ProjectID, PartnerID: p.PartnerID}] = p
	}
	partnerIDs := make(pq.Int64Array, 0, len(keys))
	seen := map[int64]bool{}
	for _, k := range keys {
		if !seen[k.PartnerID] {
			seen[k.PartnerID] = true
			partnerIDs = append(partnerIDs, k.PartnerID)
		}
	}
	cards, err := partner.Cards(ctx, s.db, partnerIDs)
	if err != nil {
		return nil, 0, err
	}
	out := make([]PartnerRow, len(keys))
	for i, k := range keys {
		pr, c := projects[k.ProjectID], cards[k.PartnerID]
		p := at[k]
		if p == nil { // postings that all cancel: a position of zeros
			p = &position.Position{ProjectID: k.ProjectID, PartnerID: k.PartnerID}
		}
		out[i] = PartnerRow{
			PartnerID: k.PartnerID, UserID: c.UserID, PartnerName: c.Name, OrgUnit: c.OrgUnit, JobNumber: c.JobNumber,
			ProjectID: k.ProjectID, ProjectName: pr.Name, CityCompany: pr.CityCompany,
			Principal: money.AmountOf(p.Principal), Paid: money.AmountOf(p.PaidIn()), Interest: money.AmountOf(p.Interest),
			Returned: money.AmountOf(p.ReturnedByDistribution()), Held: money.AmountOf(p.Held()), Profit: money.AmountOf(p.ProfitPaid),
			Exited: c.ExitedOn != nil, ExitedOn: c.ExitedOn, Left: c.LeftOn != nil, LeftOn: c.LeftOn,
		}
		out[i].Status = stakeStatus(*p, c, pr.Settled)
		out[i].StatusLabel = out[i].Status.Label()
	}
	return out, total, nil
}

// stakeStatus derives a stake's status: exited when flagged 退 and nothing
// is held; settled when the project is, or distributions returned all the
// principal; unpaid when principal is in force but nothing was paid in;
// otherwise active (在投).
func stakeStatus(p position.Position, c partner.Card, settled bool) PartnerStatus {
	held := p.Held()
	switch {
	case c.ExitedOn != nil && !held.IsPositive():
		return PartnerExited
	case settled || (!held.IsPositive() && p.ReturnedByDistribution().IsPositive()):
		return PartnerSettled
	case p.Principal.IsPositive() && !p.PaidIn().IsPositive():
		return PartnerUnpaid
	default:
		return PartnerActive
	}
}

func statusOptions() []StatusOption {
	out := make([]StatusOption, len(PartnerStatuses))
	for i, s := range PartnerStatuses {
		out[i] = StatusOption{Code: s, Label: s.Label()}
	}
	return out
}

// flag is a 退 / 离 cell: the mark when set.
func flag(set bool, mark string) string {
	if set {
		return mark
	}
	return ""
}

// partnerAmounts are a row's amounts in the sheet's column order.
func (r PartnerRow) amounts() []decimal.Decimal {
	return []decimal.Decimal{r.Principal.Decimal, r.Paid.Decimal, r.Interest.Decimal, r.Returned.Decimal, r.Held.Decimal, r.Profit.Decimal}
}
