package microapp

import (
	"bytes"
	"net/http"

	"github.com/gin-gonic/gin"

	"hehuo/internal/auth"
	"hehuo/internal/org"
	"hehuo/internal/project"
)

type importResult struct {
	Imported int `json:"imported"`
}

func (s *Server) projectRoutes() {
	sysadmin := []string{org.RoleSysadmin}
	s.handle(Route{
		Method: http.MethodGet, Path: "/api/v1/projects", Tag: "projects",
		Summary: "Projects in the caller's scope; q matches the name, the batch or the region (city company).",
		Access:  Access{Roles: staff}, Response: list[project.Project]{},
		Query: []Param{{"q", "string", "名称, 批次或区域"}, {"batch_id", "integer", "batch"}, {"city_company_id", "integer", "city company"}},
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			sc, err := s.deps.Auth.Scope(c.Request.Context(), p)
			if err != nil {
				return nil, err
			}
			batchID, err := queryID(c, "batch_id")
			if err != nil {
				return nil, err
			}
			cityID, err := queryID(c, "city_company_id")
			if err != nil {
				return nil, err
			}
			ps, err := s.deps.Projects.List(c.Request.Context(), project.Filter{
				Query: c.Query("q"), BatchID: batchID, CityCompanyID: cityID,
				All: sc.All, IDs: sc.IDs(),
			})
			return list[project.Project]{ps}, err
		},
	})
	s.handle(Route{
		Method: http.MethodPost, Path: "/api/v1/projects", Tag: "projects", Status: http.StatusCreated,
		Summary: "Create a project (项目维护 新增).",
		Access:  Access{Roles: sysadmin}, Request: project.Input{}, Response: project.Project{},
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			var in project.Input
			if err := bind(c, &in); err != nil {
				return nil, err
			}
			return s.deps.Projects.Create(c.Request.Context(), p.Actor(), in)
		},
	})
	s.handle(Route{
		Method: http.MethodGet, Path: "/api/v1/projects/:id", Tag: "projects", Summary: "One project.",
		Access: Access{Roles: staff, ProjectParam: "id"}, Response: project.Project{},
		Handle: func(c *gin.Context, _ auth.Principal) (any, error) {
			id, err := pathID(c, "id")
			if err != nil {
				return nil, err
			}
			return s.deps.Projects.Get(c.Request.Context(), id)
		},
	})
	s.handle(Route{
		Method: http.MethodPatch, Path: "/api/v1/projects/:id", Tag: "projects",
		Summary: "Change a project; carries version (stale → 409).",
		Access:  Access{Roles: sysadmin, ProjectParam: "id"}, Request: project.Patch{}, Response: project.Project{},
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			id, err := pathID(c, "id")
			if err != nil {
				return nil, err
			}
			var in project.Patch
			if err := bind(c, &in); err != nil {
				return nil, err
			}
			return s.deps.Projects.Update(c.Request.Context(), p.Actor(), id, in)
		},
	})
	s.handle(Route{
		Method: http.MethodPost, Path: "/api/v1/projects/import", Tag: "projects", Upload: true,
		Summary: "Import main-data projects (导入主数据项目) from an .xlsx in the multipart field file: all rows or none; every bad cell is reported in error.details with its row and column.",
		Access:  Access{Roles: sysadmin}, Response: importResult{},
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			f, err := importFile(c)
			if err != nil {
				return nil, err
			}
			defer f.Close()
			n, err := s.deps.Projects.Import(c.Request.Context(), p.Actor(), f)
			return importResult{Imported: n}, err
		},
	})
	s.handle(Route{
		Method: http.MethodGet, Path: "/api/v1/projects/import/template", Tag: "projects",
		Summary: "The .xlsx template of the main-data import.", Access: Access{Roles: sysadmin}, Raw: true,
		Handle: func(c *gin.Context, _ auth.Principal) (any, error) {
			var buf bytes.Buffer
			if err := project.ImportTemplate(&buf); err != nil {
				return nil, err
			}
			c.Header("Content-Disposition", `attachment; filename*=UTF-8''%E9%A1%B9%E7%9B%AE%E5%AF%BC%E5%85%A5%E6%A8%A1%E6%9D%BF.xlsx`)
			c.Data(http.StatusOK, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", buf.Bytes())
			return nil, nil
		},
	})
	s.handle(Route{
		Method: http.MethodGet, Path: "/api/v1/batches", Tag: "projects", Summary: "Every batch (管理批次).",
		Access: Access{Roles: staff}, Response: list[project.Batch]{},
		Handle: func(c *gin.Context, _ auth.Principal) (any, error) {
			bs, err := s.deps.Projects.Batches(c.Request.Context())
			return list[project.Batch]{bs}, err
		},
	})
	s.handle(Route{
		Method: http.MethodPost, Path: "/api/v1/batches", Tag: "projects", Status: http.StatusCreated,
		Summary: "Add a batch.", Access: Access{Roles: sysadmin}, Request: struct {
			Name string `json:"name"`
		}{}, Response: project.Batch{},
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			var in struct {
				Name string `json:"name"`
			}
			if err := bind(c, &in); err != nil {
				return nil, err
			}
			return s.deps.Projects.CreateBatch(c.Request.Context(), p.Actor(), in.Name)
		},
	})
	s.handle(Route{
		Method: http.MethodGet, Path: "/api/v1/project-tree", Tag: "projects",
		Summary: "The console's project tree: org units down to the projects in the caller's scope, with counts.",
		Access:  Access{Roles: staff}, Response: list[treeNode]{},
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			return s.projectTree(c, p)
		},
	})
}

