package workflow_test

import (
	"context"
	"errors"
	"testing"

	"github.com/jmoiron/sqlx"

	"hehuo/internal/workflow"
)

// An observer of a kind's agreement runs once, after the Agreed effect, in
// the event's transaction: it sees what the effect wrote; while it fails the
// event is not applied (DingTalk delivers it again); a refusal does not run it.
func TestObserverRunsAfterAgreedInTheSameTransaction(t *testing.T) {
	f := newFixture(t)
	fail := true
	f.wf.Observe(workflow.KindPeakCapital, func(ctx context.Context, tx *sqlx.Tx, inst workflow.Instance) error {
		var agreed int
		if err := tx.GetContext(ctx, &agreed, `SELECT count(*) FROM effect_runs WHERE process_id = $1 AND what = 'agreed'`, inst.ID); err != nil {
			return err
		}
		if agreed != 1 {
			return errors.New("observer ran before the Agreed effect")
		}
		if fail {
			return errors.New("observer down")
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO effect_runs VALUES ($1, 'observed', $2)`, inst.ID, inst.InstanceID)
		return err
	})
	inst, err := f.launch(workflow.KindPeakCapital, 0, nil)
	must(t, err)
	eventID, err := f.sim.Decide(inst.InstanceID, "agree")
	must(t, err)
	for _, ev := range f.sim.Events() {
		if ev.ID == eventID {
			if _, err := f.inbox.Accept(f.ctx, ev.ID, ev.Type, f.sim.App().CorpID, ev.Data); err == nil {
				t.Fatal("the event was accepted while its observer fails")
			}
		}
	}
	if got, _ := f.wf.Get(f.ctx, inst.ID); got.Status != workflow.StatusRunning || f.runs(inst.ID, "agreed") != 0 {
		t.Fatalf("a failing observer let the approval through: %+v", got)
	}
	fail = false
	f.redeliver(eventID)
	f.redeliver(eventID)
	if got, _ := f.wf.Get(f.ctx, inst.ID); got.Status != workflow.StatusAgreed || f.runs(inst.ID, "observed") != 1 {
		t.Fatalf("after redelivery: %+v, observed %d times", got, f.runs(inst.ID, "observed"))
	}

	// A refused process runs no observer of agreement.
	dis, err := f.launch(workflow.KindDisclosure, 3, nil)
	must(t, err)
	f.wf.Observe(workflow.KindDisclosure, func(ctx context.Context, tx *sqlx.Tx, inst workflow.Instance) error {
		return errors.New("must not run")
	})
	ev, err := f.sim.Decide(dis.InstanceID, "refuse")
	must(t, err)
	f.redeliver(ev)
	if got, _ := f.wf.Get(f.ctx, dis.ID); got.Status != workflow.StatusRefused {
		t.Fatalf("refused disclosure: %+v", got)
	}
}
