package ledger

import (
	"strings"

	"hehuo/internal/apperr"
)

// MaxClientKey bounds the Idempotency-Key a client sends: the area's prefix
// ("payment:", "adjustment:12:settlement:") must still fit the ledger's 200.
const MaxClientKey = 150

// ErrIdempotencyKeyRequired is a money movement sent without a usable
// Idempotency-Key. Hehuo never invents one: a key made up on the server would
// turn a client's retry after a lost answer into a second posting.
var ErrIdempotencyKeyRequired = apperr.Invalid("idempotency_key_required", "Idempotency-Key",
	"缺少幂等键（Idempotency-Key），请刷新页面后重新提交；幂等键不超过 %d 个字符", MaxClientKey)

// ClientKey checks the Idempotency-Key a client sent with a money movement
// (缴款确认, 变更缴款确认) and returns it trimmed. Every area that posts money
// on a client's request reads its key through this one function, so the
// rules (required, bounded, never invented) and the error are the same for all.
func ClientKey(raw string) (string, error) {
	key := strings.TrimSpace(raw)
	if key == "" || len(key) > MaxClientKey {
		return "", ErrIdempotencyKeyRequired
	}
	return key, nil
}
