package microapp

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"

	"hehuo/internal/agreement"
	"hehuo/internal/apperr"
	"hehuo/internal/auth"
	"hehuo/internal/org"
)

// agreementRoutes registers agreements (协议, docs/agreements.md): the
// partner's list, PDF and sign-off under /me, the signing state and the
// reminder per round or adjustment, and the agreement templates of 模板管理.
func (s *Server) agreementRoutes() {
	readers := []string{org.RoleSysadmin, org.RoleBizadmin, org.RoleAuditor}
	editors := []string{org.RoleSysadmin, org.RoleBizadmin}
	s.handle(Route{
		Method: http.MethodGet, Path: "/api/v1/me/agreements", Tag: "me",
		Summary: "The signed-in partner's agreements (协议下载), newest first: project, round or adjustment, template " +
			"version, sha256 once generated, status (unsigned|signed) and when signed.",
		Response: list[agreement.Agreement]{},
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			items, err := s.deps.Agreements.Mine(c.Request.Context(), p.UserID)
			return list[agreement.Agreement]{Items: items}, err
		},
	})
	s.handle(Route{
		Method: http.MethodGet, Path: "/api/v1/me/agreements/:id", Tag: "me", Raw: true,
		Summary: "GET /api/v1/me/agreements/{id}.pdf: the partner's agreement as PDF (generated from its snapshot on first " +
			"download and stored with its SHA-256; the same bytes ever after). Without the .pdf suffix, or another partner's " +
			"agreement → 404.",
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			raw, ok := strings.CutSuffix(c.Param("id"), ".pdf")
			if !ok {
				return nil, agreement.ErrNotFound
			}
			id, err := parseID(raw)
			if err != nil {
				return nil, agreement.ErrNotFound
			}
			name, pdf, err := s.deps.Agreements.PDF(c.Request.Context(), p.UserID, id)
			if err != nil {
				return nil, err
			}
			c.Header("Content-Disposition", "attachment; filename*=UTF-8''"+url.PathEscape(name))
			c.Header("X-Content-SHA256", agreement.Hash(pdf))
			c.Data(http.StatusOK, "application/pdf", pdf)
			return nil, nil
		},
	})
	s.handle(Route{
		Method: http.MethodGet, Path: "/api/v1/me/agreements/:id/text", Tag: "me",
		Summary:  "The partner's agreement with its whole text rendered from the snapshot (read before signing).",
		Response: agreement.Full{},
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			id, err := agreementID(c)
			if err != nil {
				return nil, err
			}
			return s.deps.Agreements.MineFull(c.Request.Context(), p.UserID, id)
		},
	})
	s.handle(Route{
		Method: http.MethodPost, Path: "/api/v1/me/agreements/:id/sign", Tag: "me",
		Summary: "Sign the partner's agreement ({\"agreed\": true}: read and ticked 我已阅读并同意): records who (DingTalk userid), " +
			"when, the SHA-256 of the stored PDF and the template version. Signing again returns the first sign-off and records " +
			"nothing; agreed false → 400 agreement_not_agreed; another partner's → 404.",
		Request: agreement.SignInput{}, Response: agreement.SignOff{},
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			id, err := agreementID(c)
			if err != nil {
				return nil, err
			}
			var in agreement.SignInput
			if err := bind(c, &in); err != nil {
				return nil, err
			}
			return s.deps.Agreements.Sign(c.Request.Context(), p.Actor(), p.UserID, id, in)
		},
	})
	s.handle(Route{
		Method: http.MethodGet, Path: "/api/v1/projects/:id/agreements", Tag: "agreements",
		Summary: "The project's agreements with who signed and who has not, of one round or adjustment " +
			"(?subject_kind=round|adjustment&subject_id=) or all; unsigned first.",
		Access: Access{Roles: staff, ProjectParam: "id"}, Response: agreement.Signing{},
		Query: []Param{{"subject_kind", "string", "round or adjustment"}, {"subject_id", "integer", "the round or adjustment id"}},
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			id, err := pathID(c, "id")
			if err != nil {
				return nil, err
			}
			sub := agreement.Subject{Kind: c.Query("subject_kind")}
			if sub.ID, err = queryInt(c, "subject_id", 1, 1<<62); err != nil {
				return nil, err
			}
			return s.deps.Agreements.ProjectSigning(c.Request.Context(), id, sub)
		},
	})
	s.handle(Route{
		Method: http.MethodPost, Path: "/api/v1/projects/:id/agreements/reminders", Tag: "agreements",
		Summary: "发送签署提醒: one work notice (notify outbox, template agreement_sign_reminder) to the partners of the round or " +
			"adjustment who have not signed, the caller's own line left out; once a day per subject (already_sent). Nobody " +
			"to remind → 422 nothing_to_remind.",
		Access:  Access{Roles: establishmentEditors, ProjectParam: "id"},
		Request: agreement.Subject{}, Response: agreement.ReminderResult{},
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			id, err := pathID(c, "id")
			if err != nil {
				return nil, err
			}
			var in agreement.Subject
			if err := bind(c, &in); err != nil {
				return nil, err
			}
			return s.deps.Agreements.Remind(c.Request.Context(), p.Actor(), id, in)
		},
	})
	s.handle(Route{
		Method: http.MethodGet, Path: "/api/v1/agreement-templates", Tag: "agreements",
		Summary: "The agreement templates (模板管理 → 协议模板), each at its current version, with the variables a body may use.",
		Access:  Access{Roles: readers}, Response: list[agreement.Template]{},
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			items, err := s.deps.Agreements.Templates(c.Request.Context())
			return list[agreement.Template]{Items: items}, err
		},
	})
	s.handle(Route{
		Method: http.MethodGet, Path: "/api/v1/agreement-templates/:code/versions", Tag: "agreements",
		Summary: "Every version of an agreement template, newest first.",
		Access:  Access{Roles: readers}, Response: list[agreement.Template]{},
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			items, err := s.deps.Agreements.Versions(c.Request.Context(), c.Param("code"))
			return list[agreement.Template]{Items: items}, err
		},
	})
	s.handle(Route{
		Method: http.MethodPut, Path: "/api/v1/agreement-templates/:code", Tag: "agreements",
		Summary: "Save an agreement template: a new version (agreements already generated keep theirs). version is the " +
			"version edited (stale → 409 agreement_template_stale); an unknown variable → 400 agreement_template_invalid.",
		Access: Access{Roles: editors}, Request: agreement.TemplateInput{}, Response: agreement.Template{},
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			var in agreement.TemplateInput
			if err := bind(c, &in); err != nil {
				return nil, err
			}
			return s.deps.Agreements.SaveTemplate(c.Request.Context(), p.Actor(), c.Param("code"), in)
		},
	})
	s.handle(Route{
		Method: http.MethodPost, Path: "/api/v1/agreement-templates/preview", Tag: "agreements",
		Summary: "Render a template body with sample data, or with the snapshot of agreement_id.",
		Access:  Access{Roles: editors}, Request: agreement.PreviewInput{}, Response: agreement.Preview{},
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			var in agreement.PreviewInput
			if err := bind(c, &in); err != nil {
				return nil, err
			}
			return s.deps.Agreements.Preview(c.Request.Context(), in)
		},
	})
}

// agreementID reads the :id of a /me/agreements path; not a number → 404.
func agreementID(c *gin.Context) (int64, error) {
	id, err := parseID(c.Param("id"))
	if err != nil {
		return 0, apperr.NotFound("agreement_not_found", "协议不存在")
	}
	return id, nil
}
