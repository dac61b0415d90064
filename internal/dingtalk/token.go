package dingtalk

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/redis/go-redis/v9"
)

// Refresh five minutes before DingTalk's expiry, so a token read from the
// cache is never about to die mid-call.
const earlyRefresh = 5 * time.Minute

// lockTTL bounds how long a crashed instance can hold the refresh lock.
const lockTTL = 10 * time.Second

// AccessToken returns the app access token, from Redis when another call or
// instance fetched it already. A missing token is fetched once per process
// (singleflight) and once per cluster (a Redis lock; the others wait for the
// cached value).
func (c *Client) AccessToken(ctx context.Context) (string, error) {
	key := c.tokenKey()
	return c.cached(ctx, key, func(ctx context.Context) (string, time.Duration, error) {
		var out struct {
			AccessToken string `json:"accessToken"`
			ExpireIn    int64  `json:"expireIn"`
		}
		body := map[string]string{"appKey": c.cfg.AppKey, "appSecret": c.cfg.AppSecret}
		r := request{api: "/v1.0/oauth2/accessToken", method: http.MethodPost, body: body}
		if err := c.do(ctx, r, &out); err != nil {
			return "", 0, fmt.Errorf("get app access token: %w", err)
		}
		if out.AccessToken == "" {
			return "", 0, errors.New("get app access token: empty token in answer")
		}
		return out.AccessToken, ttl(out.ExpireIn), nil
	})
}

func (c *Client) tokenKey() string { return c.cache.Key("dingtalk", "token", c.cfg.AppKey) }

// ttl is how long to cache a value DingTalk says lives expireIn seconds.
func ttl(expireIn int64) time.Duration {
	d := time.Duration(expireIn)*time.Second - earlyRefresh
	if d <= 0 {
		// A short-lived value (a test simulator's): keep it half its life.
		d = time.Duration(expireIn) * time.Second / 2
	}
	if d < time.Second {
		d = time.Second
	}
	return d
}

// dropToken forgets token if it is still the cached one, so that a token
// another instance has just refreshed is not thrown away.
func (c *Client) dropToken(ctx context.Context, token string) error {
	if err := delIfEqual.Run(ctx, c.cache, []string{c.tokenKey()}, token).Err(); err != nil {
		return fmt.Errorf("drop access token: %w", err)
	}
	return nil
}

var delIfEqual = redis.NewScript(`if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) end return 0`)

// cached returns the value under key, or fetches and stores it: one fetch a
// process at a time (singleflight) and one a cluster (a SET NX lock; the
// instances that do not get it poll the key).
func (c *Client) cached(ctx context.Context, key string, fetch func(context.Context) (string, time.Duration, error)) (string, error) {
	if v, err := c.cache.Get(ctx, key).Result(); err == nil {
		return v, nil
	} else if !errors.Is(err, redis.Nil) {
		return "", fmt.Errorf("read %s from redis: %w", key, err)
	}
	ch := c.flight.DoChan(key, func() (any, error) {
		// Detached from the first caller's cancellation: the others share the result.
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*lockTTL)
		defer cancel()
		return c.fetchLocked(fctx, key, fetch)
	})
	select {
	case <-ctx.Done():
		return "", ctx.Err()
	case res := <-ch:
		if res.Err != nil {
			return "", res.Err
		}
		return res.Val.(string), nil
	}
}

func (c *Client) fetchLocked(ctx context.Context, key string, fetch func(context.Context) (string, time.Duration, error)) (string, error) {
	lock := key + ":lock"
	owner := randomHex(8)
	for {
		if v, err := c.cache.Get(ctx, key).Result(); err == nil {
			return v, nil
		} else if !errors.Is(err, redis.Nil) {
			return "", fmt.Errorf("read %s from redis: %w", key, err)
		}
		ok, err := c.cache.SetNX(ctx, lock, owner, lockTTL).Result()
		if err != nil {
			return "", fmt.Errorf("lock %s: %w", key, err)
		}
		if ok {
			break
		}
		// Another instance is fetching; its value appears in the cache shortly.
		if err := sleep(ctx, 25*time.Millisecond); err != nil {
			return "", fmt.Errorf("wait for %s: %w", key, err)
		}
	}
	defer delIfEqual.Run(context.WithoutCancel(ctx), c.cache, []string{lock}, owner)
	// The lock holder before us may have stored it between our GET and SETNX.
	if v, err := c.cache.Get(ctx, key).Result(); err == nil {
		return v, nil
	}
	v, d, err := fetch(ctx)
	if err != nil {
		return "", err
	}
	if err := c.cache.Set(ctx, key, v, d).Err(); err != nil {
		return "", fmt.Errorf("store %s in redis: %w", key, err)
	}
	return v, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
