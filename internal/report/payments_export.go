package report

import (
	"context"
	"io"
	"sort"
	"strings"

	"github.com/lib/pq"
	"github.com/shopspring/decimal"

	"hehuo/internal/position"
)

// tierLabels name the tiers as the console does.
var tierLabels = map[string]string{"holding": "控股层面", "property": "地产层面", "city": "城市公司层面", "other": "其他"}

// PaymentsExportXLSX writes 缴款信息 (辅助工具) for f to w: one row per
// partner per project, with the allocated principal of the approved rounds,
// what the ledger says was paid, and what is outstanding.
func (s *Service) PaymentsExportXLSX(ctx context.Context, f Filter, w io.Writer) error {
	projects, err := s.projects(ctx, f)
	if err != nil {
		return err
	}
	ids := make([]int64, len(projects))
	byID := make(map[int64]projectRow, len(projects))
	for i, p := range projects {
		ids[i] = p.ID
		byID[p.ID] = p
	}
	figures, err := s.pos.Positions(ctx, nil, position.Query{ProjectIDs: ids})
	if err != nil {
		return err
	}
	// Partners by name within each project, as the report lists them.
	sort.SliceStable(figures, func(i, j int) bool {
		a, b := figures[i], figures[j]
		if a.ProjectID != b.ProjectID {
			return a.ProjectID < b.ProjectID
		}
		if a.PartnerName != b.PartnerName {
			return a.PartnerName < b.PartnerName
		}
		return a.PartnerID < b.PartnerID
	})
	var jobNumbers map[int64]string
	if jobNumbers, err = s.jobNumbers(ctx, figures); err != nil {
		return err
	}
	head := []string{"项目", "城市公司", "批次", "合伙人", "工号", "层面", "已分配", "已缴款", "未缴款", "状态"}
	rows := make([][]any, 0, len(figures))
	// Projects in report order, partners by name within each.
	order := make(map[int64]int, len(projects))
	for i, p := range projects {
		order[p.ID] = i
	}
	grouped := make([][]position.Position, len(projects))
	for _, pf := range figures {
		grouped[order[pf.ProjectID]] = append(grouped[order[pf.ProjectID]], pf)
	}
	for _, g := range grouped {
		for _, pf := range g {
			p := byID[pf.ProjectID]
			batch := ""
			if p.Batch != nil {
				batch = *p.Batch
			}
			var tiers []string
			for _, t := range pf.Tiers() {
				if l, ok := tierLabels[t]; ok {
					tiers = append(tiers, l)
				}
			}
			job := ""
			if pf.UserID != nil {
				job = jobNumbers[*pf.UserID]
			}
			rows = append(rows, []any{p.Name, p.CityCompany, batch, pf.PartnerName, job, strings.Join(tiers, "、"),
				pf.Principal, pf.PaidIn(), pf.Outstanding, paymentStatus(pf.Principal, pf.PaidIn())})
		}
	}
	return writeSheet(w, "缴款信息", head, rows, 6)
}

// paymentStatus is a partner's state as 缴款信息 shows it.
func paymentStatus(allocated, paid decimal.Decimal) string {
	switch {
	case !paid.IsPositive():
		return "未缴款"
	case paid.LessThan(allocated):
		return "部分缴款"
	case paid.Equal(allocated):
		return "已缴清"
	default:
		return "多缴"
	}
}

// jobNumbers maps the figures' users to their job numbers (工号).
func (s *Service) jobNumbers(ctx context.Context, figures []position.Position) (map[int64]string, error) {
	var ids []int64
	for _, f := range figures {
		if f.UserID != nil {
			ids = append(ids, *f.UserID)
		}
	}
	var rows []struct {
		ID  int64  `db:"id"`
		Job string `db:"job"`
	}
	if err := s.db.SelectContext(ctx, &rows, `SELECT id, job_number AS job FROM users WHERE id = ANY($1)`, pq.Int64Array(ids)); err != nil {
		return nil, err
	}
	out := make(map[int64]string, len(rows))
	for _, r := range rows {
		out[r.ID] = r.Job
	}
	return out, nil
}
