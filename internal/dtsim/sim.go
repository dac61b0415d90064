package dtsim

import (
	"crypto/rand"
	"encoding/hex"
	mrand "math/rand"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"
)

// App is the DingTalk internal app the simulator plays.
type App struct {
	CorpID    string
	AppKey    string
	AppSecret string
	AgentID   string
	// RobotCode is the app robot's code; for an internal app it is the AppKey.
	RobotCode string
}

// DemoApp returns the credentials `hehuo demo` and tests use.
func DemoApp() App {
	return App{CorpID: "dingdemocorp", AppKey: "dingdemoappkey", AppSecret: "demo-app-secret", AgentID: "100001", RobotCode: "dingdemoappkey"}
}

// Config configures a simulator.
type Config struct {
	App App
	// TokenTTL is how long an access token lives (DingTalk: 7200 s).
	TokenTTL time.Duration
	// AppURL is the Hehuo server's base URL, for the phone panel of the web page.
	AppURL string
	// Now is the clock for tokens, codes, tickets and daily limits; tests inject one.
	Now func() time.Time
	// RedeliveryDelay is how long an un-acked or LATER-acked EVENT waits before
	// it is pushed again (default 2 s).
	RedeliveryDelay time.Duration
	// MaxDeliveries is how many times one EVENT is pushed before the
	// simulator gives up on it (default 5).
	MaxDeliveries int
	// DisconnectDelay is how long after a SYSTEM disconnect frame the socket
	// is closed (DingTalk: about 10 s; default 2 s).
	DisconnectDelay time.Duration
	// Seed seeds the fault injection, so runs are reproducible (default 1).
	Seed int64
}

// Faults makes the simulator misbehave like a busy DingTalk. Rates are 0..1.
type Faults struct {
	// ErrorRate answers calls with "system busy": old family errcode -1
	// 系统繁忙 (HTTP 200); new family HTTP 500 {"code":"ServiceUnavailable"}.
	ErrorRate float64
	// ThrottleRate answers calls as throttled: old family errcode 90018
	// (HTTP 200); new family HTTP 403 Forbidden.AccessDenied.QpsLimitForAppkeyAndApi.
	ThrottleRate float64
	// LatencyMS delays every answer.
	LatencyMS int
	// DropStream, when set, drops every stream connection once (like DropStreams).
	DropStream bool
	// LostAnswerRate handles the call (it takes effect) but answers "system
	// busy", like an answer lost on the way back: a create without an
	// idempotency key then leaves its caller in doubt.
	LostAnswerRate float64
}

// Sim is one simulated DingTalk organisation with one app.
type Sim struct {
	cfg Config
	mux *http.ServeMux

	mu     sync.Mutex
	rnd    *mrand.Rand
	faults Faults
	stats  map[string]int64

	// tokens
	appToken     string
	appTokenExp  time.Time
	revoked      map[string]bool // tokens made invalid by ExpireTokens
	expiredToken map[string]bool // tokens that lived out their TTL
	userTokens   map[string]userToken
	jsapiTicket  string
	ticketExp    time.Time

	// directory
	users    map[string]*User
	userSeq  []string // insertion order
	depts    map[int64]*Department
	codes    map[string]authCode
	oauth    map[string]authCode
	seqTask  int64
	notices  []Notice
	tasks    map[int64]*TaskResult
	daily    map[string]int // userid|day → delivered count
	seenMsg  map[string]bool
	robots   map[string]*Robot // by access token
	robotLog map[string][]time.Time
	robotBan map[string]time.Time
	robotMsg []RobotMessage

	approvals []*Approval
	cards     map[string]*Card

	streams *streamHub
}

