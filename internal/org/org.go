// Package org keeps the organisation: the tree of org units (group →
// holding / property → city companies → 直属项目公司) and the users in it,
// with their assignable roles.
package org

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"hehuo/internal/apperr"
	"hehuo/internal/audit"
	"hehuo/internal/db"
	"hehuo/internal/text"
)

// Unit kinds.
const (
	KindGroup    = "group"
	KindHolding  = "holding"
	KindProperty = "property"
	KindCity     = "city"
)

// Unit is an org unit.
type Unit struct {
	ID        int64     `db:"id" json:"id"`
	ParentID  *int64    `db:"parent_id" json:"parent_id"`
	Name      string    `db:"name" json:"name"`
	Kind      string    `db:"kind" json:"kind"`
	Version   int       `db:"version" json:"version"`
	UpdatedAt time.Time `db:"updated_at" json:"-"`
}

// UnitInput creates an org unit.
type UnitInput struct {
	Name     string `json:"name"`
	ParentID *int64 `json:"parent_id"`
	Kind     string `json:"kind"`
}

// UnitPatch changes an org unit; nil fields stay as they are.
type UnitPatch struct {
	Name     *string `json:"name"`
	ParentID *int64  `json:"parent_id"`
	Version  int     `json:"version"`
}

// Service reads and changes the organisation.
type Service struct {
	db *db.DB
}

// NewService returns the org service.
func NewService(d *db.DB) *Service { return &Service{db: d} }

const unitColumns = `id, parent_id, name, kind, version, updated_at`

// Units returns every org unit, parents before children.
func (s *Service) Units(ctx context.Context) ([]Unit, error) {
	units := []Unit{}
	err := s.db.SelectContext(ctx, &units, `
		WITH RECURSIVE t AS (
			SELECT `+unitColumns+`, ARRAY[id] AS path FROM org_units WHERE parent_id IS NULL
			UNION ALL
			SELECT u.id, u.parent_id, u.name, u.kind, u.version, u.updated_at, t.path || u.id
			FROM org_units u JOIN t ON u.parent_id = t.id)
		SELECT `+unitColumns+` FROM t ORDER BY path`)
	if err != nil {
		return nil, fmt.Errorf("list org units: %w", err)
	}
	return units, nil
}

// Unit returns one org unit.
func (s *Service) Unit(ctx context.Context, id int64) (Unit, error) {
	return getUnit(ctx, s.db, id, false)
}

func getUnit(ctx context.Context, q sqlx.QueryerContext, id int64, lock bool) (Unit, error) {
	var u Unit
	query := `SELECT ` + unitColumns + ` FROM org_units WHERE id = $1`
	if lock {
		query += ` FOR UPDATE`
	}
	err := sqlx.GetContext(ctx, q, &u, query, id)
	if db.IsNoRows(err) {
		return u, apperr.NotFound("org_unit_not_found", "组织不存在")
	}
	if err != nil {
		return u, fmt.Errorf("get org unit %d: %w", id, err)
	}
	return u, nil
}

func validKind(k string) bool {
	switch k {
	case KindGroup, KindHolding, KindProperty, KindCity:
		return true
	}
	return false
}

// CreateUnit adds an org unit under its parent. Only a group may be a root.
func (s *Service) CreateUnit(ctx context.Context, a audit.Actor, in UnitInput) (Unit, error) {
	name, err := text.Clean(in.Name, "name", "名称", true, 60)
	if err != nil {
		return Unit{}, err
	}
	if !validKind(in.Kind) {
		return Unit{}, apperr.Invalid("org_unit_kind_invalid", "kind", "组织类型须为 group、holding、property 或 city")
	}
	if in.ParentID == nil && in.Kind != KindGroup {
		return Unit{}, apperr.Invalid("parent_required", "parent_id", "请选择上级组织")
	}
	var u Unit
	err = s.db.InTx(ctx, func(tx *sqlx.Tx) error {
		if in.ParentID != nil {
			if _, err := getUnit(ctx, tx, *in.ParentID, false); err != nil {
				return apperr.Invalid("parent_not_found", "parent_id", "上级组织不存在")
			}
		}
		err := tx.GetContext(ctx, &u, `INSERT INTO org_units (parent_id, name, kind) VALUES ($1, $2, $3)
			RETURNING `+unitColumns, in.ParentID, name, in.Kind)
		if _, dup := db.IsUniqueViolation(err); dup {
			return apperr.Conflict("org_unit_name_taken", "同一上级下已有名为「%s」的组织", name).WithField("name")
		}
		if err != nil {
			return fmt.Errorf("insert org unit: %w", err)
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "org_unit.create", Entity: "org_unit", EntityID: u.ID, After: u})
	})
	return u, err
}

// UpdateUnit renames or moves an org unit. A move may not put a unit under itself.
func (s *Service) UpdateUnit(ctx context.Context, a audit.Actor, id int64, p UnitPatch) (Unit, error) {
	if p.Version <= 0 {
		return Unit{}, apperr.Invalid("version_required", "version", "缺少版本号")
	}
	var name string
	if p.Name != nil {
		n, err := text.Clean(*p.Name, "name", "名称", true, 60)
		if err != nil {
			return Unit{}, err
		}
		name = n
	}
	var after Unit
	err := s.db.InTx(ctx, func(tx *sqlx.Tx) error {
		before, err := getUnit(ctx, tx, id, true)
		if err != nil {
			return err
		}
		if before.Version != p.Version {
			return apperr.ErrStaleVersion
		}
		u := before
		if p.Name != nil {
			u.Name = name
		}
		if p.ParentID != nil {
			var cycle bool
			err := tx.GetContext(ctx, &cycle, `
				WITH RECURSIVE up AS (
					SELECT id, parent_id FROM org_units WHERE id = $1
					UNION ALL
					SELECT o.id, o.parent_id FROM org_units o JOIN up ON o.id = up.parent_id)
				SELECT EXISTS (SELECT 1 FROM up WHERE id = $2)`, *p.ParentID, id)
			if err != nil {
				return fmt.Errorf("check org unit move: %w", err)
			}
			if cycle {
				return apperr.Rule("org_unit_cycle", "parent_id", "不能把组织移到它自己或它的下级之下")
			}
			if _, err := getUnit(ctx, tx, *p.ParentID, false); err != nil {
				return apperr.Invalid("parent_not_found", "parent_id", "上级组织不存在")
			}
			u.ParentID = p.ParentID
		}
		err = tx.GetContext(ctx, &after, `UPDATE org_units SET name = $1, parent_id = $2, version = version + 1, updated_at = now()
			WHERE id = $3 RETURNING `+unitColumns, u.Name, u.ParentID, id)
		if _, dup := db.IsUniqueViolation(err); dup {
			return apperr.Conflict("org_unit_name_taken", "同一上级下已有名为「%s」的组织", u.Name).WithField("name")
		}
		if err != nil {
			return fmt.Errorf("update org unit %d: %w", id, err)
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "org_unit.update", Entity: "org_unit", EntityID: id, Before: before, After: after})
	})
	return after, err
}

// GetUnit returns org unit id on q (a transaction's in a write), for other
// areas that print a unit's name or walk to its parent; a missing unit is 404.
func GetUnit(ctx context.Context, q sqlx.QueryerContext, id int64) (Unit, error) {
	return getUnit(ctx, q, id, false)
}
