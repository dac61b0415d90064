package db

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"net"

	"github.com/lib/pq"
)

// IsUnavailable reports whether err, however wrapped, means Postgres could
// not be reached or could not serve us right now — an outage, not a bug: the
// connection was refused or broke (driver.ErrBadConn after database/sql's own
// retries, a network error, an unexpected EOF), the server refused new
// connections (too many connections, starting up) or is shutting down, or
// the context's deadline ran out waiting for a connection or an answer.
//
// A network error is recognised by its type, so an unclassified network
// error of another service wrapped in the same chain counts too; callers
// that also talk to DingTalk map DingTalk's failures first.
func IsUnavailable(err error) bool {
	if err == nil {
		return false
	}
	var pe *pq.Error
	if errors.As(err, &pe) {
		switch pe.Code.Class() {
		case "08", // connection exception
			"53": // insufficient resources: too many connections, out of memory, disk full
			return true
		}
		switch pe.Code {
		case "57P01", "57P02", "57P03": // admin shutdown, crash shutdown, cannot connect now
			return true
		}
		return false
	}
	var ne net.Error // dial refused, connection reset, timeouts
	return errors.As(err, &ne) ||
		errors.Is(err, driver.ErrBadConn) || errors.Is(err, sql.ErrConnDone) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, context.DeadlineExceeded)
}
