package microapp

// processRoutes registers the process center (流程/项目流程) and attachments.
func (s *Server) processRoutes() {}
