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

// Seed returns the 34 rows of the seed's table, in its order (序号 1–34): the
// seed's flags and amounts under invented names (never the manual's).
func Seed() []Row {
	return []Row{
		{Name: "安景和", Exited: true, Left: false, Paid: "746428.00", Interest: "-309818.50"},
		{Name: "柏若川", Exited: false, Left: true, Paid: "288940.00", Interest: "-111573.50"},
		{Name: "蔡知微", Exited: true, Left: true, Paid: "57788.00", Interest: "-19442.10"},
		{Name: "曾远舟", Exited: true, Left: false, Paid: "288940.00", Interest: "-102074.11"},
		{Name: "戴清漪", Exited: true, Left: false, Paid: "28894.00", Interest: "-9760.63"},
		{Name: "邓书衡", Exited: true, Left: false, Paid: "28894.00", Interest: "-9800.21"},
		{Name: "杜若衡", Exited: true, Left: false, Paid: "28894.00", Interest: "-9760.63"},
		{Name: "范星澜", Exited: true, Left: false, Paid: "28894.00", Interest: "-9681.47"},
		{Name: "冯予安", Exited: false, Left: false, Paid: "28894.00", Interest: "-10199.50"},
		{Name: "高念慈", Exited: false, Left: false, Paid: "28894.00", Interest: "-10207.42"},
		{Name: "葛云深", Exited: true, Left: false, Paid: "28894.00", Interest: "-9760.63"},
		{Name: "顾南乔", Exited: false, Left: false, Paid: "144470.00", Interest: "-63484.70"},
		{Name: "郝思远", Exited: false, Left: false, Paid: "5779.00", Interest: "-2031.97"},
		{Name: "洪一苇", Exited: true, Left: false, Paid: "5779.00", Interest: "-1936.28"},
		{Name: "胡听松", Exited: true, Left: true, Paid: "5779.00", Interest: "-1983.78"},
		{Name: "纪南风", Exited: true, Left: false, Paid: "96313.00", Interest: "-42375.91"},
		{Name: "江映月", Exited: false, Left: false, Paid: "96313.00", Interest: "-42296.75"},
		{Name: "金石开", Exited: false, Left: false, Paid: "144470.00", Interest: "-63484.70"},
		{Name: "康宁远", Exited: true, Left: false, Paid: "28894.00", Interest: "-9800.21"},
		{Name: "黎明澈", Exited: false, Left: false, Paid: "28894.00", Interest: "-10183.67"},
		{Name: "梁语冰", Exited: false, Left: false, Paid: "28894.00", Interest: "-10413.24"},
		{Name: "凌霜降", Exited: false, Left: false, Paid: "86682.00", Interest: "-31999.67"},
		{Name: "鲁怀瑾", Exited: false, Left: false, Paid: "28894.00", Interest: "-10397.41"},
		{Name: "吕望川", Exited: true, Left: true, Paid: "57788.00", Interest: "-19442.10"},
		{Name: "马嘉言", Exited: true, Left: false, Paid: "57788.00", Interest: "-19283.78"},
		{Name: "聂青崖", Exited: false, Left: false, Paid: "2889397.00", Interest: "-15427.01"},
		{Name: "潘月白", Exited: false, Left: false, Paid: "2889397.00", Interest: "-15427.01"},
		{Name: "彭知行", Exited: false, Left: false, Paid: "28894.00", Interest: "-10524.07"},
		{Name: "齐思源", Exited: false, Left: false, Paid: "28894.00", Interest: "-10508.23"},
		{Name: "任秋水", Exited: false, Left: false, Paid: "28894.00", Interest: "-10476.57"},
		{Name: "沈静姝", Exited: false, Left: false, Paid: "28894.00", Interest: "-10476.57"},
		{Name: "施云起", Exited: true, Left: true, Paid: "5779.00", Interest: "-1983.78"},
		{Name: "陶然之", Exited: true, Left: true, Paid: "240783.00", Interest: "-94400.21"},
		{Name: "汪海宁", Exited: true, Left: true, Paid: "28894.00", Interest: "-9562.73"},
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
