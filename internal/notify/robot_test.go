package notify

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"hehuo/internal/apperr"
	"hehuo/internal/config"
	"hehuo/internal/dingtalk"
)

// Each refusal of a custom robot is worded for the operator.
func TestRobotErrorWording(t *testing.T) {
	for _, c := range []struct {
		err  error
		code string
		says string
	}{
		{&dingtalk.Error{Code: "310000", Message: "sign not match, more: [https://open.dingtalk.com/...]"}, "robot_sign_invalid", "机器人加签密钥不正确"},
		{&dingtalk.Error{Code: "310000", Message: "invalid timestamp"}, "robot_sign_invalid", "加签"},
		{&dingtalk.Error{Code: "310000", Message: "keywords not in content"}, "robot_keyword_missing", "关键词"},
		{&dingtalk.Error{Code: "310000", Message: "ip 1.2.3.4 not in whitelist"}, "robot_ip_refused", "IP 白名单"},
		{&dingtalk.Error{Code: "300001", Message: "token is not exist"}, "robot_token_invalid", "access_token 无效"},
		{fmt.Errorf("send robot message: %w", &dingtalk.Error{Code: "130101", Message: "send too fast"}), "robot_throttled", "每分钟最多20条"},
		{&dingtalk.Error{Code: "460101", Message: "message too long"}, "robot_send_failed", "460101"},
		{errors.New("dial tcp: connection refused"), "robot_unreachable", "无法连接"},
	} {
		e := apperr.As(robotError(c.err))
		if e == nil || e.Code != c.code || !strings.Contains(e.Message, c.says) || e.Kind != apperr.KindRule {
			t.Errorf("%v → %v, want %s saying %q", c.err, e, c.code, c.says)
		}
		if !errors.Is(e, c.err) && e.Err != c.err {
			t.Errorf("%v: cause not kept", c.err)
		}
	}
}

func TestWebhookAndSecretChecks(t *testing.T) {
	cfg := config.Default()
	cfg.DingTalk.OAPIBase = "http://127.0.0.1:9999"
	s := &Service{cfg: cfg}
	for _, c := range []struct {
		url string
		ok  bool
	}{
		{"https://oapi.dingtalk.com/robot/send?access_token=abc", true},
		{"https://oapi.dingtalk.com/robot/send", false},
		{"https://oapi.dingtalk.com/robot/send?access_token=", false},
		{"http://oapi.dingtalk.com/robot/send?access_token=abc", false},
		{"http://127.0.0.1:9999/robot/send?access_token=abc", true}, // the configured simulator
		{"http://127.0.0.1:8888/robot/send?access_token=abc", false},
		{"ftp://x/robot?access_token=abc", false},
		{"robot/send?access_token=abc", false},
	} {
		if _, err := s.checkWebhook(c.url); (err == nil) != c.ok {
			t.Errorf("checkWebhook(%q) = %v, want ok=%v", c.url, err, c.ok)
		}
	}
	// In demo mode any loopback http is accepted (the built-in simulator).
	s.cfg.Demo = true
	if _, err := s.checkWebhook("http://localhost:8888/robot/send?access_token=abc"); err != nil {
		t.Errorf("demo loopback refused: %v", err)
	}
	if _, err := s.checkWebhook("http://10.0.0.1/robot/send?access_token=abc"); err == nil {
		t.Error("demo accepted http off loopback")
	}
	for secret, ok := range map[string]bool{"SEC0123456789abcdef": true, " SEC0123456789abcdef ": true, "sec0123456789": false, "SEC12": false, "SEC 123456789": false, "": false} {
		if _, err := checkRobotSecret(secret); (err == nil) != ok {
			t.Errorf("checkRobotSecret(%q) = %v, want ok=%v", secret, err, ok)
		}
	}
	if got := maskWebhook("https://oapi.dingtalk.com/robot/send?access_token=0123456789abcdef"); got != "https://oapi.dingtalk.com/robot/send?access_token=0123****cdef" {
		t.Errorf("mask = %q", got)
	}
}
