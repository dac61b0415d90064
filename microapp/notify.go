package microapp

import (
	"encoding/json"
	"net/http"

	"github.com/gin-gonic/gin"

	"hehuo/internal/auth"
	"hehuo/internal/notify"
	"hehuo/internal/org"
	"hehuo/internal/text"
)

type previewRequest struct {
	// Data fills the template; omitted, the template's sample data is used.
	Data map[string]any `json:"data"`
	// Title and Body, when Body is given, preview an unsaved edit instead of
	// the stored template.
	Title *string `json:"title"`
	Body  *string `json:"body"`
}

type retryResult struct {
	Notice notify.OutboxDetail `json:"notice"`
}

type robotTestResult struct {
	OK       bool            `json:"ok"`
	Message  string          `json:"message"`
	Rendered notify.Rendered `json:"rendered"`
}

// notifyRoutes registers notice templates (模板管理), the outbox console
// (通知队列) and the DingTalk settings and robots (钉钉设置). The system admin
// changes them; the business admin also previews, test-sends and retries
// notices (sending notices is theirs); the auditor reads.
func (s *Server) notifyRoutes() {
	readers := []string{org.RoleSysadmin, org.RoleBizadmin, org.RoleAuditor}
	senders := []string{org.RoleSysadmin, org.RoleBizadmin}
	sysadmin := []string{org.RoleSysadmin}

	s.handle(Route{
		Method: http.MethodGet, Path: "/api/v1/notify/templates", Tag: "notify",
		Summary: "Notice templates (模板管理), each with the variables it may use.",
		Access:  Access{Roles: readers}, Response: list[notify.Template]{},
		Handle: func(c *gin.Context, _ auth.Principal) (any, error) {
			ts, err := s.deps.Notify.Templates(c.Request.Context())
			return list[notify.Template]{ts}, err
		},
	})
	s.handle(Route{
		Method: http.MethodGet, Path: "/api/v1/notify/templates/:code", Tag: "notify",
		Summary: "One notice template with its variables.",
		Access:  Access{Roles: readers}, Response: notify.Template{},
		Handle: func(c *gin.Context, _ auth.Principal) (any, error) {
			return s.deps.Notify.Template(c.Request.Context(), c.Param("code"))
		},
	})
	s.handle(Route{
		Method: http.MethodPut, Path: "/api/v1/notify/templates/:code", Tag: "notify",
		Summary: "Change a template's name, title and body; refused if it does not parse or render with the sample data, 409 on a stale version.",
		Access:  Access{Roles: sysadmin}, Request: notify.TemplateInput{}, Response: notify.Template{},
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			var in notify.TemplateInput
			if err := bind(c, &in); err != nil {
				return nil, err
			}
			return s.deps.Notify.SaveTemplate(c.Request.Context(), p.Actor(), c.Param("code"), in)
		},
	})
	s.handle(Route{
		Method: http.MethodPost, Path: "/api/v1/notify/templates/:code/preview", Tag: "notify",
		Summary: "Render a template (or an unsaved title and body) with the data given, or with its sample data (预览). Changes nothing.",
		Access:  Access{Roles: senders}, Request: previewRequest{}, Response: notify.Rendered{},
		Handle: func(c *gin.Context, _ auth.Principal) (any, error) {
			var in previewRequest
			if c.Request.ContentLength != 0 {
				if err := bind(c, &in); err != nil {
					return nil, err
				}
			}
			if in.Body != nil {
				return s.deps.Notify.PreviewDraft(c.Request.Context(), c.Param("code"), text.Deref(in.Title), *in.Body, numbersAsText(in.Data))
			}
			return s.deps.Notify.Preview(c.Request.Context(), c.Param("code"), numbersAsText(in.Data))
		},
	})
	s.handle(Route{
		Method: http.MethodPost, Path: "/api/v1/notify/templates/:code/test", Tag: "notify",
		Summary: "Send the template, rendered with its sample data, as a work notice to the caller only (测试消息); 422 if the caller has no DingTalk userid.",
		Access:  Access{Roles: senders}, Response: notify.TestResult{},
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			u, err := s.deps.Org.User(c.Request.Context(), p.UserID)
			if err != nil {
				return nil, err
			}
			return s.deps.Notify.TestSend(c.Request.Context(), p.Actor(), text.Deref(u.DingTalkUserID), c.Param("code"))
		},
	})

	s.handle(Route{
		Method: http.MethodGet, Path: "/api/v1/notify/outbox", Tag: "notify",
		Summary: "Notices in the outbox (通知队列), newest first, with their deliveries counted by status.",
		Access:  Access{Roles: readers}, Response: list[notify.OutboxRow]{},
		Query: []Param{{"status", "string", "pending, sending, retry, sent, failed or dead"}, {"kind", "string", "work_notice or robot"},
			{"project_id", "integer", ""}, {"before", "integer", "only ids below this (paging)"}, {"limit", "integer", "1..500, default 50"}},
		Handle: func(c *gin.Context, _ auth.Principal) (any, error) {
			f := notify.Filter{Status: c.Query("status"), Kind: c.Query("kind")}
			var err error
			if f.Before, err = queryID(c, "before"); err != nil {
				return nil, err
			}
			id, err := queryID(c, "project_id")
			if err != nil {
				return nil, err
			}
			if id > 0 {
				f.ProjectID = &id
			}
			limit, err := queryInt(c, "limit", 1, maxPageSize)
			if err != nil {
				return nil, err
			}
			f.Limit = int(limit)
			rows, err := s.deps.Notify.List(c.Request.Context(), f)
			return list[notify.OutboxRow]{rows}, err
		},
	})
	s.handle(Route{
		Method: http.MethodGet, Path: "/api/v1/notify/stats", Tag: "notify",
		Summary: "The outbox at a glance: notices and deliveries by status.",
		Access:  Access{Roles: readers}, Response: notify.Stats{},
		Handle: func(c *gin.Context, _ auth.Principal) (any, error) {
			return s.deps.Notify.Stats(c.Request.Context())
		},
	})
	s.handle(Route{
		Method: http.MethodGet, Path: "/api/v1/notify/outbox/:id", Tag: "notify",
		Summary: "One notice with every recipient's delivery.",
		Access:  Access{Roles: readers}, Response: notify.OutboxDetail{},
		Handle: func(c *gin.Context, _ auth.Principal) (any, error) {
			id, err := pathID(c, "id")
			if err != nil {
				return nil, err
			}
			return s.deps.Notify.Get(c.Request.Context(), id)
		},
	})
	s.handle(Route{
		Method: http.MethodPost, Path: "/api/v1/notify/outbox/:id/retry", Tag: "notify",
		Summary: "Queue a failed or dead notice again (重试): its undelivered recipients are sent again.",
		Access:  Access{Roles: senders}, Response: retryResult{},
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			id, err := pathID(c, "id")
			if err != nil {
				return nil, err
			}
			if err := s.deps.Notify.Retry(c.Request.Context(), p.Actor(), id); err != nil {
				return nil, err
			}
			d, err := s.deps.Notify.Get(c.Request.Context(), id)
			return retryResult{d}, err
		},
	})

	s.handle(Route{
		Method: http.MethodGet, Path: "/api/v1/dingtalk/settings", Tag: "dingtalk",
		Summary: "DingTalk app settings (钉钉设置): saved, and running now; the app secret only as set or not.",
		Access:  Access{Roles: readers}, Response: notify.DingTalkSettings{},
		Handle: func(c *gin.Context, _ auth.Principal) (any, error) {
			return s.deps.Notify.DingTalkSettings(c.Request.Context())
		},
	})
	s.handle(Route{
		Method: http.MethodPut, Path: "/api/v1/dingtalk/settings", Tag: "dingtalk",
		Summary: "Save DingTalk app settings; they take effect at the next start. app_secret is write-only (omit to keep, \"\" to clear).",
		Access:  Access{Roles: sysadmin}, Request: notify.DingTalkSettingsInput{}, Response: notify.DingTalkSettings{},
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			var in notify.DingTalkSettingsInput
			if err := bind(c, &in); err != nil {
				return nil, err
			}
			return s.deps.Notify.SaveDingTalkSettings(c.Request.Context(), p.Actor(), in)
		},
	})
	s.handle(Route{
		Method: http.MethodGet, Path: "/api/v1/dingtalk/robots", Tag: "dingtalk",
		Summary: "Group robots (消息机器人) per org unit; secrets never returned, access tokens masked.",
		Access:  Access{Roles: readers}, Response: list[notify.Robot]{},
		Handle: func(c *gin.Context, _ auth.Principal) (any, error) {
			rs, err := s.deps.Notify.Robots(c.Request.Context())
			return list[notify.Robot]{rs}, err
		},
	})
	s.handle(Route{
		Method: http.MethodPost, Path: "/api/v1/dingtalk/robots", Tag: "dingtalk",
		Summary: "Configure an org unit's robot: https webhook with access_token, signing secret starting with SEC.",
		Access:  Access{Roles: sysadmin}, Request: notify.RobotInput{}, Response: notify.Robot{}, Status: http.StatusCreated,
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			var in notify.RobotInput
			if err := bind(c, &in); err != nil {
				return nil, err
			}
			return s.deps.Notify.CreateRobot(c.Request.Context(), p.Actor(), in)
		},
	})
	s.handle(Route{
		Method: http.MethodPut, Path: "/api/v1/dingtalk/robots/:id", Tag: "dingtalk",
		Summary: "Change a robot; omitted webhook_url or secret keep the stored ones; 409 on a stale version.",
		Access:  Access{Roles: sysadmin}, Request: notify.RobotInput{}, Response: notify.Robot{},
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			id, err := pathID(c, "id")
			if err != nil {
				return nil, err
			}
			var in notify.RobotInput
			if err := bind(c, &in); err != nil {
				return nil, err
			}
			return s.deps.Notify.UpdateRobot(c.Request.Context(), p.Actor(), id, in)
		},
	})
	s.handle(Route{
		Method: http.MethodDelete, Path: "/api/v1/dingtalk/robots/:id", Tag: "dingtalk",
		Summary: "Remove a robot; its org unit's notices then go to the nearest robot above.",
		Access:  Access{Roles: sysadmin}, Status: http.StatusNoContent,
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			id, err := pathID(c, "id")
			if err != nil {
				return nil, err
			}
			return nil, s.deps.Notify.DeleteRobot(c.Request.Context(), p.Actor(), id)
		},
	})
	s.handle(Route{
		Method: http.MethodPost, Path: "/api/v1/dingtalk/robots/:id/test", Tag: "dingtalk",
		Summary: "Send the test message to the robot's group now; DingTalk's refusal is reported in Chinese (422).",
		Access:  Access{Roles: sysadmin}, Response: robotTestResult{},
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			id, err := pathID(c, "id")
			if err != nil {
				return nil, err
			}
			r, err := s.deps.Notify.TestRobot(c.Request.Context(), p.Actor(), id)
			if err != nil {
				return nil, err
			}
			return robotTestResult{OK: true, Message: "测试消息已发送到机器人所在的群", Rendered: r}, nil
		},
	})
}

// numbersAsText turns the json.Number values bind produces into their text,
// as a template shows them.
func numbersAsText(data map[string]any) map[string]any {
	if data == nil {
		return nil
	}
	out := make(map[string]any, len(data))
	for k, v := range data {
		if n, ok := v.(json.Number); ok {
			v = n.String()
		}
		out[k] = v
	}
	return out
}
