package report

import (
	"context"
	"fmt"
	"io"

	"github.com/shopspring/decimal"

	"hehuo/internal/distribution"
	"hehuo/internal/money"
	"hehuo/internal/position"
)

// DistributionSummary is one project's row of 分配汇总表: the principal paid
// in, returned and the profit distributed (internal/position, from the
// ledger), and each distribution batch with Σ E, Σ F and Σ paid out.
type DistributionSummary struct {
	ProjectID   int64  `json:"project_id"`
	ProjectName string `json:"project_name"`
	CityCompany string `json:"city_company"`
	Batch       string `json:"batch"` // 管理批次
	// PrincipalPaid is the principal paid in less adjustment refunds (已缴本金).
	PrincipalPaid money.Amount `json:"principal_paid"`
	// PrincipalReturned is the principal paid back by distributions (and
	// brought by opening balances), refunds of adjustments left out.
	PrincipalReturned money.Amount `json:"principal_returned"`
	// ProfitDistributed is the profit allocated to partners; ProfitPaid the part paid out.
	ProfitDistributed money.Amount `json:"profit_distributed"`
	ProfitPaid        money.Amount `json:"profit_paid"`
	// Distributions are the project's batches in stage-bar order.
	Distributions []distribution.BatchSummary `json:"distributions"`
	// E, F and Paid are Σ over the project's batches.
	E    money.Amount `json:"e"`
	F    money.Amount `json:"f"`
	Paid money.Amount `json:"paid"`
}

// DistributionTotals is the group total row (合计) of 分配汇总表.
type DistributionTotals struct {
	PrincipalPaid     money.Amount `json:"principal_paid"`
	PrincipalReturned money.Amount `json:"principal_returned"`
	ProfitDistributed money.Amount `json:"profit_distributed"`
	ProfitPaid        money.Amount `json:"profit_paid"`
	E                 money.Amount `json:"e"`
	F                 money.Amount `json:"f"`
	Paid              money.Amount `json:"paid"`
}

// DistributionReport is 分配汇总表: one row per project and the total.
type DistributionReport struct {
	Items []DistributionSummary `json:"items"`
	Total DistributionTotals    `json:"total"`
}

func (t *DistributionTotals) add(r DistributionSummary) {
	for _, p := range []struct {
		to *money.Amount
		v  decimal.Decimal
	}{
		{&t.PrincipalPaid, r.PrincipalPaid.Decimal}, {&t.PrincipalReturned, r.PrincipalReturned.Decimal},
		{&t.ProfitDistributed, r.ProfitDistributed.Decimal}, {&t.ProfitPaid, r.ProfitPaid.Decimal},
		{&t.E, r.E.Decimal}, {&t.F, r.F.Decimal}, {&t.Paid, r.Paid.Decimal},
	} {
		p.to.Decimal = p.to.Add(p.v)
	}
}

// DistributionSummary builds 分配汇总表 for the projects f chooses (group-wide
// when f names none): money figures from internal/position in one query,
// batch totals from internal/distribution in one more.
func (s *Service) DistributionSummary(ctx context.Context, f Filter) (DistributionReport, error) {
	out := DistributionReport{Items: []DistributionSummary{}}
	projects, err := s.projects(ctx, f)
	if err != nil {
		return out, err
	}
	ids := make([]int64, len(projects))
	at := make(map[int64]int, len(projects))
	for i, p := range projects {
		ids[i] = p.ID
		at[p.ID] = i
		r := DistributionSummary{ProjectID: p.ID, ProjectName: p.Name, CityCompany: p.CityCompany,
			Distributions: []distribution.BatchSummary{}}
		if p.Batch != nil {
			r.Batch = *p.Batch
		}
		out.Items = append(out.Items, r)
	}
	positions, err := s.pos.Positions(ctx, nil, position.Query{ProjectIDs: ids})
	if err != nil {
		return out, fmt.Errorf("report positions: %w", err)
	}
	for _, p := range positions {
		r := &out.Items[at[p.ProjectID]]
		r.PrincipalPaid.Decimal = r.PrincipalPaid.Add(p.PaidIn())
		r.PrincipalReturned.Decimal = r.PrincipalReturned.Add(p.Returned.Sub(p.Refunded))
		r.ProfitDistributed.Decimal = r.ProfitDistributed.Add(p.ProfitAllocated)
		r.ProfitPaid.Decimal = r.ProfitPaid.Add(p.ProfitPaid)
	}
	batches, err := distribution.Summaries(ctx, s.db, ids)
	if err != nil {
		return out, err
	}
	for _, b := range batches {
		r := &out.Items[at[b.ProjectID]]
		r.Distributions = append(r.Distributions, b)
		r.E.Decimal, r.F.Decimal, r.Paid.Decimal = r.E.Add(b.E.Decimal), r.F.Add(b.F.Decimal), r.Paid.Add(b.Paid.Decimal)
	}
	for _, r := range out.Items {
		out.Total.add(r)
	}
	return out, nil
}

// DistributionSummaryXLSX writes 分配汇总表 for f to w: per project a row
// with its figures and Σ of its batches, then one row per batch, and the
// group total row. Amounts are numbers with two decimals so the sheet sums
// them (the project rows and the batch rows are distinguished by 分配批次).
func (s *Service) DistributionSummaryXLSX(ctx context.Context, f Filter, w io.Writer) error {
	rep, err := s.DistributionSummary(ctx, f)
	if err != nil {
		return err
	}
	head := []string{"项目", "城市公司", "批次", "分配批次", "分配日期", "状态",
		"已缴本金", "已返还本金", "已分配利润", "已支付利润", "本金分配(含其它)", "利润分配", "已支付"}
	body := make([][]any, 0, len(rep.Items)*3+1)
	for _, r := range rep.Items {
		body = append(body, []any{r.ProjectName, r.CityCompany, r.Batch, "项目合计", "", "",
			r.PrincipalPaid.Decimal, r.PrincipalReturned.Decimal, r.ProfitDistributed.Decimal, r.ProfitPaid.Decimal,
			r.E.Decimal, r.F.Decimal, r.Paid.Decimal})
		for _, b := range r.Distributions {
			date := ""
			if b.DistributionDate != nil {
				date = b.DistributionDate.String()
			}
			body = append(body, []any{r.ProjectName, r.CityCompany, r.Batch, b.Title, date, b.StatusLabel,
				"", "", "", "", b.E.Decimal, b.F.Decimal, b.Paid.Decimal})
		}
	}
	t := rep.Total
	body = append(body, []any{"合计", "", "", "", "", "", t.PrincipalPaid.Decimal, t.PrincipalReturned.Decimal,
		t.ProfitDistributed.Decimal, t.ProfitPaid.Decimal, t.E.Decimal, t.F.Decimal, t.Paid.Decimal})
	return writeSheet(w, "分配汇总表", head, body, 6)
}
