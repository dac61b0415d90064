// Package microapp is Hehuo's HTTP transport: the Gin server, sign-in and
// role × scope checks, the JSON API under /api/v1 with its OpenAPI document,
// health and metrics endpoints, and the embedded web front end. Handlers are
// thin: bind, call one service method, render.
package microapp

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"hehuo/internal/adjustment"
	"hehuo/internal/agreement"
	"hehuo/internal/attachment"
	"hehuo/internal/auth"
	"hehuo/internal/cache"
	"hehuo/internal/config"
	"hehuo/internal/db"
	"hehuo/internal/dingtalk"
	"hehuo/internal/disclosure"
	"hehuo/internal/distribution"
	"hehuo/internal/establishment"
	"hehuo/internal/exit"
	"hehuo/internal/holding"
	"hehuo/internal/notify"
	"hehuo/internal/opening"
	"hehuo/internal/org"
	"hehuo/internal/payment"
	"hehuo/internal/payout"
	"hehuo/internal/project"
	"hehuo/internal/report"
	"hehuo/internal/round"
	"hehuo/internal/shareholder"
	"hehuo/internal/shareholderdist"
	"hehuo/internal/wire"
	"hehuo/internal/workcal"
	"hehuo/internal/workflow"
)

// Deps are the services the server calls; FromServices fills them from wire.
type Deps struct {
	Config   config.Config
	DB       *db.DB
	Cache    *cache.Cache
	Auth     *auth.Service
	Org      *org.Service
	Projects *project.Service
	DingTalk *dingtalk.Client
	Notify   *notify.Service

	Workflow      *workflow.Service
	Attachments   *attachment.Service
	Establishment *establishment.Service
	Rounds        *round.Service
	Holdings      *holding.Service
	Reports       *report.Service
	Payments      *payment.Service
	WorkCalendar  *workcal.Service
	Payout        *payout.Service
	Adjustments   *adjustment.Service
	Distributions *distribution.Service
	Shareholders  *shareholder.Service
	Disclosures   *disclosure.Service
	Exits         *exit.Service
	Opening       *opening.Service
	Agreements    *agreement.Service
	// ShareholderDists are the shareholder distributions (股东分配).
	ShareholderDists *shareholderdist.Service
	Log              *slog.Logger
	Version          string
}

// Server is the HTTP server.
type Server struct {
	deps     Deps
	log      *slog.Logger
	engine   *gin.Engine
	routes   []Route
	registry *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

const sessionCookie = "hehuo_session"

// New builds the server with every route registered.
func New(d Deps) *Server {
	gin.SetMode(gin.ReleaseMode)
	s := &Server{deps: d, log: d.Log, engine: gin.New(), registry: prometheus.NewRegistry()}
	s.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "hehuo_http_requests_total", Help: "HTTP requests by route and status.",
	}, []string{"method", "route", "status"})
	s.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "hehuo_http_request_duration_seconds", Help: "HTTP request latency by route.",
		Buckets: []float64{.002, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
	}, []string{"method", "route"})
	s.registry.MustRegister(s.requests, s.latency, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if d.DingTalk != nil {
		s.registry.MustRegister(d.DingTalk.Collector()) // hehuo_dingtalk_calls_total
	}
	if d.Notify != nil {
		s.registry.MustRegister(d.Notify.Collector()) // hehuo_notify_outbox{status}, deliveries, resends in doubt
	}

	s.engine.HandleMethodNotAllowed = true
	// The client address (sign-in limits, lock-out) comes from
	// X-Forwarded-For only when a configured proxy sent it.
	if err := s.engine.SetTrustedProxies(d.Config.HTTP.TrustedProxies); err != nil {
		panic(fmt.Sprintf("http.trusted_proxies: %v", err)) // config.Validate checked them
	}
	s.engine.Use(s.requestContext, s.recover, s.securityHeaders())
	s.engine.GET("/healthz", func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"status": "ok", "version": d.Version}) })
	s.engine.GET("/readyz", s.ready)
	s.engine.GET("/metrics", gin.WrapH(promhttp.HandlerFor(s.registry, promhttp.HandlerOpts{})))

	s.authRoutes()
	s.lockRoutes()
	s.orgRoutes()
	s.userRoutes()
	s.projectRoutes()
	s.grantRoutes()
	s.auditRoutes()
	s.ledgerRoutes()
	s.dingtalkRoutes()
	s.notifyRoutes()
	s.establishmentRoutes()
	s.processRoutes()
	s.roundRoutes()
	s.allocationRoutes()
	s.holdingRoutes()
	s.reportRoutes()
	s.reportPaymentRoutes()
	s.paymentRoutes()
	s.payoutRoutes()
	s.deskRoutes()
	s.adjustmentRoutes()
	s.openingRoutes()
	s.reportDistributionRoutes()
	s.reportPartnerRoutes()
	s.exitCandidateRoutes()
	s.actualPeakRoutes()
	s.distributionRoutes()
	s.shareholderRoutes()
	s.distributionSheetRoutes()
	s.distributionPayoutRoutes()
	s.disclosureRoutes()
	s.agreementRoutes()
	s.exitRoutes()
	s.shareholderDistributionRoutes()
	s.engine.GET("/api/v1/openapi.json", func(c *gin.Context) { c.JSON(http.StatusOK, s.OpenAPI()) })
	s.webRoutes()
	return s
}

