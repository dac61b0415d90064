// Package bot is Hehuo's stream-mode DingTalk bot. Over one outbound
// websocket, opened with the official SDK, it answers chatbot commands
// (帮助, 我的跟投, 进度), hands approval events to the workflow inbox and
// routes interactive card callbacks to the handlers registered for them.
// Nothing here changes business data itself: commands read, events go to
// the inbox, cards go to their handlers.
package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/open-dingtalk/dingtalk-stream-sdk-go/client"
	"github.com/open-dingtalk/dingtalk-stream-sdk-go/event"
	"github.com/open-dingtalk/dingtalk-stream-sdk-go/logger"

	"hehuo/internal/auth"
	"hehuo/internal/config"
	"hehuo/internal/db"
	"hehuo/internal/holding"
	"hehuo/internal/org"
	"hehuo/internal/project"
	"hehuo/internal/workflow"
)

// Holdings reads a partner's stakes; *holding.Service is one.
type Holdings interface {
	// ForUser returns the stakes of the partner who is user userID.
	ForUser(ctx context.Context, userID int64) ([]holding.Holding, error)
}

// Deps are the services the bot reads and the inbox it feeds.
type Deps struct {
	DB       *db.DB
	Org      *org.Service
	Auth     *auth.Service
	Projects *project.Service
	Holdings Holdings
	// Reports answer 进度's steps and payments; nil leaves them out.
	Reports Progress
	Inbox   *workflow.Inbox
	Log     *slog.Logger
	// PublicURL is how phones reach Hehuo; replies link to PublicURL + "/m/".
	PublicURL string
}

// Bot is the stream-mode bot of one DingTalk app.
type Bot struct {
	cfg  config.DingTalk
	deps Deps
	log  *slog.Logger

	mu     sync.Mutex
	client *client.StreamClient
	cards  map[string]CardHandler // by outTrackId prefix

	eventMu sync.Mutex // one event at a time, see onEvent
}

// New returns a bot for the app in cfg; Run connects it.
func New(cfg config.DingTalk, d Deps) *Bot {
	if d.Log == nil {
		d.Log = slog.Default()
	}
	b := &Bot{cfg: cfg, deps: d, log: d.Log.With("component", "bot"), cards: map[string]CardHandler{}}
	sdkLog.Store(&sdkTarget{log: b.log, secret: cfg.AppSecret})
	sdkLoggerOnce.Do(func() { logger.SetLogger(sdkLogger{}) })
	return b
}

// Run opens the stream connection and keeps it until ctx is done. The SDK
// reconnects by itself after a drop or a server "disconnect" (a fresh
// connections/open every 3 s until it succeeds); Run only retries the first
// connection, which the SDK does not.
func (b *Bot) Run(ctx context.Context) error {
	if b.cfg.AppKey == "" || b.cfg.AppSecret == "" {
		return errors.New("bot: stream mode needs dingtalk.app_key and HEHUO_DINGTALK_APP_SECRET")
	}
	cli := client.NewStreamClient(
		client.WithAppCredential(client.NewAppCredentialConfig(b.cfg.AppKey, b.cfg.AppSecret)),
		client.WithOpenApiHost(b.cfg.APIBase),
		client.WithAutoReconnect(true),
	)
	cli.RegisterChatBotCallbackRouter(b.onMessage)
	cli.RegisterAllEventRouter(event.NewDefaultEventFrameHandler(b.onEvent).OnEventReceived)
	cli.RegisterCardCallbackRouter(b.onCard)
	b.mu.Lock()
	b.client = cli
	b.mu.Unlock()

	for {
		err := cli.Start(ctx)
		if err == nil {
			break
		}
		b.log.Warn("stream connection failed, retrying", "err", err)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(3 * time.Second):
		}
	}
	b.log.Info("stream connected", "api_base", b.cfg.APIBase)
	<-ctx.Done()
	// Without this the SDK would reconnect after our own Close.
	cli.AutoReconnect = false
	cli.Close()
	b.log.Info("stream closed")
	return nil
}

// Connected reports whether the stream connection is open now (false while
// the SDK is reconnecting).
func (b *Bot) Connected() bool {
	b.mu.Lock()
	cli := b.client
	b.mu.Unlock()
	if cli == nil {
		return false
	}
	return sdkConnected(cli)
}

// sdkConnected reads whether cli holds a websocket. SDK v0.9.1 keeps it in
// the unexported field conn, set by Start and cleared by Close under the
// unexported mutex, and has no accessor; readiness checks need the answer,
// so it is read here, under that mutex. A held mutex means Start is dialling
// (not connected yet). If a later SDK renames the fields, the answer is
// false and TestConnected fails.
func sdkConnected(cli *client.StreamClient) bool {
	v := reflect.ValueOf(cli).Elem()
	conn, mu := v.FieldByName("conn"), v.FieldByName("mutex")
	if !conn.IsValid() || conn.Kind() != reflect.Pointer || !mu.IsValid() || mu.Type() != reflect.TypeOf(sync.Mutex{}) {
		return false
	}
	m := (*sync.Mutex)(unsafe.Pointer(mu.UnsafeAddr()))
	if !m.TryLock() {
		return false
	}
	defer m.Unlock()
	return !conn.IsNil()
}

var (
	sdkLoggerOnce sync.Once
	sdkLog        atomic.Pointer[sdkTarget]
)

// sdkTarget is where the SDK's log goes and the secret it must not show.
type sdkTarget struct {
	log    *slog.Logger
	secret string
}

// sdkLogger sends the SDK's logs to slog, redacted. The SDK logger is
// global, so the latest bot's logger serves them all.
type sdkLogger struct{}

func (sdkLogger) out(level slog.Level, f string, a []any) {
	t := sdkLog.Load()
	if t == nil || !t.log.Enabled(context.Background(), level) {
		return
	}
	t.log.Log(context.Background(), level, redact(fmt.Sprintf(f, a...), t.secret), "sdk", "dingtalk-stream")
}

func (s sdkLogger) Debugf(f string, a ...any)   { s.out(slog.LevelDebug, f, a) }
func (s sdkLogger) Infof(f string, a ...any)    { s.out(slog.LevelInfo, f, a) }
func (s sdkLogger) Warningf(f string, a ...any) { s.out(slog.LevelWarn, f, a) }
func (s sdkLogger) Errorf(f string, a ...any)   { s.out(slog.LevelWarn, f, a) }
func (s sdkLogger) Fatalf(f string, a ...any)   { s.out(slog.LevelError, f, a) }

// secretJSON and secretParam match the credentials the SDK's wire log
// prints: the AppSecret in connections/open, the connection ticket it
// answers with, and any access token, as JSON fields or URL parameters.
var (
	secretJSON  = regexp.MustCompile(`(?i)("(?:clientSecret|appSecret|secret|ticket|accessToken|access_token)"\s*:\s*)"(?:[^"\\]|\\.)*"`)
	secretParam = regexp.MustCompile(`(?i)\b(ticket|access_token|accessToken)=[^&\s"]+`)
)

// redact hides the credentials in one SDK log line; the AppSecret itself is
// also replaced wherever else it appears.
func redact(line, secret string) string {
	line = secretJSON.ReplaceAllString(line, `${1}"***"`)
	line = secretParam.ReplaceAllString(line, `${1}=***`)
	if len(secret) >= 4 {
		line = strings.ReplaceAll(line, secret, "***")
	}
	return line
}
