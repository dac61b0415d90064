package establishment

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"
	"github.com/shopspring/decimal"

	"hehuo/internal/audit"
	"hehuo/internal/text"
)

// BasicInfo is the part of 基础信息 beyond the project master data (which
// stays with 项目维护): location, areas, saleable value, the group's equity
// share. Quantities are decimal strings with up to two decimals; the equity
// ratio is a fraction.
type BasicInfo struct {
	Address          string  `json:"address"`            // 项目地址
	LandArea         *string `json:"land_area"`          // 占地面积（㎡）
	BuildingArea     *string `json:"building_area"`      // 总建筑面积（㎡）
	SaleableArea     *string `json:"saleable_area"`      // 可售面积（㎡）
	SaleableValue    *string `json:"saleable_value"`     // 货值（元）
	GroupEquityRatio *string `json:"group_equity_ratio"` // 锦艺方股权比例
	Note             string  `json:"note"`               // 项目概况
	Version          int     `json:"version"`
}

type basicRow struct {
	Address          string           `db:"address"`
	LandArea         *decimal.Decimal `db:"land_area"`
	BuildingArea     *decimal.Decimal `db:"building_area"`
	SaleableArea     *decimal.Decimal `db:"saleable_area"`
	SaleableValue    *decimal.Decimal `db:"saleable_value"`
	GroupEquityRatio *decimal.Decimal `db:"group_equity_ratio"`
	Note             string           `db:"basic_note"`
	Version          int              `db:"basic_version"`
}

func loadBasic(ctx context.Context, q sqlx.QueryerContext, projectID int64) (BasicInfo, error) {
	var r basicRow
	err := sqlx.GetContext(ctx, q, &r, `SELECT address, land_area, building_area, saleable_area, saleable_value,
		group_equity_ratio, basic_note, basic_version FROM establishments WHERE project_id = $1`, projectID)
	if isNoRows(err) {
		r = basicRow{} // sqlx allocated the pointers before finding no row
	} else if err != nil {
		return BasicInfo{}, fmt.Errorf("basic info %d: %w", projectID, err)
	}
	fixed := func(d *decimal.Decimal) *string {
		if d == nil {
			return nil
		}
		v := d.StringFixed(2)
		return &v
	}
	return BasicInfo{Address: r.Address, LandArea: fixed(r.LandArea), BuildingArea: fixed(r.BuildingArea),
		SaleableArea: fixed(r.SaleableArea), SaleableValue: fixed(r.SaleableValue), GroupEquityRatio: optStr(r.GroupEquityRatio),
		Note: r.Note, Version: r.Version}, nil
}

// BasicInfo returns the project's basic info.
func (s *Service) BasicInfo(ctx context.Context, projectID int64) (BasicInfo, error) {
	if err := mustExist(ctx, s.db, projectID); err != nil {
		return BasicInfo{}, err
	}
	return loadBasic(ctx, s.db, projectID)
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// PutBasicInfo saves the basic info.
func (s *Service) PutBasicInfo(ctx context.Context, a audit.Actor, projectID int64, in BasicInfo) (BasicInfo, error) {
	address, err := text.Clean(in.Address, "address", "项目地址", false, 120)
	if err != nil {
		return BasicInfo{}, err
	}
	note, err := text.CleanNote(in.Note, "note", "项目概况", false, 1000)
	if err != nil {
		return BasicInfo{}, err
	}
	var q [4]*decimal.Decimal
	for i, f := range []struct {
		v            *string
		field, label string
	}{{in.LandArea, "land_area", "占地面积"}, {in.BuildingArea, "building_area", "总建筑面积"},
		{in.SaleableArea, "saleable_area", "可售面积"}, {in.SaleableValue, "saleable_value", "货值"}} {
		if q[i], err = parseQuantity(str(f.v), f.field, f.label); err != nil {
			return BasicInfo{}, err
		}
	}
	equity, err := parseFraction(str(in.GroupEquityRatio), "group_equity_ratio", "锦艺方股权比例", decimal.NewFromInt(1))
	if err != nil {
		return BasicInfo{}, err
	}
	if equity != nil && equity.IsNegative() {
		return BasicInfo{}, errNegative("group_equity_ratio", "锦艺方股权比例")
	}
	var out BasicInfo
	err = s.db.InTx(ctx, func(tx *sqlx.Tx) error {
		if err := ensureWritable(ctx, tx, projectID); err != nil {
			return err
		}
		before, err := loadBasic(ctx, tx, projectID)
		if err != nil {
			return err
		}
		if err := checkVersion(in.Version, before.Version); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE establishments SET address = $1, land_area = $2, building_area = $3,
			saleable_area = $4, saleable_value = $5, group_equity_ratio = $6, basic_note = $7, basic_version = basic_version + 1,
			updated_at = now() WHERE project_id = $8`, address, q[0], q[1], q[2], q[3], equity, note, projectID); err != nil {
			return fmt.Errorf("save basic info %d: %w", projectID, err)
		}
		if out, err = loadBasic(ctx, tx, projectID); err != nil {
			return err
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "establishment.basic.save", Entity: "basic_info",
			EntityID: projectID, ProjectID: &projectID, Before: before, After: out})
	})
	return out, err
}
