package bot

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/open-dingtalk/dingtalk-stream-sdk-go/chatbot"

	"hehuo/internal/auth"
	"hehuo/internal/org"
)

// Conversation types of a bot message.
const (
	oneToOne = "1" // 单聊
	group    = "2" // 群聊: only messages that @ the bot arrive
)

// Replies that do not depend on data.
const (
	replyNotEnabled  = "未开通事业合伙系统，请联系管理员"
	replyPrivateOnly = "为保护您的隐私，跟投信息不在群里展示。请单聊我，发送「我的跟投」查看。"
	replyUnknown     = "没有听懂。发送「帮助」查看可用命令。"
	replyNoAccess    = "您没有该项目的权限"
	replyFailed      = "系统繁忙，请稍后再试"
)

// messageTimeout bounds answering one message; the session webhook stays
// valid far longer.
const messageTimeout = 15 * time.Second

// message is one chatbot message, reduced to what commands need.
type message struct {
	userID           string // senderStaffId: the DingTalk userid
	conversationType string
	command, arg     string
}

// reply is a bot answer: markdown when title is set, text otherwise.
type reply struct {
	title, text string
}

func textReply(s string) reply { return reply{text: s} }

// onMessage answers a chatbot message through its session webhook. Bot
// messages are never redelivered, so a failure is logged, not retried.
func (b *Bot) onMessage(_ context.Context, data *chatbot.BotCallbackDataModel) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), messageTimeout)
	defer cancel()
	m := message{userID: data.SenderStaffId, conversationType: data.ConversationType}
	if data.Msgtype == "" || data.Msgtype == "text" {
		m.command, m.arg = parseCommand(data.Text.Content)
	}
	log := b.log.With("userid", m.userID, "conversation_type", m.conversationType, "command", m.command)
	r, err := b.answer(ctx, m)
	if err != nil {
		log.Error("bot command failed", "err", err)
		r = textReply(replyFailed)
	}
	replier := chatbot.NewChatbotReplier()
	if r.title != "" {
		err = replier.SimpleReplyMarkdown(ctx, data.SessionWebhook, []byte(r.title), []byte(r.text))
	} else {
		err = replier.SimpleReplyText(ctx, data.SessionWebhook, []byte(r.text))
	}
	if err != nil {
		log.Warn("bot reply not delivered", "err", err)
		return nil, fmt.Errorf("reply to %s: %w", m.userID, err)
	}
	log.Info("bot command answered")
	return nil, nil
}

// parseCommand splits a message into its command and argument. It ignores
// @mentions and treats full-width spaces as spaces; "进度滇池壹号" without a
// space is read as "进度 滇池壹号".
func parseCommand(text string) (command, arg string) {
	text = strings.ReplaceAll(text, "\u3000", " ")
	var words []string
	for _, w := range strings.Fields(text) {
		if strings.HasPrefix(w, "@") || strings.HasPrefix(w, "＠") {
			continue
		}
		words = append(words, w)
	}
	if len(words) == 0 {
		return "", ""
	}
	command, arg = words[0], strings.Join(words[1:], " ")
	if p := "进度"; strings.HasPrefix(command, p) && command != p {
		command, arg = p, strings.TrimSpace(strings.TrimPrefix(command, p)+" "+arg)
	}
	return command, arg
}

// answer decides the reply to one message.
func (b *Bot) answer(ctx context.Context, m message) (reply, error) {
	switch m.command {
	case "帮助", "help", "?", "？":
		return b.help(ctx, m)
	case "我的跟投":
		return b.myHoldings(ctx, m)
	case "进度":
		return b.progress(ctx, m)
	default:
		return textReply(replyUnknown), nil
	}
}

// sender returns the Hehuo user behind the message, or ok=false when the
// sender has no enabled account.
func (b *Bot) sender(ctx context.Context, m message) (org.User, bool, error) {
	u, err := b.deps.Org.UserByDingTalkID(ctx, m.userID)
	if errors.Is(err, org.ErrUserNotEnabled) {
		return u, false, nil
	}
	if err != nil {
		return u, false, fmt.Errorf("find sender %s: %w", m.userID, err)
	}
	return u, true, nil
}

func principalOf(u org.User) auth.Principal {
	return auth.Principal{UserID: u.ID, Name: u.Name, Roles: u.Roles}
}

// help lists the commands; 进度 only to staff, who may see some projects.
func (b *Bot) help(ctx context.Context, m message) (reply, error) {
	u, ok, err := b.sender(ctx, m)
	if err != nil {
		return reply{}, err
	}
	var s strings.Builder
	s.WriteString("#### 事业合伙助手\n\n")
	s.WriteString("- **我的跟投**：查看您跟投的项目及金额（请在单聊中发送）\n")
	if ok && principalOf(u).IsStaff() {
		s.WriteString("- **进度 项目名**：查看您负责项目的进度\n")
	}
	s.WriteString("- **帮助**：查看本说明\n")
	if !ok {
		s.WriteString("\n" + replyNotEnabled + "\n")
	}
	return reply{title: "帮助", text: s.String()}, nil
}
