package cache_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"

	"github.com/redis/go-redis/v9"

	"hehuo/internal/cache"
	"hehuo/internal/cache/cachetest"
)

// Errors of a stopped Redis are marked as unavailability however the caller
// wraps them; redis.Nil, script errors and other services' network errors
// are not.
func TestIsUnavailable(t *testing.T) {
	ctx := context.Background()
	rs := cachetest.StartServer(t)
	c := cachetest.NewAt(t, rs.URL())

	if _, err := c.Get(ctx, c.Key("missing")).Result(); !errors.Is(err, redis.Nil) || cache.IsUnavailable(err) {
		t.Fatalf("a missing key: err = %v, want redis.Nil and not unavailable", err)
	}
	if err := redis.NewScript(`return redis.error_reply("ERR nope")`).Run(ctx, c, nil).Err(); err == nil || cache.IsUnavailable(err) {
		t.Fatalf("a failing script: err = %v, want an error that is not unavailability", err)
	}
	other := fmt.Errorf("call dingtalk: %w", &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connect: connection refused")})
	if cache.IsUnavailable(other) {
		t.Fatalf("another service's dial error counts as a Redis outage: %v", other)
	}

	rs.Stop()
	_, err := c.Get(ctx, c.Key("session", "x")).Result()
	if !cache.IsUnavailable(fmt.Errorf("read session: %w", err)) {
		t.Fatalf("GET on a stopped Redis: err = %v, want unavailable", err)
	}
	pipe := c.TxPipeline()
	incr := pipe.Incr(ctx, c.Key("n"))
	_, err = pipe.Exec(ctx)
	if !cache.IsUnavailable(err) || !cache.IsUnavailable(incr.Err()) {
		t.Fatalf("a pipeline on a stopped Redis: err = %v, cmd err = %v, want unavailable", err, incr.Err())
	}
	if err := c.Ping(ctx).Err(); !cache.IsUnavailable(err) {
		t.Fatalf("PING on a stopped Redis: err = %v, want unavailable", err)
	}
}
