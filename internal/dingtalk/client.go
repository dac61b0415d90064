// Package dingtalk is Hehuo's client of the real DingTalk OpenAPI (see docs/dingtalk.md).
package dingtalk

import (
	"hehuo/internal/cache"
	"hehuo/internal/config"
)

// Client calls DingTalk for one app.
type Client struct {
	cfg   config.DingTalk
	cache *cache.Cache
}

// Option configures a Client.
type Option func(*Client)

// New returns a client of the app cfg describes.
func New(cfg config.DingTalk, c *cache.Cache, opts ...Option) *Client {
	cl := &Client{cfg: cfg, cache: c}
	for _, o := range opts {
		o(cl)
	}
	return cl
}
