package microapp

import (
	"net/http"
	"net/url"

	"github.com/gin-gonic/gin"

	"hehuo/internal/auth"
	"hehuo/internal/establishment"
	"hehuo/internal/org"
	"hehuo/internal/rate"
)

// establishmentEditors may change a project's establishment data: the
// project's accountants (城市公司经营会计) and the business admin.
var establishmentEditors = []string{org.RoleAccountant, org.RoleBizadmin}

// establishmentRoutes registers 立项: terms, shareholding, milestones, profit indicators, rates.
func (s *Server) establishmentRoutes() {
	est := s.deps.Establishment
	project := func(roles []string) Access { return Access{Roles: roles, ProjectParam: "id"} }

	// A GET and a PUT of one tab of 立项 share their shape.
	tab := func(path, tag, what string, in, out any, get func(c *gin.Context, id int64) (any, error),
		put func(c *gin.Context, p auth.Principal, id int64) (any, error)) {
		s.handle(Route{
			Method: http.MethodGet, Path: "/api/v1/projects/:id/" + path, Tag: tag, Summary: what + ".",
			Access: project(staff), Response: out,
			Handle: func(c *gin.Context, _ auth.Principal) (any, error) {
				id, err := pathID(c, "id")
				if err != nil {
					return nil, err
				}
				return get(c, id)
			},
		})
		s.handle(Route{
			Method: http.MethodPut, Path: "/api/v1/projects/:id/" + path, Tag: tag,
			Summary: "Save " + what + "; carries version (stale → 409).",
			Access:  project(establishmentEditors), Request: in, Response: out,
			Handle: func(c *gin.Context, p auth.Principal) (any, error) {
				id, err := pathID(c, "id")
				if err != nil {
					return nil, err
				}
				return put(c, p, id)
			},
		})
	}

	tab("establishment", "establishment",
		"the establishment terms (立项信息) with R1's tier pools, total, ratio, the rate in force and the trace of every figure. "+
			"Ratios and rates are fractions as decimal strings (\"0.0331\" = 3.31%); money is a string. An empty financing_rate "+
			"takes the rate in force on the funding date; a different one is an override shown in the trace. Caps broken → 422; "+
			"peak capital or ratios changed after the peak_capital process was agreed → 409 peak_locked; funding date or rate "+
			"changed after establishment was launched → 409 funding_frozen",
		establishment.TermsInput{}, establishment.TermsView{},
		func(c *gin.Context, id int64) (any, error) { return est.GetTerms(c.Request.Context(), id) },
		func(c *gin.Context, p auth.Principal, id int64) (any, error) {
			var in establishment.TermsInput
			if err := bind(c, &in); err != nil {
				return nil, err
			}
			return est.PutTerms(c.Request.Context(), p.Actor(), id, in)
		})

	tab("shareholding", "establishment",
		"the shareholding in force (股权合作): shareholders with kind group 锦艺方 / cooperator 合作方 / partnership 合伙企业 and "+
			"stake as a fraction; Σ stakes must be 100%. Each save is a new version (version 0 before the first)",
		establishment.ShareholdingInput{}, establishment.Shareholding{},
		func(c *gin.Context, id int64) (any, error) {
			return est.Shareholding(c.Request.Context(), s.deps.DB, id)
		},
		func(c *gin.Context, p auth.Principal, id int64) (any, error) {
			var in establishment.ShareholdingInput
			if err := bind(c, &in); err != nil {
				return nil, err
			}
			return est.PutShareholding(c.Request.Context(), p.Actor(), id, in)
		})
	s.handle(Route{
		Method: http.MethodGet, Path: "/api/v1/projects/:id/shareholding/versions", Tag: "establishment",
		Summary: "Every version of the shareholding, the newest first (effective date, who, when).",
		Access:  project(staff), Response: list[establishment.Shareholding]{},
		Handle: func(c *gin.Context, _ auth.Principal) (any, error) {
			id, err := pathID(c, "id")
			if err != nil {
				return nil, err
			}
			vs, err := est.ShareholdingVersions(c.Request.Context(), id)
			return list[establishment.Shareholding]{vs}, err
		},
	})

	tab("milestones", "establishment", "the milestones (关键节点): planned and actual date per node; every node is listed",
		establishment.MilestonesInput{}, establishment.Milestones{},
		func(c *gin.Context, id int64) (any, error) { return est.Milestones(c.Request.Context(), id) },
		func(c *gin.Context, p auth.Principal, id int64) (any, error) {
			var in establishment.MilestonesInput
			if err := bind(c, &in); err != nil {
				return nil, err
			}
			return est.PutMilestones(c.Request.Context(), p.Actor(), id, in)
		})

	tab("profit-indicators", "establishment", "the establishment values of the profit indicators (盈利指标)",
		establishment.Indicators{}, establishment.Indicators{},
		func(c *gin.Context, id int64) (any, error) { return est.Indicators(c.Request.Context(), id) },
		func(c *gin.Context, p auth.Principal, id int64) (any, error) {
			var in establishment.Indicators
			if err := bind(c, &in); err != nil {
				return nil, err
			}
			return est.PutIndicators(c.Request.Context(), p.Actor(), id, in)
		})

	tab("basic-info", "establishment",
		"the basic info (基础信息) beyond the project master data: address, areas, saleable value, the group's equity ratio",
		establishment.BasicInfo{}, establishment.BasicInfo{},
		func(c *gin.Context, id int64) (any, error) { return est.BasicInfo(c.Request.Context(), id) },
		func(c *gin.Context, p auth.Principal, id int64) (any, error) {
			var in establishment.BasicInfo
			if err := bind(c, &in); err != nil {
				return nil, err
			}
			return est.PutBasicInfo(c.Request.Context(), p.Actor(), id, in)
		})

	s.handle(Route{
		Method: http.MethodGet, Path: "/api/v1/establishment/options", Tag: "establishment",
		Summary: "The fixed lists of 立项: shareholder kinds, milestone nodes, profit indicators.",
		Access:  Access{Roles: staff}, Response: establishmentOptions{},
		Handle: func(c *gin.Context, _ auth.Principal) (any, error) {
			o := establishmentOptions{Nodes: establishment.Nodes}
			for _, k := range establishment.ShareholderKinds {
				o.ShareholderKinds = append(o.ShareholderKinds, option{k, establishment.KindLabel(k)})
			}
			for _, l := range establishment.IndicatorLabels {
				o.Indicators = append(o.Indicators, option{l.Field, l.Label})
			}
			return o, nil
		},
	})

	s.financingRateRoutes()

	s.handle(Route{
		Method: http.MethodGet, Path: "/api/v1/tools/kpi-export.xlsx", Tag: "tools", Raw: true,
		Summary: "辅助工具 → 所有项目盈利KPI指标: one row per project in the caller's scope with peak capital, ratio, total, " +
			"the establishment profit indicators and the milestones (xlsx).",
		Access: Access{Roles: staff},
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			sc, err := s.deps.Auth.Scope(c.Request.Context(), p)
			if err != nil {
				return nil, err
			}
			b, err := est.KPIExport(c.Request.Context(), sc.All, sc.IDs())
			if err != nil {
				return nil, err
			}
			c.Header("Content-Disposition", "attachment; filename*=UTF-8''"+url.PathEscape("所有项目盈利KPI指标.xlsx"))
			c.Data(http.StatusOK, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", b)
			return nil, nil
		},
	})
}

