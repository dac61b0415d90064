// Package project keeps project master data (项目维护): projects, the batches
// that group them, and the import of main-data projects from Excel.
package project

import (
	"context"
	"fmt"
	"strings"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"hehuo/internal/apperr"
	"hehuo/internal/audit"
	"hehuo/internal/civil"
	"hehuo/internal/db"
	"hehuo/internal/org"
	"hehuo/internal/text"
)

// Project is a real-estate development project.
type Project struct {
	ID                int64      `db:"id" json:"id"`
	Code              *string    `db:"code" json:"code"`
	Name              string     `db:"name" json:"name"`
	CityCompanyID     int64      `db:"city_company_id" json:"city_company_id"`
	CityCompanyName   string     `db:"city_company_name" json:"city_company_name"`
	LandAcquiredOn    civil.Date `db:"land_acquired_on" json:"land_acquired_on"`
	BatchID           *int64     `db:"batch_id" json:"batch_id"`
	BatchName         *string    `db:"batch_name" json:"batch_name"`
	IsOpen            bool       `db:"is_open" json:"is_open"`
	IsSettled         bool       `db:"is_settled" json:"is_settled"`
	JointOperation    bool       `db:"joint_operation" json:"joint_operation"`
	Operator          string     `db:"operator" json:"operator"`
	AcquisitionMethod string     `db:"acquisition_method" json:"acquisition_method"`
	Version           int        `db:"version" json:"version"`
}

// Input creates a project.
type Input struct {
	Code              string     `json:"code"`
	Name              string     `json:"name"`
	CityCompanyID     int64      `json:"city_company_id"`
	LandAcquiredOn    civil.Date `json:"land_acquired_on"`
	BatchID           *int64     `json:"batch_id"`
	IsOpen            bool       `json:"is_open"`
	JointOperation    bool       `json:"joint_operation"`
	Operator          string     `json:"operator"`
	AcquisitionMethod string     `json:"acquisition_method"`
}

// Patch changes a project; nil fields stay as they are.
type Patch struct {
	Code              *string     `json:"code"`
	Name              *string     `json:"name"`
	CityCompanyID     *int64      `json:"city_company_id"`
	LandAcquiredOn    *civil.Date `json:"land_acquired_on"`
	BatchID           *int64      `json:"batch_id"`
	IsOpen            *bool       `json:"is_open"`
	IsSettled         *bool       `json:"is_settled"`
	JointOperation    *bool       `json:"joint_operation"`
	Operator          *string     `json:"operator"`
	AcquisitionMethod *string     `json:"acquisition_method"`
	Version           int         `json:"version"`
}

// Filter selects projects.
type Filter struct {
	Query         string // matches the name, the batch or the region (city company)
	BatchID       int64
	CityCompanyID int64
	All           bool    // the caller sees every project
	IDs           []int64 // otherwise, the projects the caller may see
}

// Service reads and changes projects.
type Service struct {
	db *db.DB
}

// NewService returns the project service.
func NewService(d *db.DB) *Service { return &Service{db: d} }

const selectProject = `SELECT p.id, p.code, p.name, p.city_company_id, o.name AS city_company_name, p.land_acquired_on,
	p.batch_id, b.name AS batch_name, p.is_open, p.is_settled, p.joint_operation, p.operator, p.acquisition_method, p.version
	FROM projects p JOIN org_units o ON o.id = p.city_company_id LEFT JOIN batches b ON b.id = p.batch_id`

// List returns the projects matching f in id order.
func (s *Service) List(ctx context.Context, f Filter) ([]Project, error) {
	ps := []Project{}
	err := s.db.SelectContext(ctx, &ps, selectProject+`
		WHERE ($1 OR p.id = ANY($2))
		  AND ($3 = '' OR p.name ILIKE '%' || $3 || '%' OR b.name ILIKE '%' || $3 || '%' OR o.name ILIKE '%' || $3 || '%'
		       OR p.code ILIKE '%' || $3 || '%')
		  AND ($4 = 0 OR p.batch_id = $4) AND ($5 = 0 OR p.city_company_id = $5)
		ORDER BY p.id`, f.All, pq.Int64Array(f.IDs), strings.TrimSpace(f.Query), f.BatchID, f.CityCompanyID)
	if err != nil {
		return nil, fmt.Errorf("list projects: %w", err)
	}
	return ps, nil
}

// Get returns one project.
func (s *Service) Get(ctx context.Context, id int64) (Project, error) {
	return get(ctx, s.db, id)
}

func get(ctx context.Context, q sqlx.QueryerContext, id int64) (Project, error) {
	var p Project
	err := sqlx.GetContext(ctx, q, &p, selectProject+` WHERE p.id = $1`, id)
	if db.IsNoRows(err) {
		return p, apperr.NotFound("project_not_found", "项目不存在")
	}
	if err != nil {
		return p, fmt.Errorf("get project %d: %w", id, err)
	}
	return p, nil
}

// fields are a project's checked editable fields.
type fields struct {
	code, name, operator, method string
}

func clean(code, name, operator, method string) (fields, error) {
	var f fields
	var err error
	if f.code, err = text.Clean(code, "code", "项目编码", false, 40); err != nil {
		return f, err
	}
	if f.name, err = text.Clean(name, "name", "项目名称", true, 60); err != nil {
		return f, err
	}
	if f.operator, err = text.Clean(operator, "operator", "操盘方", false, 40); err != nil {
		return f, err
	}
	if f.method, err = text.Clean(method, "acquisition_method", "取得方式", false, 40); err != nil {
		return f, err
	}
	return f, nil
}

