package dingtalk

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestDecodeOldErrors(t *testing.T) {
	tests := []struct {
		name     string
		status   int
		body     string
		code     string
		pred     func(error) bool
		predName string
	}{
		{"auth code", 200, `{"errcode":40078,"errmsg":"不存在的临时授权码"}`, "40078", IsInvalidAuthCode, "IsInvalidAuthCode"},
		{"auth code wrapped in 88", 200, `{"errcode":88,"errmsg":"ding talk error[subcode=40078]","sub_code":"40078","sub_msg":"不存在的临时授权码"}`, "40078", IsInvalidAuthCode, "IsInvalidAuthCode"},
		{"88 with a numeric sub_code", 200, `{"errcode":88,"errmsg":"x","sub_code":60011,"sub_msg":"没有调用该接口的权限"}`, "60011", func(err error) bool { return !IsTemporary(err) }, "!IsTemporary"},
		{"user", 200, `{"errcode":60121,"errmsg":"找不到该用户"}`, "60121", IsUserNotFound, "IsUserNotFound"},
		{"token", 200, `{"errcode":40014,"errmsg":"不合法的access_token"}`, "40014", IsInvalidToken, "IsInvalidToken"},
		{"token timeout", 200, `{"errcode":42001,"errmsg":"access_token 超时"}`, "42001", IsInvalidToken, "IsInvalidToken"},
		{"qps app", 200, `{"errcode":90018,"errmsg":"QPS"}`, "90018", IsThrottled, "IsThrottled"},
		{"qps api", 200, `{"errcode":90002,"errmsg":"QPS"}`, "90002", IsThrottled, "IsThrottled"},
		{"busy", 200, `{"errcode":-1,"errmsg":"系统繁忙"}`, "-1", IsTemporary, "IsTemporary"},
		{"robot sign", 200, `{"errcode":310000,"errmsg":"sign not match"}`, "310000", IsRobotSignature, "IsRobotSignature"},
		{"html from a proxy", 502, `<html>bad gateway</html>`, "http_502", IsTemporary, "IsTemporary"},
		{"html at 200", 200, `<html>login</html>`, "bad_json", IsTemporary, "IsTemporary"},
		{"no errcode", 200, `{"ok":true}`, "bad_json", IsTemporary, "IsTemporary"},
		{"per-IP block", 200, `{"status":1111,"wait":5,"punish":"deny"}`, "ip_blocked", func(err error) bool { return IsThrottled(err) && !retryable(err) }, "IsThrottled && !retryable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := decodeOld("/x", tt.status, []byte(tt.body), nil)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("err = %v, want *Error", err)
			}
			if e.Code != tt.code {
				t.Errorf("code = %q, want %q", e.Code, tt.code)
			}
			if !tt.pred(err) {
				t.Errorf("%s(%v) = false", tt.predName, err)
			}
		})
	}
	if err := decodeOld("/x", 200, []byte(`{"errcode":0,"errmsg":"ok"}`), nil); err != nil {
		t.Errorf("errcode 0: %v", err)
	}
}

func TestDecodeNewErrors(t *testing.T) {
	tests := []struct {
		status int
		body   string
		pred   func(error) bool
		retry  bool
	}{
		{403, `{"code":"Forbidden.AccessDenied.QpsLimitForAppkeyAndApi","message":"x"}`, IsThrottled, true},
		{403, `{"code":"Forbidden.AccessDenied.QpsLimitForApi","message":"x"}`, IsThrottled, true},
		{401, `{"code":"InvalidAuthentication","message":"不合法的access_token"}`, IsInvalidToken, false},
		{400, `{"code":"InvalidAuthentication","message":"不合法的access_token"}`, IsInvalidToken, false},
		{500, `{"code":"ServiceUnavailable","message":"x"}`, IsTemporary, true},
		{403, `{"code":"Forbidden.AccessDenied.ApiCountLimitForOrg","message":"monthly"}`, func(err error) bool { return !IsThrottled(err) }, false},
		{429, `{"code":"TooManyRequests","message":"x"}`, IsThrottled, true},
		{400, `{"code":"invalidAuthCode","message":"授权码无效或已过期"}`, IsInvalidAuthCode, false},
	}
	for _, tt := range tests {
		err := decodeNew("/v1.0/x", tt.status, []byte(tt.body), nil)
		if !tt.pred(err) {
			t.Errorf("%d %s: predicate false for %v", tt.status, tt.body, err)
		}
		if retryable(err) != tt.retry {
			t.Errorf("%d %s: retryable = %v, want %v", tt.status, tt.body, !tt.retry, tt.retry)
		}
	}
}

func TestErrorMessageIsClear(t *testing.T) {
	e := &Error{API: "/robot/send", HTTPStatus: http.StatusOK, Code: "310000", Message: "sign not match"}
	want := "dingtalk /robot/send: robot signature refused (sign not match): check the robot secret [310000] sign not match"
	if e.Error() != want {
		t.Errorf("Error() = %q, want %q", e.Error(), want)
	}
	e = &Error{API: "/v1.0/x", HTTPStatus: 403, Code: "Forbidden.AccessDenied.QpsLimitForApi", Message: "限流"}
	if !strings.Contains(e.Error(), "throttled by DingTalk (HTTP 403)") {
		t.Errorf("Error() = %q", e.Error())
	}
}

func TestParseTime(t *testing.T) {
	tests := map[string]time.Time{
		"":                          {},
		"2022-08-31T11:52Z":         time.Date(2022, 8, 31, 11, 52, 0, 0, time.UTC),
		"2022-08-31T11:52:07+08:00": time.Date(2022, 8, 31, 3, 52, 7, 0, time.UTC),
		"1495592305000":             time.UnixMilli(1495592305000),
	}
	for in, want := range tests {
		got, err := parseTime(in)
		if err != nil || !got.Equal(want) {
			t.Errorf("parseTime(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if _, err := parseTime("yesterday"); err == nil {
		t.Error("parseTime(yesterday) = nil error")
	}
}
