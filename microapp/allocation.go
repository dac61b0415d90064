package microapp

// allocationRoutes registers allocation (认购明细测算) and submission.
func (s *Server) allocationRoutes() {}
