package dingtalk

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// JSAPIConfig is what a page passes to dd.config; its JSON names are dd.config's.
type JSAPIConfig struct {
	AgentID   string   `json:"agentId"`
	CorpID    string   `json:"corpId"`
	TimeStamp string   `json:"timeStamp"`
	NonceStr  string   `json:"nonceStr"`
	Signature string   `json:"signature"`
	Type      int      `json:"type"` // 0: an organisation's micro-app
	JSAPIList []string `json:"jsApiList"`
}

// DefaultJSAPIList is the JSAPIs the H5 app asks for.
var DefaultJSAPIList = []string{"biz.contact.choose", "biz.util.openLink", "biz.navigation.setTitle", "device.notification.toast"}

// JSAPIConfig signs pageURL (the page's location.href; a #fragment is cut
// off) for dd.config, with the app's jsapi ticket cached in Redis.
func (c *Client) JSAPIConfig(ctx context.Context, pageURL string) (JSAPIConfig, error) {
	if pageURL == "" {
		return JSAPIConfig{}, errors.New("jsapi config: empty page url")
	}
	ticket, err := c.jsapiTicket(ctx)
	if err != nil {
		return JSAPIConfig{}, err
	}
	if i := strings.IndexByte(pageURL, '#'); i >= 0 {
		pageURL = pageURL[:i]
	}
	ts := strconv.FormatInt(c.now().Unix(), 10)
	nonce := randomHex(8)
	return JSAPIConfig{AgentID: c.cfg.AgentID, CorpID: c.cfg.CorpID, TimeStamp: ts, NonceStr: nonce,
		Signature: Sign(ticket, nonce, ts, pageURL), JSAPIList: DefaultJSAPIList}, nil
}

// Sign is DingTalk's JSAPI signature: the lower-case hex SHA-1 of
// "jsapi_ticket=T&noncestr=N&timestamp=TS&url=U", url raw (not encoded).
func Sign(ticket, nonce, timestamp, url string) string {
	sum := sha1.Sum([]byte("jsapi_ticket=" + ticket + "&noncestr=" + nonce + "&timestamp=" + timestamp + "&url=" + url))
	return hex.EncodeToString(sum[:])
}

func (c *Client) jsapiTicket(ctx context.Context) (string, error) {
	key := c.cache.Key("dingtalk", "jsapi_ticket", c.cfg.AppKey)
	return c.cached(ctx, key, func(ctx context.Context) (string, time.Duration, error) {
		var out struct {
			Ticket    string `json:"ticket"`
			ExpiresIn int64  `json:"expires_in"`
		}
		r := request{api: "/get_jsapi_ticket", old: true, method: "GET", auth: authQuery}
		if err := c.do(ctx, r, &out); err != nil {
			return "", 0, fmt.Errorf("get jsapi ticket: %w", err)
		}
		if out.Ticket == "" {
			return "", 0, errors.New("get jsapi ticket: empty ticket in answer")
		}
		return out.Ticket, ttl(out.ExpiresIn), nil
	})
}
