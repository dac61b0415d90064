package dingtalk_test

import (
	"encoding/json"
	"testing"

	"hehuo/internal/dingtalk"
)

func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestMessageRendersEveryChannel(t *testing.T) {
	tests := []struct {
		name                 string
		msg                  dingtalk.Message
		notice, webhook, key string
		param                string
	}{
		{"text", dingtalk.Text("缴款提醒"),
			`{"msgtype":"text","text":{"content":"缴款提醒"}}`,
			`{"msgtype":"text","text":{"content":"缴款提醒"}}`,
			"sampleText", `{"content":"缴款提醒"}`},
		{"markdown", dingtalk.Markdown("认购通知", "## 项目A"),
			`{"markdown":{"text":"## 项目A","title":"认购通知"},"msgtype":"markdown"}`,
			`{"markdown":{"text":"## 项目A","title":"认购通知"},"msgtype":"markdown"}`,
			"sampleMarkdown", `{"text":"## 项目A","title":"认购通知"}`},
		{"action card", dingtalk.ActionCard("分配通知", "**第1次**", "查看", "https://h/m/d/1"),
			`{"action_card":{"markdown":"**第1次**","single_title":"查看","single_url":"https://h/m/d/1","title":"分配通知"},"msgtype":"action_card"}`,
			`{"actionCard":{"singleTitle":"查看","singleURL":"https://h/m/d/1","text":"**第1次**","title":"分配通知"},"msgtype":"actionCard"}`,
			"sampleActionCard", `{"singleTitle":"查看","singleURL":"https://h/m/d/1","text":"**第1次**","title":"分配通知"}`},
		{"link", dingtalk.Link("披露", "2026年三季度", "https://h/m/x"),
			`{"link":{"messageUrl":"https://h/m/x","picUrl":"","text":"2026年三季度","title":"披露"},"msgtype":"link"}`,
			`{"link":{"messageUrl":"https://h/m/x","picUrl":"","text":"2026年三季度","title":"披露"},"msgtype":"link"}`,
			"sampleLink", `{"messageUrl":"https://h/m/x","picUrl":"","text":"2026年三季度","title":"披露"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.msg.Validate(); err != nil {
				t.Fatalf("Validate: %v", err)
			}
			if got := jsonOf(t, tt.msg.WorkNoticeMsg()); got != tt.notice {
				t.Errorf("work notice msg = %s, want %s", got, tt.notice)
			}
			if got := jsonOf(t, tt.msg.WebhookBody(nil)); got != tt.webhook {
				t.Errorf("webhook body = %s, want %s", got, tt.webhook)
			}
			key, param := tt.msg.RobotMsg()
			if key != tt.key || param != tt.param {
				t.Errorf("robot msg = %s %s, want %s %s", key, param, tt.key, tt.param)
			}
		})
	}
}

func TestWebhookBodyMentions(t *testing.T) {
	body := dingtalk.Text("请 @13800000000 @u1 处理").WebhookBody(&dingtalk.At{UserIDs: []string{"u1"}, Mobiles: []string{"13800000000"}})
	want := `{"at":{"atMobiles":["13800000000"],"atUserIds":["u1"],"isAtAll":false},"msgtype":"text","text":{"content":"请 @13800000000 @u1 处理"}}`
	if got := jsonOf(t, body); got != want {
		t.Errorf("body = %s, want %s", got, want)
	}
}

func TestMessageSurvivesJSON(t *testing.T) {
	// The outbox stores a rendered message and resends the very same text.
	m := dingtalk.ActionCard("分配通知", "正文", "查看", "https://h/m")
	var back dingtalk.Message
	if err := json.Unmarshal([]byte(jsonOf(t, m)), &back); err != nil {
		t.Fatal(err)
	}
	if back != m {
		t.Errorf("round trip = %+v, want %+v", back, m)
	}
}

func TestMessageValidate(t *testing.T) {
	bad := []dingtalk.Message{
		{},
		{Kind: "image", Text: "x"},
		dingtalk.Markdown("", "正文"),
		dingtalk.Markdown("标题", ""),
		dingtalk.ActionCard("标题", "正文", "", "https://h"),
		dingtalk.Link("标题", "正文", ""),
	}
	for _, m := range bad {
		if err := m.Validate(); err == nil {
			t.Errorf("Validate(%+v) = nil, want an error", m)
		}
	}
}