// checkCityCompany requires an org unit of kind city.
func checkCityCompany(ctx context.Context, q sqlx.QueryerContext, id int64) error {
	var kind string
	err := sqlx.GetContext(ctx, q, &kind, `SELECT kind FROM org_units WHERE id = $1`, id)
	if db.IsNoRows(err) || (err == nil && kind != org.KindCity) {
		return apperr.Invalid("city_company_invalid", "city_company_id", "请选择城市公司")
	}
	return err
}

func translate(err error, name, code string) error {
	if c, dup := db.IsUniqueViolation(err); dup {
		if strings.Contains(c, "code") {
			return apperr.Conflict("project_code_taken", "项目编码「%s」已被使用", code).WithField("code")
		}
		return apperr.Conflict("project_name_taken", "项目名称「%s」已存在", name).WithField("name")
	}
	if _, fk := db.IsForeignKeyViolation(err); fk {
		return apperr.Invalid("batch_not_found", "batch_id", "批次不存在")
	}
	return err
}

// Create adds a project.
func (s *Service) Create(ctx context.Context, a audit.Actor, in Input) (Project, error) {
	var p Project
	err := s.db.InTx(ctx, func(tx *sqlx.Tx) error {
		var err error
		p, err = insert(ctx, tx, a, in)
		return err
	})
	return p, err
}

func insert(ctx context.Context, tx *sqlx.Tx, a audit.Actor, in Input) (Project, error) {
	f, err := clean(in.Code, in.Name, in.Operator, in.AcquisitionMethod)
	if err != nil {
		return Project{}, err
	}
	if err := checkCityCompany(ctx, tx, in.CityCompanyID); err != nil {
		return Project{}, err
	}
	var id int64
	err = tx.GetContext(ctx, &id, `INSERT INTO projects (code, name, city_company_id, land_acquired_on, batch_id, is_open,
		joint_operation, operator, acquisition_method) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
		text.OrNil(f.code), f.name, in.CityCompanyID, in.LandAcquiredOn, in.BatchID, in.IsOpen, in.JointOperation, f.operator, f.method)
	if err != nil {
		return Project{}, fmt.Errorf("insert project: %w", translate(err, f.name, f.code))
	}
	p, err := get(ctx, tx, id)
	if err != nil {
		return p, err
	}
	return p, audit.Record(ctx, tx, a, audit.Entry{Action: "project.create", Entity: "project", EntityID: id, ProjectID: &id, After: p})
}

// Update changes a project; a stale version is a conflict.
func (s *Service) Update(ctx context.Context, a audit.Actor, id int64, pt Patch) (Project, error) {
	if pt.Version <= 0 {
		return Project{}, apperr.Invalid("version_required", "version", "缺少版本号")
	}
	var after Project
	err := s.db.InTx(ctx, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, `SELECT 1 FROM projects WHERE id = $1 FOR UPDATE`, id); err != nil {
			return fmt.Errorf("lock project: %w", err)
		}
		before, err := get(ctx, tx, id)
		if err != nil {
			return err
		}
		if before.Version != pt.Version {
			return apperr.ErrStaleVersion
		}
		p := before
		str := func(v *string, cur string) string {
			if v != nil {
				return *v
			}
			return cur
		}
		f, err := clean(str(pt.Code, text.Deref(p.Code)), str(pt.Name, p.Name), str(pt.Operator, p.Operator), str(pt.AcquisitionMethod, p.AcquisitionMethod))
		if err != nil {
			return err
		}
		if pt.CityCompanyID != nil {
			if err := checkCityCompany(ctx, tx, *pt.CityCompanyID); err != nil {
				return err
			}
			p.CityCompanyID = *pt.CityCompanyID
		}
		if pt.LandAcquiredOn != nil {
			p.LandAcquiredOn = *pt.LandAcquiredOn
		}
		if pt.BatchID != nil {
			p.BatchID = pt.BatchID
			if *pt.BatchID == 0 {
				p.BatchID = nil
			}
		}
		for _, b := range []struct {
			v   *bool
			dst *bool
		}{{pt.IsOpen, &p.IsOpen}, {pt.IsSettled, &p.IsSettled}, {pt.JointOperation, &p.JointOperation}} {
			if b.v != nil {
				*b.dst = *b.v
			}
		}
		_, err = tx.ExecContext(ctx, `UPDATE projects SET code = $1, name = $2, city_company_id = $3, land_acquired_on = $4,
			batch_id = $5, is_open = $6, is_settled = $7, joint_operation = $8, operator = $9, acquisition_method = $10,
			version = version + 1, updated_at = now() WHERE id = $11`,
			text.OrNil(f.code), f.name, p.CityCompanyID, p.LandAcquiredOn, p.BatchID, p.IsOpen, p.IsSettled, p.JointOperation,
			f.operator, f.method, id)
		if err != nil {
			return fmt.Errorf("update project %d: %w", id, translate(err, f.name, f.code))
		}
		if after, err = get(ctx, tx, id); err != nil {
			return err
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "project.update", Entity: "project", EntityID: id, ProjectID: &id,
			Before: before, After: after})
	})
	return after, err
}