// treeNode is an org unit in the project tree.
type treeNode struct {
	ID           int64       `json:"id"`
	Name         string      `json:"name"`
	Kind         string      `json:"kind"`
	ProjectCount int         `json:"project_count"`
	Children     []*treeNode `json:"children"`
	Projects     []treeLeaf  `json:"projects"`
}

// treeLeaf is a project in the tree, with the flags that make it read-only
// (not open: 未开放; settled: 已清算), which the tree marks.
type treeLeaf struct {
	ID        int64  `json:"id"`
	Name      string `json:"name"`
	IsOpen    bool   `json:"is_open"`
	IsSettled bool   `json:"is_settled"`
}

func (s *Server) projectTree(c *gin.Context, p auth.Principal) (any, error) {
	ctx := c.Request.Context()
	sc, err := s.deps.Auth.Scope(ctx, p)
	if err != nil {
		return nil, err
	}
	units, err := s.deps.Org.Units(ctx)
	if err != nil {
		return nil, err
	}
	ps, err := s.deps.Projects.List(ctx, project.Filter{All: sc.All, IDs: sc.IDs()})
	if err != nil {
		return nil, err
	}
	nodes := map[int64]*treeNode{}
	var roots []*treeNode
	for _, u := range units { // parents come first
		n := &treeNode{ID: u.ID, Name: u.Name, Kind: u.Kind, Children: []*treeNode{}, Projects: []treeLeaf{}}
		nodes[u.ID] = n
		if u.ParentID == nil {
			roots = append(roots, n)
		} else if parent := nodes[*u.ParentID]; parent != nil {
			parent.Children = append(parent.Children, n)
		}
	}
	for _, pr := range ps {
		if n := nodes[pr.CityCompanyID]; n != nil {
			n.Projects = append(n.Projects, treeLeaf{ID: pr.ID, Name: pr.Name, IsOpen: pr.IsOpen, IsSettled: pr.IsSettled})
		}
	}
	// Count projects per subtree and drop the branches with none in scope.
	var prune func(n *treeNode) int
	prune = func(n *treeNode) int {
		count := len(n.Projects)
		kept := n.Children[:0]
		for _, ch := range n.Children {
			if k := prune(ch); k > 0 {
				count += k
				kept = append(kept, ch)
			}
		}
		n.Children = kept
		n.ProjectCount = count
		return count
	}
	out := []*treeNode{}
	for _, r := range roots {
		if prune(r) > 0 {
			out = append(out, r)
		}
	}
	return list[*treeNode]{out}, nil
}
