package dingtalk

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// NoticeBatch is the most userids one asyncsend_v2 call takes.
const NoticeBatch = 100

// maxNoticeMsg is DingTalk's limit on a work notice's msg object.
const maxNoticeMsg = 2048

// NoticeTask is one asyncsend_v2 call: its task id and the users it went to.
type NoticeTask struct {
	TaskID  int64
	UserIDs []string
}

// SendResult is what DingTalk knows of a work notice task's delivery
// (the last 24 hours only).
type SendResult struct {
	Invalid       []string // not in the organisation
	Forbidden     []string // refused by limits (see ForbiddenList for why)
	Failed        []string
	Read          []string
	Unread        []string
	ForbiddenList []Forbidden
}

// Forbidden is one refused recipient: 143105 over the daily cap, 143106 the
// same content already sent today.
type Forbidden struct {
	Code   string
	UserID string
}

// SendWorkNotice sends msg from the micro-app to userIDs (duplicates and
// blanks dropped), one asyncsend_v2 call per 100 users, in order. On an
// error it returns the tasks already sent together with the error, so the
// caller records those users as sent and retries only the rest.
func (c *Client) SendWorkNotice(ctx context.Context, userIDs []string, msg Message) ([]NoticeTask, error) {
	if err := msg.Validate(); err != nil {
		return nil, fmt.Errorf("send work notice: %w", err)
	}
	agentID, err := c.agentID()
	if err != nil {
		return nil, fmt.Errorf("send work notice: %w", err)
	}
	m := msg.WorkNoticeMsg()
	if b, _ := json.Marshal(m); len(b) > maxNoticeMsg {
		return nil, fmt.Errorf("send work notice: message is %d bytes, DingTalk takes at most %d", len(b), maxNoticeMsg)
	}
	ids := uniq(userIDs)
	var tasks []NoticeTask
	for len(ids) > 0 {
		n := min(NoticeBatch, len(ids))
		batch := ids[:n:n]
		ids = ids[n:]
		var out struct {
			TaskID int64 `json:"task_id"`
		}
		body := map[string]any{"agent_id": agentID, "userid_list": strings.Join(batch, ","), "msg": m}
		if err := c.oapi(ctx, "/topapi/message/corpconversation/asyncsend_v2", body, &out); err != nil {
			return tasks, fmt.Errorf("send work notice to %d users (%d already sent): %w", len(batch), sentCount(tasks), err)
		}
		tasks = append(tasks, NoticeTask{TaskID: out.TaskID, UserIDs: batch})
	}
	return tasks, nil
}

func sentCount(tasks []NoticeTask) int {
	n := 0
	for _, t := range tasks {
		n += len(t.UserIDs)
	}
	return n
}

// NoticeResult returns the delivery of a work notice task.
func (c *Client) NoticeResult(ctx context.Context, taskID int64) (SendResult, error) {
	agentID, err := c.agentID()
	if err != nil {
		return SendResult{}, fmt.Errorf("work notice result: %w", err)
	}
	var out struct {
		SendResult struct {
			Invalid   []string `json:"invalid_user_id_list"`
			Forbidden []string `json:"forbidden_user_id_list"`
			Failed    []string `json:"failed_user_id_list"`
			Read      []string `json:"read_user_id_list"`
			Unread    []string `json:"unread_user_id_list"`
			List      []struct {
				Code   json.Number `json:"code"`
				UserID string      `json:"userid"`
			} `json:"forbidden_list"`
		} `json:"send_result"`
	}
	body := map[string]any{"agent_id": agentID, "task_id": taskID}
	if err := c.oapi(ctx, "/topapi/message/corpconversation/getsendresult", body, &out); err != nil {
		return SendResult{}, fmt.Errorf("work notice result of task %d: %w", taskID, err)
	}
	r := out.SendResult
	res := SendResult{Invalid: r.Invalid, Forbidden: r.Forbidden, Failed: r.Failed, Read: r.Read, Unread: r.Unread}
	for _, f := range r.List {
		res.ForbiddenList = append(res.ForbiddenList, Forbidden{Code: f.Code.String(), UserID: f.UserID})
	}
	return res, nil
}

// agentID is the micro-app's agent id, which DingTalk wants as a number.
func (c *Client) agentID() (int64, error) {
	id, err := strconv.ParseInt(c.cfg.AgentID, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("dingtalk agent id %q is not a number", c.cfg.AgentID)
	}
	return id, nil
}

// uniq drops blanks and repeats, keeping the first order.
func uniq(ids []string) []string {
	seen := make(map[string]bool, len(ids))
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		if id = strings.TrimSpace(id); id != "" && !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}
