package microapp

// reportRoutes registers reports (报表) such as 工作跟踪表.
func (s *Server) reportRoutes() {}
