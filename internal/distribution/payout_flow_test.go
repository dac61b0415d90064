package distribution

import (
	"fmt"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"hehuo/internal/civil"
	"hehuo/internal/ledger"
	"hehuo/internal/ledger/ledgertest"
	"hehuo/internal/workflow"
)

// The whole way through the approval effect: R6's principal batch agreed in
// DingTalk (the event delivered twice) queues one 分配通知 per payee, once;
// then every line is paid out (登记打款) and the payable accounts the
// approval credited are cleared to the fen, the bank down by Σ E, the batch
// paid, the ledger reconciling.
func TestApprovedBatchQueuesNoticesOnceAndPaysOut(t *testing.T) {
	f := newFixture(t)
	for i, p := range f.partners {
		must(t, exec(f.d, `UPDATE users SET dingtalk_userid = $2 WHERE id = (SELECT user_id FROM partners WHERE id = $1)`, p, fmt.Sprintf("dt_payee_%d", i)))
		// A confirmed account (the number is not needed to register a payout).
		must(t, exec(f.d, `INSERT INTO payout_accounts (user_id, bank, branch, holder, number_enc, number_last4, status, confirmed_at)
			SELECT user_id, '招商银行', '泰安分行', name, 'v1:sealed', '1234', 'confirmed', now() FROM partners WHERE id = $1`, p))
	}
	id := f.batch(KindPrincipal, 1, StatusReviewed, "1", false, r6Lines())
	inst, err := f.launch(workflow.KindPrincipalDistribution, id, nil)
	must(t, err)
	ev := f.decide(inst, "agree")
	f.redeliver(ev)
	must(t, f.d.InTx(f.ctx, func(tx *sqlx.Tx) error { return f.s.approve(f.ctx, tx, inst) }))

	// One notice addressing the four payees (one DingTalk call).
	if n := count(t, f.d, `SELECT count(*) FROM notify_outbox WHERE dedupe_key LIKE $1`, noticePrefix(id)+"%"); n != 1 {
		t.Fatalf("%d notices, want one for the batch's 4 payees", n)
	}
	if n := count(t, f.d, `SELECT count(*) FROM notify_deliveries d JOIN notify_outbox o ON o.id = d.outbox_id WHERE o.dedupe_key LIKE $1`,
		noticePrefix(id)+"%"); n != 4 {
		t.Fatalf("%d recipients, want one per payee (4)", n)
	}
	// 2024-12-20 09:00 is past: they go now.
	if n := count(t, f.d, `SELECT count(*) FROM notify_outbox WHERE dedupe_key LIKE $1 AND not_before > now() + interval '1 minute'`,
		noticePrefix(id)+"%"); n != 0 {
		t.Fatalf("%d notices held back after their day", n)
	}

	bankBefore, err := ledger.Balance(f.ctx, f.d, ledger.Bank(f.project))
	must(t, err)
	on := civil.Today(time.Now())
	var last Payout
	for i, p := range f.partners {
		last, err = f.s.RegisterPayout(f.ctx, f.actor, id, fmt.Sprintf("flow-%d", i), PayoutInput{PartnerID: p, PaidOn: on})
		must(t, err)
		if want := d(r3Principal[i]).Add(d(r4B[i])).StringFixed(2); last.PaidAmount.String() != want {
			t.Fatalf("partner %d paid %s, want %s", i, last.PaidAmount, want)
		}
	}
	if last.BatchStatus != StatusPaid {
		t.Fatalf("after every line: %s", last.BatchStatus)
	}
	bal := f.balances()
	for _, p := range f.partners {
		if v := bal[ledger.Payable(f.project, p)]; !v.IsZero() {
			t.Errorf("payable of %d = %s after the payout", p, v)
		}
	}
	// Σ E = 1,320,000 − 3,069.69.
	if got := bankBefore.Sub(bal[ledger.Bank(f.project)]); got.StringFixed(2) != "1316930.31" {
		t.Fatalf("bank paid out %s, want 1316930.31", got)
	}
	ledgertest.AssertReconciles(t, f.d)
}
