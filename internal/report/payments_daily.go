package report

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"
	"github.com/shopspring/decimal"

	"hehuo/internal/civil"
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
	var out []Receipts
	err := sqlx.SelectContext(ctx, q, &out, `
		SELECT p.id AS project_id, p.name AS project_name, p.city_company_id,
			count(*) AS count, sum(lp.amount) AS amount
		FROM ledger_transactions t
		JOIN ledger_postings lp ON lp.transaction_id = t.id
		JOIN ledger_accounts a ON a.id = lp.account_id AND a.kind = 'bank'
		JOIN projects p ON p.id = a.project_id
		WHERE t.created_at >= $1 AND t.created_at < $2 AND lp.amount > 0
		  AND t.reverses_id IS NULL
		  AND NOT EXISTS (SELECT 1 FROM ledger_transactions r WHERE r.reverses_id = t.id)
		GROUP BY p.id, p.name, p.city_company_id
		ORDER BY p.city_company_id, p.name, p.id`, day.Start(), day.EndExclusive())
	if err != nil {
		return nil, fmt.Errorf("receipts on %s: %w", day, err)
	}
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
