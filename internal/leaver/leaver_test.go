package leaver_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"hehuo/internal/audit"
	"hehuo/internal/db"
	"hehuo/internal/db/dbtest"
	"hehuo/internal/holding/holdingtest"
	"hehuo/internal/leaver"
	"hehuo/internal/org"
)

func record(t *testing.T, d *db.DB, users ...int64) int {
	t.Helper()
	var n int
	if err := d.InTx(context.Background(), func(tx *sqlx.Tx) error {
		var err error
		n, err = leaver.Record(context.Background(), tx, users, time.Now())
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return n
}

// Record keeps the users who still hold principal, alerts each city company
// of their projects once with their names only, and never twice; a payment
// that was reversed holds nothing.
func TestRecordAlertsHoldersOnce(t *testing.T) {
	ctx := context.Background()
	d := dbtest.New(t)
	orgs := org.NewService(d)
	cityA, cityB := holdingtest.CityCompany(t, d, "环沪城市公司"), holdingtest.CityCompany(t, d, "昆明城市公司")
	projA, projB := holdingtest.Project(t, d, cityA, "常州项目"), holdingtest.Project(t, d, cityB, "昆明项目")
	user := func(name string) (int64, int64) {
		u, err := orgs.CreateUser(ctx, audit.System, org.UserInput{Name: name})
		if err != nil {
			t.Fatal(err)
		}
		return u.ID, holdingtest.Partner(t, d, u.ID)
	}
	zhang, zhangP := user("张离职")
	li, liP := user("李冲销")
	wang, wangP := user("王两城")
	holdingtest.Pay(t, d, projA, zhangP, "300000.00")
	holdingtest.Reverse(t, d, holdingtest.Pay(t, d, projA, liP, "100000.00"))
	holdingtest.Pay(t, d, projA, wangP, "50000.00")
	holdingtest.Pay(t, d, projB, wangP, "60000.00")

	if n := record(t, d, zhang, li, wang); n != 2 {
		t.Fatalf("recorded %d, want 2 (张, 王)", n)
	}
	var notices []struct {
		OrgUnitID int64  `db:"org_unit_id"`
		Data      string `db:"data"`
	}
	if err := d.Select(&notices, `SELECT org_unit_id, data::text AS data FROM notify_outbox WHERE template = 'exit_candidates' ORDER BY org_unit_id`); err != nil {
		t.Fatal(err)
	}
	if len(notices) != 2 || notices[0].OrgUnitID != cityA || notices[1].OrgUnitID != cityB ||
		!strings.Contains(notices[0].Data, "张离职") || !strings.Contains(notices[0].Data, "王两城") ||
		strings.Contains(notices[1].Data, "张离职") || !strings.Contains(notices[1].Data, "王两城") ||
		strings.Contains(notices[0].Data, "李冲销") || strings.Contains(notices[0].Data, "300000") {
		t.Fatalf("notices = %+v", notices)
	}
	if n := record(t, d, zhang, wang); n != 0 {
		t.Fatalf("recorded again: %d", n)
	}
	var count int
	d.Get(&count, `SELECT count(*) FROM notify_outbox WHERE template = 'exit_candidates'`)
	if count != 2 {
		t.Fatalf("%d alerts after a second record, want 2", count)
	}

	// The list shows disabled users only, with the projects of the scope.
	if _, err := d.Exec(`UPDATE users SET disabled_at = now() WHERE id = ANY(ARRAY[$1, $2]::bigint[])`, zhang, wang); err != nil {
		t.Fatal(err)
	}
	s := leaver.NewService(d)
	all, err := s.List(ctx, true, nil)
	if err != nil || len(all) != 2 {
		t.Fatalf("all = %+v, %v", all, err)
	}
	onlyB, err := s.List(ctx, false, func(id int64) bool { return id == projB })
	if err != nil || len(onlyB) != 1 || onlyB[0].UserID != wang || len(onlyB[0].Projects) != 1 ||
		onlyB[0].Projects[0].ProjectID != projB || onlyB[0].Projects[0].Held.String() != "60000.00" {
		t.Fatalf("city B's view = %+v, %v", onlyB, err)
	}
}
