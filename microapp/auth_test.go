package microapp_test

import (
	"net/http"
	"strings"
	"testing"
)

func TestPasswordSignInSetsHttpOnlyCookieAndMe(t *testing.T) {
	e := newEnv(t)
	r := e.must(200, e.do("", "POST", "/api/v1/auth/password", map[string]string{"username": "admin", "password": adminPassword}))
	cookie := r.Header.Get("Set-Cookie")
	if !strings.Contains(cookie, "hehuo_session=") || !strings.Contains(cookie, "HttpOnly") {
		t.Fatalf("Set-Cookie = %q, want an HttpOnly session cookie", cookie)
	}
	user := r.Body["user"].(map[string]any)
	if user["username"] != "admin" || user["roles"].([]any)[0] != "sysadmin" {
		t.Fatalf("user = %v", user)
	}
	token := r.Body["token"].(string)

	// Bearer token and cookie both work.
	me := e.must(200, e.do(token, "GET", "/api/v1/me", nil))
	if me.Body["name"] != "系统管理员" {
		t.Errorf("me = %v", me.Body)
	}
	req, _ := http.NewRequest("GET", e.http.URL+"/api/v1/me", nil)
	req.AddCookie(&http.Cookie{Name: "hehuo_session", Value: token})
	res, err := http.DefaultClient.Do(req)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("cookie sign-in: %v %v", res.StatusCode, err)
	}

	e.must(204, e.do(token, "POST", "/api/v1/auth/logout", nil))
	if r := e.do(token, "GET", "/api/v1/me", nil); r.Status != 401 || r.errCode() != "session_expired" {
		t.Fatalf("after logout: %d %s", r.Status, r.Raw)
	}
}

func TestSignInFailures(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name, body string
		status     int
		code       string
	}{
		{"wrong password", `{"username":"admin","password":"nope-nope"}`, 401, "invalid_credentials"},
		{"unknown user fails the same way", `{"username":"ghost","password":"whatever"}`, 401, "invalid_credentials"},
		{"malformed JSON", `{"username":`, 400, "malformed_json"},
		{"wrong type", `{"username":1,"password":"x"}`, 400, "field_type_invalid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do("", "POST", "/api/v1/auth/password", tt.body)
			if r.Status != tt.status || r.errCode() != tt.code {
				t.Fatalf("got %d %s, want %d %s", r.Status, r.Raw, tt.status, tt.code)
			}
			msg := r.Body["error"].(map[string]any)["message"].(string)
			if msg == "" || msg == tt.code {
				t.Errorf("message %q should be Chinese text for people", msg)
			}
		})
	}
	if r := e.do("", "GET", "/api/v1/me", nil); r.Status != 401 || r.errCode() != "not_signed_in" {
		t.Fatalf("no session: %d %s", r.Status, r.Raw)
	}
}

func TestFiveFailuresLockTheAccount(t *testing.T) {
	e := newEnv(t)
	bad := map[string]string{"username": "hhadmin", "password": "wrong-password"}
	for i := 1; i <= 4; i++ {
		if r := e.do("", "POST", "/api/v1/auth/password", bad); r.errCode() != "invalid_credentials" {
			t.Fatalf("failure %d: %s", i, r.Raw)
		}
	}
	if r := e.do("", "POST", "/api/v1/auth/password", bad); r.Status != 423 || r.errCode() != "account_locked" {
		t.Fatalf("fifth failure: %d %s, want 423 account_locked", r.Status, r.Raw)
	}
	// Locked: even the right password is refused, and other accounts are unaffected.
	good := map[string]string{"username": "hhadmin", "password": bizadminPassword}
	if r := e.do("", "POST", "/api/v1/auth/password", good); r.Status != 423 || !strings.Contains(string(r.Raw), "请15分钟后再试") {
		t.Fatalf("right password while locked: %d %s, want the minutes left of the default 15", r.Status, r.Raw)
	}
	e.admin()
}

func TestSuccessResetsTheFailureCount(t *testing.T) {
	e := newEnv(t)
	bad := map[string]string{"username": "admin", "password": "wrong-password"}
	for i := 0; i < 4; i++ {
		e.do("", "POST", "/api/v1/auth/password", bad)
	}
	e.admin()
	for i := 0; i < 4; i++ {
		if r := e.do("", "POST", "/api/v1/auth/password", bad); r.Status != 401 {
			t.Fatalf("failure %d after a success: %d, want 401 (count restarted)", i+1, r.Status)
		}
	}
}

func TestResignedUserCannotUseSession(t *testing.T) {
	e := newEnv(t)
	admin := e.admin()
	id, token := e.mustUser("离职会计", "accountant")
	e.must(200, e.do(token, "GET", "/api/v1/me", nil))
	u := e.must(200, e.do(admin, "GET", "/api/v1/users/"+itoa(id), nil))
	e.must(200, e.do(admin, "PATCH", "/api/v1/users/"+itoa(id), map[string]any{"employment_status": "resigned", "version": u.Body["version"]}))
	if r := e.do(token, "GET", "/api/v1/me", nil); r.Status != 403 || r.errCode() != "user_inactive" {
		t.Fatalf("resigned user's session: %d %s", r.Status, r.Raw)
	}
}
