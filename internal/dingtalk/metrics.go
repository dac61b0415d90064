package dingtalk

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// newCallCounter counts DingTalk calls by API path and outcome.
func newCallCounter() *prometheus.CounterVec {
	return prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "hehuo_dingtalk_calls_total",
		Help: "DingTalk API calls by API path and outcome (ok, throttled, busy, invalid_token, refused, network).",
	}, []string{"api", "outcome"})
}

// Collector returns the client's metrics, for the server's registry.
func (c *Client) Collector() prometheus.Collector { return c.calls }

// outcome names how a call ended, for the metrics.
func outcome(err error) string {
	var e *Error
	switch {
	case err == nil:
		return "ok"
	case !errors.As(err, &e):
		return "network"
	case isThrottled(e):
		return "throttled"
	case isBusy(e):
		return "busy"
	case isInvalidToken(e):
		return "invalid_token"
	}
	return "refused"
}
