package dingtalk

import (
	"context"
	"fmt"
	"strconv"
	"time"
)

// waitSecond waits until the 1-second window of api has room: a counter per
// API path and second in Redis (INCR + EXPIRE), shared by every instance, so
// the app stays under DingTalk's per-app-per-API QPS limit.
func (c *Client) waitSecond(ctx context.Context, api string) error {
	_, err := c.admit(ctx, "s:"+api, time.Second, c.perSecond)
	return err
}

// waitRobot waits until the custom robot with webhook token has room in its
// 1-minute window.
func (c *Client) waitRobot(ctx context.Context, token string) error {
	_, err := c.admit(ctx, "robot:"+token, time.Minute, c.robotPerMinute)
	return err
}

// admit takes one slot of the fixed window of length win under name, waiting
// for the next window while the current one is full. It returns the start of
// the window it got a slot in. limit ≤ 0 means no limit.
func (c *Client) admit(ctx context.Context, name string, win time.Duration, limit int) (time.Time, error) {
	for {
		now := c.now()
		start := now.Truncate(win)
		if limit <= 0 {
			return start, nil
		}
		key := c.cache.Key("dingtalk", "rl", name, strconv.FormatInt(start.UnixMilli(), 10))
		pipe := c.cache.TxPipeline()
		incr := pipe.Incr(ctx, key)
		pipe.PExpire(ctx, key, 2*win)
		if _, err := pipe.Exec(ctx); err != nil {
			return time.Time{}, fmt.Errorf("rate limit %s: %w", name, err)
		}
		if incr.Val() <= int64(limit) {
			return start, nil
		}
		if err := sleep(ctx, start.Add(win).Sub(now)+time.Millisecond); err != nil {
			return time.Time{}, err
		}
	}
}
