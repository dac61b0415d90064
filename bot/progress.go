package bot

import (
	"context"
	"fmt"
	"strings"

	"hehuo/internal/db"
	"hehuo/internal/project"
)

// progress answers 进度 <项目名> for staff whose scope holds the project.
// A project outside the scope and a project that does not exist get the
// same answer, so that the command does not reveal which projects exist.
func (b *Bot) progress(ctx context.Context, m message) (reply, error) {
	u, ok, err := b.sender(ctx, m)
	if err != nil {
		return reply{}, err
	}
	if !ok {
		return textReply(replyNotEnabled), nil
	}
	if m.arg == "" {
		return textReply(replyProgressArg), nil
	}
	var id int64
	err = b.deps.DB.GetContext(ctx, &id, `SELECT id FROM projects WHERE name = $1 OR code = $1 ORDER BY name = $1 DESC LIMIT 1`, m.arg)
	if db.IsNoRows(err) {
		return textReply(replyNoAccess), nil
	}
	if err != nil {
		return reply{}, fmt.Errorf("find project %q: %w", m.arg, err)
	}
	scope, err := b.deps.Auth.Scope(ctx, principalOf(u))
	if err != nil {
		return reply{}, err
	}
	if !scope.Contains(id) {
		return textReply(replyNoAccess), nil
	}
	p, err := b.deps.Projects.Get(ctx, id)
	if err != nil {
		return reply{}, err
	}
	return reply{title: p.Name + " 进度", text: progressText(p)}, nil
}

// progressText shows the project's master data and the steps still open,
// as far as this version of Hehuo knows them: establishment, rounds and
// payments are not recorded yet, so an open project waits for 立项.
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
	var status, next string
	switch {
	case p.IsSettled:
		status, next = "已清算", "无"
	case !p.IsOpen:
		status, next = "未开放", "开放项目（系统管理员）"
	default:
		status, next = "已开放", "立项未开始"
	}
	fmt.Fprintf(&s, "- 状态：%s\n\n", status)
	fmt.Fprintf(&s, "**待办环节**：%s\n", next)
	return s.String()
}

func orDash(s *string) string {
	if s == nil || strings.TrimSpace(*s) == "" {
		return "—"
	}
	return *s
}
