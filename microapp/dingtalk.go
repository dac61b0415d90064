package microapp

// dingtalkRoutes registers DingTalk sign-in, the JSAPI config and user sync.
func (s *Server) dingtalkRoutes() {}
