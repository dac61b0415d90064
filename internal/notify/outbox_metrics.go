package notify

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Collector returns the outbox's metrics, read from the database at each
// scrape, so they cover every dispatcher whatever process it runs in:
// hehuo_notify_outbox{status}, hehuo_notify_deliveries{status},
// hehuo_notify_resent_in_doubt_total and hehuo_notify_oldest_due_seconds.
func (s *Service) Collector() prometheus.Collector { return outboxCollector{s} }

var (
	outboxDesc  = prometheus.NewDesc("hehuo_notify_outbox", "Notices in the outbox by status.", []string{"status"}, nil)
	deliverDesc = prometheus.NewDesc("hehuo_notify_deliveries", "Per-recipient deliveries by status.", []string{"status"}, nil)
	resentDesc  = prometheus.NewDesc("hehuo_notify_resent_in_doubt_total",
		"Deliveries resent once because a crash left them in doubt.", nil, nil)
	oldestDesc = prometheus.NewDesc("hehuo_notify_oldest_due_seconds",
		"How long the longest-waiting due notice has waited (0 when none).", nil, nil)
)

type outboxCollector struct{ s *Service }

func (c outboxCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- outboxDesc
	ch <- deliverDesc
	ch <- resentDesc
	ch <- oldestDesc
}

func (c outboxCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	st, err := c.s.Stats(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(outboxDesc, err)
		return
	}
	for k, v := range st.ByStatus {
		ch <- prometheus.MustNewConstMetric(outboxDesc, prometheus.GaugeValue, float64(v), k)
	}
	for k, v := range st.Deliveries {
		ch <- prometheus.MustNewConstMetric(deliverDesc, prometheus.GaugeValue, float64(v), k)
	}
	ch <- prometheus.MustNewConstMetric(resentDesc, prometheus.CounterValue, float64(st.ResentInDoubt))
	oldest := 0.0
	if st.OldestDueAt != nil {
		oldest = max(time.Since(*st.OldestDueAt).Seconds(), 0)
	}
	ch <- prometheus.MustNewConstMetric(oldestDesc, prometheus.GaugeValue, oldest)
}
