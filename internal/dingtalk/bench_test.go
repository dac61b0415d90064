package dingtalk_test

import (
	"context"
	"fmt"
	"testing"

	"hehuo/internal/dingtalk"
)

// BenchmarkSendWorkNotice10000 sends one notice to 10 000 users through the
// simulator at DingTalk's default 20 calls a second: 100 calls, so about
// five seconds an operation, all of it the rate limiter's doing.
func BenchmarkSendWorkNotice10000(b *testing.B) {
	cl, srv := newClient(b)
	ids := make([]string, 10000)
	for i := range ids {
		ids[i] = fmt.Sprintf("b%05d", i)
	}
	ctx := context.Background()
	if _, err := cl.AccessToken(ctx); err != nil {
		b.Fatal(err)
	}
	srv.ResetStats()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		tasks, err := cl.SendWorkNotice(ctx, ids, dingtalk.Text(fmt.Sprintf("分配通知 %d", i)))
		if err != nil {
			b.Fatal(err)
		}
		if len(tasks) != 100 {
			b.Fatalf("tasks = %d, want 100", len(tasks))
		}
	}
	b.ReportMetric(float64(srv.Stats()[pathAsyncSend])/float64(b.N), "calls/op")
}
