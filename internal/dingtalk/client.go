// Package dingtalk is Hehuo's client of the real DingTalk OpenAPI (see
// docs/dingtalk.md): app access token, sign-in, directory, work notices,
// robots and OA approvals. Tokens, tickets and rate-limit counters live in
// Redis so that every Hehuo instance shares them.
package dingtalk

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/singleflight"

	"hehuo/internal/cache"
	"hehuo/internal/config"
)

// Client calls DingTalk for one app. It is safe for concurrent use.
type Client struct {
	cfg   config.DingTalk
	cache *cache.Cache
	http  *http.Client
	log   *slog.Logger
	now   func() time.Time

	perSecond      int           // calls a second per API path, across instances
	robotPerMinute int           // messages a minute per custom robot
	robotWindow    time.Duration // the robot limit's window: a minute plus a margin
	backoff        time.Duration // base wait before retrying a throttled call
	retries        int           // retries of a throttled or busy call

	flight singleflight.Group
	calls  *prometheus.CounterVec
}

// Option configures a Client.
type Option func(*Client)

// WithHTTPClient makes the client send its requests through hc.
func WithHTTPClient(hc *http.Client) Option { return func(c *Client) { c.http = hc } }

// WithLogger makes the client log retries and refreshes to l.
func WithLogger(l *slog.Logger) Option { return func(c *Client) { c.log = l } }

// WithClock replaces time.Now, for the timestamps the client signs.
func WithClock(now func() time.Time) Option { return func(c *Client) { c.now = now } }

// WithRateLimit caps the calls a second to one API across every instance
// sharing the Redis prefix (DingTalk allows a standard org 20).
func WithRateLimit(perSecond int) Option { return func(c *Client) { c.perSecond = perSecond } }

// WithRobotRateLimit caps the messages a minute to one custom robot
// (DingTalk allows 20 and mutes a robot that sends more for 10 minutes).
func WithRobotRateLimit(perMinute int) Option {
	return func(c *Client) { c.robotPerMinute = perMinute }
}

// WithBackoff sets how long the client waits before retrying a throttled or
// busy call (base, plus up to half of it as jitter) and how many times it retries.
func WithBackoff(base time.Duration, retries int) Option {
	return func(c *Client) { c.backoff, c.retries = base, retries }
}

// New returns a client of the app cfg describes, keeping its tokens in c.
func New(cfg config.DingTalk, c *cache.Cache, opts ...Option) *Client {
	cl := &Client{
		cfg:            cfg,
		cache:          c,
		http:           &http.Client{Timeout: 15 * time.Second},
		log:            slog.Default(),
		now:            time.Now,
		perSecond:      20,
		robotPerMinute: 20,
		// A second more than DingTalk's minute, so that network delays cannot
		// make DingTalk see 21 messages in its own minute.
		robotWindow: time.Minute + time.Second,
		backoff:     time.Second,
		retries:     3,
		calls:       newCallCounter(),
	}
	for _, o := range opts {
		o(cl)
	}
	return cl
}

// auth says which credential a request carries.
type auth int

const (
	authNone      auth = iota
	authQuery          // old family: ?access_token=<app token>
	authHeader         // new family: x-acs-dingtalk-access-token: <app token>
	authUserToken      // new family, a user's token from PC sign-in
)

// request is one DingTalk API call.
type request struct {
	api       string // the path; names the call in errors and keys the rate limiter
	old       bool   // old family (HTTP 200 + errcode) rather than new (HTTP status + code)
	method    string
	url       string // full URL without query; defaults to the family's base + api
	query     url.Values
	body      any
	auth      auth
	userToken string
	limitKey  string // rate-limiter key; defaults to api
	// noRetryBusy: a busy answer may hide a call that took effect, so a call
	// without idempotency returns it instead of sending again (throttling,
	// which refuses before acting, is still retried).
	noRetryBusy bool
}

// oapi calls an old-family API with the app token, decoding the answer into out.
func (c *Client) oapi(ctx context.Context, path string, body, out any) error {
	return c.do(ctx, request{api: path, old: true, method: http.MethodPost, body: body, auth: authQuery}, out)
}

// api calls a new-family API with the app token, decoding the answer into out.
func (c *Client) api(ctx context.Context, method, path string, query url.Values, body, out any) error {
	return c.do(ctx, request{api: path, method: method, query: query, body: body, auth: authHeader}, out)
}

