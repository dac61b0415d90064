package auth

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"hehuo/internal/apperr"
)

// Limit is at most Max attempts per client address in each fixed Window.
type Limit struct {
	Max    int
	Window time.Duration
}

// RetryError is a sign-in refused for a while (a limit or a backoff): the
// apperr shown to the client, and how long until trying again makes sense,
// for the Retry-After header.
type RetryError struct {
	Shown      *apperr.Error
	RetryAfter time.Duration
}

func (e *RetryError) Error() string { return e.Shown.Error() }

// Unwrap lets apperr.As find the shown error.
func (e *RetryError) Unwrap() error { return e.Shown }

// RetryAfterSeconds is the Retry-After header's value: whole seconds, at least 1.
func (e *RetryError) RetryAfterSeconds() string {
	s := int64((e.RetryAfter + time.Second - 1) / time.Second)
	if s < 1 {
		s = 1
	}
	return strconv.FormatInt(s, 10)
}

// tooMany is the 429 of a full window.
func tooMany(retry time.Duration) *RetryError {
	return &RetryError{Shown: apperr.New(apperr.KindTooMany, "too_many_requests", "登录尝试过于频繁，请稍后再试"), RetryAfter: retry}
}

// countScript adds one to a fixed-window counter and returns the count and
// the window's remaining milliseconds; the first hit of a window starts its
// expiry in the same step, so no counter outlives its window.
var countScript = redis.NewScript(`
local n = redis.call('INCRBY', KEYS[1], ARGV[2])
if redis.call('PTTL', KEYS[1]) < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return {n, redis.call('PTTL', KEYS[1])}`)

// count adds by (1, or -1 to give an attempt back) to the window counter
// at key and returns the new count and the time left in the window.
func (s *Service) count(ctx context.Context, key string, window time.Duration, by int) (int64, time.Duration, error) {
	v, err := countScript.Run(ctx, s.cache, []string{key}, window.Milliseconds(), by).Int64Slice()
	if err != nil {
		return 0, 0, err
	}
	return v[0], time.Duration(v[1]) * time.Millisecond, nil
}

// limitKey is the counter of one kind of attempt from one address; the
// address is hashed like user names, so no input is stored verbatim.
func (s *Service) limitKey(kind, addr string) string {
	return s.cache.Key("signin-limit", kind, digest(addr))
}

// allow counts one attempt of kind from addr and refuses it (429) when the
// window already holds l.Max. Redis errors are returned as they are, so an
// outage is reported as one rather than letting attempts through unlimited.
func (s *Service) allow(ctx context.Context, kind, addr string, l Limit) error {
	n, left, err := s.count(ctx, s.limitKey(kind, addr), l.Window, 1)
	if err != nil {
		return fmt.Errorf("count %s sign-in attempts: %w", kind, err)
	}
	if n > int64(l.Max) {
		return tooMany(left)
	}
	return nil
}

// Attempt is one DingTalk sign-in under way, counted against its address.
type Attempt struct {
	s    *Service
	addr string
}

// BeginDingTalkSignIn counts a DingTalk sign-in (auth code or QR callback)
// from addr before any DingTalk call is made; more than the limit of
// unsuccessful ones in a window answers 429. Only failures are meant to
// count: Succeeded gives the attempt back, so a whole office signing in
// behind one address is never refused, while made-up codes cost the
// org's DingTalk quota at most Max calls per window and address.
func (s *Service) BeginDingTalkSignIn(ctx context.Context, addr string) (*Attempt, error) {
	if err := s.allow(ctx, "dingtalk", addr, s.dingTalkLimit); err != nil {
		return nil, err
	}
	return &Attempt{s: s, addr: addr}, nil
}

// Succeeded gives a successful attempt back to its address's window.
func (a *Attempt) Succeeded(ctx context.Context) {
	// Best effort: a failed give-back only makes the limit stricter.
	a.s.count(ctx, a.s.limitKey("dingtalk", a.addr), a.s.dingTalkLimit.Window, -1)
}
