package dingtalk

import (
	"encoding/json"
	"fmt"
)

// The kinds of Message.
const (
	KindText       = "text"
	KindMarkdown   = "markdown"
	KindActionCard = "action_card"
	KindLink       = "link"
)

// Message is one notice in a shape every DingTalk channel can carry; it
// renders itself as a work-notice msg, a custom-robot body, or an app robot's
// msgKey + msgParam. Its fields are plain so the outbox can store a rendered
// message and resend exactly the same text.
type Message struct {
	Kind        string `json:"kind"`
	Title       string `json:"title,omitempty"`
	Text        string `json:"text"` // the content of a text message, the markdown otherwise
	ButtonTitle string `json:"button_title,omitempty"`
	URL         string `json:"url,omitempty"`
	PicURL      string `json:"pic_url,omitempty"`
}

// Text returns a plain-text message.
func Text(content string) Message { return Message{Kind: KindText, Text: content} }

// Markdown returns a markdown message; title shows in the conversation list.
func Markdown(title, text string) Message {
	return Message{Kind: KindMarkdown, Title: title, Text: text}
}

// ActionCard returns a markdown card with one button opening url.
func ActionCard(title, markdown, buttonTitle, url string) Message {
	return Message{Kind: KindActionCard, Title: title, Text: markdown, ButtonTitle: buttonTitle, URL: url}
}

// Link returns a link message: title and text, opening url.
func Link(title, text, url string) Message {
	return Message{Kind: KindLink, Title: title, Text: text, URL: url}
}

// At lists whom a custom robot's group message mentions. DingTalk renders a
// mention only if "@userid" or "@mobile" also appears in the text.
type At struct {
	UserIDs []string
	Mobiles []string
	All     bool
}

// Validate reports a message DingTalk would refuse or show broken.
func (m Message) Validate() error {
	switch m.Kind {
	case KindText:
	case KindMarkdown:
		if m.Title == "" {
			return fmt.Errorf("markdown message needs a title")
		}
	case KindActionCard:
		if m.Title == "" || m.ButtonTitle == "" || m.URL == "" {
			return fmt.Errorf("action card needs a title, a button title and a url")
		}
	case KindLink:
		if m.Title == "" || m.URL == "" {
			return fmt.Errorf("link message needs a title and a url")
		}
	default:
		return fmt.Errorf("unknown message kind %q", m.Kind)
	}
	if m.Text == "" {
		return fmt.Errorf("%s message has no text", m.Kind)
	}
	return nil
}

// WorkNoticeMsg renders m as the msg object of a work notice (asyncsend_v2).
func (m Message) WorkNoticeMsg() map[string]any {
	switch m.Kind {
	case KindText:
		return map[string]any{"msgtype": "text", "text": map[string]string{"content": m.Text}}
	case KindActionCard:
		return map[string]any{"msgtype": "action_card", "action_card": map[string]string{
			"title": m.Title, "markdown": m.Text, "single_title": m.ButtonTitle, "single_url": m.URL}}
	case KindLink:
		return map[string]any{"msgtype": "link", "link": map[string]string{
			"title": m.Title, "text": m.Text, "messageUrl": m.URL, "picUrl": m.PicURL}}
	default:
		return map[string]any{"msgtype": "markdown", "markdown": map[string]string{"title": m.Title, "text": m.Text}}
	}
}

// WebhookBody renders m as the body of a custom robot's /robot/send (and of a
// bot's sessionWebhook reply), mentioning at if not nil.
func (m Message) WebhookBody(at *At) map[string]any {
	var body map[string]any
	switch m.Kind {
	case KindText:
		body = map[string]any{"msgtype": "text", "text": map[string]string{"content": m.Text}}
	case KindActionCard:
		body = map[string]any{"msgtype": "actionCard", "actionCard": map[string]string{
			"title": m.Title, "text": m.Text, "singleTitle": m.ButtonTitle, "singleURL": m.URL}}
	case KindLink:
		body = map[string]any{"msgtype": "link", "link": map[string]string{
			"title": m.Title, "text": m.Text, "messageUrl": m.URL, "picUrl": m.PicURL}}
	default:
		body = map[string]any{"msgtype": "markdown", "markdown": map[string]string{"title": m.Title, "text": m.Text}}
	}
	if at != nil {
		a := map[string]any{"isAtAll": at.All}
		if len(at.UserIDs) > 0 {
			a["atUserIds"] = at.UserIDs
		}
		if len(at.Mobiles) > 0 {
			a["atMobiles"] = at.Mobiles
		}
		body["at"] = a
	}
	return body
}

// RobotMsg renders m as an app robot's msgKey and msgParam (a JSON string),
// for group messages and one-to-one batch sends.
func (m Message) RobotMsg() (msgKey, msgParam string) {
	var p map[string]string
	switch m.Kind {
	case KindText:
		msgKey, p = "sampleText", map[string]string{"content": m.Text}
	case KindActionCard:
		msgKey, p = "sampleActionCard", map[string]string{
			"title": m.Title, "text": m.Text, "singleTitle": m.ButtonTitle, "singleURL": m.URL}
	case KindLink:
		msgKey, p = "sampleLink", map[string]string{
			"title": m.Title, "text": m.Text, "messageUrl": m.URL, "picUrl": m.PicURL}
	default:
		msgKey, p = "sampleMarkdown", map[string]string{"title": m.Title, "text": m.Text}
	}
	b, _ := json.Marshal(p) // a map of strings always encodes
	return msgKey, string(b)
}
