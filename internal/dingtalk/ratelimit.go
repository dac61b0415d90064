package dingtalk

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// waitSecond waits until the 1-second window of api has room: a counter per
// API path and second in Redis (INCR + EXPIRE), shared by every instance, so
// the app stays under DingTalk's per-app-per-API QPS limit.
func (c *Client) waitSecond(ctx context.Context, api string) error {
	_, err := c.admit(ctx, "s:"+api, time.Second, c.perSecond)
	return err
}

// waitRobot waits until the custom robot with webhook token has sent fewer
// than its limit in the last minute. Unlike the API limiter this window
// slides: DingTalk mutes a robot for ten minutes when it goes over, so 20
// at the end of one minute and 20 at the start of the next must not pass.
func (c *Client) waitRobot(ctx context.Context, token string) error {
	if c.robotPerMinute <= 0 {
		return nil
	}
	key := c.cache.Key("dingtalk", "rl", "robot", token)
	for {
		now := c.now().UnixMilli()
		wait, err := slidingAdmit.Run(ctx, c.cache, []string{key},
			now, c.robotWindow.Milliseconds(), c.robotPerMinute, strconv.FormatInt(now, 10)+":"+randomHex(4)).Int64()
		if err != nil {
			return fmt.Errorf("rate limit robot: %w", err)
		}
		if wait <= 0 {
			return nil
		}
		if err := sleep(ctx, time.Duration(wait)*time.Millisecond); err != nil {
			return err
		}
	}
}

// slidingAdmit keeps the send times of the last window in a sorted set. It
// adds one and returns 0 if fewer than the limit are there, else the
// milliseconds until the oldest leaves the window.
var slidingAdmit = redis.NewScript(`
local now, win, limit = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call("ZREMRANGEBYSCORE", KEYS[1], "-inf", now - win)
if redis.call("ZCARD", KEYS[1]) < limit then
	redis.call("ZADD", KEYS[1], now, ARGV[4])
	redis.call("PEXPIRE", KEYS[1], win)
	return 0
end
local oldest = redis.call("ZRANGE", KEYS[1], 0, 0, "WITHSCORES")
return math.max(1, tonumber(oldest[2]) + win - now + 1)
`)

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
