package round

// registerEffects registers the establishment and supplementary process
// effects with the process center.
func (s *Service) registerEffects() {}