// New returns a simulator of cfg's app, with only the root department.
func New(cfg Config) *Sim {
	if cfg.App.AppKey == "" {
		cfg.App = DemoApp()
	}
	if cfg.App.RobotCode == "" {
		cfg.App.RobotCode = cfg.App.AppKey
	}
	if cfg.TokenTTL <= 0 {
		cfg.TokenTTL = 7200 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.RedeliveryDelay <= 0 {
		cfg.RedeliveryDelay = 2 * time.Second
	}
	if cfg.MaxDeliveries <= 0 {
		cfg.MaxDeliveries = 5
	}
	if cfg.DisconnectDelay <= 0 {
		cfg.DisconnectDelay = 2 * time.Second
	}
	if cfg.Seed == 0 {
		cfg.Seed = 1
	}
	s := &Sim{
		cfg:          cfg,
		rnd:          mrand.New(mrand.NewSource(cfg.Seed)),
		stats:        map[string]int64{},
		revoked:      map[string]bool{},
		expiredToken: map[string]bool{},
		userTokens:   map[string]userToken{},
		users:        map[string]*User{},
		depts:        map[int64]*Department{1: {ID: 1, Name: "锦艺集团"}},
		codes:        map[string]authCode{},
		oauth:        map[string]authCode{},
		seqTask:      256271667500,
		tasks:        map[int64]*TaskResult{},
		daily:        map[string]int{},
		seenMsg:      map[string]bool{},
		robots:       map[string]*Robot{},
		robotLog:     map[string][]time.Time{},
		robotBan:     map[string]time.Time{},
		cards:        map[string]*Card{},
	}
	s.streams = newStreamHub(s)
	s.routes()
	return s
}

// App returns the app the simulator plays.
func (s *Sim) App() App { return s.cfg.App }

// Handler serves every simulated host, the control API and the web page.
func (s *Sim) Handler() http.Handler { return http.HandlerFunc(s.serve) }

// Close closes every stream connection and stops redelivery.
func (s *Sim) Close() { s.streams.close() }

// SetFaults replaces the fault settings. DropStream drops the connections now.
func (s *Sim) SetFaults(f Faults) {
	s.mu.Lock()
	s.faults = f
	s.mu.Unlock()
	if f.DropStream {
		s.DropStreams()
	}
}

// SetSeed reseeds the fault injection.
func (s *Sim) SetSeed(seed int64) {
	s.mu.Lock()
	s.rnd = mrand.New(mrand.NewSource(seed))
	s.mu.Unlock()
}

// Stats returns how many calls each endpoint path received.
func (s *Sim) Stats() map[string]int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int64, len(s.stats))
	for k, v := range s.stats {
		out[k] = v
	}
	return out
}

// ResetStats zeroes the call counts.
func (s *Sim) ResetStats() {
	s.mu.Lock()
	s.stats = map[string]int64{}
	s.mu.Unlock()
}

func (s *Sim) now() time.Time { return s.cfg.Now() }

