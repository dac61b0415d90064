package notify_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/prometheus/client_golang/prometheus"

	"hehuo/internal/apperr"
	"hehuo/internal/audit"
	"hehuo/internal/db"
	"hehuo/internal/db/dbtest"
	"hehuo/internal/notify"
)

// enqueue runs notify.Enqueue in a transaction of its own.
func enqueue(t testing.TB, d *db.DB, n notify.Notice) (int64, bool) {
	t.Helper()
	var id int64
	var created bool
	err := d.InTx(context.Background(), func(tx *sqlx.Tx) error {
		var err error
		id, created, err = notify.Enqueue(context.Background(), tx, n)
		return err
	})
	if err != nil {
		t.Fatalf("enqueue %s: %v", n.DedupeKey, err)
	}
	return id, created
}

func count(t testing.TB, d *db.DB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := d.Get(&n, query, args...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

func users(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("user%04d", i+1)
	}
	return out
}

// testNotice is a work notice whose text is unique to key.
func testNotice(key string, recipients []string) notify.Notice {
	return notify.Notice{Kind: notify.KindWorkNotice, Recipients: recipients, Template: "test_message",
		Data: map[string]any{"sent_at": key, "operator": "测试"}, DedupeKey: key}
}

func TestEnqueueRolledBackLeavesNothing(t *testing.T) {
	d := dbtest.New(t)
	boom := errors.New("business step failed")
	err := d.InTx(context.Background(), func(tx *sqlx.Tx) error {
		if _, _, err := notify.Enqueue(context.Background(), tx, testNotice("k1", users(3))); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("got %v, want the business error", err)
	}
	if n := count(t, d, `SELECT count(*) FROM notify_outbox`); n != 0 {
		t.Fatalf("outbox rows after rollback: got %d, want 0", n)
	}
	if n := count(t, d, `SELECT count(*) FROM notify_deliveries`); n != 0 {
		t.Fatalf("deliveries after rollback: got %d, want 0", n)
	}
}

func TestEnqueueDedupesKeyAndRecipients(t *testing.T) {
	d := dbtest.New(t)
	id1, created := enqueue(t, d, testNotice("pay:1:2026-11-26", []string{"u1", "u2", " u1 ", "u3", "u2"}))
	if !created {
		t.Fatal("first enqueue: created false")
	}
	id2, created := enqueue(t, d, testNotice("pay:1:2026-11-26", []string{"u9"}))
	if created || id2 != id1 {
		t.Fatalf("second enqueue: got id %d created %v, want %d false", id2, created, id1)
	}
	if n := count(t, d, `SELECT count(*) FROM notify_outbox`); n != 1 {
		t.Fatalf("outbox rows: got %d, want 1", n)
	}
	var got []string
	if err := d.Select(&got, `SELECT recipient FROM notify_deliveries WHERE outbox_id = $1 ORDER BY recipient`, id1); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != "[u1 u2 u3]" {
		t.Fatalf("deliveries: got %v, want [u1 u2 u3]", got)
	}
	// The same key of the other kind is another notice.
	ou := mustOrgUnit(t, d, "城市公司A")
	_, created = enqueue(t, d, notify.Notice{Kind: notify.KindRobot, OrgUnitID: &ou, Template: "approval_result", DedupeKey: "pay:1:2026-11-26"})
	if !created {
		t.Fatal("robot notice with a work notice's key: created false, want true")
	}
}

func mustOrgUnit(t testing.TB, d *db.DB, name string) int64 {
	t.Helper()
	var id int64
	if err := d.Get(&id, `INSERT INTO org_units (name, kind) VALUES ($1, 'city') RETURNING id`, name); err != nil {
		t.Fatalf("org unit: %v", err)
	}
	return id
}

func TestEnqueueRejectsBadNotices(t *testing.T) {
	d := dbtest.New(t)
	ou := int64(424242)
	long := make([]byte, 201)
	for i := range long {
		long[i] = 'k'
	}
	cases := []struct {
		name string
		n    notify.Notice
		code string
	}{
		{"unknown kind", notify.Notice{Kind: "sms", Recipients: []string{"u1"}, Template: "test_message", DedupeKey: "k"}, "notice_kind_invalid"},
		{"no template", notify.Notice{Kind: notify.KindWorkNotice, Recipients: []string{"u1"}, DedupeKey: "k"}, "notice_template_required"},
		{"no dedupe key", notify.Notice{Kind: notify.KindWorkNotice, Recipients: []string{"u1"}, Template: "test_message", DedupeKey: "  "}, "notice_dedupe_key_required"},
		{"dedupe key too long", notify.Notice{Kind: notify.KindWorkNotice, Recipients: []string{"u1"}, Template: "test_message", DedupeKey: string(long)}, "notice_dedupe_key_too_long"},
		{"no recipients", notify.Notice{Kind: notify.KindWorkNotice, Template: "test_message", DedupeKey: "k"}, "notice_recipients_required"},
		{"blank recipient", notify.Notice{Kind: notify.KindWorkNotice, Recipients: []string{"u1", ""}, Template: "test_message", DedupeKey: "k"}, "notice_recipient_empty"},
		{"comma in recipient", notify.Notice{Kind: notify.KindWorkNotice, Recipients: []string{"u1,u2"}, Template: "test_message", DedupeKey: "k"}, "notice_recipient_invalid"},
		{"work notice with org unit", notify.Notice{Kind: notify.KindWorkNotice, Recipients: []string{"u1"}, OrgUnitID: &ou, Template: "test_message", DedupeKey: "k"}, "notice_org_unit_unexpected"},
		{"robot without org unit", notify.Notice{Kind: notify.KindRobot, Template: "approval_result", DedupeKey: "k"}, "notice_org_unit_required"},
		{"robot with recipients", notify.Notice{Kind: notify.KindRobot, OrgUnitID: &ou, Recipients: []string{"u1"}, Template: "approval_result", DedupeKey: "k"}, "notice_recipients_unexpected"},
		{"robot of a missing org unit", notify.Notice{Kind: notify.KindRobot, OrgUnitID: &ou, Template: "approval_result", DedupeKey: "k"}, "org_unit_not_found"},
		{"unknown template", notify.Notice{Kind: notify.KindWorkNotice, Recipients: []string{"u1"}, Template: "no_such", DedupeKey: "k"}, "notice_template_unknown"},
		{"robot template as work notice", notify.Notice{Kind: notify.KindWorkNotice, Recipients: []string{"u1"}, Template: "approval_result", DedupeKey: "k"}, "notice_template_kind"},
		{"data that is not JSON", notify.Notice{Kind: notify.KindWorkNotice, Recipients: []string{"u1"}, Template: "test_message", DedupeKey: "k", Data: map[string]any{"f": func() {}}}, "notice_data_invalid"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := d.InTx(context.Background(), func(tx *sqlx.Tx) error {
				_, _, err := notify.Enqueue(context.Background(), tx, c.n)
				return err
			})
			e := apperr.As(err)
			if e == nil || e.Code != c.code || e.Kind != apperr.KindInvalid {
				t.Fatalf("got %v, want invalid %s", err, c.code)
			}
			if e.Message == "" || e.Message[0] < 0x80 {
				t.Fatalf("message %q: want Chinese", e.Message)
			}
		})
	}
	if n := count(t, d, `SELECT count(*) FROM notify_outbox`); n != 0 {
		t.Fatalf("outbox rows: got %d, want 0", n)
	}
}

func TestListGetRetryStats(t *testing.T) {
	d := dbtest.New(t)
	s := newService(t, d, nil)
	ctx := context.Background()
	id1, _ := enqueue(t, d, testNotice("a", users(2)))
	id2, _ := enqueue(t, d, testNotice("b", users(3)))
	if _, err := d.Exec(`UPDATE notify_outbox SET status = 'dead', attempts = 8, last_error = 'busy' WHERE id = $1`, id2); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Exec(`UPDATE notify_deliveries SET status = 'dead' WHERE outbox_id = $1 AND recipient <> 'user0001'`, id2); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Exec(`UPDATE notify_deliveries SET status = 'sent' WHERE outbox_id = $1 AND recipient = 'user0001'`, id2); err != nil {
		t.Fatal(err)
	}

	rows, err := s.List(ctx, notify.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || rows[0].ID != id2 || rows[1].ID != id1 {
		t.Fatalf("list: got %+v, want rows %d, %d", rows, id2, id1)
	}
	if rows[0].Sent != 1 || rows[0].Dead != 2 || rows[1].Pending != 2 {
		t.Fatalf("delivery counts: got %+v / %+v", rows[0], rows[1])
	}
	rows, err = s.List(ctx, notify.Filter{Status: notify.StatusDead})
	if err != nil || len(rows) != 1 || rows[0].ID != id2 {
		t.Fatalf("list dead: got %v %v", rows, err)
	}
	rows, err = s.List(ctx, notify.Filter{Before: id2})
	if err != nil || len(rows) != 1 || rows[0].ID != id1 {
		t.Fatalf("list before: got %v %v", rows, err)
	}
	if _, err := s.List(ctx, notify.Filter{Status: "lost"}); apperr.As(err) == nil || apperr.As(err).Code != "notice_status_invalid" {
		t.Fatalf("bad status: got %v", err)
	}

	st, err := s.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.ByStatus["pending"] != 1 || st.ByStatus["dead"] != 1 || st.ByStatus["sent"] != 0 || st.Deliveries["dead"] != 2 || st.OldestDueAt == nil {
		t.Fatalf("stats: got %+v", st)
	}

	// The same figures reach Prometheus.
	reg := prometheus.NewRegistry()
	reg.MustRegister(s.Collector())
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	gauges := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			name := mf.GetName()
			for _, l := range m.GetLabel() {
				name += "{" + l.GetValue() + "}"
			}
			gauges[name] = m.GetGauge().GetValue() + m.GetCounter().GetValue()
		}
	}
	if gauges["hehuo_notify_outbox{dead}"] != 1 || gauges["hehuo_notify_outbox{pending}"] != 1 || gauges["hehuo_notify_deliveries{dead}"] != 2 {
		t.Fatalf("metrics: got %v", gauges)
	}

	if err := s.Retry(ctx, audit.System, id1); apperr.As(err) == nil || apperr.As(err).Code != "notice_not_retryable" {
		t.Fatalf("retry of a pending notice: got %v, want notice_not_retryable", err)
	}
	if err := s.Retry(ctx, audit.System, 999999); apperr.As(err) == nil || apperr.As(err).Kind != apperr.KindNotFound {
		t.Fatalf("retry of a missing notice: got %v, want not found", err)
	}
	if err := s.Retry(ctx, audit.Actor{Name: "业务管理员"}, id2); err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(ctx, id2)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != notify.StatusPending || got.Attempts != 0 || got.LastError != "" || got.Pending != 2 || got.Sent != 1 || len(got.Deliveries) != 3 {
		t.Fatalf("after retry: got %+v", got)
	}
	if n := count(t, d, `SELECT count(*) FROM audit_log WHERE action = 'notice.retry' AND entity_id = $1 AND actor_name = '业务管理员'`, fmt.Sprint(id2)); n != 1 {
		t.Fatalf("audit entries of the retry: got %d, want 1", n)
	}
	if _, err := s.Get(ctx, 999999); apperr.As(err) == nil || apperr.As(err).Code != "notice_not_found" {
		t.Fatalf("get missing: got %v", err)
	}
}