// Handler returns the server as an http.Handler.
func (s *Server) Handler() http.Handler { return s.engine }

// requestContext gives each request an id (echoed in X-Request-ID), logs it
// and counts it.
func (s *Server) requestContext(c *gin.Context) {
	id := c.GetHeader("X-Request-ID")
	if id == "" || len(id) > 64 {
		b := make([]byte, 8)
		rand.Read(b)
		id = hex.EncodeToString(b)
	}
	c.Set("request_id", id)
	c.Header("X-Request-ID", id)
	start := time.Now()
	c.Next()
	route := c.FullPath()
	if route == "" {
		route = "unmatched"
	}
	elapsed := time.Since(start)
	status := c.Writer.Status()
	s.requests.WithLabelValues(c.Request.Method, route, strconv.Itoa(status)).Inc()
	s.latency.WithLabelValues(c.Request.Method, route).Observe(elapsed.Seconds())
	if route == "/healthz" || route == "/metrics" {
		return
	}
	uid, _ := c.Get("user_id")
	s.log.LogAttrs(c.Request.Context(), slog.LevelInfo, "http",
		slog.String("request_id", id), slog.String("method", c.Request.Method), slog.String("route", route),
		slog.Int("status", status), slog.Duration("elapsed", elapsed), slog.Any("user_id", uid))
}

func requestID(c *gin.Context) string { return c.GetString("request_id") }

// recover turns a panic into a 500, or into the 503 of an outage when the
// panic carries an error of an unavailable Postgres or Redis.
func (s *Server) recover(c *gin.Context) {
	defer func() {
		if p := recover(); p != nil {
			if err, ok := p.(error); ok && shown(err) != nil {
				writeError(c, s.log, err)
				return
			}
			s.log.Error("panic", "panic", p, "request_id", requestID(c), "path", c.Request.URL.Path)
			c.AbortWithStatusJSON(http.StatusInternalServerError, errorBody{Error: errorDetail{Code: "internal", Message: "服务器内部错误，请稍后再试"}})
		}
	}()
	c.Next()
}

// ready reports whether Postgres and Redis answer. Only a local caller (a
// loopback address, not through a proxy) sees which one failed and why;
// anyone else sees just ok or unavailable, with no internal error text.
func (s *Server) ready(c *gin.Context) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), 2*time.Second)
	defer cancel()
	checks := gin.H{"postgres": "ok", "redis": "ok"}
	detail := gin.H{}
	if err := s.deps.DB.PingContext(ctx); err != nil {
		checks["postgres"], detail["postgres"] = "unavailable", err.Error()
	}
	if err := s.deps.Cache.Ping(ctx).Err(); err != nil {
		checks["redis"], detail["redis"] = "unavailable", err.Error()
	}
	status, state := http.StatusOK, "ok"
	if len(detail) > 0 {
		status, state = http.StatusServiceUnavailable, "unavailable"
		c.Header("Retry-After", outageRetryAfter)
	}
	if !localCaller(c.Request) {
		c.JSON(status, gin.H{"status": state})
		return
	}
	checks["status"] = state
	if len(detail) > 0 {
		checks["errors"] = detail
	}
	c.JSON(status, checks)
}

// localCaller reports a request from this machine that no proxy forwarded:
// a reverse proxy on the same host connects from loopback too, but adds a
// forwarding header.
func localCaller(r *http.Request) bool {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return false
	}
	for _, h := range []string{"Forwarded", "X-Forwarded-For", "X-Real-IP"} {
		if r.Header.Get(h) != "" {
			return false
		}
	}
	return true
}

// FromServices returns Deps holding the services of ws.
func FromServices(cfg config.Config, d *db.DB, c *cache.Cache, log *slog.Logger, version string, ws *wire.Services) Deps {
	return Deps{
		Config: cfg, DB: d, Cache: c, Log: log, Version: version,
		Auth: ws.Auth, Org: ws.Org, Projects: ws.Projects, DingTalk: ws.DingTalk, Notify: ws.Notify,
		Workflow: ws.Workflow, Attachments: ws.Attachments, Establishment: ws.Establishment,
		Rounds: ws.Rounds, Holdings: ws.Holdings, Reports: ws.Reports, Payments: ws.Payments, WorkCalendar: ws.WorkCalendar,
		Payout: ws.Payout, Adjustments: ws.Adjustments, Distributions: ws.Distributions, Disclosures: ws.Disclosures,
		Opening: ws.Opening, Agreements: ws.Agreements, Exits: ws.Exits, Shareholders: ws.Shareholders,
		ShareholderDists: ws.ShareholderDists,
	}
}
