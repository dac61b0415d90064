package microapp

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
)

// HTTPServer returns the http.Server that serves this handler, with the
// configured timeouts, so that no client holds a connection for ever:
// slow headers, a slow body, a response it does not read, an idle
// keep-alive. Every place that serves the API builds its server here.
func (s *Server) HTTPServer() *http.Server {
	h := s.deps.Config.HTTP
	or := func(v, def time.Duration) time.Duration {
		if v <= 0 {
			return def
		}
		return v
	}
	return &http.Server{
		Handler:           s.engine,
		ReadHeaderTimeout: or(h.ReadHeaderTimeout, 10*time.Second),
		ReadTimeout:       or(h.ReadTimeout, time.Minute),
		WriteTimeout:      or(h.WriteTimeout, time.Minute),
		IdleTimeout:       or(h.IdleTimeout, 2*time.Minute),
	}
}

// allowLongWrite gives a route that sends a file (an export, an
// attachment) the export write timeout instead of the server's, so a long
// file still reaches a slow client. Writers without deadlines (tests'
// recorders) are left alone.
func (s *Server) allowLongWrite(c *gin.Context) {
	d := s.deps.Config.HTTP.ExportWriteTimeout
	if d <= 0 {
		d = 10 * time.Minute
	}
	_ = http.NewResponseController(c.Writer).SetWriteDeadline(time.Now().Add(d))
}
