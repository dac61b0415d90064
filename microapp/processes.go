package microapp

import (
	"context"
	"fmt"
	"net/http"
	"net/url"

	"github.com/gin-gonic/gin"

	"hehuo/internal/apperr"
	"hehuo/internal/attachment"
	"hehuo/internal/auth"
	"hehuo/internal/org"
	"hehuo/internal/workflow"
)

// launchRoles may launch processes and upload attachments: the people who
// prepare a project's approvals.
var launchRoles = []string{org.RoleSysadmin, org.RoleBizadmin, org.RoleAccountant}

// launchResult is the answer to a launch.
type launchResult struct {
	ID          int64           `json:"id"`
	Status      workflow.Status `json:"status"`
	StatusLabel string          `json:"status_label"`
	InstanceID  string          `json:"instance_id"`
}

// resetResult is a process after reset, with its state in Chinese.
type resetResult struct {
	workflow.Instance
	StatusLabel string `json:"status_label"`
}

type previewResult struct {
	Fields []workflow.FormField `json:"fields"`
}

type resetInput struct {
	Version int `json:"version"`
}

// processRoutes registers the process center (流程/项目流程) and attachments.
func (s *Server) processRoutes() {
	s.handle(Route{
		Method: http.MethodGet, Path: "/api/v1/process-kinds", Tag: "processes",
		Summary: "The process kinds (项目流程) with their labels and whether they repeat.",
		Access:  Access{Roles: staff}, Response: list[workflow.KindInfo]{},
		Handle: func(c *gin.Context, _ auth.Principal) (any, error) {
			return list[workflow.KindInfo]{workflow.Kinds}, nil
		},
	})
	s.handle(Route{
		Method: http.MethodGet, Path: "/api/v1/projects/:id/processes", Tag: "processes",
		Summary: "Every process kind of a project with its processes (initiator, start, finish, status) and the actions the caller may take: launch 发起, retry, view 查看, bpm 查看BPM, reset 重置.",
		Access:  Access{Roles: staff, ProjectParam: "id"}, Response: list[workflow.KindRows]{},
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			id, err := pathID(c, "id")
			if err != nil {
				return nil, err
			}
			rows, err := s.deps.Workflow.List(c.Request.Context(), id, p.Has(launchRoles...), p.Has(org.RoleSysadmin))
			return list[workflow.KindRows]{rows}, err
		},
	})
	s.handle(Route{
		Method: http.MethodPost, Path: "/api/v1/projects/:id/processes", Tag: "processes", Status: http.StatusCreated,
		Summary: "Launch a process: kind, subject_id (0: the project; a round for establishment/supplementary), form (typed fields by label, e.g. 情况说明; no < or >), attachment_ids (files uploaded to the project). Creates the DingTalk OA approval; when DingTalk fails the process stays launching (503) and launching again looks the instance up before creating one.",
		Access:  Access{Roles: launchRoles, ProjectParam: "id"}, Request: workflow.LaunchInput{}, Response: launchResult{},
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			id, err := pathID(c, "id")
			if err != nil {
				return nil, err
			}
			var in workflow.LaunchInput
			if err := bind(c, &in); err != nil {
				return nil, err
			}
			inst, err := s.deps.Workflow.Launch(c.Request.Context(), p.Actor(), id, in)
			if err != nil {
				return nil, err
			}
			return launchResult{ID: inst.ID, Status: inst.Status, StatusLabel: inst.Status.Label(), InstanceID: inst.InstanceID}, nil
		},
	})
	s.handle(Route{
		Method: http.MethodPost, Path: "/api/v1/projects/:id/processes/preview", Tag: "processes",
		Summary: "The OA form a launch would send (the kind's figures, 情况说明, attachments), without storing anything; refusals as the launch's.",
		Access:  Access{Roles: launchRoles, ProjectParam: "id"}, Request: workflow.LaunchInput{}, Response: previewResult{},
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			id, err := pathID(c, "id")
			if err != nil {
				return nil, err
			}
			var in workflow.LaunchInput
			if err := bind(c, &in); err != nil {
				return nil, err
			}
			form, err := s.deps.Workflow.Preview(c.Request.Context(), p.Actor(), id, in)
			return previewResult{form}, err
		},
	})
	s.handle(Route{
		Method: http.MethodGet, Path: "/api/v1/processes/:id", Tag: "processes",
		Summary: "One process (查看): status, the OA form as sent, the typed fields, linked files and the DingTalk link.",
		Access:  Access{Roles: staff}, Response: workflow.Detail{},
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			id, err := s.scopedProcess(c, p)
			if err != nil {
				return nil, err
			}
			return s.deps.Workflow.Detail(c.Request.Context(), id)
		},
	})
	s.handle(Route{
		Method: http.MethodGet, Path: "/api/v1/processes/:id/bpm", Tag: "processes",
		Summary: "The process's DingTalk instance as DingTalk reports it now (查看BPM).",
		Access:  Access{Roles: staff}, Response: workflow.BPM{},
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			id, err := s.scopedProcess(c, p)
			if err != nil {
				return nil, err
			}
			return s.deps.Workflow.BPM(c.Request.Context(), id)
		},
	})
	s.handle(Route{
		Method: http.MethodPost, Path: "/api/v1/processes/:id/retry", Tag: "processes",
		Summary: "Launch again a process DingTalk did not confirm: looks the instance up by its 流水号 first, creates one only when there is none.",
		Access:  Access{Roles: launchRoles}, Response: launchResult{},
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			id, err := s.scopedProcess(c, p)
			if err != nil {
				return nil, err
			}
			inst, err := s.deps.Workflow.Retry(c.Request.Context(), p.Actor(), id)
			if err != nil {
				return nil, err
			}
			return launchResult{ID: inst.ID, Status: inst.Status, StatusLabel: inst.Status.Label(), InstanceID: inst.InstanceID}, nil
		},
	})
	s.handle(Route{
		Method: http.MethodPost, Path: "/api/v1/processes/:id/reset", Tag: "processes",
		Summary: "Reset (重置) a refused or terminated process so its kind can be launched again; kept in the history. version optional (stale → 409).",
		Access:  Access{Roles: []string{org.RoleSysadmin}}, Request: resetInput{}, Response: resetResult{},
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			id, err := s.scopedProcess(c, p)
			if err != nil {
				return nil, err
			}
			var in resetInput
			if c.Request.ContentLength != 0 {
				if err := bind(c, &in); err != nil {
					return nil, err
				}
			}
			inst, err := s.deps.Workflow.Reset(c.Request.Context(), p.Actor(), id, in.Version)
			if err != nil {
				return nil, err
			}
			return resetResult{Instance: inst, StatusLabel: inst.Status.Label()}, nil
		},
	})
	s.handle(Route{
		Method: http.MethodPost, Path: "/api/v1/projects/:id/attachments", Tag: "processes", Status: http.StatusCreated, Upload: true,
		Summary: "Upload an attachment (multipart field file): ≤ 10 MB; xls, xlsx, jpg, jpeg, png, bmp, tiff, mp4, doc, docx, rar, zip, tar, gz, pdf, ppt, pptx, xml, csv, checked by content; the SHA-256 is kept.",
		Access:  Access{Roles: launchRoles, ProjectParam: "id"}, Response: attachment.Attachment{},
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			id, err := pathID(c, "id")
			if err != nil {
				return nil, err
			}
			f, fh, err := uploadedFile(c, attachment.MaxSize, attachment.ErrTooLarge, apperr.Invalid("file_required", "file", "请选择要上传的文件"))
			if err != nil {
				return nil, err
			}
			defer f.Close()
			return s.deps.Attachments.Upload(c.Request.Context(), p.Actor(), id, fh.Filename, f)
		},
	})
	s.handle(Route{
		Method: http.MethodGet, Path: "/api/v1/attachments/:id", Tag: "processes", Raw: true,
		Summary: "Download an attachment (the links of OA forms point here); only for people who see its project.",
		Access:  Access{Roles: staff},
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			id, err := pathID(c, "id")
			if err != nil {
				return nil, err
			}
			ctx := c.Request.Context()
			a, err := s.deps.Attachments.Get(ctx, id)
			if err != nil {
				return nil, err
			}
			sc, err := s.deps.Auth.Scope(ctx, p)
			if err != nil {
				return nil, err
			}
			if a.ProjectID == nil && !sc.All || a.ProjectID != nil && !sc.Contains(*a.ProjectID) {
				return nil, apperr.NotFound("attachment_not_found", "附件不存在")
			}
			a, content, err := s.deps.Attachments.Content(ctx, id)
			if err != nil {
				return nil, err
			}
			c.Header("Content-Disposition", fmt.Sprintf("attachment; filename*=UTF-8''%s", url.PathEscape(a.Name)))
			c.Header("X-Content-Type-Options", "nosniff")
			c.Header("X-Content-SHA256", a.SHA256)
			c.Data(http.StatusOK, a.ContentType, content)
			return nil, nil
		},
	})
}

// scopedProcess returns the :id of a process the caller may see.
func (s *Server) scopedProcess(c *gin.Context, p auth.Principal) (int64, error) {
	return s.subjectInScope(c, p, s.processProject, apperr.NotFound("process_not_found", "流程不存在"))
}

// processProject is the project of process id.
func (s *Server) processProject(ctx context.Context, id int64) (int64, error) {
	inst, err := s.deps.Workflow.Get(ctx, id)
	return inst.ProjectID, err
}
