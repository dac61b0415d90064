package cache

import (
	"context"
	"errors"
	"io"
	"net"

	"github.com/redis/go-redis/v9"
)

// unavailableError marks an error of a Redis that cannot serve us right now
// (down, unreachable, too slow, loading, out of clients). The client's hook
// marks such errors as they leave Redis, so IsUnavailable can tell them from
// the network errors of anything else the same call chain talks to, such as
// DingTalk.
type unavailableError struct{ err error }

func (e *unavailableError) Error() string { return "redis unavailable: " + e.err.Error() }

func (e *unavailableError) Unwrap() error { return e.err }

// IsUnavailable reports whether err, however wrapped, is a command that
// failed because Redis could not be reached or could not serve it: an
// outage, not a bug. redis.Nil and errors of scripts are not.
func IsUnavailable(err error) bool {
	var u *unavailableError
	return errors.As(err, &u)
}

// outage reports a raw go-redis error that means Redis is unavailable.
func outage(err error) bool {
	if err == nil || errors.Is(err, redis.Nil) {
		return false
	}
	var ne net.Error // dial refused, connection reset, read/write timeouts
	return errors.As(err, &ne) ||
		errors.Is(err, redis.ErrClosed) || errors.Is(err, redis.ErrPoolTimeout) || errors.Is(err, redis.ErrPoolExhausted) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, context.DeadlineExceeded) ||
		redis.IsLoadingError(err) || redis.IsMasterDownError(err) || redis.IsClusterDownError(err) ||
		redis.IsTryAgainError(err) || redis.IsMaxClientsError(err) || redis.IsReadOnlyError(err) || redis.IsOOMError(err)
}

// mark wraps err as unavailability when it is one, once.
func mark(err error) error {
	if outage(err) && !IsUnavailable(err) {
		return &unavailableError{err: err}
	}
	return err
}

// outageHook marks unavailability on every command and pipeline, so that
// callers wrapping the error with fmt.Errorf keep the mark.
type outageHook struct{}

func (outageHook) DialHook(next redis.DialHook) redis.DialHook { return next }

func (outageHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		return mark(next(ctx, cmd)) // Client.Process stores the returned error in cmd
	}
}

func (outageHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		err := next(ctx, cmds)
		for _, cmd := range cmds {
			if e := cmd.Err(); outage(e) && !IsUnavailable(e) {
				cmd.SetErr(&unavailableError{err: e})
			}
		}
		return mark(err)
	}
}
