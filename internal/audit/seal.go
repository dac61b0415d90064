package audit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/jmoiron/sqlx"

	"hehuo/internal/db"
	"hehuo/internal/text"
)

// sealerLock is the advisory lock that makes one sealer at a time extend the
// chain, across every instance of the binary.
const sealerLock = 7_000_001

// genesis is the previous hash of the first entry.
const genesis = "0000000000000000000000000000000000000000000000000000000000000000"

// Sealer numbers committed audit entries and chains their hashes. Entries are
// sealed in the order the sealer finds them committed, which is commit order
// up to the sealing interval; the chain proves nothing was altered or removed
// after sealing.
type Sealer struct {
	db   *db.DB
	wake chan struct{}
	log  *slog.Logger
}

// NewSealer returns a sealer that wakes after every commit on d that
// recorded audit entries (audit.Record asks for it).
func NewSealer(d *db.DB, log *slog.Logger) *Sealer {
	s := &Sealer{db: d, wake: make(chan struct{}, 1), log: log}
	d.OnCommit(s.Wake)
	return s
}

// Wake asks the sealer to run soon; it never blocks.
func (s *Sealer) Wake() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// sealTick is how often the sealer looks without a wake-up: for entries
// another instance committed while its sealer was down.
const sealTick = 10 * time.Second

// Run seals until ctx ends, after each commit that recorded audit entries
// and every sealTick.
func (s *Sealer) Run(ctx context.Context) {
	t := time.NewTicker(sealTick)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.wake:
		case <-t.C:
		}
		if _, err := Seal(ctx, s.db); err != nil && ctx.Err() == nil {
			s.log.Error("seal audit log", "err", err)
		}
	}
}

// Seal chains every committed unsealed entry and returns how many it sealed.
func Seal(ctx context.Context, d *db.DB) (int, error) {
	total := 0
	for {
		n := 0
		err := d.InTx(ctx, func(tx *sqlx.Tx) error {
			if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, sealerLock); err != nil {
				return err
			}
			var head struct {
				Seq  int64  `db:"seq"`
				Hash string `db:"hash"`
			}
			err := tx.GetContext(ctx, &head, `SELECT seq, hash FROM audit_log WHERE seq IS NOT NULL ORDER BY seq DESC LIMIT 1`)
			if db.IsNoRows(err) {
				head.Hash = genesis
			} else if err != nil {
				return err
			}
			var rows []LogEntry
			if err := tx.SelectContext(ctx, &rows, `SELECT `+columns+` FROM audit_log WHERE seq IS NULL ORDER BY id LIMIT 500`); err != nil {
				return err
			}
			for _, r := range rows {
				head.Seq++
				h := entryHash(head.Hash, head.Seq, r)
				if _, err := tx.ExecContext(ctx, `UPDATE audit_log SET seq = $1, prev_hash = $2, hash = $3 WHERE id = $4`,
					head.Seq, head.Hash, h, r.ID); err != nil {
					return err
				}
				head.Hash = h
			}
			n = len(rows)
			return nil
		})
		if err != nil {
			return total, fmt.Errorf("seal audit log: %w", err)
		}
		total += n
		if n < 500 {
			return total, nil
		}
	}
}

// entryHash is sha256 over the previous hash, the sequence number and the
// entry's fields in a fixed order.
func entryHash(prev string, seq int64, e LogEntry) string {
	actor := ""
	if e.ActorID != nil {
		actor = strconv.FormatInt(*e.ActorID, 10)
	}
	project := ""
	if e.ProjectID != nil {
		project = strconv.FormatInt(*e.ProjectID, 10)
	}
	fields, _ := json.Marshal([]string{
		strconv.FormatInt(e.ID, 10), e.At.UTC().Format(time.RFC3339Nano), actor, e.ActorName, e.Action,
		e.Entity, e.EntityID, project, string(e.Before), string(e.After), e.RequestID,
	})
	h := sha256.New()
	h.Write([]byte(prev))
	h.Write([]byte{'\n'})
	h.Write([]byte(strconv.FormatInt(seq, 10)))
	h.Write([]byte{'\n'})
	h.Write(fields)
	return hex.EncodeToString(h.Sum(nil))
}

// The kinds of break.
const (
	BreakMissing = "entries_missing" // a sequence number is skipped
	BreakLink    = "link_broken"     // prev_hash is not the previous entry's hash
	BreakAltered = "entry_altered"   // the entry no longer hashes to its hash
)

// Break is one place where the chain does not hold: Code says what, Reason
// says it in Chinese for the console.
type Break struct {
	Seq    int64  `json:"seq"`
	ID     int64  `json:"id"`
	Code   string `json:"code"`
	Reason string `json:"reason"`
}

// VerifyReport is the result of Verify.
type VerifyReport struct {
	OK       bool    `json:"ok"`
	Sealed   int     `json:"sealed"`
	Unsealed int     `json:"unsealed"`
	Breaks   []Break `json:"breaks,omitempty"`
}

// Verify recomputes the chain from the first entry and reports every break:
// an altered entry, a missing sequence number or a wrong link.
func Verify(ctx context.Context, q sqlx.QueryerContext) (VerifyReport, error) {
	var rep VerifyReport
	rows, err := q.QueryxContext(ctx, `SELECT `+columns+`, seq, prev_hash, hash FROM audit_log WHERE seq IS NOT NULL ORDER BY seq`)
	if err != nil {
		return rep, fmt.Errorf("verify audit log: %w", err)
	}
	defer rows.Close()
	prev, want := genesis, int64(1)
	for rows.Next() {
		var e LogEntry
		if err := rows.StructScan(&e); err != nil {
			return rep, fmt.Errorf("verify audit log: %w", err)
		}
		rep.Sealed++
		if *e.Seq != want {
			rep.Breaks = append(rep.Breaks, Break{Seq: want, ID: e.ID, Code: BreakMissing, Reason: fmt.Sprintf("序号从 %d 跳到 %d：中间的日志缺失", want-1, *e.Seq)})
		}
		if e.PrevHash == nil || *e.PrevHash != prev {
			rep.Breaks = append(rep.Breaks, Break{Seq: *e.Seq, ID: e.ID, Code: BreakLink, Reason: "与上一条日志的链接不符"})
		}
		got := entryHash(text.Deref(e.PrevHash), *e.Seq, e)
		if e.Hash == nil || *e.Hash != got {
			rep.Breaks = append(rep.Breaks, Break{Seq: *e.Seq, ID: e.ID, Code: BreakAltered, Reason: "日志内容与其校验值不符：已被改动"})
		}
		prev, want = text.Deref(e.Hash), *e.Seq+1
	}
	if err := rows.Err(); err != nil {
		return rep, fmt.Errorf("verify audit log: %w", err)
	}
	if err := sqlx.GetContext(ctx, q, &rep.Unsealed, `SELECT count(*) FROM audit_log WHERE seq IS NULL`); err != nil {
		return rep, fmt.Errorf("verify audit log: %w", err)
	}
	rep.OK = len(rep.Breaks) == 0
	return rep, nil
}
