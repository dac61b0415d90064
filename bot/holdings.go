package bot

import (
	"context"
	"fmt"
	"strings"

	"github.com/shopspring/decimal"

	"hehuo/internal/money"
)

// myHoldings answers 我的跟投 with the sender's own figures, and only in a
// one-to-one chat: in a group everyone would read them.
func (b *Bot) myHoldings(ctx context.Context, m message) (reply, error) {
	if m.conversationType != oneToOne {
		return textReply(replyPrivateOnly), nil
	}
	u, ok, err := b.sender(ctx, m)
	if err != nil {
		return reply{}, err
	}
	if !ok {
		return textReply(replyNotEnabled), nil
	}
	hs, err := b.deps.Holdings.ForUser(ctx, u.ID)
	if err != nil {
		return reply{}, fmt.Errorf("holdings of user %d: %w", u.ID, err)
	}
	var s strings.Builder
	s.WriteString("#### 我的跟投\n\n")
	if len(hs) == 0 {
		s.WriteString("您目前没有跟投的项目。\n\n")
	}
	for _, h := range hs {
		fmt.Fprintf(&s, "**%s**\n\n", h.ProjectName)
		fmt.Fprintf(&s, "- 认缴本金：%s 元\n", yuan(h.Principal))
		fmt.Fprintf(&s, "- 已缴：%s 元\n", yuan(h.Paid))
		fmt.Fprintf(&s, "- 已返还本金：%s 元\n", yuan(h.Returned))
		fmt.Fprintf(&s, "- 已分配收益：%s 元\n\n", yuan(h.ProfitReceived))
	}
	if u := b.h5URL(); u != "" {
		fmt.Fprintf(&s, "[在事业合伙中查看明细](%s)\n", u)
	}
	return reply{title: "我的跟投", text: s.String()}, nil
}

// h5URL is the H5 micro-app's home page.
func (b *Bot) h5URL() string {
	if b.deps.PublicURL == "" {
		return ""
	}
	return strings.TrimRight(b.deps.PublicURL, "/") + "/m/"
}

// yuan formats an amount as every message does: 1234567.8 → "1,234,567.80".
func yuan(d decimal.Decimal) string { return money.Display(d) }
