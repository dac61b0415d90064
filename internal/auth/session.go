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
	"time"

	"github.com/redis/go-redis/v9"
	"golang.org/x/crypto/bcrypt"

	"hehuo/internal/apperr"
	"hehuo/internal/cache"
	"hehuo/internal/db"
	"hehuo/internal/org"
)

// Errors of sign-in.
var (
	ErrBadCredentials = apperr.Unauthenticated("invalid_credentials", "用户名或密码错误")
	ErrAccountLocked  = apperr.New(apperr.KindLocked, "account_locked", "密码错误次数过多，账号已锁定，请15分钟后再试")
	ErrUserInactive   = apperr.Forbidden("user_inactive", "该账号已停用")
	ErrSessionExpired = apperr.Unauthenticated("session_expired", "登录已过期，请重新登录")
)

// Service signs people in and resolves sessions.
type Service struct {
	db           *db.DB
	cache        *cache.Cache
	ttl          time.Duration
	maxFailures  int
	lockDuration time.Duration
}

// Options configures sessions and lock-out.
type Options struct {
	SessionTTL   time.Duration
	MaxFailures  int
	LockDuration time.Duration
}

// NewService returns the auth service.
func NewService(d *db.DB, c *cache.Cache, o Options) *Service {
	return &Service{db: d, cache: c, ttl: o.SessionTTL, maxFailures: o.MaxFailures, lockDuration: o.LockDuration}
}

// SessionTTL is how long a session lives.
func (s *Service) SessionTTL() time.Duration { return s.ttl }

// sessionKey stores a hash of the token, so a copy of Redis holds no usable tokens.
func (s *Service) sessionKey(token string) string {
	sum := sha256.Sum256([]byte(token))
	return s.cache.Key("session", hex.EncodeToString(sum[:]))
}

// SignInPassword checks a bootstrap account's password. Five failures in a
// row lock the account for the lock duration; an unknown user name fails the
// same way as a wrong password so names cannot be probed.
func (s *Service) SignInPassword(ctx context.Context, username, password string) (string, org.User, error) {
	lockKey := s.cache.Key("login-lock", username)
	failKey := s.cache.Key("login-fail", username)
	locked, err := s.cache.Exists(ctx, lockKey).Result()
	if err != nil {
		return "", org.User{}, fmt.Errorf("check lock: %w", err)
	}
	if locked > 0 {
		return "", org.User{}, ErrAccountLocked
	}
	var row struct {
		ID   int64   `db:"id"`
		Hash *string `db:"password_hash"`
	}
	err = s.db.GetContext(ctx, &row, `SELECT id, password_hash FROM users WHERE username = $1`, username)
	if err != nil && !db.IsNoRows(err) {
		return "", org.User{}, fmt.Errorf("find user: %w", err)
	}
	if err != nil || row.Hash == nil || bcrypt.CompareHashAndPassword([]byte(*row.Hash), []byte(password)) != nil {
		n, ierr := s.cache.Incr(ctx, failKey).Result()
		if ierr != nil {
			return "", org.User{}, fmt.Errorf("count failure: %w", ierr)
		}
		s.cache.Expire(ctx, failKey, s.lockDuration)
		if n >= int64(s.maxFailures) {
			s.cache.Set(ctx, lockKey, "1", s.lockDuration)
			s.cache.Del(ctx, failKey)
			return "", org.User{}, ErrAccountLocked
		}
		return "", org.User{}, ErrBadCredentials
	}
	s.cache.Del(ctx, failKey)
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