type option struct {
	Value string `json:"value"`
	Label string `json:"label"`
}

type establishmentOptions struct {
	ShareholderKinds []option             `json:"shareholder_kinds"`
	Nodes            []establishment.Node `json:"nodes"`
	Indicators       []option             `json:"indicators"`
}

// financingRateRoutes registers 后台管理 → 资金成本利率: everyone in the
// console reads it (the terms show the rate in force); the sysadmin edits it.
func (s *Server) financingRateRoutes() {
	rates := s.deps.Establishment.Rates()
	sysadmin := []string{org.RoleSysadmin}
	s.handle(Route{
		Method: http.MethodGet, Path: "/api/v1/financing-rates", Tag: "financing-rates",
		Summary: "The group's financing rate table, the newest first; each rate is in force from its effective date.",
		Access:  Access{Roles: staff}, Response: list[rate.Rate]{},
		Handle: func(c *gin.Context, _ auth.Principal) (any, error) {
			rs, err := rates.List(c.Request.Context())
			return list[rate.Rate]{rs}, err
		},
	})
	s.handle(Route{
		Method: http.MethodPost, Path: "/api/v1/financing-rates", Tag: "financing-rates", Status: http.StatusCreated,
		Summary: "Add a rate: effective_from (one rate per date), rate as a fraction (\"0.0435\" = 4.35%).",
		Access:  Access{Roles: sysadmin}, Request: rate.Input{}, Response: rate.Rate{},
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			var in rate.Input
			if err := bind(c, &in); err != nil {
				return nil, err
			}
			return rates.Create(c.Request.Context(), p.Actor(), in)
		},
	})
	s.handle(Route{
		Method: http.MethodPut, Path: "/api/v1/financing-rates/:rate_id", Tag: "financing-rates",
		Summary: "Change a rate; carries version (stale → 409). Terms already frozen keep the rate they copied.",
		Access:  Access{Roles: sysadmin}, Request: rate.Input{}, Response: rate.Rate{},
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			id, err := pathID(c, "rate_id")
			if err != nil {
				return nil, err
			}
			var in rate.Input
			if err := bind(c, &in); err != nil {
				return nil, err
			}
			return rates.Update(c.Request.Context(), p.Actor(), id, in)
		},
	})
	s.handle(Route{
		Method: http.MethodDelete, Path: "/api/v1/financing-rates/:rate_id", Tag: "financing-rates",
		Summary: "Delete a rate; ?version= guards against a stale page (409).",
		Access:  Access{Roles: sysadmin}, Query: []Param{{"version", "integer", "the version shown"}},
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			id, err := pathID(c, "rate_id")
			if err != nil {
				return nil, err
			}
			v, err := queryInt(c, "version", 0, 1<<31-1)
			if err != nil {
				return nil, err
			}
			return nil, rates.Delete(c.Request.Context(), p.Actor(), id, int(v))
		},
	})
}
