// Package config loads Hehuo's one typed configuration: a YAML file from
// configs/, then environment overrides, then validation. Secrets come only
// from the environment.
package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Config is everything the binary can be told.
type Config struct {
	// Demo relaxes start-up rules for a local demonstration: missing bootstrap
	// passwords are generated and printed instead of refusing to start.
	Demo     bool     `yaml:"demo"`
	HTTP     HTTP     `yaml:"http"`
	Database Database `yaml:"database"`
	Redis    Redis    `yaml:"redis"`
	Auth     Auth     `yaml:"auth"`
	DingTalk DingTalk `yaml:"dingtalk"`
	Notify   Notify   `yaml:"notify"`
	Log      Log      `yaml:"log"`
	// Agreements configures agreement PDFs (协议).
	Agreements Agreements `yaml:"agreements"`
	// SecretKey encrypts secrets stored in the database (robot secrets,
	// payout accounts): 32 bytes, base64 or hex. HEHUO_SECRET_KEY only.
	SecretKey string `yaml:"-"`
}

// HTTP configures the web server.
type HTTP struct {
	Addr string `yaml:"addr"`
	// PublicURL is how browsers reach the server; links in notices use it.
	PublicURL string `yaml:"public_url"`
	// SecureCookies marks the session cookie Secure; always on when
	// PublicURL is https.
	SecureCookies bool `yaml:"secure_cookies"`
	// TrustedProxies are the addresses or CIDRs of reverse proxies whose
	// X-Forwarded-For names the client. None by default: the client
	// address (sign-in limits, lock-out) is then the connection's, and a
	// header cannot change it.
	TrustedProxies []string `yaml:"trusted_proxies"`
	// ReadHeaderTimeout, ReadTimeout (headers and body together),
	// WriteTimeout and IdleTimeout bound how long one client may hold a
	// connection; ExportWriteTimeout replaces WriteTimeout on routes that
	// send files (exports, attachments), which may stream for longer.
	ReadHeaderTimeout  time.Duration `yaml:"read_header_timeout"`
	ReadTimeout        time.Duration `yaml:"read_timeout"`
	WriteTimeout       time.Duration `yaml:"write_timeout"`
	IdleTimeout        time.Duration `yaml:"idle_timeout"`
	ExportWriteTimeout time.Duration `yaml:"export_write_timeout"`
}

// Database configures Postgres.
type Database struct {
	URL          string `yaml:"url"`
	MaxOpenConns int    `yaml:"max_open_conns"`
}

// Redis configures Redis.
type Redis struct {
	URL string `yaml:"url"`
	// Prefix is put before every key, so several instances or tests can share one Redis.
	Prefix string `yaml:"prefix"`
}

// Auth configures sign-in and sessions.
type Auth struct {
	SessionTTL   time.Duration `yaml:"session_ttl"`
	MaxFailures  int           `yaml:"max_failures"`
	LockDuration time.Duration `yaml:"lock_duration"`
	// BackoffAfter failures of one account from all addresses within
	// BackoffWindow (counted from the last) start a backoff of 1 s, 2 s,
	// 4 s … up to BackoffMax, during which it is refused everywhere;
	// MaxFailures and LockDuration lock it for one address only.
	BackoffAfter  int           `yaml:"backoff_after"`
	BackoffWindow time.Duration `yaml:"backoff_window"`
	BackoffMax    time.Duration `yaml:"backoff_max"`
	// PasswordLimit caps password sign-ins per client address; DingTalkLimit
	// caps unsuccessful DingTalk sign-ins (auth code, QR) per address,
	// counted before DingTalk is called. Both are shared by all instances
	// through Redis.
	PasswordLimit  RateLimit `yaml:"password_limit"`
	DingTalkLimit  RateLimit `yaml:"dingtalk_limit"`
	AdminPassword  string    `yaml:"-"` // HEHUO_ADMIN_PASSWORD only
	BizadminPasswd string    `yaml:"-"` // HEHUO_BIZADMIN_PASSWORD only
}

// RateLimit is at most Max attempts per client address in each Window.
type RateLimit struct {
	Max    int           `yaml:"max"`
	Window time.Duration `yaml:"window"`
}

// DingTalk configures the DingTalk app Hehuo runs as.
type DingTalk struct {
	APIBase  string `yaml:"api_base"`
	OAPIBase string `yaml:"oapi_base"`
	// LoginBase is DingTalk's OAuth sign-in page host (PC QR sign-in).
	LoginBase string `yaml:"login_base"`
	CorpID    string `yaml:"corp_id"`
	AppKey    string `yaml:"app_key"`
	AppSecret string `yaml:"-"` // HEHUO_DINGTALK_APP_SECRET only
	AgentID   string `yaml:"agent_id"`
	// RobotCode is the app robot's code; for an internal app it is the AppKey.
	RobotCode string `yaml:"robot_code"`
	// Stream turns on the stream-mode connection (bot messages, approval
	// events, card callbacks). Off when no AppKey is configured.
	Stream bool `yaml:"stream"`
	// ProcessCodes maps a process kind (peak_capital, establishment, …) to
	// the OA approval template's processCode.
	ProcessCodes map[string]string `yaml:"process_codes"`
	// Simulator, when set, is the address `hehuo demo` starts the built-in
	// DingTalk simulator on (demo only); the bases above then point at it.
	Simulator string `yaml:"simulator"`
}

