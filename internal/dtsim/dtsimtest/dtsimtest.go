// Package dtsimtest runs a DingTalk simulator for a test.
package dtsimtest

import (
	"net/http/httptest"
	"testing"

	"hehuo/internal/config"
	"hehuo/internal/dtsim"
)

// Server is a simulator on an httptest server, closed when the test ends.
type Server struct {
	*dtsim.Sim
	URL string
}

// Start runs a simulator of the demo app; opts may change its configuration.
func Start(t testing.TB, opts ...func(*dtsim.Config)) *Server {
	t.Helper()
	cfg := dtsim.Config{App: dtsim.DemoApp()}
	for _, o := range opts {
		o(&cfg)
	}
	sim := dtsim.New(cfg)
	hs := httptest.NewServer(sim.Handler())
	t.Cleanup(func() {
		sim.Close()
		hs.CloseClientConnections()
		hs.Close()
	})
	return &Server{Sim: sim, URL: hs.URL}
}

// DingTalkConfig returns a configuration that points Hehuo's client, sign-in
// and stream bot at this simulator.
func (s *Server) DingTalkConfig() config.DingTalk {
	a := s.App()
	return config.DingTalk{
		APIBase: s.URL, OAPIBase: s.URL, LoginBase: s.URL,
		CorpID: a.CorpID, AppKey: a.AppKey, AppSecret: a.AppSecret, AgentID: a.AgentID, RobotCode: a.RobotCode,
		Stream: true,
	}
}
