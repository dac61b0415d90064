package distribution

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"hehuo/internal/audit"
	"hehuo/internal/establishment"
	"hehuo/internal/workflow"

	"hehuo/internal/db"
	"hehuo/internal/db/dbtest"
	"hehuo/internal/ledger/ledgertest"
	"hehuo/internal/position/positiontest"
)

// benchPartners is the size of the benchmark's batch.
const benchPartners = 10000

// benchWorld seeds one open project whose 10,000 partners paid 66,000 each
// on 2024-03-20 (funding date 2024-03-01, 4.35%: B = −149.45 each), with an
// agreed actual peak and a DingTalk account and a confirmed payout account
// per partner: what a principal batch needs before it can be calculated
// and submitted, and whom its approval queues 分配通知 for.
func benchWorld(tb testing.TB) (*db.DB, int64) {
	tb.Helper()
	d := dbtest.New(tb)
	positiontest.Seed(tb, d, positiontest.World{Projects: 1, PerRound: benchPartners, Partners: benchPartners})
	project := int64(positiontest.Base + 1)
	ctx := context.Background()
	err := d.InTx(ctx, func(tx *sqlx.Tx) error {
		_, err := tx.ExecContext(ctx, fmt.Sprintf(`
			UPDATE projects SET is_open = true WHERE id = %[1]d;
			UPDATE users SET dingtalk_userid = 'bench_' || id WHERE id > %[2]d;
			INSERT INTO actual_peaks (project_id, actual_peak_capital, reason, status, agreed_at, created_by_name)
				VALUES (%[1]d, 220000000, '基准', 'agreed', now(), '基准');
			INSERT INTO payout_accounts (user_id, bank, branch, holder, number_enc, number_last4, status, confirmed_at)
				SELECT id, '招商银行', '常州分行', name, 'v1:bench', '1234', 'confirmed', now() FROM users WHERE id > %[2]d;`,
			project, positiontest.Base))
		return err
	})
	if err != nil {
		tb.Fatalf("bench world: %v", err)
	}
	if _, err := d.ExecContext(ctx, `ANALYZE`); err != nil {
		tb.Fatal(err)
	}
	return d, project
}

// copyLines is the floor the batch is set beside: a COPY of as many rows,
// shaped like distribution lines, into a scratch table, in one transaction.
func copyLines(tb testing.TB, d *db.DB, n int) time.Duration {
	tb.Helper()
	ctx := context.Background()
	start := time.Now()
	err := d.InTx(ctx, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, `CREATE TEMP TABLE scratch_lines (batch_id bigint, partner_id bigint, user_id bigint,
			payee_partner_id bigint, seq integer, a numeric(20,2), b numeric(20,2), c numeric(20,2), d numeric(20,2),
			e numeric(20,2), f numeric(20,2), trace jsonb) ON COMMIT DROP`); err != nil {
			return err
		}
		stmt, err := tx.PrepareContext(ctx, pq.CopyIn("scratch_lines", "batch_id", "partner_id", "user_id", "payee_partner_id",
			"seq", "a", "b", "c", "d", "e", "f", "trace"))
		if err != nil {
			return err
		}
		for i := 1; i <= n; i++ {
			p := int64(positiontest.Base + i)
			if _, err := stmt.ExecContext(ctx, 1, p, p, p, i, "66000.00", "-149.45", "0.00", "65850.55", "65850.55", "0.00",
				`[{"name":"d","value":"65850.55"}]`); err != nil {
				return err
			}
		}
		if _, err := stmt.ExecContext(ctx); err != nil {
			return err
		}
		return stmt.Close()
	})
	if err != nil {
		tb.Fatalf("copy %d rows: %v", n, err)
	}
	return time.Since(start)
}

