package report

import (
	"context"
	"io"

	"github.com/shopspring/decimal"
)

// PartnersXLSX writes 员工合伙信息查询表 for f (every row, f's paging
// ignored) to w through excelize's StreamWriter: the same rows and figures
// as the JSON, then a total row. Amounts are numbers so the sheet sums them.
func (s *Service) PartnersXLSX(ctx context.Context, f PartnerFilter, w io.Writer) error {
	f.Page, f.PageSize = 1, 0
	rows, _, err := s.partnerRows(ctx, f)
	if err != nil {
		return err
	}
	head := []string{"合伙人", "工号", "所属组织", "项目", "城市公司", "认缴本金", "实缴本金", "资金利息", "已返还本金", "本金余额", "已收利润", "状态", "退", "离"}
	var total [6]decimal.Decimal
	body := make([][]any, 0, len(rows)+1)
	for _, r := range rows {
		line := []any{r.PartnerName, r.JobNumber, r.OrgUnit, r.ProjectName, r.CityCompany}
		for i, a := range r.amounts() {
			total[i] = total[i].Add(a)
			line = append(line, a)
		}
		body = append(body, append(line, r.StatusLabel, flag(r.Exited, "退"), flag(r.Left, "离")))
	}
	foot := []any{"合计", "", "", "", ""}
	for _, a := range total {
		foot = append(foot, a)
	}
	body = append(body, append(foot, "", "", ""))
	return writeSheet(w, "员工合伙信息查询表", head, body, 5)
}