// Notify configures the notice outbox dispatcher.
type Notify struct {
	// Interval is how often the dispatcher looks for due rows when idle.
	Interval time.Duration `yaml:"interval"`
	// MaxAttempts is how many failed attempts move a row to the dead letter.
	MaxAttempts int `yaml:"max_attempts"`
	// Workers is how many rows one dispatcher sends at once.
	Workers int `yaml:"workers"`
}

// Agreements configures the agreement PDFs (docs/agreements.md).
type Agreements struct {
	// FontPath is the CJK TrueType font embedded in agreement PDFs;
	// empty means DefaultAgreementFont (Debian fonts-droid-fallback,
	// which scripts/pdf.sh installs).
	FontPath string `yaml:"font_path"`
}

// DefaultAgreementFont is Debian's Droid Sans Fallback, which covers CJK.
const DefaultAgreementFont = "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf"

// Log configures structured logging.
type Log struct {
	Level  string `yaml:"level"`  // debug, info, warn, error
	Format string `yaml:"format"` // text or json
}

// Default returns the configuration used when no file says otherwise.
func Default() Config {
	return Config{
		HTTP: HTTP{Addr: "127.0.0.1:8080", ReadHeaderTimeout: 10 * time.Second, ReadTimeout: time.Minute,
			WriteTimeout: time.Minute, IdleTimeout: 2 * time.Minute, ExportWriteTimeout: 10 * time.Minute},
		Database: Database{URL: "postgres://postgres@127.0.0.1:5432/hehuo?sslmode=disable", MaxOpenConns: 20},
		Redis:    Redis{URL: "redis://127.0.0.1:6379/0", Prefix: "hehuo:"},
		Auth: Auth{SessionTTL: 12 * time.Hour, MaxFailures: 5, LockDuration: 15 * time.Minute,
			BackoffAfter: 50, BackoffWindow: time.Hour, BackoffMax: 5 * time.Minute,
			PasswordLimit: RateLimit{Max: 20, Window: time.Minute}, DingTalkLimit: RateLimit{Max: 20, Window: time.Minute}},
		DingTalk: DingTalk{APIBase: "https://api.dingtalk.com", OAPIBase: "https://oapi.dingtalk.com", LoginBase: "https://login.dingtalk.com", Stream: true},
		Notify:   Notify{Interval: time.Second, MaxAttempts: 8, Workers: 4},
		Log:      Log{Level: "info", Format: "text"},
	}
}

// Load reads path (if not empty) over the defaults, applies the environment
// and validates the result.
func Load(path string) (Config, error) {
	c := Default()
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return c, fmt.Errorf("read config %s: %w", path, err)
		}
		if err := yaml.Unmarshal(b, &c); err != nil {
			return c, fmt.Errorf("parse config %s: %w", path, err)
		}
	}
	if err := c.applyEnv(os.LookupEnv); err != nil {
		return c, err
	}
	if c.HTTP.PublicURL == "" {
		c.HTTP.PublicURL = "http://" + c.HTTP.Addr
	}
	if strings.HasPrefix(strings.ToLower(c.HTTP.PublicURL), "https://") {
		// Browsers reach the app over HTTPS: the session cookie must never
		// travel in clear, whatever the file says.
		c.HTTP.SecureCookies = true
	}
	if c.DingTalk.RobotCode == "" {
		c.DingTalk.RobotCode = c.DingTalk.AppKey
	}
	return c, c.Validate()
}

