package round

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/jmoiron/sqlx"
	"github.com/xuri/excelize/v2"

	"hehuo/internal/apperr"
	"hehuo/internal/audit"
	"hehuo/internal/civil"
	"hehuo/internal/sheet"
)

// ImportColumns are the headers of the partner-list import (合伙名单导入), in order.
var ImportColumns = []string{"工号", "姓名", "层级", "强投", "认购下限", "认购上限", "截止日期"}

// maxImportRows bounds one import: a round has hundreds of partners, not more.
const maxImportRows = 10000

// tierByName accepts a tier by its Chinese name or its code.
var tierByName = map[string]string{"控股集团": "holding", "置业集团": "property", "城市公司": "city", "其它": "other", "其他": "other",
	"holding": "holding", "property": "property", "city": "city", "other": "other"}

// ImportTemplate writes an empty partner-list sheet with one example row.
func ImportTemplate(w io.Writer) error {
	f := excelize.NewFile()
	defer f.Close()
	sheet := "合伙名单"
	f.SetSheetName("Sheet1", sheet)
	header := make([]any, len(ImportColumns))
	for i, c := range ImportColumns {
		header[i] = c
	}
	f.SetSheetRow(sheet, "A1", &header)
	f.SetSheetRow(sheet, "A2", &[]any{"E0001", "张三", "城市公司", "是", "500000", "1000000", "2026-12-31"})
	f.SetColWidth(sheet, "A", "G", 14)
	return f.Write(w)
}

// Import adds every row of the sheet to the round's partner list, or none:
// each bad cell is reported with its row and column (the pattern of the
// project import). Partners are found by 工号, and the 姓名 must match.
func (s *Service) Import(ctx context.Context, a audit.Actor, roundID int64, r io.Reader) (int, error) {
	rows, err := sheet.Read(r, 10<<20, ImportColumns, maxImportRows)
	if err != nil {
		return 0, err
	}
	var n int
	err = s.db.InTx(ctx, func(tx *sqlx.Tx) error {
		if err := writable(ctx, tx, roundID); err != nil {
			return err
		}
		rd, err := s.lock(ctx, tx, roundID)
		if err != nil {
			return err
		}
		if err := editable(rd, "导入合伙名单"); err != nil {
			return err
		}
		list, err := mandatoryList(ctx, tx)
		if err != nil {
			return err
		}
		var users []struct {
			ID        int64  `db:"id"`
			Name      string `db:"name"`
			JobNumber string `db:"job_number"`
		}
		if err := tx.SelectContext(ctx, &users, `SELECT id, name, job_number FROM users WHERE job_number <> ''`); err != nil {
			return fmt.Errorf("load users: %w", err)
		}
		byJob := map[string][]int64{}
		names := map[int64]string{}
		for _, u := range users {
			byJob[u.JobNumber] = append(byJob[u.JobNumber], u.ID)
			names[u.ID] = u.Name
		}
		var invited []int64
		if err := tx.SelectContext(ctx, &invited, `SELECT user_id FROM invitations WHERE round_id = $1`, roundID); err != nil {
			return fmt.Errorf("load invitations: %w", err)
		}
		taken := map[int64]bool{}
		for _, id := range invited {
			taken[id] = true
		}
		var bad []apperr.RowError
		fail := func(row, col int, msg string) {
			bad = append(bad, apperr.RowError{Row: row, Column: ImportColumns[col], Message: msg})
		}
		fieldCol := map[string]int{"user_id": 0, "tier": 2, "mandatory": 3, "min_amount": 4, "max_amount": 5, "deadline": 6}
		var good []checked
		seen := map[int64]int{}
		for i, cells := range rows {
			if cells == nil {
				continue
			}
			rowNo := i + 2
			cell := func(c int) string {
				if c < len(cells) {
					return strings.TrimSpace(cells[c])
				}
				return ""
			}
			in := InvitationInput{MinAmount: strings.ReplaceAll(cell(4), ",", ""), MaxAmount: strings.ReplaceAll(cell(5), ",", "")}
			rowOK := true
			ids := byJob[cell(0)]
			switch {
			case cell(0) == "":
				fail(rowNo, 0, "请填写工号")
				rowOK = false
			case len(ids) == 0:
				fail(rowNo, 0, fmt.Sprintf("工号「%s」不是合伙系统中的用户", cell(0)))
				rowOK = false
			case len(ids) > 1:
				fail(rowNo, 0, fmt.Sprintf("工号「%s」对应多个用户", cell(0)))
				rowOK = false
			default:
				in.UserID = ids[0]
				if names[in.UserID] != cell(1) {
					fail(rowNo, 1, fmt.Sprintf("姓名与工号不符（系统中为「%s」）", names[in.UserID]))
					rowOK = false
				} else if taken[in.UserID] {
					fail(rowNo, 0, "该合伙人已在本轮合伙名单中")
					rowOK = false
				} else if prev, dup := seen[in.UserID]; dup {
					fail(rowNo, 0, fmt.Sprintf("与第%d行重复", prev))
					rowOK = false
				}
				seen[in.UserID] = rowNo
			}
			tier, ok := tierByName[cell(2)]
			if !ok {
				fail(rowNo, 2, "层级须为 控股集团、置业集团、城市公司 或 其它")
				rowOK = false
			}
			in.Tier = tier
			switch cell(3) {
			case "是", "Y", "y", "1", "强投":
				in.Mandatory = true
			case "否", "N", "n", "0", "":
			default:
				fail(rowNo, 3, "须为 是 或 否")
				rowOK = false
			}
			d, err := civil.Parse(strings.ReplaceAll(cell(6), "/", "-"))
			if err != nil {
				fail(rowNo, 6, apperr.As(err).Message) // format or the 2000–2100 window
				rowOK = false
			}
			in.Deadline = d
			if !rowOK {
				continue
			}
			c, err := s.check(ctx, tx, in, list)
			if err != nil {
				e := apperr.As(err)
				if e == nil {
					return err
				}
				fail(rowNo, fieldCol[e.Field], e.Message)
				continue
			}
			good = append(good, c)
		}
		if len(bad) > 0 {
			return apperr.ImportInvalid(bad)
		}
		for _, c := range good {
			if _, err := s.insertInvitation(ctx, tx, a, rd, c); err != nil {
				return err
			}
		}
		n = len(good)
		return nil
	})
	return n, err
}
