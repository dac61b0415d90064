package notify_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"hehuo/internal/cache/cachetest"
	"hehuo/internal/db/dbtest"
	"hehuo/internal/dingtalk"
	"hehuo/internal/dtsim/dtsimtest"
	"hehuo/internal/notify"
)

// BenchmarkDispatch10000Recipients sends one notice to 10,000 users through
// the dispatcher and the real client to the simulator (DESIGN §8: at most
// 100 DingTalk calls, zero duplicates). "unlimited" measures the dispatcher
// itself; "20qps" keeps to a standard org's 20 calls a second, as production does.
func BenchmarkDispatch10000Recipients(b *testing.B) {
	for _, bc := range []struct {
		name string
		rate int
	}{{"unlimited", 0}, {"20qps", 20}} {
		b.Run(bc.name, func(b *testing.B) {
			d := dbtest.New(b)
			sim := dtsimtest.Start(b)
			recipients := users(10000)
			addUsers(sim, recipients)
			cfg := testConfig(b, d, sim)
			client := dingtalk.New(cfg.DingTalk, cachetest.New(b), dingtalk.WithRateLimit(bc.rate), dingtalk.WithLogger(quietLog()))
			s := notify.NewService(d, client, cfg, quietLog())
			disp := notify.NewDispatcher(s, notify.WithResultDelay(time.Hour))
			ctx := context.Background()
			var calls, dups int64
			b.ResetTimer()
			for i := range b.N {
				b.StopTimer()
				key := fmt.Sprintf("bench-%d", i)
				enqueue(b, d, testNotice(key, recipients))
				before := sim.Stats()[asyncSendPath]
				b.StartTimer()
				sent, err := disp.DrainOnce(ctx)
				b.StopTimer()
				if err != nil || sent != len(recipients) {
					b.Fatalf("sent %d, %v; want %d", sent, err, len(recipients))
				}
				calls += sim.Stats()[asyncSendPath] - before
				got := map[string]int{}
				for _, n := range sim.Notices("") {
					if !n.Dropped && keyOf(b, n.Msg) == key {
						got[n.UserID]++
					}
				}
				for _, r := range recipients {
					if got[r] != 1 {
						dups += int64(max(got[r]-1, 0))
						if got[r] == 0 {
							b.Fatalf("%s did not get notice %s", r, key)
						}
					}
				}
				b.StartTimer()
			}
			b.ReportMetric(float64(calls)/float64(b.N), "calls/op")
			b.ReportMetric(float64(dups)/float64(b.N), "duplicates/op")
		})
	}
}