// applyEnv overrides fields from HEHUO_* variables.
func (c *Config) applyEnv(lookup func(string) (string, bool)) error {
	str := map[string]*string{
		"HEHUO_HTTP_ADDR":           &c.HTTP.Addr,
		"HEHUO_PUBLIC_URL":          &c.HTTP.PublicURL,
		"HEHUO_DATABASE_URL":        &c.Database.URL,
		"HEHUO_REDIS_URL":           &c.Redis.URL,
		"HEHUO_REDIS_PREFIX":        &c.Redis.Prefix,
		"HEHUO_ADMIN_PASSWORD":      &c.Auth.AdminPassword,
		"HEHUO_BIZADMIN_PASSWORD":   &c.Auth.BizadminPasswd,
		"HEHUO_DINGTALK_API_BASE":   &c.DingTalk.APIBase,
		"HEHUO_DINGTALK_OAPI_BASE":  &c.DingTalk.OAPIBase,
		"HEHUO_DINGTALK_LOGIN_BASE": &c.DingTalk.LoginBase,
		"HEHUO_DINGTALK_CORP_ID":    &c.DingTalk.CorpID,
		"HEHUO_DINGTALK_APP_KEY":    &c.DingTalk.AppKey,
		"HEHUO_DINGTALK_APP_SECRET": &c.DingTalk.AppSecret,
		"HEHUO_DINGTALK_AGENT_ID":   &c.DingTalk.AgentID,
		"HEHUO_DINGTALK_ROBOT_CODE": &c.DingTalk.RobotCode,
		"HEHUO_SECRET_KEY":          &c.SecretKey,
		"HEHUO_LOG_LEVEL":           &c.Log.Level,
		"HEHUO_LOG_FORMAT":          &c.Log.Format,
		"HEHUO_AGREEMENT_FONT":      &c.Agreements.FontPath,
	}
	for name, dst := range str {
		if v, ok := lookup(name); ok {
			*dst = v
		}
	}
	if v, ok := lookup("HEHUO_DEMO"); ok {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("HEHUO_DEMO=%q: want true or false", v)
		}
		c.Demo = b
	}
	if v, ok := lookup("HEHUO_SESSION_TTL"); ok {
		d, err := time.ParseDuration(v)
		if err != nil {
			return fmt.Errorf("HEHUO_SESSION_TTL=%q: want a duration such as 12h", v)
		}
		c.Auth.SessionTTL = d
	}
	return nil
}

// Validate reports every problem at once, in words an operator can act on.
func (c Config) Validate() error {
	var errs []string
	if c.HTTP.Addr == "" {
		errs = append(errs, "http.addr (HEHUO_HTTP_ADDR) is empty")
	}
	if u, err := url.Parse(c.Database.URL); err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		errs = append(errs, fmt.Sprintf("database.url (HEHUO_DATABASE_URL) %q is not a postgres:// URL", c.Database.URL))
	}
	if u, err := url.Parse(c.Redis.URL); err != nil || (u.Scheme != "redis" && u.Scheme != "rediss") {
		errs = append(errs, fmt.Sprintf("redis.url (HEHUO_REDIS_URL) %q is not a redis:// URL", c.Redis.URL))
	}
	if c.Auth.SessionTTL < time.Minute {
		errs = append(errs, "auth.session_ttl must be at least 1m")
	}
	if c.Auth.MaxFailures < 1 {
		errs = append(errs, "auth.max_failures must be at least 1")
	}
	if c.Auth.LockDuration <= 0 {
		errs = append(errs, "auth.lock_duration must be positive")
	}
	if c.Auth.BackoffAfter < 1 || c.Auth.BackoffWindow <= 0 || c.Auth.BackoffMax <= 0 {
		errs = append(errs, "auth.backoff_after must be at least 1, auth.backoff_window and auth.backoff_max positive")
	}
	for _, l := range []struct {
		name string
		v    RateLimit
	}{{"auth.password_limit", c.Auth.PasswordLimit}, {"auth.dingtalk_limit", c.Auth.DingTalkLimit}} {
		if l.v.Max < 1 || l.v.Window <= 0 {
			errs = append(errs, l.name+" needs max ≥ 1 and a positive window")
		}
	}
	if c.HTTP.ReadHeaderTimeout <= 0 || c.HTTP.ReadTimeout <= 0 || c.HTTP.WriteTimeout <= 0 || c.HTTP.IdleTimeout <= 0 || c.HTTP.ExportWriteTimeout <= 0 {
		errs = append(errs, "http.read_header_timeout, read_timeout, write_timeout, idle_timeout and export_write_timeout must be positive")
	}
	for _, p := range c.HTTP.TrustedProxies {
		if _, _, err := net.ParseCIDR(p); err != nil && net.ParseIP(p) == nil {
			errs = append(errs, fmt.Sprintf("http.trusted_proxies: %q is not an IP address or CIDR", p))
		}
	}
	for _, p := range []struct{ name, v string }{{"HEHUO_ADMIN_PASSWORD", c.Auth.AdminPassword}, {"HEHUO_BIZADMIN_PASSWORD", c.Auth.BizadminPasswd}} {
		if p.v != "" && len(p.v) < 8 {
			errs = append(errs, p.name+" must be at least 8 characters")
		}
	}
	for _, b := range []struct{ name, v string }{{"dingtalk.api_base", c.DingTalk.APIBase}, {"dingtalk.oapi_base", c.DingTalk.OAPIBase}, {"dingtalk.login_base", c.DingTalk.LoginBase}} {
		if u, err := url.Parse(b.v); err != nil || u.Host == "" {
			errs = append(errs, fmt.Sprintf("%s %q is not a URL", b.name, b.v))
		}
	}
	if c.Notify.Interval <= 0 || c.Notify.MaxAttempts < 1 || c.Notify.Workers < 1 {
		errs = append(errs, "notify.interval must be positive, notify.max_attempts and notify.workers at least 1")
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Sprintf("log.level %q: want debug, info, warn or error", c.Log.Level))
	}
	if len(errs) > 0 {
		return errors.New("invalid configuration:\n  - " + strings.Join(errs, "\n  - "))
	}
	return nil
}
