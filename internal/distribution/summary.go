package distribution

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"hehuo/internal/civil"
	"hehuo/internal/money"
)

// BatchSummary is one batch as 分配汇总表 lists it: its title, date and
// state with Σ E (principal with 其它), Σ F (profit) and Σ paid out over its
// lines.
type BatchSummary struct {
	ID        int64  `json:"id" db:"id"`
	ProjectID int64  `json:"project_id" db:"project_id"`
	Kind      Kind   `json:"kind" db:"kind"`
	KindLabel string `json:"kind_label" db:"-"`
	Seq       int    `json:"seq" db:"seq"`
	Title     string `json:"title" db:"-"`
	// Manual: entered by hand (unlocked now, or a line typed or imported);
	// the title then says (手工), as the seed's 本次分配节点 does.
	Manual           bool         `json:"manual" db:"manual"`
	Status           Status       `json:"status" db:"status"`
	StatusLabel      string       `json:"status_label" db:"-"`
	DistributionDate *civil.Date  `json:"distribution_date" db:"distribution_date"`
	Lines            int          `json:"lines" db:"lines"`
	E                money.Amount `json:"e" db:"e"`
	F                money.Amount `json:"f" db:"f"`
	Paid             money.Amount `json:"paid" db:"paid"`
}

// Summaries returns the batches of the projects projectIDs with their
// totals, by project, then in the order of the stage bar (principal,
// profit 1..n, liquidation), each kind by seq; one set-based query.
func Summaries(ctx context.Context, q sqlx.QueryerContext, projectIDs []int64) ([]BatchSummary, error) {
	out := []BatchSummary{}
	if err := sqlx.SelectContext(ctx, q, &out, `
		SELECT b.id, b.project_id, b.kind, b.seq, b.unlocked OR coalesce(bool_or(l.manual), false) AS manual, b.status, b.distribution_date,
			count(l.partner_id) AS lines, coalesce(sum(l.e), 0) AS e, coalesce(sum(l.f), 0) AS f,
			coalesce(sum(l.paid_amount), 0) AS paid
		FROM distribution_batches b LEFT JOIN distribution_lines l ON l.batch_id = b.id
		WHERE b.project_id = ANY($1)
		GROUP BY b.id
		ORDER BY b.project_id, CASE b.kind WHEN 'principal' THEN 0 WHEN 'profit' THEN 1 ELSE 2 END, b.seq, b.id`,
		pq.Int64Array(projectIDs)); err != nil {
		return nil, fmt.Errorf("distribution summaries: %w", err)
	}
	for i := range out {
		b := &out[i]
		b.KindLabel, b.StatusLabel, b.Title = b.Kind.Label(), b.Status.Label(), b.Kind.Title(b.Seq, b.Manual)
	}
	return out, nil
}
