package dingtalk

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// Error is an answer of DingTalk that is not a success. Code is the errcode
// as a string for the old API family ("40078"; for errcode 88 it is the
// sub_code, which says what really went wrong) and the code string for the
// new family ("Forbidden.AccessDenied.QpsLimitForAppkeyAndApi").
type Error struct {
	API        string // the path called, e.g. "/topapi/v2/user/get"
	HTTPStatus int
	Code       string
	Message    string // DingTalk's own message (errmsg, sub_msg or message)
}

func (e *Error) Error() string {
	s := "dingtalk " + e.API + ": " + describe(e)
	if e.HTTPStatus != 0 && e.HTTPStatus != http.StatusOK {
		s += fmt.Sprintf(" (HTTP %d)", e.HTTPStatus)
	}
	if e.Code != "" || e.Message != "" {
		s += fmt.Sprintf(" [%s] %s", e.Code, e.Message)
	}
	return s
}

// describe says in English what an error means for us, so logs and the
// dead-letter column are readable without the DingTalk error table.
func describe(e *Error) string {
	switch {
	case e.Code == "310000":
		m := strings.ToLower(e.Message)
		switch {
		case strings.Contains(m, "keyword"):
			return "robot security check refused (keywords not in content): the message lacks the robot's keyword"
		case strings.Contains(m, "ip"):
			return "robot security check refused (ip not in whitelist): allow this server's IP for the robot"
		}
		return "robot signature refused (sign not match): check the robot secret"
	case e.Code == "300001" || e.Code == "300005":
		return "robot webhook token does not exist: check the robot's webhook URL"
	case e.Code == codeIPBlocked:
		return "this server's IP is blocked for calling too often (over 10000 calls in 20 s): wait 5 minutes"
	case e.Code == codeBadJSON:
		return "the answer is not DingTalk's JSON (a proxy in between?)"
	case e.Code == "130101":
		return "robot sends too fast (over 20 a minute): it is throttled for 10 minutes"
	case isInvalidAuthCode(e):
		return "the sign-in auth code is invalid, expired or used"
	case isUserNotFound(e):
		return "user not found in the DingTalk organisation"
	case isInvalidToken(e):
		return "access token invalid or expired"
	case isThrottled(e):
		return "throttled by DingTalk"
	case isBusy(e):
		return "DingTalk is busy or failing"
	case e.Code == "60011":
		return "the app lacks the permission for this API"
	case e.Code == "60020":
		return "this server's IP is not in the app's allow-list"
	case e.Code == "invalidClientIdOrSecret":
		return "app key or app secret refused"
	case e.Code == "corpMismatch":
		return "the user signed in to another DingTalk organisation"
	}
	return "call refused"
}

// IsInvalidAuthCode reports whether err says a sign-in auth code is unknown,
// expired or already used (40078, also when wrapped as errcode 88).
func IsInvalidAuthCode(err error) bool { return is(err, isInvalidAuthCode) }

// IsUserNotFound reports whether err says the user is not in the organisation (60121).
func IsUserNotFound(err error) bool { return is(err, isUserNotFound) }

// IsThrottled reports whether DingTalk refused the call for its rate limits
// (per app and API, per API, or a custom robot's 20 a minute).
func IsThrottled(err error) bool { return is(err, isThrottled) }

// IsInvalidToken reports whether err says the app access token was refused.
func IsInvalidToken(err error) bool { return is(err, isInvalidToken) }

// IsRobotSignature reports whether a custom robot refused the message for its
// security settings (310000: signature, keywords or IP allow-list).
func IsRobotSignature(err error) bool {
	return is(err, func(e *Error) bool { return e.Code == "310000" })
}

// IsTemporary reports whether trying the same call later may succeed:
// throttling, "system busy" and DingTalk's server errors.
func IsTemporary(err error) bool {
	return is(err, func(e *Error) bool { return isThrottled(e) || isBusy(e) })
}

func is(err error, pred func(*Error) bool) bool {
	var e *Error
	return errors.As(err, &e) && pred(e)
}

// isInvalidAuthCode: 40078 for 免登 codes; the new family's PC sign-in code
// error is not documented, so any 400 code naming the auth code counts.
func isInvalidAuthCode(e *Error) bool {
	return e.Code == "40078" ||
		(e.HTTPStatus == http.StatusBadRequest && strings.Contains(strings.ToLower(e.Code), "authcode"))
}

func isUserNotFound(e *Error) bool { return e.Code == "60121" }

func isInvalidToken(e *Error) bool {
	switch e.Code {
	case "40014", "42001", "InvalidAuthentication":
		return true
	}
	return false
}

func isThrottled(e *Error) bool {
	switch e.Code {
	case "90018", "90002", "130101", codeIPBlocked:
		return true
	}
	// 429 is not documented, but would mean the same.
	return e.HTTPStatus == http.StatusTooManyRequests ||
		(e.HTTPStatus == http.StatusForbidden && strings.HasPrefix(e.Code, "Forbidden.AccessDenied.QpsLimit"))
}

// isBusy: "system busy", a server error, or a 200 that is not DingTalk's
// JSON (a proxy's page), all worth trying again later.
func isBusy(e *Error) bool { return e.Code == "-1" || e.Code == codeBadJSON || e.HTTPStatus >= 500 }

// Codes the client gives answers that carry none of DingTalk's own.
const (
	codeBadJSON   = "bad_json"   // HTTP 200 whose body is not JSON
	codeIPBlocked = "ip_blocked" // the per-IP punishment page {"status":1111,"punish":"deny",…}
)

// retryable is what the client retries itself after about a second: the
// 1-second QPS windows and momentary failures. A robot's 130101 and the
// per-IP block are not: they last ten and five minutes.
func retryable(err error) bool {
	return is(err, func(e *Error) bool {
		return (isThrottled(e) && e.Code != "130101" && e.Code != codeIPBlocked) || isBusy(e)
	})
}
