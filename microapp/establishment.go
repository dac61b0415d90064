package microapp

// establishmentRoutes registers 立项: terms, shareholding, milestones, profit indicators, rates.
func (s *Server) establishmentRoutes() {}
