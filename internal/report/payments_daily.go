package report

import (
	"context"
	"fmt"
	"sort"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	"github.com/shopspring/decimal"

	"hehuo/internal/civil"
	"hehuo/internal/ledger"
	"hehuo/internal/money"
	"hehuo/internal/notify"
)

// DailyReceiptsLink is where the daily summary leads: 立项及缴款汇总表.
const DailyReceiptsLink = "/report?report=establishment-payments"

// Receipts is one project's money received on a day.
type Receipts struct {
	ProjectID     int64           `db:"project_id"`
	ProjectName   string          `db:"project_name"`
	CityCompanyID int64           `db:"city_company_id"`
	Count         int             `db:"count"`
	Amount        decimal.Decimal `db:"amount"`
}

// ReceiptsOn lists, per project, the receipts booked on day (Asia/Shanghai):
// ledger transactions that debit the project's bank account, except
// reversals and receipts reversed since, whose money did not stay.
func (s *Service) ReceiptsOn(ctx context.Context, q sqlx.QueryerContext, day civil.Date) ([]Receipts, error) {
	byProject, err := ledger.BankReceipts(ctx, q, day.Start(), day.EndExclusive())
	if err != nil {
		return nil, fmt.Errorf("receipts on %s: %w", day, err)
	}
	if len(byProject) == 0 {
		return nil, nil
	}
	ids := make([]int64, len(byProject))
	for i, r := range byProject {
		ids[i] = r.ProjectID
	}
	var out []Receipts
	if err := sqlx.SelectContext(ctx, q, &out, `SELECT p.id AS project_id, p.name AS project_name, p.city_company_id
		FROM projects p WHERE p.id = ANY($1)`, pq.Int64Array(ids)); err != nil {
		return nil, fmt.Errorf("receipts on %s: projects: %w", day, err)
	}
	at := make(map[int64]ledger.ProjectReceipts, len(byProject))
	for _, r := range byProject {
		at[r.ProjectID] = r
	}
	for i := range out {
		r := at[out[i].ProjectID]
		out[i].Count, out[i].Amount = r.Count, r.Amount
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.CityCompanyID != b.CityCompanyID {
			return a.CityCompanyID < b.CityCompanyID
		}
		if a.ProjectName != b.ProjectName {
			return a.ProjectName < b.ProjectName
		}
		return a.ProjectID < b.ProjectID
	})
	return out, nil
}

// DailyReceipts enqueues the day's 每日到账汇总 robot message in each city
// company's group that received money on day: how many projects, receipts
// and the total. A city company without receipts hears nothing. The dedupe
// key is the city company and the day, so the scheduler may call it again
// (a restart, a retry) without a second message. It returns how many
// messages it enqueued this time.
func (s *Service) DailyReceipts(ctx context.Context, day civil.Date) (int, error) {
	n := 0
	err := s.db.InTx(ctx, func(tx *sqlx.Tx) error {
		n = 0 // a retried transaction counts afresh
		receipts, err := s.ReceiptsOn(ctx, tx, day)
		if err != nil {
			return err
		}
		type sum struct {
			projects, count int
			amount          decimal.Decimal
		}
		var cities []int64
		by := map[int64]*sum{}
		for _, r := range receipts {
			c := by[r.CityCompanyID]
			if c == nil {
				c = &sum{}
				by[r.CityCompanyID] = c
				cities = append(cities, r.CityCompanyID)
			}
			c.projects++
			c.count += r.Count
			c.amount = c.amount.Add(r.Amount)
		}
		for _, city := range cities {
			c := by[city]
			_, created, err := notify.Enqueue(ctx, tx, notify.Notice{Kind: notify.KindRobot, OrgUnitID: &city,
				Template: "daily_receipts", DedupeKey: fmt.Sprintf("daily_receipts:%d:%s", city, day),
				Data: map[string]any{"date": day.String(), "project_count": fmt.Sprint(c.projects),
					"receipt_count": fmt.Sprint(c.count), "total_amount": money.Display(c.amount), "link": DailyReceiptsLink}})
			if err != nil {
				return err
			}
			if created {
				n++
			}
		}
		return nil
	})
	return n, err
}