// do sends r, refreshing a refused token once and retrying throttled or busy
// answers after a backoff.
func (c *Client) do(ctx context.Context, r request, out any) error {
	tokenRefreshed := false
	for attempt := 0; ; {
		var token string
		if r.auth == authQuery || r.auth == authHeader {
			t, err := c.AccessToken(ctx)
			if err != nil {
				return err
			}
			token = t
		} else if r.auth == authUserToken {
			token = r.userToken
		}
		if err := c.waitSecond(ctx, r.limitKeyOrAPI()); err != nil {
			return err
		}
		began := c.now()
		err := c.send(ctx, r, token, out)
		c.calls.WithLabelValues(r.api, outcome(err)).Inc()
		c.log.DebugContext(ctx, "dingtalk call", "api", r.api, "took", c.now().Sub(began), "outcome", outcome(err))
		if err == nil {
			return nil
		}
		switch {
		case IsInvalidToken(err) && token != "" && r.auth != authUserToken && !tokenRefreshed:
			tokenRefreshed = true
			c.log.InfoContext(ctx, "dingtalk token refused, refreshing", "api", r.api, "err", err)
			if derr := c.dropToken(ctx, token); derr != nil {
				return fmt.Errorf("%w (and dropping the token failed: %v)", err, derr)
			}
		case retryable(err) && attempt < c.retries && !(r.noRetryBusy && is(err, isBusy)):
			attempt++
			wait := c.backoff + time.Duration(rand.Int64N(int64(c.backoff)/2+1))
			c.log.WarnContext(ctx, "dingtalk call throttled or busy, retrying", "api", r.api, "attempt", attempt, "wait", wait, "err", err)
			if err := sleep(ctx, wait); err != nil {
				return err
			}
		default:
			return err
		}
	}
}

func (r request) limitKeyOrAPI() string {
	if r.limitKey != "" {
		return r.limitKey
	}
	return r.api
}

// send makes one HTTP request and turns a refusal into *Error.
func (c *Client) send(ctx context.Context, r request, token string, out any) error {
	u := r.url
	if u == "" {
		base := c.cfg.APIBase
		if r.old {
			base = c.cfg.OAPIBase
		}
		u = strings.TrimRight(base, "/") + r.api
	}
	q := url.Values{}
	for k, v := range r.query {
		q[k] = v
	}
	if r.auth == authQuery {
		q.Set("access_token", token)
	}
	if len(q) > 0 {
		sep := "?"
		if strings.Contains(u, "?") {
			sep = "&"
		}
		u += sep + q.Encode()
	}
	var body io.Reader
	if r.body != nil {
		b, err := json.Marshal(r.body)
		if err != nil {
			return fmt.Errorf("dingtalk %s: encode request: %w", r.api, err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, u, body)
	if err != nil {
		return fmt.Errorf("dingtalk %s: build request: %w", r.api, err)
	}
	if r.body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	if (r.auth == authHeader || r.auth == authUserToken) && token != "" {
		req.Header.Set("x-acs-dingtalk-access-token", token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		// The URL carries the token; report the API, not the URL.
		if ue, ok := err.(*url.Error); ok {
			err = ue.Err
		}
		return fmt.Errorf("dingtalk %s: %w", r.api, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return fmt.Errorf("dingtalk %s: read answer: %w", r.api, err)
	}
	if r.old {
		return decodeOld(r.api, resp.StatusCode, b, out)
	}
	return decodeNew(r.api, resp.StatusCode, b, out)
}

// decodeOld reads an old-family answer: HTTP 200 and errcode 0 on success.
func decodeOld(api string, status int, b []byte, out any) error {
	if status != http.StatusOK {
		return httpError(api, status, b)
	}
	var env struct {
		ErrCode *int64          `json:"errcode"`
		ErrMsg  string          `json:"errmsg"`
		SubCode json.RawMessage `json:"sub_code"`
		SubMsg  string          `json:"sub_msg"`
		Punish  string          `json:"punish"`
	}
	if err := json.Unmarshal(b, &env); err != nil {
		return &Error{API: api, HTTPStatus: status, Code: codeBadJSON, Message: snippet(b)}
	}
	if env.ErrCode == nil {
		// Every old-family answer has an errcode; this is the per-IP block
		// page or something else that must not pass for a success.
		code := codeBadJSON
		if env.Punish != "" {
			code = codeIPBlocked
		}
		return &Error{API: api, HTTPStatus: status, Code: code, Message: snippet(b)}
	}
	if *env.ErrCode != 0 {
		e := &Error{API: api, HTTPStatus: status, Code: strconv.FormatInt(*env.ErrCode, 10), Message: env.ErrMsg}
		// 88 is a wrapper: the sub_code says what really went wrong.
		if sub := strings.Trim(string(env.SubCode), `"`); *env.ErrCode == 88 && sub != "" && sub != "null" {
			e.Code, e.Message = sub, env.SubMsg+" (errcode 88: "+env.ErrMsg+")"
		}
		return e
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("dingtalk %s: decode answer: %w", api, err)
	}
	return nil
}

// decodeNew reads a new-family answer: HTTP 200 and the business JSON on success.
func decodeNew(api string, status int, b []byte, out any) error {
	if status != http.StatusOK {
		return httpError(api, status, b)
	}
	if out == nil || len(bytes.TrimSpace(b)) == 0 {
		return nil
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("dingtalk %s: decode answer: %w", api, err)
	}
	return nil
}

// httpError reads the new-family error shape {code, message}, or keeps a
// piece of whatever else came (an HTML page from a proxy, say).
func httpError(api string, status int, b []byte) error {
	var env struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	}
	if json.Unmarshal(b, &env) == nil && env.Code != "" {
		return &Error{API: api, HTTPStatus: status, Code: env.Code, Message: env.Message}
	}
	return &Error{API: api, HTTPStatus: status, Code: "http_" + strconv.Itoa(status), Message: snippet(b)}
}

func snippet(b []byte) string {
	const max = 200
	s := strings.TrimSpace(string(b))
	if len(s) > max {
		s = s[:max] + "…"
	}
	return s
}

// sleep waits d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
