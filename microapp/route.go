package microapp

import (
	"context"
	"net/http"
	"slices"

	"github.com/gin-gonic/gin"

	"hehuo/internal/apperr"
	"hehuo/internal/auth"
)

// Access says who may call a route.
type Access struct {
	// Public routes need no session.
	Public bool
	// Roles that may call the route; empty means anyone signed in, partners included.
	Roles []string
	// ProjectParam names the path parameter holding a project id: callers who
	// cannot see that project get 404, as if it did not exist.
	ProjectParam string
	// LineWrite marks a staff write whose subject is a partner's line (an
	// invitation, a subscription on behalf, an allocation line, a payment, a
	// settlement, a review of a round or adjustment that holds lines…). Its
	// service refuses the caller's own line with partner.RefuseOwnLine (403
	// own_line) inside its transaction; the mark lets a test walk every
	// such route and the OpenAPI document say so.
	LineWrite bool
}

// Route is one API operation: its path, who may call it, its OpenAPI
// description and its handler, declared together.
type Route struct {
	Method   string
	Path     string // gin syntax: /api/v1/projects/:id
	Summary  string
	Tag      string
	Access   Access
	Query    []Param // query parameters, for the document
	Request  any     // a value of the request body type, or nil
	Response any     // a value of the response body type, or nil
	Status   int     // success status; 200 if zero
	Raw      bool    // the handler writes the response itself (files)
	Upload   bool    // the body is a multipart/form-data file upload, not JSON
	Handle   func(c *gin.Context, p auth.Principal) (any, error)
}

// Param documents a query parameter.
type Param struct {
	Name, Type, Description string
}

// handle registers r on the engine behind the access checks.
func (s *Server) handle(r Route) {
	s.routes = append(s.routes, r)
	s.engine.Handle(r.Method, r.Path, func(c *gin.Context) {
		if r.Raw {
			s.allowLongWrite(c)
		}
		p, err := s.authorize(c, r)
		if err == nil {
			err = checkParams(c)
		}
		if err == nil {
			err = s.checkRequest(c, r)
		}
		if err != nil {
			writeError(c, s.log, err)
			return
		}
		out, err := r.Handle(c, p)
		if err != nil {
			writeError(c, s.log, err)
			return
		}
		if r.Raw {
			return
		}
		status := r.Status
		if status == 0 {
			status = http.StatusOK
		}
		if out == nil {
			c.Status(http.StatusNoContent)
			return
		}
		c.JSON(status, out)
	})
}

// authorize enforces role × scope: 401 without a session, 403 for a wrong
// role (and for any write by a read-only auditor), 404 for a project outside
// the caller's scope.
func (s *Server) authorize(c *gin.Context, r Route) (auth.Principal, error) {
	if r.Access.Public {
		p, _ := s.principal(c)
		return p, nil
	}
	p, err := s.principal(c)
	if err != nil {
		return p, err
	}
	if len(r.Access.Roles) > 0 && !slices.ContainsFunc(r.Access.Roles, func(role string) bool { return p.Has(role) }) {
		return p, apperr.ErrWrongRole
	}
	if r.Method != http.MethodGet && p.ReadOnly() {
		return p, apperr.ErrReadOnly
	}
	if r.Access.ProjectParam != "" {
		id, err := parseID(c.Param(r.Access.ProjectParam))
		if err != nil {
			return p, apperr.NotFound("project_not_found", "项目不存在")
		}
		sc, err := s.deps.Auth.Scope(c.Request.Context(), p)
		if err != nil {
			return p, err
		}
		if !sc.Contains(id) {
			return p, errOutOfScope
		}
	}
	return p, nil
}

// errOutOfScope answers a project outside the caller's scope: still 404 and
// project_not_found, as for a project that does not exist (a scope never
// contains a missing id), but saying why, so that a link followed from a
// notice or a colleague is not a blank page.
var errOutOfScope = apperr.NotFound("project_not_found", "无权查看该项目")

// outOfScope is a subject's not-found error (its own code kept) with the
// message of errOutOfScope.
func outOfScope(notFound error) error {
	if e := apperr.As(notFound); e != nil {
		return apperr.NotFound(e.Code, "%s", errOutOfScope.Message)
	}
	return errOutOfScope
}

// principal resolves the session from the bearer token or the cookie.
func (s *Server) principal(c *gin.Context) (auth.Principal, error) {
	token := bearer(c)
	if token == "" {
		return auth.Principal{}, apperr.ErrNotSignedIn
	}
	p, err := s.deps.Auth.Resolve(c.Request.Context(), token)
	if err != nil {
		return p, err
	}
	p.RequestID = requestID(c)
	c.Set("user_id", p.UserID)
	return p, nil
}

func bearer(c *gin.Context) string {
	if h := c.GetHeader("Authorization"); len(h) > 7 && h[:7] == "Bearer " {
		return h[7:]
	}
	if v, err := c.Cookie(sessionCookie); err == nil {
		return v
	}
	return ""
}

// pathID reads an integer path parameter.
func pathID(c *gin.Context, name string) (int64, error) {
	id, err := parseID(c.Param(name))
	if err != nil {
		return 0, apperr.NotFound("not_found", "记录不存在")
	}
	return id, nil
}

// Routes returns every registered API route, for the OpenAPI document and tests.
func (s *Server) Routes() []Route { return s.routes }

// subjectInScope returns the :id of the path when the caller may see the
// project it belongs to (projectOf says which); a subject of a project
// outside their scope answers notFound with the message 无权查看该项目.
func (s *Server) subjectInScope(c *gin.Context, p auth.Principal, projectOf func(context.Context, int64) (int64, error), notFound error) (int64, error) {
	id, err := pathID(c, "id")
	if err != nil {
		return 0, err
	}
	projectID, err := projectOf(c.Request.Context(), id)
	if err != nil {
		return 0, err
	}
	sc, err := s.deps.Auth.Scope(c.Request.Context(), p)
	if err != nil {
		return 0, err
	}
	if !sc.Contains(projectID) {
		return 0, outOfScope(notFound)
	}
	return id, nil
}
