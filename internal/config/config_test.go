package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadFileThenEnvironment(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "c.yaml")
	if err := os.WriteFile(path, []byte("http:\n  addr: 127.0.0.1:9999\ndatabase:\n  url: postgres://x@127.0.0.1/a\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("HEHUO_DATABASE_URL", "postgres://y@127.0.0.1/b")
	t.Setenv("HEHUO_ADMIN_PASSWORD", "s3cret-pass")
	c, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if c.HTTP.Addr != "127.0.0.1:9999" {
		t.Errorf("addr = %q, want from file", c.HTTP.Addr)
	}
	if c.Database.URL != "postgres://y@127.0.0.1/b" {
		t.Errorf("database url = %q, want from environment", c.Database.URL)
	}
	if c.Auth.AdminPassword != "s3cret-pass" {
		t.Errorf("admin password not taken from environment")
	}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	c := Default()
	c.Database.URL = "mysql://nope"
	c.Redis.URL = "http://nope"
	c.Log.Level = "loud"
	c.Auth.AdminPassword = "short"
	err := c.Validate()
	if err == nil {
		t.Fatal("want an error")
	}
	for _, want := range []string{"HEHUO_DATABASE_URL", "HEHUO_REDIS_URL", "log.level", "HEHUO_ADMIN_PASSWORD"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
}

func TestBadEnvironmentValue(t *testing.T) {
	t.Setenv("HEHUO_DEMO", "maybe")
	if _, err := Load(""); err == nil || !strings.Contains(err.Error(), "HEHUO_DEMO") {
		t.Fatalf("err = %v, want one naming HEHUO_DEMO", err)
	}
}

func TestExampleConfigLoadsAndBadLimitsAreNamed(t *testing.T) {
	c, err := Load("../../configs/hehuo.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if c.Auth.PasswordLimit.Max != 20 || c.HTTP.ExportWriteTimeout.Minutes() != 10 || len(c.HTTP.TrustedProxies) != 0 {
		t.Errorf("example: password_limit %+v, export_write_timeout %v, trusted_proxies %v", c.Auth.PasswordLimit, c.HTTP.ExportWriteTimeout, c.HTTP.TrustedProxies)
	}
	c = Default()
	c.HTTP.TrustedProxies = []string{"10.0.0.0/8", "proxy.local"}
	c.Auth.DingTalkLimit.Max = 0
	c.HTTP.WriteTimeout = 0
	err = c.Validate()
	for _, want := range []string{"proxy.local", "auth.dingtalk_limit", "write_timeout"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not mention %s", err, want)
		}
	}
}

// A public URL on https turns secure cookies on, whatever the file says.
func TestHTTPSPublicURLMakesCookiesSecure(t *testing.T) {
	t.Setenv("HEHUO_PUBLIC_URL", "https://hehuo.example.com")
	c, err := Load("")
	if err != nil {
		t.Fatal(err)
	}
	if !c.HTTP.SecureCookies {
		t.Fatal("secure_cookies off behind https")
	}
	t.Setenv("HEHUO_PUBLIC_URL", "http://127.0.0.1:8080")
	if c, _ := Load(""); c.HTTP.SecureCookies {
		t.Fatal("secure_cookies on for a plain http demo")
	}
}
