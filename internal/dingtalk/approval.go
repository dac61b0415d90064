package dingtalk

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// FormValue is one field of an approval form: the label and its value as text.
type FormValue struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Approver is one step of an approval's flow: actionType NONE (one person),
// AND (all must agree) or OR (any one).
type Approver struct {
	ActionType string   `json:"actionType"`
	UserIDs    []string `json:"userIds"`
}

// ApprovalRequest starts an OA approval (流程) from a template.
type ApprovalRequest struct {
	ProcessCode      string
	OriginatorUserID string
	DeptID           int64 // the originator's department; 0 means the root (-1 to DingTalk)
	Form             []FormValue
	Approvers        []Approver // overrides the template's flow when set
	CCList           []string
}

// Approval is an OA approval instance. Status is RUNNING, TERMINATED or
// COMPLETED; Result is "agree" or "refuse" once completed. FinishTime is zero
// while running.
type Approval struct {
	InstanceID       string
	Title            string
	Status           string
	Result           string
	OriginatorUserID string
	BusinessID       string
	CreateTime       time.Time
	FinishTime       time.Time
	Form             []FormValue
}

// StartApproval starts an approval and returns its instance id.
func (c *Client) StartApproval(ctx context.Context, req ApprovalRequest) (string, error) {
	if req.ProcessCode == "" || req.OriginatorUserID == "" {
		return "", fmt.Errorf("start approval: process code and originator are required")
	}
	dept := req.DeptID
	if dept == 0 {
		dept = -1
	}
	body := map[string]any{
		"processCode":         req.ProcessCode,
		"originatorUserId":    req.OriginatorUserID,
		"deptId":              dept,
		"formComponentValues": nonNil(req.Form),
	}
	if id, err := c.agentID(); err == nil {
		body["microappAgentId"] = id
	}
	if len(req.Approvers) > 0 {
		body["approvers"] = req.Approvers
	}
	if len(req.CCList) > 0 {
		body["ccList"] = req.CCList
		body["ccPosition"] = "FINISH"
	}
	var out struct {
		InstanceID string `json:"instanceId"`
	}
	// A busy answer is not retried here: DingTalk may have created the
	// instance, and the create call has no idempotency key. The caller looks
	// the instance up (ApprovalIDs) before trying again.
	r := request{api: "/v1.0/workflow/processInstances", method: http.MethodPost, body: body, auth: authHeader, noRetryBusy: true}
	if err := c.do(ctx, r, &out); err != nil {
		return "", fmt.Errorf("start approval %s: %w", req.ProcessCode, err)
	}
	return out.InstanceID, nil
}

func nonNil(f []FormValue) []FormValue {
	if f == nil {
		return []FormValue{}
	}
	return f
}

// Approval returns an approval instance.
func (c *Client) Approval(ctx context.Context, instanceID string) (Approval, error) {
	var out struct {
		Result struct {
			Title            string      `json:"title"`
			Status           string      `json:"status"`
			Result           string      `json:"result"`
			OriginatorUserID string      `json:"originatorUserId"`
			BusinessID       string      `json:"businessId"`
			CreateTime       string      `json:"createTime"`
			FinishTime       string      `json:"finishTime"`
			Form             []FormValue `json:"formComponentValues"`
		} `json:"result"`
	}
	q := url.Values{"processInstanceId": {instanceID}}
	if err := c.api(ctx, http.MethodGet, "/v1.0/workflow/processInstances", q, nil, &out); err != nil {
		return Approval{}, fmt.Errorf("get approval %s: %w", instanceID, err)
	}
	r := out.Result
	a := Approval{InstanceID: instanceID, Title: r.Title, Status: r.Status, Result: r.Result,
		OriginatorUserID: r.OriginatorUserID, BusinessID: r.BusinessID, Form: r.Form}
	var err error
	if a.CreateTime, err = parseTime(r.CreateTime); err != nil {
		return a, fmt.Errorf("get approval %s: createTime: %w", instanceID, err)
	}
	if a.FinishTime, err = parseTime(r.FinishTime); err != nil {
		return a, fmt.Errorf("get approval %s: finishTime: %w", instanceID, err)
	}
	return a, nil
}

// parseTime reads DingTalk's workflow times: "2022-08-31T11:52Z" (UTC,
// minutes), RFC 3339, or epoch milliseconds; "" is the zero time.
func parseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{"2006-01-02T15:04Z", time.RFC3339Nano, "2006-01-02 15:04:05"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	if ms, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.UnixMilli(ms).UTC(), nil
	}
	return time.Time{}, fmt.Errorf("unknown time format %q", s)
}

// ApprovalQuery selects approval instances of one template started in a
// time window, optionally by some originators.
type ApprovalQuery struct {
	ProcessCode string
	Start, End  time.Time // DingTalk allows at most 120 days between them
	UserIDs     []string  // originators; at most 10
}

// ApprovalIDs returns the ids of the instances q selects, following
// DingTalk's pages (20 ids a page). The process center uses it before it
// retries a launch: DingTalk's create call has no idempotency key.
func (c *Client) ApprovalIDs(ctx context.Context, q ApprovalQuery) ([]string, error) {
	if q.ProcessCode == "" || q.Start.IsZero() {
		return nil, fmt.Errorf("query approvals: process code and start time are required")
	}
	if len(q.UserIDs) > 10 {
		return nil, fmt.Errorf("query approvals: at most 10 originators, got %d", len(q.UserIDs))
	}
	end := q.End
	if end.IsZero() {
		end = c.now()
	}
	var ids []string
	next := int64(0)
	for page := 0; page < 500; page++ {
		body := map[string]any{
			"processCode": q.ProcessCode, "startTime": q.Start.UnixMilli(), "endTime": end.UnixMilli(),
			"nextToken": next, "maxResults": 20,
		}
		if len(q.UserIDs) > 0 {
			body["userIds"] = q.UserIDs
		}
		var out struct {
			Result struct {
				List      []string `json:"list"`
				NextToken any      `json:"nextToken"` // DingTalk answers a number or a string
			} `json:"result"`
		}
		if err := c.api(ctx, http.MethodPost, "/v1.0/workflow/processes/instanceIds/query", nil, body, &out); err != nil {
			return ids, fmt.Errorf("query approvals %s: %w", q.ProcessCode, err)
		}
		ids = append(ids, out.Result.List...)
		n, _ := strconv.ParseInt(fmt.Sprint(out.Result.NextToken), 10, 64)
		if len(out.Result.List) == 0 || n <= next {
			return ids, nil
		}
		next = n
	}
	return ids, fmt.Errorf("query approvals %s: too many pages", q.ProcessCode)
}
