package project_test

import (
	"context"
	"testing"

	"hehuo/internal/apperr"
	"hehuo/internal/db/dbtest"
	"hehuo/internal/holding/holdingtest"
	"hehuo/internal/project"
)

// Writable: open and not settled passes; settled is read-only whether open
// or not; not open is not live yet; a missing project is 404.
func TestWritable(t *testing.T) {
	d := dbtest.New(t)
	city := holdingtest.CityCompany(t, d, "环沪城市公司")
	ctx := context.Background()
	for _, c := range []struct {
		open, settled bool
		code          string
	}{
		{true, false, ""},
		{false, false, "project_not_open"},
		{true, true, "project_settled"},
		{false, true, "project_settled"},
	} {
		id := holdingtest.Project(t, d, city, "项目"+map[bool]string{true: "开", false: "关"}[c.open]+map[bool]string{true: "清", false: "未"}[c.settled])
		if _, err := d.Exec(`UPDATE projects SET is_open = $2, is_settled = $3 WHERE id = $1`, id, c.open, c.settled); err != nil {
			t.Fatal(err)
		}
		err := project.Writable(ctx, d, id)
		if c.code == "" {
			if err != nil {
				t.Errorf("open %v settled %v: %v, want writable", c.open, c.settled, err)
			}
			continue
		}
		if e := apperr.As(err); e == nil || e.Kind != apperr.KindRule || e.Code != c.code {
			t.Errorf("open %v settled %v: %v, want %s", c.open, c.settled, err, c.code)
		}
	}
	if e := apperr.As(project.Writable(ctx, d, 999999)); e == nil || e.Code != "project_not_found" {
		t.Errorf("missing project: %v", e)
	}
}
