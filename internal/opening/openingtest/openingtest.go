// Package openingtest is the seed's 34-line table (its chapter on manual
// profit distribution) as opening balances: the rows, the users they name,
// the .xlsx and a builder that imports it into a project, for the tests of
// opening balances and of the distributions built on them.
package openingtest

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/xuri/excelize/v2"

	"hehuo/internal/audit"
	"hehuo/internal/db"
	"hehuo/internal/opening"
)

// Row is one partner of the sheet: name, 退/离 flags, A (principal paid)
// and B (capital interest to date, ≤ 0), plus what the sheet's other
// columns carry (empty: 0).
type Row struct {
	Name     string
	Exited   bool
	Left     bool
	Paid     string // A
	Interest string // B
	Returned string
	Profit   string
	// Account is the DingTalk userid; Seed leaves it empty and Users fills it.
	Account string
}

// The seed's totals: Σ A and Σ B.
const (
	SeedPaid     = "8570917.00"
	SeedInterest = "-1119979.05"
	// PaidOn is the payment date every seed row carries (the seed shows none).
	PaidOn = "2019-11-15"
)

// Seed returns the 34 rows of the seed's table, in its order (序号 1–34).
func Seed() []Row {
	return []Row{
		{Name: "史伟", Exited: true, Left: false, Paid: "746428.00", Interest: "-309818.50"},
		{Name: "金涛", Exited: false, Left: true, Paid: "288940.00", Interest: "-111573.50"},
		{Name: "王磊", Exited: true, Left: true, Paid: "57788.00", Interest: "-19442.10"},
		{Name: "刘乔", Exited: true, Left: false, Paid: "288940.00", Interest: "-102074.11"},
		{Name: "周峰", Exited: true, Left: false, Paid: "28894.00", Interest: "-9760.63"},
		{Name: "马海明", Exited: true, Left: false, Paid: "28894.00", Interest: "-9800.21"},
		{Name: "崔振涛", Exited: true, Left: false, Paid: "28894.00", Interest: "-9760.63"},
		{Name: "李瑾", Exited: true, Left: false, Paid: "28894.00", Interest: "-9681.47"},
		{Name: "牛甲明", Exited: false, Left: false, Paid: "28894.00", Interest: "-10199.50"},
		{Name: "肖鹏", Exited: false, Left: false, Paid: "28894.00", Interest: "-10207.42"},
		{Name: "贾开航", Exited: true, Left: false, Paid: "28894.00", Interest: "-9760.63"},
		{Name: "刘伟", Exited: false, Left: false, Paid: "144470.00", Interest: "-63484.70"},
		{Name: "许之茂", Exited: false, Left: false, Paid: "5779.00", Interest: "-2031.97"},
		{Name: "钟杨", Exited: true, Left: false, Paid: "5779.00", Interest: "-1936.28"},
		{Name: "郭萍", Exited: true, Left: true, Paid: "5779.00", Interest: "-1983.78"},
		{Name: "何天友", Exited: true, Left: false, Paid: "96313.00", Interest: "-42375.91"},
		{Name: "苏萧龙", Exited: false, Left: false, Paid: "96313.00", Interest: "-42296.75"},
		{Name: "任闽涛", Exited: false, Left: false, Paid: "144470.00", Interest: "-63484.70"},
		{Name: "高光明", Exited: true, Left: false, Paid: "28894.00", Interest: "-9800.21"},
		{Name: "陈家仁", Exited: false, Left: false, Paid: "28894.00", Interest: "-10183.67"},
		{Name: "陈剑雄", Exited: false, Left: false, Paid: "28894.00", Interest: "-10413.24"},
		{Name: "朱开龙", Exited: false, Left: false, Paid: "86682.00", Interest: "-31999.67"},
		{Name: "黄荣健", Exited: false, Left: false, Paid: "28894.00", Interest: "-10397.41"},
		{Name: "谢顺", Exited: true, Left: true, Paid: "57788.00", Interest: "-19442.10"},
		{Name: "刘文峰", Exited: true, Left: false, Paid: "57788.00", Interest: "-19283.78"},
		{Name: "郑家强", Exited: false, Left: false, Paid: "2889397.00", Interest: "-15427.01"},
		{Name: "陈航斌", Exited: false, Left: false, Paid: "2889397.00", Interest: "-15427.01"},
		{Name: "张虎臣", Exited: false, Left: false, Paid: "28894.00", Interest: "-10524.07"},
		{Name: "杨泽强", Exited: false, Left: false, Paid: "28894.00", Interest: "-10508.23"},
		{Name: "寇彦玲", Exited: false, Left: false, Paid: "28894.00", Interest: "-10476.57"},
		{Name: "林宏", Exited: false, Left: false, Paid: "28894.00", Interest: "-10476.57"},
		{Name: "张秉建", Exited: true, Left: true, Paid: "5779.00", Interest: "-1983.78"},
		{Name: "徐慎亮", Exited: true, Left: true, Paid: "240783.00", Interest: "-94400.21"},
		{Name: "毛嘉麟", Exited: true, Left: true, Paid: "28894.00", Interest: "-9562.73"},
	}
}

// Status is the 状态 cell of a row.
func (r Row) Status() string {
	switch {
	case r.Exited && r.Left:
		return "离 退"
	case r.Exited:
		return "退"
	case r.Left:
		return "离"
	}
	return ""
}

// Users creates a user for each row (DingTalk userid seed-opening-NN unless
// the row names one) and returns the rows with their accounts and the user
// ids, in order.
func Users(t testing.TB, d *db.DB, rows []Row) ([]Row, []int64) {
	t.Helper()
	out := make([]Row, len(rows))
	ids := make([]int64, len(rows))
	for i, r := range rows {
		if r.Account == "" {
			r.Account = fmt.Sprintf("seed-opening-%02d", i+1)
		}
		if err := d.Get(&ids[i], `INSERT INTO users (name, dingtalk_userid) VALUES ($1, $2) RETURNING id`, r.Name, r.Account); err != nil {
			t.Fatalf("opening user %s: %v", r.Name, err)
		}
		out[i] = r
	}
	return out, ids
}

// XLSX is the opening-balance sheet of rows (with the 状态 column).
func XLSX(t testing.TB, rows []Row) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	head := make([]any, len(opening.Columns))
	for i, c := range opening.Columns {
		head[i] = c
	}
	f.SetSheetRow("Sheet1", "A1", &head)
	for i, r := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+2)
		f.SetSheetRow("Sheet1", cell, &[]any{r.Name, r.Account, r.Paid, PaidOn, r.Interest, r.Returned, r.Profit, r.Status()})
	}
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// Imported is what Import built.
type Imported struct {
	Import   opening.Import
	Rows     []Row   // the rows with their DingTalk accounts
	UserIDs  []int64 // per row
	Partners []int64 // per row
	File     []byte
}

// Import creates the users of the seed's 34 rows and imports them as
// projectID's opening balances (as the system actor).
func Import(t testing.TB, d *db.DB, projectID int64) Imported {
	t.Helper()
	rows, users := Users(t, d, Seed())
	file := XLSX(t, rows)
	imp, err := opening.NewService(d).Import(context.Background(), audit.System, projectID, "期初数据.xlsx", bytes.NewReader(file))
	if err != nil {
		t.Fatalf("opening import: %v", err)
	}
	partners := make([]int64, len(users))
	for i, u := range users {
		if err := d.Get(&partners[i], `SELECT id FROM partners WHERE user_id = $1`, u); err != nil {
			t.Fatal(err)
		}
	}
	return Imported{Import: imp, Rows: rows, UserIDs: users, Partners: partners, File: file}
}