// serve counts the call, injects faults into DingTalk paths (never into the
// control API, the web page or the socket) and routes.
func (s *Sim) serve(w http.ResponseWriter, r *http.Request) {
	path := r.URL.Path
	if strings.HasPrefix(path, "/sim/") {
		w.Header().Set("Access-Control-Allow-Origin", "*")
		w.Header().Set("Access-Control-Allow-Headers", "Content-Type")
		w.Header().Set("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
		if r.Method == http.MethodOptions {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		s.mux.ServeHTTP(w, r)
		return
	}
	newFamily := strings.HasPrefix(path, "/v1.0/")
	if newFamily {
		w.Header().Set("x-acs-request-id", newID())
	}
	s.mu.Lock()
	if path != "/" {
		s.stats[path]++
	}
	f := s.faults
	var busy, throttled, lost bool
	faultable := path != "/" && path != "/connect" && path != "/oauth2/auth" && path != "/robot/sendBySession"
	if faultable && f.ErrorRate > 0 {
		busy = s.rnd.Float64() < f.ErrorRate
	}
	if faultable && !busy && f.ThrottleRate > 0 {
		throttled = s.rnd.Float64() < f.ThrottleRate
	}
	if faultable && !busy && !throttled && f.LostAnswerRate > 0 {
		lost = s.rnd.Float64() < f.LostAnswerRate
	}
	s.mu.Unlock()
	if faultable && f.LatencyMS > 0 {
		select {
		case <-time.After(time.Duration(f.LatencyMS) * time.Millisecond):
		case <-r.Context().Done():
			return
		}
	}
	switch {
	case busy && newFamily:
		writeNewErr(w, http.StatusInternalServerError, "ServiceUnavailable", "系统繁忙，请稍后重试")
		return
	case busy:
		writeOld(w, -1, "系统繁忙", nil)
		return
	case throttled && newFamily:
		writeNewErr(w, http.StatusForbidden, "Forbidden.AccessDenied.QpsLimitForAppkeyAndApi", "调用频率超过限制")
		return
	case throttled:
		writeOld(w, 90018, "当前企业调用该接口的QPS超过限制", nil)
		return
	case lost:
		s.mux.ServeHTTP(httptest.NewRecorder(), r)
		if newFamily {
			writeNewErr(w, http.StatusInternalServerError, "ServiceUnavailable", "系统繁忙，请稍后重试")
		} else {
			writeOld(w, -1, "系统繁忙", nil)
		}
		return
	}
	s.mux.ServeHTTP(w, r)
}

func (s *Sim) routes() {
	m := http.NewServeMux()
	// tokens and tickets
	m.HandleFunc("GET /gettoken", s.getToken)
	m.HandleFunc("POST /v1.0/oauth2/accessToken", s.accessToken)
	m.HandleFunc("GET /get_jsapi_ticket", s.oldAuth(s.getJSAPITicket))
	m.HandleFunc("POST /v1.0/oauth2/jsapiTickets", s.newAuth(s.jsapiTickets))
	// sign-in and directory
	m.HandleFunc("POST /topapi/v2/user/getuserinfo", s.oldAuth(s.getUserInfo))
	m.HandleFunc("POST /topapi/v2/user/get", s.oldAuth(s.getUser))
	m.HandleFunc("POST /topapi/user/getbyunionid", s.oldAuth(s.getByUnionID))
	m.HandleFunc("POST /topapi/v2/department/listsub", s.oldAuth(s.listSubDepartments))
	m.HandleFunc("POST /topapi/v2/department/get", s.oldAuth(s.getDepartment))
	m.HandleFunc("POST /topapi/v2/user/list", s.oldAuth(s.listUsers))
	m.HandleFunc("GET /oauth2/auth", s.oauthPage)
	m.HandleFunc("POST /oauth2/auth", s.oauthChoose)
	m.HandleFunc("POST /v1.0/oauth2/userAccessToken", s.userAccessToken)
	m.HandleFunc("GET /v1.0/contact/users/me", s.usersMe)
	// work notices
	m.HandleFunc("POST /topapi/message/corpconversation/asyncsend_v2", s.oldAuth(s.asyncSend))
	m.HandleFunc("POST /topapi/message/corpconversation/getsendresult", s.oldAuth(s.getSendResult))
	m.HandleFunc("POST /topapi/message/corpconversation/getsendprogress", s.oldAuth(s.getSendProgress))
	m.HandleFunc("POST /topapi/message/corpconversation/recall", s.oldAuth(s.recall))
	// robots
	m.HandleFunc("POST /robot/send", s.robotSend)
	m.HandleFunc("POST /robot/sendBySession", s.sendBySession)
	m.HandleFunc("POST /v1.0/robot/groupMessages/send", s.newAuth(s.groupSend))
	m.HandleFunc("POST /v1.0/robot/oToMessages/batchSend", s.newAuth(s.batchSend))
	// approvals and cards
	m.HandleFunc("POST /v1.0/workflow/processInstances", s.newAuth(s.createInstance))
	m.HandleFunc("GET /v1.0/workflow/processInstances", s.newAuth(s.getInstance))
	m.HandleFunc("POST /v1.0/workflow/processInstances/execute", s.newAuth(s.executeInstance))
	m.HandleFunc("POST /v1.0/workflow/processInstances/terminate", s.newAuth(s.terminateInstance))
	m.HandleFunc("POST /v1.0/workflow/processes/instanceIds/query", s.newAuth(s.queryInstanceIDs))
	m.HandleFunc("POST /v1.0/card/instances/createAndDeliver", s.newAuth(s.createAndDeliver))
	// stream gateway
	m.HandleFunc("POST /v1.0/gateway/connections/open", s.streams.open)
	m.HandleFunc("GET /connect", s.streams.connect)
	// control API and page
	s.controlRoutes(m)
	m.HandleFunc("GET /{$}", s.page)
	m.HandleFunc("/", notFound)
	s.mux = m
}

// notFound answers an unknown path in its family's shape.
func notFound(w http.ResponseWriter, r *http.Request) {
	switch {
	case strings.HasPrefix(r.URL.Path, "/v1.0/"):
		writeNewErr(w, http.StatusNotFound, "InvalidAction.NotFound", "Specified api is not found, please check your url and method.")
	case strings.HasPrefix(r.URL.Path, "/sim/"):
		writeJSON(w, http.StatusNotFound, map[string]string{"code": "not_found", "message": "模拟器没有这个控制接口"})
	default:
		writeOld(w, 404, "请求的URI地址不存在", nil)
	}
}

// newID returns a random hex id.
func newID() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}