// A principal batch for 10,000 partners, calculated and persisted with its
// postings: create → calculate → save → submit → review → the process's
// Launched and Agreed effects (in approval, then approved: one ledger
// transaction of 20,001 postings and 10,000 分配通知 queued), timed as one
// and per step; set beside a COPY of as many rows into a scratch table
// (reported, not gating; target < 300 ms). The ratio is the measure,
// not a like-for-like one: the path writes about nine times the COPY's rows
// (lines inserted then updated, 10,000 new payable accounts, 20,001
// postings, 20,001 balance rows written (10,001 new), 10,000 notices and
// their deliveries, each with its foreign keys and indexes), reads the positions of every partner on
// create, calculate, save and submit (save and submit recompute the
// calculation to refuse a stale one), and commits five transactions.
//
//	go test ./internal/distribution -run '^$' -bench PrincipalBatch10000 -benchtime 3x
func BenchmarkPrincipalBatch10000(b *testing.B) {
	ctx := context.Background()
	acctID, bizID := int64(0), int64(0)
	var batchTotal, copyTotal time.Duration
	// stepTotal sums each step over the iterations, reported per step so a
	// change shows where the time went (approve: the process's Launched and
	// Agreed effects, the ledger posting and the notices).
	stepNames := []string{"create", "calculate", "save", "submit", "review", "approve"}
	stepTotal := map[string]time.Duration{}
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		d, project := benchWorld(b)
		if err := d.Get(&acctID, `INSERT INTO users (name) VALUES ('基准会计') RETURNING id`); err != nil {
			b.Fatal(err)
		}
		if err := d.Get(&bizID, `INSERT INTO users (name) VALUES ('基准业务管理员') RETURNING id`); err != nil {
			b.Fatal(err)
		}
		acct := audit.Actor{ID: &acctID, Name: "基准会计"}
		biz := audit.Actor{ID: &bizID, Name: "基准业务管理员"}
		s := NewService(d, establishment.NewService(d, nil), nil)
		day, ratio := "2025-06-30", "1"
		b.StartTimer()

		start := time.Now()
		batch, err := s.CreateBatch(ctx, acct, project, CreateInput{Kind: string(KindPrincipal),
			BatchFields: BatchFields{DistributionDate: &day, RecordDate: &day, ReturnRatio: &ratio}})
		if err != nil {
			b.Fatal(err)
		}
		last := time.Now()
		steps := map[string]time.Duration{"create": last.Sub(start)}
		step := func(what string, f func() (Batch, error)) {
			if batch, err = f(); err != nil {
				b.Fatalf("%s: %v", what, err)
			}
			steps[what] = time.Since(last)
			last = time.Now()
		}
		step("calculate", func() (Batch, error) { return s.Calculate(ctx, acct, batch.ID, CalculateInput{Version: batch.Version}) })
		step("save", func() (Batch, error) { return s.Save(ctx, acct, batch.ID, VersionInput{Version: batch.Version}) })
		step("submit", func() (Batch, error) { return s.Submit(ctx, acct, batch.ID, VersionInput{Version: batch.Version}) })
		step("review", func() (Batch, error) {
			return s.Review(ctx, biz, batch.ID, ReviewInput{Approve: true, Version: batch.Version})
		})
		effect := s.batchEffect(KindPrincipal)
		inst := workflow.Instance{ID: 1, ProjectID: project, SubjectID: batch.ID, Kind: workflow.KindPrincipalDistribution}
		if err := d.InTx(ctx, func(tx *sqlx.Tx) error {
			if err := effect.Launched(ctx, tx, inst); err != nil {
				return err
			}
			return effect.Agreed(ctx, tx, inst)
		}); err != nil {
			b.Fatalf("approval: %v", err)
		}
		took := time.Since(start)
		b.StopTimer()
		steps["approve"] = time.Since(last)
		b.Logf("steps: %v", steps)

		batch, err = s.Get(ctx, batch.ID)
		if err != nil || batch.Status != StatusApproved || len(batch.Lines) != benchPartners ||
			batch.Totals.D.StringFixed(2) != "658505500.00" {
			b.Fatalf("approved batch: %s, %d lines, D %s (%v)", batch.Status, len(batch.Lines), batch.Totals.D.StringFixed(2), err)
		}
		var notices int
		if err := d.Get(&notices, `SELECT count(*) FROM notify_deliveries d JOIN notify_outbox o ON o.id = d.outbox_id WHERE o.dedupe_key LIKE $1`, noticePrefix(batch.ID)+"%"); err != nil || notices != benchPartners {
			b.Fatalf("分配通知 queued: %d (%v), want one per partner", notices, err)
		}
		ledgertest.AssertReconciles(b, d)
		copied := copyLines(b, d, benchPartners)
		batchTotal, copyTotal = batchTotal+took, copyTotal+copied
		for k, v := range steps {
			stepTotal[k] += v
		}
		b.StartTimer()
	}
	batchMS := float64(batchTotal.Microseconds()) / 1000 / float64(b.N)
	copyMS := float64(copyTotal.Microseconds()) / 1000 / float64(b.N)
	var per strings.Builder
	for _, k := range stepNames {
		ms := float64(stepTotal[k].Microseconds()) / 1000 / float64(b.N)
		b.ReportMetric(ms, k+"-ms")
		fmt.Fprintf(&per, " %s %.0f ms,", k, ms)
	}
	b.ReportMetric(batchMS, "batch-ms")
	b.ReportMetric(copyMS, "copy-ms")
	b.ReportMetric(batchMS/copyMS, "x-copy")
	b.Logf("principal batch of %d partners: %.1f ms (target < 300 ms:%s); COPY of as many rows: %.1f ms; ratio %.1f×",
		benchPartners, batchMS, strings.TrimSuffix(per.String(), ","), copyMS, batchMS/copyMS)
}
