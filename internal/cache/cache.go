// Package cache opens Redis, which holds sessions, cached DingTalk tokens and
// tickets, and counters. Every key carries the configured prefix.
package cache

import (
	"context"
	"fmt"

	"github.com/redis/go-redis/v9"
)

// Cache is a Redis client whose keys share one prefix.
type Cache struct {
	*redis.Client
	prefix string
}

// Open connects to the Redis at url and checks the connection.
func Open(ctx context.Context, url, prefix string) (*Cache, error) {
	opt, err := redis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("parse redis url: %w", err)
	}
	c := redis.NewClient(opt)
	c.AddHook(outageHook{})
	if err := c.Ping(ctx).Err(); err != nil {
		c.Close()
		return nil, fmt.Errorf("connect to redis: %w", err)
	}
	return &Cache{Client: c, prefix: prefix}, nil
}

// Key joins parts under the prefix: Key("session", tok) = "hehuo:session:tok".
func (c *Cache) Key(parts ...string) string {
	k := c.prefix
	for i, p := range parts {
		if i > 0 {
			k += ":"
		}
		k += p
	}
	return k
}

// Prefix returns the prefix every key starts with.
func (c *Cache) Prefix() string { return c.prefix }