// EnqueueMany is Enqueue for many at once: each notice with its own
// deliveries, one already enqueued left as it is (its recipients too),
// duplicate recipients once, not_before kept, and nothing on a bad notice.
func TestEnqueueMany(t *testing.T) {
	d := dbtest.New(t)
	ctx := context.Background()
	first, _ := enqueue(t, d, testNotice("many:1", []string{"u1"}))
	later := time.Now().Add(3 * time.Hour).Truncate(time.Second)
	ns := []notify.Notice{testNotice("many:1", []string{"u9"}), testNotice("many:2", []string{"u2", "u2", "u3"}), testNotice("many:3", []string{"u4"})}
	ns[2].NotBefore = later
	var created int
	err := d.InTx(ctx, func(tx *sqlx.Tx) error {
		var err error
		created, err = notify.EnqueueMany(ctx, tx, ns)
		return err
	})
	if err != nil || created != 2 {
		t.Fatalf("EnqueueMany: %d created, %v; want 2", created, err)
	}
	var got []string
	if err := d.Select(&got, `SELECT o.dedupe_key || '=' || string_agg(dl.recipient, ',' ORDER BY dl.recipient) || '/' || o.recipients
		FROM notify_outbox o JOIN notify_deliveries dl ON dl.outbox_id = o.id GROUP BY o.id ORDER BY o.dedupe_key`); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != "[many:1=u1/1 many:2=u2,u3/2 many:3=u4/1]" {
		t.Fatalf("outbox: %v (the first stays %d)", got, first)
	}
	var nb time.Time
	if err := d.Get(&nb, `SELECT not_before FROM notify_outbox WHERE dedupe_key = 'many:3'`); err != nil || !nb.Equal(later) {
		t.Fatalf("not_before %v (%v), want %v", nb, err, later)
	}
	err = d.InTx(ctx, func(tx *sqlx.Tx) error {
		_, err := notify.EnqueueMany(ctx, tx, []notify.Notice{testNotice("many:4", []string{"u5"}), testNotice("many:5", []string{"a,b"})})
		return err
	})
	if err == nil || count(t, d, `SELECT count(*) FROM notify_outbox`) != 3 {
		t.Fatalf("a bad notice among many: %v", err)
	}
}
