package auth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/redis/go-redis/v9"

	"hehuo/internal/apperr"
	"hehuo/internal/audit"
	"hehuo/internal/db"
)

// Lock-out of password sign-in. Failures are counted per (user name,
// client address): MaxFailures in a row from one address lock the name
// for that address only, so a stranger cannot lock admin out of the
// office. Failures from all addresses together also count per user name:
// from the BackoffAfter-th one within BackoffWindow, every further failure
// refuses the name everywhere for a growing time (1 s, 2 s, 4 s, … up to
// BackoffMax), which slows a guesser spread over many addresses without
// ever locking the real owner out for long. A single address, held to
// MaxFailures per LockDuration, cannot reach BackoffAfter with the
// defaults (5 per 15 min against 50 per hour). A sysadmin can lift both
// from the console (Unlock).

// digest is how user names and addresses appear in Redis keys: a fixed
// length whatever was sent, and no user name stored in clear.
func digest(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:16])
}

func (s *Service) failKey(user, addr string) string {
	return s.cache.Key("login-fail", digest(user), digest(addr))
}
func (s *Service) lockKey(user, addr string) string {
	return s.cache.Key("login-lock", digest(user), digest(addr))
}

// locksKey is the set of addresses a user name has failed from, so that
// Unlock and Locks find them without scanning Redis.
func (s *Service) locksKey(user string) string   { return s.cache.Key("login-locks", digest(user)) }
func (s *Service) failAllKey(user string) string { return s.cache.Key("login-fail-all", digest(user)) }
func (s *Service) backoffKey(user string) string { return s.cache.Key("login-backoff", digest(user)) }
func (s *Service) lockKeyOf(user, da string) string {
	return s.cache.Key("login-lock", digest(user), da)
}
func (s *Service) failKeyOf(user, da string) string {
	return s.cache.Key("login-fail", digest(user), da)
}

// backoffError refuses a user name everywhere for a while.
func backoffError(left time.Duration) *RetryError {
	secs := int64((left + time.Second - 1) / time.Second)
	return &RetryError{RetryAfter: left, Shown: apperr.New(apperr.KindLocked, "account_backoff",
		fmt.Sprintf("该账号近期登录失败次数过多，请%d秒后再试", max(secs, 1)))}
}

// lockedError refuses a user name locked for an address, naming the
// minutes left (the lock lasts Options.LockDuration, 15 minutes by default).
func lockedError(left time.Duration) error {
	mins := int64((left + time.Minute - 1) / time.Minute)
	return apperr.New(apperr.KindLocked, "account_locked", fmt.Sprintf("密码错误次数过多，账号已锁定，请%d分钟后再试", max(mins, 1)))
}

// checkLocked refuses a user name locked for addr, or in backoff everywhere.
func (s *Service) checkLocked(ctx context.Context, user, addr string) error {
	locked, err := s.cache.PTTL(ctx, s.lockKey(user, addr)).Result()
	if err != nil {
		return fmt.Errorf("check lock: %w", err)
	}
	if locked > 0 {
		return lockedError(locked)
	}
	left, err := s.cache.PTTL(ctx, s.backoffKey(user)).Result()
	if err != nil {
		return fmt.Errorf("check backoff: %w", err)
	}
	if left > 0 {
		return backoffError(left)
	}
	return nil
}

// failed records a wrong password for user from addr and returns the
// error to answer: invalid credentials, or the lock it has just caused.
func (s *Service) failed(ctx context.Context, user, addr string) error {
	all, _, err := s.count(ctx, s.failAllKey(user), s.backoffWindow, 1)
	if err != nil {
		return fmt.Errorf("count failure: %w", err)
	}
	// The window of the total restarts with every failure: it ends an hour
	// after the last one, not after the first.
	if err := s.cache.PExpire(ctx, s.failAllKey(user), s.backoffWindow).Err(); err != nil {
		return fmt.Errorf("count failure: %w", err)
	}
	n, _, err := s.count(ctx, s.failKey(user, addr), s.lockDuration, 1)
	if err != nil {
		return fmt.Errorf("count failure: %w", err)
	}
	// Every address with failures is remembered, so Unlock clears them all.
	if _, err := s.cache.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.SAdd(ctx, s.locksKey(user), digest(addr))
		p.Expire(ctx, s.locksKey(user), s.lockDuration)
		return nil
	}); err != nil {
		return fmt.Errorf("count failure: %w", err)
	}
	if over := all - int64(s.backoffAfter); over >= 0 {
		delay := s.backoffMax
		if over < 30 && time.Second<<over < delay {
			delay = time.Second << over
		}
		if err := s.cache.Set(ctx, s.backoffKey(user), "1", delay).Err(); err != nil {
			return fmt.Errorf("set backoff: %w", err)
		}
	}
	if n >= int64(s.maxFailures) {
		_, err := s.cache.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.Set(ctx, s.lockKey(user, addr), "1", s.lockDuration)
			p.Del(ctx, s.failKey(user, addr))
			return nil
		})
		if err != nil {
			return fmt.Errorf("lock account: %w", err)
		}
		return lockedError(s.lockDuration)
	}
	return ErrBadCredentials
}

