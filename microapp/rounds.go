package microapp

// roundRoutes registers rounds, partner lists, subscriptions, the mandatory list and review.
func (s *Server) roundRoutes() {}
