package microapp

import (
	"bytes"
	"net/http"

	"github.com/gin-gonic/gin"

	"hehuo/internal/auth"
	"hehuo/internal/org"
	"hehuo/internal/shareholder"
)

// registryEditors maintain the registry of minority shareholders (后台管理 →
// 外部股东): the system admin, the business admin and accountants, who
// enter the registrations that name them. Auditors read it.
var registryEditors = []string{org.RoleSysadmin, org.RoleBizadmin, org.RoleAccountant}

// shareholderRoutes registers the minority shareholders (小股东 / 外部股东):
// the registry and 股东登记 with its review. Partners reach none of it.
func (s *Server) shareholderRoutes() {
	bizadmin := []string{org.RoleBizadmin}
	s.handle(Route{
		Method: http.MethodGet, Path: "/api/v1/shareholders", Tag: "shareholders",
		Summary: "The registry of minority shareholders (外部股东), by name; ID and account numbers masked (****1234), never in clear.",
		Access:  Access{Roles: staff}, Response: list[shareholder.Shareholder]{},
		Handle: func(c *gin.Context, _ auth.Principal) (any, error) {
			items, err := s.deps.Shareholders.List(c.Request.Context())
			return list[shareholder.Shareholder]{Items: items}, err
		},
	})
	s.handle(Route{
		Method: http.MethodPost, Path: "/api/v1/shareholders", Tag: "shareholders", Status: http.StatusCreated,
		Summary: "Register a minority shareholder: name, kind company (统一社会信用代码, GB 32100 check character: 400 " +
			"credit_code_invalid) or person (身份证号, GB 11643 check digit and birth date: 400 id_number_invalid), contact, bank, " +
			"account_number (8–30 digits, optional). The numbers are sealed; the same ID number twice → 409 shareholder_duplicate.",
		Access: Access{Roles: registryEditors}, Request: shareholder.Input{}, Response: shareholder.Shareholder{},
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			var in shareholder.Input
			if err := bind(c, &in); err != nil {
				return nil, err
			}
			return s.deps.Shareholders.Create(c.Request.Context(), p.Actor(), in)
		},
	})
	s.handle(Route{
		Method: http.MethodPatch, Path: "/api/v1/shareholders/:id", Tag: "shareholders",
		Summary: "Change a minority shareholder (version; stale → 409). An empty id_number or account_number keeps the one on file.",
		Access:  Access{Roles: registryEditors}, Request: shareholder.Input{}, Response: shareholder.Shareholder{},
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			id, err := pathID(c, "id")
			if err != nil {
				return nil, err
			}
			var in shareholder.Input
			if err := bind(c, &in); err != nil {
				return nil, err
			}
			return s.deps.Shareholders.Update(c.Request.Context(), p.Actor(), id, in)
		},
	})
	s.handle(Route{
		Method: http.MethodPost, Path: "/api/v1/shareholders/import", Tag: "shareholders", Upload: true,
		Summary: "Import minority shareholders from an .xlsx in the multipart field file (columns 股东名称, 类型, 证件号码, 联系方式, " +
			"开户银行, 银行账号): all rows or none; a bad cell → 422 import_invalid naming its row and column (error.details).",
		Access: Access{Roles: registryEditors}, Response: importResult{},
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			f, err := importFile(c)
			if err != nil {
				return nil, err
			}
			defer f.Close()
			n, err := s.deps.Shareholders.Import(c.Request.Context(), p.Actor(), f)
			return importResult{Imported: n}, err
		},
	})
	s.handle(Route{
		Method: http.MethodGet, Path: "/api/v1/shareholders/import/template", Tag: "shareholders",
		Summary: "The .xlsx template of the minority shareholders' import.", Access: Access{Roles: registryEditors}, Raw: true,
		Handle: func(c *gin.Context, _ auth.Principal) (any, error) {
			var buf bytes.Buffer
			if err := shareholder.ImportTemplate(&buf); err != nil {
				return nil, err
			}
			// 外部股东导入模板.xlsx
			c.Header("Content-Disposition", `attachment; filename*=UTF-8''%E5%A4%96%E9%83%A8%E8%82%A1%E4%B8%9C%E5%AF%BC%E5%85%A5%E6%A8%A1%E6%9D%BF.xlsx`)
			c.Data(http.StatusOK, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", buf.Bytes())
			return nil, nil
		},
	})
	s.handle(Route{
		Method: http.MethodGet, Path: "/api/v1/projects/:id/shareholder-registrations", Tag: "shareholders",
		Summary: "The project's 股东登记: every version of every shareholder's stake (history), newest first per shareholder, " +
			"with status and status_label (草稿, 待审核, 已通过, 已退回, 已被替代) and the approved total.",
		Access: Access{Roles: staff, ProjectParam: "id"}, Response: registrationList{},
		Handle: func(c *gin.Context, _ auth.Principal) (any, error) {
			id, err := pathID(c, "id")
			if err != nil {
				return nil, err
			}
			items, err := s.deps.Shareholders.Registrations(c.Request.Context(), id)
			if err != nil {
				return nil, err
			}
			total, err := shareholder.StakeTotal(c.Request.Context(), s.deps.DB, id)
			return registrationList{Items: items, ApprovedTotal: total.StringFixed(6)}, err
		},
	})
	s.handle(Route{
		Method: http.MethodPost, Path: "/api/v1/projects/:id/shareholder-registrations", Tag: "shareholders", Status: http.StatusCreated,
		Summary: "Enter a draft registration: shareholder_id, stake (fraction string, > 0, ≤ 1, at most six decimals: 400 " +
			"stake_invalid), contributed (yuan to the fen, ≥ 0), contributed_on. One unfinished registration per shareholder and " +
			"project (409 registration_open); a new one after an approved one is its next version.",
		Access: Access{Roles: establishmentEditors, ProjectParam: "id"}, Request: shareholder.RegistrationInput{}, Response: shareholder.Registration{},
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			id, err := pathID(c, "id")
			if err != nil {
				return nil, err
			}
			var in shareholder.RegistrationInput
			if err := bind(c, &in); err != nil {
				return nil, err
			}
			return s.deps.Shareholders.CreateRegistration(c.Request.Context(), p.Actor(), id, in)
		},
	})
	s.handle(Route{
		Method: http.MethodGet, Path: "/api/v1/shareholder-registrations/:id", Tag: "shareholders",
		Summary: "One registration.", Access: Access{Roles: staff}, Response: shareholder.Registration{},
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			id, err := s.registrationInScope(c, p)
			if err != nil {
				return nil, err
			}
			return s.deps.Shareholders.Registration(c.Request.Context(), id)
		},
	})
	s.handle(Route{
		Method: http.MethodPatch, Path: "/api/v1/shareholder-registrations/:id", Tag: "shareholders",
		Summary: "Change a draft or returned registration (stake, contributed, contributed_on; version, stale → 409); otherwise 409 registration_locked.",
		Access:  Access{Roles: establishmentEditors}, Request: shareholder.RegistrationInput{}, Response: shareholder.Registration{},
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			id, err := s.registrationInScope(c, p)
			if err != nil {
				return nil, err
			}
			var in shareholder.RegistrationInput
			if err := bind(c, &in); err != nil {
				return nil, err
			}
			return s.deps.Shareholders.UpdateRegistration(c.Request.Context(), p.Actor(), id, in)
		},
	})
	s.handle(Route{
		Method: http.MethodPost, Path: "/api/v1/shareholder-registrations/:id/submit", Tag: "shareholders",
		Summary: "申请审核: a draft or returned registration goes to the business admin (version).",
		Access:  Access{Roles: establishmentEditors}, Request: shareholder.VersionInput{}, Response: shareholder.Registration{},
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			id, err := s.registrationInScope(c, p)
			if err != nil {
				return nil, err
			}
			var in shareholder.VersionInput
			if err := bind(c, &in); err != nil {
				return nil, err
			}
			return s.deps.Shareholders.Submit(c.Request.Context(), p.Actor(), id, in.Version)
		},
	})
	s.handle(Route{
		Method: http.MethodPost, Path: "/api/v1/shareholder-registrations/:id/review", Tag: "shareholders",
		Summary: "审核通过 (approve) or 退回 (reason required: 400 reason_required) a submitted registration (version). Never the " +
			"reviewer's own submission (403 own_submission). Approving supersedes the shareholder's approved version in the project " +
			"and is refused when the project's approved stakes would exceed 100% (422 stake_total_exceeded, naming the total).",
		Access: Access{Roles: bizadmin}, Request: shareholder.ReviewInput{}, Response: shareholder.Registration{},
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			id, err := s.registrationInScope(c, p)
			if err != nil {
				return nil, err
			}
			var in shareholder.ReviewInput
			if err := bind(c, &in); err != nil {
				return nil, err
			}
			return s.deps.Shareholders.Review(c.Request.Context(), p.Actor(), id, in)
		},
	})
}

// registrationList is a project's registrations with the Σ of its approved stakes.
type registrationList struct {
	Items         []shareholder.Registration `json:"items"`
	ApprovedTotal string                     `json:"approved_total"`
}

func (s *Server) registrationInScope(c *gin.Context, p auth.Principal) (int64, error) {
	return s.subjectInScope(c, p, s.deps.Shareholders.ProjectOf, shareholder.ErrRegistrationNotFound)
}
