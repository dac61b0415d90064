package bot

import (
	"context"
	"fmt"
	"strings"

	"hehuo/internal/auth"
	"hehuo/internal/money"
	"hehuo/internal/project"
	"hehuo/internal/report"
)

// Progress is what 进度 asks the reports for: the lifecycle steps of
// 工作跟踪表 (partner list, notices, subscription, allocation, review,
// approval, payment notice, payment) and the money of 立项及缴款汇总表.
type Progress interface {
	WorkTracking(ctx context.Context, f report.Filter) ([]report.WorkItem, error)
	EstablishmentPayments(ctx context.Context, f report.Filter) ([]report.PaymentSummary, error)
}

// maxSuggestions bounds the project names a reply suggests.
const maxSuggestions = 5

// progress answers 进度 <项目名> for staff whose scope holds the project. The
// name is matched within the sender's scope only — exactly (name or code),
// else by part of the name when that names one project — so a project
// outside the scope and one that does not exist get the same answer (未找到),
// and suggestions never reveal a project the sender may not see.
func (b *Bot) progress(ctx context.Context, m message) (reply, error) {
	u, ok, err := b.sender(ctx, m)
	if err != nil {
		return reply{}, err
	}
	if !ok {
		return textReply(replyNotEnabled), nil
	}
	pr := principalOf(u)
	if !pr.IsStaff() {
		return textReply(replyNoAccess), nil
	}
	if m.arg == "" {
		return textReply(b.progressArgHint(ctx, pr)), nil
	}
	sc, err := b.deps.Auth.Scope(ctx, pr)
	if err != nil {
		return reply{}, err
	}
	matches, err := b.deps.Projects.List(ctx, project.Filter{All: sc.All, IDs: sc.IDs(), Query: m.arg})
	if err != nil {
		return reply{}, err
	}
	p, found := pickProject(matches, m.arg)
	if !found {
		return textReply(notFoundText(m.arg, matches)), nil
	}
	s := progressText(p)
	if b.deps.Reports != nil {
		more, err := b.progressSteps(ctx, p.ID)
		if err != nil {
			return reply{}, err
		}
		s += more
	}
	return reply{title: p.Name + " 进度", text: s}, nil
}

// pickProject chooses the project arg names among matches (the sender's
// projects whose name, code, batch or city company contains arg): an exact
// name or code wins; otherwise a single project whose name contains arg.
func pickProject(matches []project.Project, arg string) (project.Project, bool) {
	var byName []project.Project
	for _, p := range matches {
		if p.Name == arg || p.Code != nil && *p.Code == arg {
			return p, true
		}
		if strings.Contains(p.Name, arg) {
			byName = append(byName, p)
		}
	}
	if len(byName) == 1 {
		return byName[0], true
	}
	return project.Project{}, false
}

// notFoundText says no project of the sender's is called arg, and suggests
// the sender's projects that partly match.
func notFoundText(arg string, matches []project.Project) string {
	s := fmt.Sprintf("未找到项目「%s」。", arg)
	if len(matches) == 0 {
		return s + "请发送「进度 项目全称」，只能查看您负责的项目。"
	}
	names := make([]string, 0, maxSuggestions)
	for i, p := range matches {
		if i == maxSuggestions {
			break
		}
		names = append(names, p.Name)
	}
	more := ""
	if len(matches) > maxSuggestions {
		more = fmt.Sprintf("等%d个项目", len(matches))
	}
	return s + "您是否要找：" + strings.Join(names, "、") + more + "？"
}

// progressArgHint asks for a project name, with one of the sender's own as
// the example (a name that exists), or a placeholder when they have none.
func (b *Bot) progressArgHint(ctx context.Context, pr auth.Principal) string {
	example := "项目名"
	if name, err := b.exampleProject(ctx, pr); err == nil && name != "" {
		example = name
	}
	return "请发送「进度 项目名」，例如：进度 " + example
}

// exampleProject returns the name of the first project in pr's scope.
func (b *Bot) exampleProject(ctx context.Context, pr auth.Principal) (string, error) {
	sc, err := b.deps.Auth.Scope(ctx, pr)
	if err != nil {
		return "", err
	}
	ps, err := b.deps.Projects.List(ctx, project.Filter{All: sc.All, IDs: sc.IDs()})
	if err != nil || len(ps) == 0 {
		return "", err
	}
	return ps[0].Name, nil
}

// progressSteps adds the rounds, allocation and payments of the project:
// each step of 工作跟踪表 with its state, and the money of 立项及缴款汇总表.
func (b *Bot) progressSteps(ctx context.Context, projectID int64) (string, error) {
	f := report.Filter{ProjectID: projectID, All: true}
	items, err := b.deps.Reports.WorkTracking(ctx, f)
	if err != nil {
		return "", fmt.Errorf("progress steps of project %d: %w", projectID, err)
	}
	var s strings.Builder
	if len(items) == 1 {
		s.WriteString("\n**各环节**\n\n")
		for _, st := range items[0].Steps {
			if st.Status == report.StatusNA {
				continue
			}
			fmt.Fprintf(&s, "- %s：%s\n", st.Label, stepText(st))
		}
	}
	sums, err := b.deps.Reports.EstablishmentPayments(ctx, f)
	if err != nil {
		return "", fmt.Errorf("progress payments of project %d: %w", projectID, err)
	}
	if len(sums) == 1 && sums[0].Partners > 0 {
		p := sums[0]
		fmt.Fprintf(&s, "\n**缴款**：已分配 %s 元，已缴 %s 元，未缴 %s 元，缴清 %d/%d 人\n",
			money.Display(p.Allocated.Decimal), money.Display(p.Paid.Decimal), money.Display(p.Unpaid.Decimal), p.PaidPartners, p.Partners)
	}
	return s.String(), nil
}

// stepText is a step's state as the bot says it: 已完成 (by whom), or 待办
// (who acts), with the report's note.
func stepText(st report.WorkStep) string {
	var s string
	if st.Status == report.StatusDone {
		s = "已完成"
		if st.By != "" {
			s += "（" + st.By + "）"
		}
	} else {
		s = "待办·" + st.Owner
	}
	if st.Note != "" {
		s += "，" + st.Note
	}
	return s
}

// progressText shows the project's master data and its state.
func progressText(p project.Project) string {
	var s strings.Builder
	fmt.Fprintf(&s, "#### %s · 项目进度\n\n", p.Name)
	fmt.Fprintf(&s, "- 城市公司：%s\n", p.CityCompanyName)
	fmt.Fprintf(&s, "- 批次：%s\n", orDash(p.BatchName))
	land := "—"
	if !p.LandAcquiredOn.IsZero() {
		land = p.LandAcquiredOn.String()
	}
	fmt.Fprintf(&s, "- 拿地时间：%s\n", land)
	fmt.Fprintf(&s, "- 取得方式：%s\n", orDash(&p.AcquisitionMethod))
	operator := orDash(&p.Operator)
	if p.JointOperation {
		operator += "（合作操盘）"
	}
	fmt.Fprintf(&s, "- 操盘方：%s\n", operator)
	status := "已开放"
	switch {
	case p.IsSettled:
		status = "已清算"
	case !p.IsOpen:
		status = "未开放（请系统管理员开放项目）"
	}
	fmt.Fprintf(&s, "- 状态：%s\n", status)
	return s.String()
}

func orDash(s *string) string {
	if s == nil || strings.TrimSpace(*s) == "" {
		return "—"
	}
	return *s
}
