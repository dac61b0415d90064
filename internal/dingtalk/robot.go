package dingtalk

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
)

// RobotBatch is the most users one oToMessages/batchSend call takes.
const RobotBatch = 20

// Webhook is a custom group robot: its webhook URL (with access_token) and,
// for the 加签 security setting, its secret ("SEC…").
type Webhook struct {
	URL    string
	Secret string
}

// SendWebhook posts msg through a custom robot, signing it when the robot
// has a secret, and at most 20 a minute per robot across instances (more
// would mute the robot for 10 minutes). at is optional: SendWebhook(ctx, wh,
// msg) or SendWebhook(ctx, wh, msg, &At{…}). A refused signature is
// IsRobotSignature.
func (c *Client) SendWebhook(ctx context.Context, wh Webhook, msg Message, at ...*At) error {
	if err := msg.Validate(); err != nil {
		return fmt.Errorf("send robot message: %w", err)
	}
	u, err := url.Parse(wh.URL)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return fmt.Errorf("send robot message: webhook url %q is not an absolute url", redactURL(wh.URL))
	}
	q := u.Query()
	token := q.Get("access_token")
	if token == "" {
		return fmt.Errorf("send robot message: webhook url has no access_token")
	}
	var mention *At
	if len(at) > 0 {
		mention = at[0]
	}
	if err := c.waitRobot(ctx, token); err != nil {
		return fmt.Errorf("send robot message: %w", err)
	}
	if wh.Secret != "" {
		ts := strconv.FormatInt(c.now().UnixMilli(), 10)
		q.Set("timestamp", ts)
		q.Set("sign", RobotSign(wh.Secret, ts))
	}
	u.RawQuery = q.Encode()
	r := request{api: "/robot/send", old: true, method: http.MethodPost, url: u.String(), body: msg.WebhookBody(mention),
		limitKey: "/robot/send:" + token}
	if err := c.do(ctx, r, nil); err != nil {
		return fmt.Errorf("send robot message: %w", err)
	}
	return nil
}

// RobotSign is a custom robot's 加签 signature of timestamp (epoch ms):
// base64(HMAC-SHA256(key=secret, timestamp+"\n"+secret)). It goes in the
// query, so url.Values encodes it.
func RobotSign(secret, timestamp string) string {
	h := hmac.New(sha256.New, []byte(secret))
	h.Write([]byte(timestamp + "\n" + secret))
	return base64.StdEncoding.EncodeToString(h.Sum(nil))
}

// redactURL keeps a webhook's token out of error messages.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparsable)"
	}
	u.RawQuery = ""
	return u.String()
}

// SendGroupMessage posts msg by the app's robot into a group (the
// conversationId of a bot callback); it returns DingTalk's processQueryKey.
func (c *Client) SendGroupMessage(ctx context.Context, openConversationID string, msg Message) (string, error) {
	if err := msg.Validate(); err != nil {
		return "", fmt.Errorf("send group message: %w", err)
	}
	key, param := msg.RobotMsg()
	var out struct {
		ProcessQueryKey string `json:"processQueryKey"`
	}
	body := map[string]string{"robotCode": c.robotCode(), "openConversationId": openConversationID, "msgKey": key, "msgParam": param}
	if err := c.api(ctx, http.MethodPost, "/v1.0/robot/groupMessages/send", nil, body, &out); err != nil {
		return "", fmt.Errorf("send group message: %w", err)
	}
	return out.ProcessQueryKey, nil
}

// SendRobotToUsers sends msg by the app's robot to each user's one-to-one
// chat, 20 users a call. It returns one processQueryKey per call; on an
// error, the keys of the calls already made along with the error.
func (c *Client) SendRobotToUsers(ctx context.Context, userIDs []string, msg Message) ([]string, error) {
	if err := msg.Validate(); err != nil {
		return nil, fmt.Errorf("send robot message to users: %w", err)
	}
	key, param := msg.RobotMsg()
	ids := uniq(userIDs)
	var keys []string
	for len(ids) > 0 {
		n := min(RobotBatch, len(ids))
		batch := ids[:n:n]
		ids = ids[n:]
		var out struct {
			ProcessQueryKey string `json:"processQueryKey"`
		}
		body := map[string]any{"robotCode": c.robotCode(), "userIds": batch, "msgKey": key, "msgParam": param}
		if err := c.api(ctx, http.MethodPost, "/v1.0/robot/oToMessages/batchSend", nil, body, &out); err != nil {
			return keys, fmt.Errorf("send robot message to %d users: %w", len(batch), err)
		}
		keys = append(keys, out.ProcessQueryKey)
	}
	return keys, nil
}

// robotCode is the app robot's code; an internal app's is its AppKey.
func (c *Client) robotCode() string {
	if c.cfg.RobotCode != "" {
		return c.cfg.RobotCode
	}
	return c.cfg.AppKey
}
