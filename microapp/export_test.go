package microapp

import "github.com/gin-gonic/gin"

// Engine exposes the router to tests, which walk its real route table.
func (s *Server) Engine() *gin.Engine { return s.engine }
