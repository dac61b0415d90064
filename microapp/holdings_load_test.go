package microapp_test

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	_ "github.com/lib/pq"

	"hehuo/internal/cache/cachetest"
	"hehuo/internal/config"
	"hehuo/internal/db/dbtest"
	"hehuo/internal/position"
	"hehuo/internal/position/positiontest"
	"hehuo/internal/wire"
	"hehuo/microapp"
)

// loadResult is one bounded loopback load: requests, their rate and latencies.
type loadResult struct {
	requests      int
	errors        int
	rps           float64
	p50, p99, max time.Duration
}

func (r loadResult) String() string {
	return fmt.Sprintf("%6d requests, %4d errors, %8.1f req/s, p50 %6.2f ms, p99 %6.2f ms, max %6.2f ms",
		r.requests, r.errors, r.rps, ms(r.p50), ms(r.p99), ms(r.max))
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// load runs workers goroutines for d, each sending GET requests built by
// req(worker, i) over keep-alive connections, and measures every answer.
func load(workers int, d time.Duration, req func(worker, i int) *http.Request) loadResult {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: workers, MaxConnsPerHost: workers}}
	var mu sync.Mutex
	var lat []time.Duration
	errs := 0
	var wg sync.WaitGroup
	start := time.Now()
	deadline := start.Add(d)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			bad := 0
			for i := 0; time.Now().Before(deadline); i++ {
				t0 := time.Now()
				res, err := client.Do(req(w, i))
				if err == nil {
					_, _ = io.Copy(io.Discard, res.Body)
					res.Body.Close()
				}
				if err != nil || res.StatusCode != http.StatusOK {
					bad++
					continue
				}
				mine = append(mine, time.Since(t0))
			}
			mu.Lock()
			lat, errs = append(lat, mine...), errs+bad
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	r := loadResult{requests: len(lat), errors: errs, rps: float64(len(lat)) / elapsed.Seconds()}
	if n := len(lat); n > 0 {
		r.p50, r.p99, r.max = lat[n/2], lat[n*99/100], lat[n-1]
	}
	return r
}

// BenchmarkHoldingsUnderLoad puts GET /api/v1/me/holdings (session in
// Redis, the partner of the user, internal/position's partner query, JSON)
// under a bounded loopback load — 16 concurrent clients for 10 s
// (HOLDINGS_LOAD_SECONDS to change) — and prints it beside a bare Gin +
// lib/pq handler running the same indexed query on the same database.
// Target: ≥ 60% of the bare handler's requests/s and p99 < 50 ms.
// Reported, not gating. 1,000 projects, 1,000 partners, each partner in 20.
//
//	go test ./microapp -run '^$' -bench HoldingsUnderLoad -benchtime 1x
func BenchmarkHoldingsUnderLoad(b *testing.B) {
	ctx := context.Background()
	d := dbtest.New(b)
	c := cachetest.New(b)
	positiontest.Seed(b, d, positiontest.World{Projects: 1000, PerRound: 20, Partners: 1000, Unpaid: 1})
	cfg := config.Default()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	svc := wire.New(cfg, d, c, log)
	hehuo := httptest.NewServer(microapp.New(microapp.FromServices(cfg, d, c, log, "bench", svc)).Handler())
	defer hehuo.Close()
	const users = 64
	tokens := make([]string, users)
	for k := range users {
		tok, _, err := svc.Auth.SignInUser(ctx, int64(positiontest.Base+1+k))
		if err != nil {
			b.Fatal(err)
		}
		tokens[k] = tok
	}

	// The bare handler: Gin, lib/pq, the same query, rows as JSON.
	pool, err := sql.Open("postgres", dbtest.URL(b, d))
	if err != nil {
		b.Fatal(err)
	}
	defer pool.Close()
	pool.SetMaxOpenConns(20)
	pool.SetMaxIdleConns(20)
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	query := position.PartnerSQL()
	r.GET("/holdings/:partner", func(c *gin.Context) {
		rows, err := pool.QueryContext(c.Request.Context(), query, c.Param("partner"))
		if err != nil {
			c.Status(http.StatusInternalServerError)
			return
		}
		defer rows.Close()
		cols, _ := rows.Columns()
		var out []map[string]any
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				c.Status(http.StatusInternalServerError)
				return
			}
			m := make(map[string]any, len(cols))
			for i, col := range cols {
				if v, ok := vals[i].([]byte); ok {
					vals[i] = string(v)
				}
				m[col] = vals[i]
			}
			out = append(out, m)
		}
		c.JSON(http.StatusOK, gin.H{"items": out})
	})
	bare := httptest.NewServer(r)
	defer bare.Close()

	dur := 10 * time.Second
	if s := os.Getenv("HOLDINGS_LOAD_SECONDS"); s != "" {
		var n int
		if _, err := fmt.Sscan(s, &n); err == nil && n > 0 {
			dur = time.Duration(n) * time.Second
		}
	}
	// Both answer the same partners with 20 projects each.
	check, _ := http.NewRequest(http.MethodGet, hehuo.URL+"/api/v1/me/holdings", nil)
	check.Header.Set("Authorization", "Bearer "+tokens[0])
	if res, err := http.DefaultClient.Do(check); err != nil || res.StatusCode != 200 {
		b.Fatalf("holdings: %v %v", res, err)
	}
	b.ResetTimer()
	for range b.N {
		h := load(16, dur, func(w, i int) *http.Request {
			req, _ := http.NewRequest(http.MethodGet, hehuo.URL+"/api/v1/me/holdings", nil)
			req.Header.Set("Authorization", "Bearer "+tokens[(w*7+i)%users])
			return req
		})
		x := load(16, dur, func(w, i int) *http.Request {
			req, _ := http.NewRequest(http.MethodGet, fmt.Sprintf("%s/holdings/%d", bare.URL, positiontest.Base+1+(w*7+i)%users), nil)
			return req
		})
		b.Logf("GET /api/v1/me/holdings: %s", h)
		b.Logf("bare Gin + lib/pq:       %s", x)
		b.Logf("ratio %.0f%% of the bare handler's requests/s (target ≥ 60%%), p99 %.2f ms (target < 50 ms)", 100*h.rps/x.rps, ms(h.p99))
		b.ReportMetric(h.rps, "req/s")
		b.ReportMetric(x.rps, "bare-req/s")
		b.ReportMetric(ms(h.p99), "p99-ms")
		b.ReportMetric(100*h.rps/x.rps, "%-of-bare")
	}
}
