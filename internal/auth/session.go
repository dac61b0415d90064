package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/redis/go-redis/v9"
	"golang.org/x/crypto/bcrypt"

	"hehuo/internal/apperr"
	"hehuo/internal/cache"
	"hehuo/internal/db"
	"hehuo/internal/org"
)

// Errors of sign-in.
var (
	ErrBadCredentials  = apperr.Unauthenticated("invalid_credentials", "用户名或密码错误")
	ErrUserInactive    = apperr.Forbidden("user_inactive", "该账号已停用")
	ErrSessionExpired  = apperr.Unauthenticated("session_expired", "登录已过期，请重新登录")
	ErrUsernameTooLong = apperr.Invalid("username_too_long", "username", "用户名不能超过%d个字符", MaxUsernameLength)
)

// MaxUsernameLength caps a sign-in's user name (in characters) before
// anything about it is looked up or counted.
const MaxUsernameLength = 64

// Service signs people in and resolves sessions.
type Service struct {
	db            *db.DB
	cache         *cache.Cache
	ttl           time.Duration
	maxFailures   int
	lockDuration  time.Duration
	backoffAfter  int
	backoffWindow time.Duration
	backoffMax    time.Duration
	passwordLimit Limit
	dingTalkLimit Limit
}

// Options configures sessions, lock-out and the sign-in limits; zero
// fields take the defaults of config.Default.
type Options struct {
	SessionTTL time.Duration
	// MaxFailures wrong passwords in a row from one address lock the
	// account for that address for LockDuration.
	MaxFailures  int
	LockDuration time.Duration
	// BackoffAfter failures from all addresses within BackoffWindow start
	// the account's growing backoff, capped at BackoffMax.
	BackoffAfter  int
	BackoffWindow time.Duration
	BackoffMax    time.Duration
	// PasswordLimit caps password sign-ins per client address;
	// DingTalkLimit caps unsuccessful DingTalk sign-ins per client address.
	PasswordLimit Limit
	DingTalkLimit Limit
}

// NewService returns the auth service.
func NewService(d *db.DB, c *cache.Cache, o Options) *Service {
	or := func(v, def time.Duration) time.Duration {
		if v <= 0 {
			return def
		}
		return v
	}
	limit := func(l, def Limit) Limit {
		if l.Max <= 0 || l.Window <= 0 {
			return def
		}
		return l
	}
	s := &Service{db: d, cache: c, ttl: or(o.SessionTTL, 12*time.Hour), maxFailures: o.MaxFailures,
		lockDuration: or(o.LockDuration, 15*time.Minute), backoffAfter: o.BackoffAfter,
		backoffWindow: or(o.BackoffWindow, time.Hour), backoffMax: or(o.BackoffMax, 5*time.Minute),
		passwordLimit: limit(o.PasswordLimit, Limit{Max: 20, Window: time.Minute}),
		dingTalkLimit: limit(o.DingTalkLimit, Limit{Max: 20, Window: time.Minute})}
	if s.maxFailures <= 0 {
		s.maxFailures = 5
	}
	if s.backoffAfter <= 0 {
		s.backoffAfter = 50
	}
	return s
}

// dummyHash is compared against when the user name has no password, so
// that a wrong name takes as long as a wrong password and the answer's
// timing does not tell which names exist.
var dummyHash = sync.OnceValue(func() []byte {
	h, err := bcrypt.GenerateFromPassword([]byte("no such account"), bcrypt.DefaultCost)
	if err != nil {
		panic(err) // only for a cost out of range
	}
	return h
})

// SessionTTL is how long a session lives.
func (s *Service) SessionTTL() time.Duration { return s.ttl }

// sessionKey stores a hash of the token, so a copy of Redis holds no usable tokens.
func (s *Service) sessionKey(token string) string {
	sum := sha256.Sum256([]byte(token))
	return s.cache.Key("session", hex.EncodeToString(sum[:]))
}

// SignInPassword checks a bootstrap account's password, signed in from
// the client address addr. In order, before any password hash is computed:
// the address's limit of attempts (429), the user name's length (400), and
// the lock-out of the name for this address or everywhere (423, see
// lockout.go). An unknown user name fails the same way as a wrong
// password, and in the same time, so names cannot be probed.
func (s *Service) SignInPassword(ctx context.Context, username, password, addr string) (string, org.User, error) {
	if err := s.allow(ctx, "password", addr, s.passwordLimit); err != nil {
		return "", org.User{}, err
	}
	if utf8.RuneCountInString(username) > MaxUsernameLength {
		return "", org.User{}, ErrUsernameTooLong
	}
	if err := s.checkLocked(ctx, username, addr); err != nil {
		return "", org.User{}, err
	}
	var row struct {
		ID   int64   `db:"id"`
		Hash *string `db:"password_hash"`
	}
	err := s.db.GetContext(ctx, &row, `SELECT id, password_hash FROM users WHERE username = $1`, username)
	if err != nil && !db.IsNoRows(err) {
		return "", org.User{}, fmt.Errorf("find user: %w", err)
	}
	hash := dummyHash()
	if err == nil && row.Hash != nil {
		hash = []byte(*row.Hash)
	}
	if bcrypt.CompareHashAndPassword(hash, []byte(password)) != nil || err != nil || row.Hash == nil {
		return "", org.User{}, s.failed(ctx, username, addr)
	}
	if err := s.succeeded(ctx, username, addr); err != nil {
		return "", org.User{}, err
	}
	return s.startSession(ctx, row.ID)
}

// SignInUser starts a session for a user already identified by another
// means (DingTalk sign-in).
func (s *Service) SignInUser(ctx context.Context, userID int64) (string, org.User, error) {
	return s.startSession(ctx, userID)
}

func (s *Service) startSession(ctx context.Context, userID int64) (string, org.User, error) {
	u, err := org.GetUser(ctx, s.db, userID)
	if err != nil {
		return "", u, err
	}
	if !u.Enabled() {
		return "", u, ErrUserInactive
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", u, fmt.Errorf("session token: %w", err)
	}
	token := base64.RawURLEncoding.EncodeToString(b)
	if err := s.cache.Set(ctx, s.sessionKey(token), strconv.FormatInt(userID, 10), s.ttl).Err(); err != nil {
		return "", u, fmt.Errorf("store session: %w", err)
	}
	return token, u, nil
}

// Resolve returns the principal of a session token.
func (s *Service) Resolve(ctx context.Context, token string) (Principal, error) {
	v, err := s.cache.Get(ctx, s.sessionKey(token)).Result()
	if errors.Is(err, redis.Nil) {
		return Principal{}, ErrSessionExpired
	}
	if err != nil {
		return Principal{}, fmt.Errorf("read session: %w", err)
	}
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return Principal{}, ErrSessionExpired
	}
	u, err := org.GetUser(ctx, s.db, id)
	if apperr.KindOf(err) == apperr.KindNotFound {
		return Principal{}, ErrSessionExpired
	}
	if err != nil {
		return Principal{}, err
	}
	if !u.Enabled() {
		return Principal{}, ErrUserInactive
	}
	return Principal{UserID: u.ID, Name: u.Name, Roles: u.Roles}, nil
}

// SignOut ends a session.
func (s *Service) SignOut(ctx context.Context, token string) error {
	if err := s.cache.Del(ctx, s.sessionKey(token)).Err(); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}