// succeeded forgets the failures of user: from addr, and from everywhere.
func (s *Service) succeeded(ctx context.Context, user, addr string) error {
	if err := s.cache.Del(ctx, s.failKey(user, addr), s.failAllKey(user)).Err(); err != nil {
		return fmt.Errorf("reset failures: %w", err)
	}
	return nil
}

// LockState is a password account's lock-out, for the console.
type LockState struct {
	UserID   int64  `json:"user_id"`
	Username string `json:"username"`
	// Addresses is how many client addresses the account is locked for.
	Addresses int `json:"addresses"`
	// BackoffSeconds is how long the account is refused everywhere, 0 if not.
	BackoffSeconds int64 `json:"backoff_seconds"`
}

// Locked reports whether the account is refused anywhere.
func (l LockState) Locked() bool { return l.Addresses > 0 || l.BackoffSeconds > 0 }

// lockState reads the lock-out of one user name; stale addresses (whose
// lock has expired) are not counted.
func (s *Service) lockState(ctx context.Context, userID int64, user string) (LockState, []string, error) {
	st := LockState{UserID: userID, Username: user}
	das, err := s.cache.SMembers(ctx, s.locksKey(user)).Result()
	if err != nil {
		return st, nil, fmt.Errorf("read locks: %w", err)
	}
	for _, da := range das {
		n, err := s.cache.Exists(ctx, s.lockKeyOf(user, da)).Result()
		if err != nil {
			return st, nil, fmt.Errorf("read locks: %w", err)
		}
		st.Addresses += int(n)
	}
	left, err := s.cache.PTTL(ctx, s.backoffKey(user)).Result()
	if err != nil {
		return st, nil, fmt.Errorf("read backoff: %w", err)
	}
	if left > 0 {
		st.BackoffSeconds = int64((left + time.Second - 1) / time.Second)
	}
	return st, das, nil
}

// Locks lists the password accounts locked out now.
func (s *Service) Locks(ctx context.Context) ([]LockState, error) {
	var users []struct {
		ID       int64  `db:"id"`
		Username string `db:"username"`
	}
	if err := s.db.SelectContext(ctx, &users, `SELECT id, username FROM users WHERE password_hash IS NOT NULL AND username IS NOT NULL ORDER BY id`); err != nil {
		return nil, fmt.Errorf("list password accounts: %w", err)
	}
	out := []LockState{}
	for _, u := range users {
		st, _, err := s.lockState(ctx, u.ID, u.Username)
		if err != nil {
			return nil, err
		}
		if st.Locked() {
			out = append(out, st)
		}
	}
	return out, nil
}

// ErrUserNotFound is an unlock of a user that does not exist.
var ErrUserNotFound = apperr.NotFound("user_not_found", "用户不存在")

// Unlock lifts every lock-out of a user's password sign-in (all addresses,
// the backoff and the failure counts), recording who did it in the audit
// log. The Redis keys go last inside the transaction, so a Redis failure
// leaves no audit entry of an unlock that did not happen.
func (s *Service) Unlock(ctx context.Context, a audit.Actor, userID int64) (LockState, error) {
	var before LockState
	err := s.db.InTx(ctx, func(tx *sqlx.Tx) error {
		var user *string
		err := tx.GetContext(ctx, &user, `SELECT username FROM users WHERE id = $1`, userID)
		if db.IsNoRows(err) {
			return ErrUserNotFound
		}
		if err != nil {
			return fmt.Errorf("find user %d: %w", userID, err)
		}
		if user == nil {
			before = LockState{UserID: userID}
			return nil // no password sign-in, nothing to lift
		}
		st, das, err := s.lockState(ctx, userID, *user)
		if err != nil {
			return err
		}
		before = st
		if err := audit.Record(ctx, tx, a, audit.Entry{Action: "user.unlock", Entity: "user", EntityID: userID,
			Before: st, After: LockState{UserID: userID, Username: *user}}); err != nil {
			return err
		}
		keys := []string{s.locksKey(*user), s.failAllKey(*user), s.backoffKey(*user)}
		for _, da := range das {
			keys = append(keys, s.lockKeyOf(*user, da), s.failKeyOf(*user, da))
		}
		if err := s.cache.Del(ctx, keys...).Err(); err != nil && !errors.Is(err, redis.Nil) {
			return fmt.Errorf("unlock: %w", err)
		}
		return nil
	})
	return before, err
}
