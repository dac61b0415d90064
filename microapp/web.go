package microapp

import (
	"io/fs"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"hehuo/microapp/web"
)

// webRoutes serves the embedded front end: files as they are, and for other
// paths the single-page app that owns them (the H5 app under /m/, the
// console elsewhere). Unknown /api/ paths get a JSON 404.
func (s *Server) webRoutes() {
	dist, _ := fs.Sub(web.Dist, "dist")
	files := http.FileServer(http.FS(dist))
	s.engine.NoRoute(func(c *gin.Context) {
		path := c.Request.URL.Path
		if strings.HasPrefix(path, "/api/") {
			writeError(c, s.log, errNotFoundRoute)
			return
		}
		if c.Request.Method != http.MethodGet && c.Request.Method != http.MethodHead {
			writeError(c, s.log, errNotFoundRoute)
			return
		}
		name := strings.TrimPrefix(path, "/")
		if name != "" && !strings.HasSuffix(name, "/") {
			if st, err := fs.Stat(dist, name); err == nil && !st.IsDir() {
				if strings.HasPrefix(name, "assets/") {
					c.Header("Cache-Control", "public, max-age=31536000, immutable")
				}
				files.ServeHTTP(c.Writer, c.Request)
				return
			}
		}
		if strings.HasPrefix(name, "assets/") || strings.HasPrefix(name, "m/assets/") {
			// A missing chunk (an old page after a deploy) must fail, not load HTML.
			c.Status(http.StatusNotFound)
			return
		}
		page := "index.html"
		if path == "/m" || strings.HasPrefix(path, "/m/") {
			page = "m/index.html"
		}
		b, err := fs.ReadFile(dist, page)
		if err != nil {
			c.Data(http.StatusOK, "text/html; charset=utf-8", []byte(notBuilt))
			return
		}
		c.Header("Cache-Control", "no-cache")
		c.Data(http.StatusOK, "text/html; charset=utf-8", b)
	})
}

const notBuilt = `<!doctype html><meta charset="utf-8"><title>合伙</title>
<p>前端尚未构建。请运行 <code>make build</code>（或 <code>make demo</code>）后重启服务。</p>
<p>The front end is not built into this binary: run <code>make build</code>.</p>`
