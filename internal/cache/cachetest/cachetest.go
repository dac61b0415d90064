// Package cachetest gives each test the real Redis under a key prefix of its
// own, deleted when the test ends.
package cachetest

import (
	"context"
	"fmt"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"hehuo/internal/cache"
)

var counter atomic.Int64

// URL is the Redis tests use; HEHUO_TEST_REDIS_URL overrides it.
func URL() string {
	if u := os.Getenv("HEHUO_TEST_REDIS_URL"); u != "" {
		return u
	}
	return "redis://127.0.0.1:6379/0"
}

// New returns a cache whose keys are private to tb.
func New(tb testing.TB) *cache.Cache {
	tb.Helper()
	return NewAt(tb, URL())
}

// NewAt returns a cache on the Redis at url (a Server's, say) whose keys are
// private to tb.
func NewAt(tb testing.TB, url string) *cache.Cache {
	tb.Helper()
	prefix := fmt.Sprintf("hehuotest:%d:%d:%d:", os.Getpid(), time.Now().UnixNano(), counter.Add(1))
	c, err := cache.Open(context.Background(), url, prefix)
	if err != nil {
		tb.Fatalf("redis: %v", err)
	}
	tb.Cleanup(func() {
		ctx := context.Background()
		iter := c.Scan(ctx, 0, prefix+"*", 500).Iterator()
		for iter.Next(ctx) {
			c.Del(ctx, iter.Val())
		}
		c.Close()
	})
	return c
}
