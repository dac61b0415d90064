// Package report builds the console's reports (报表) in JSON and xlsx.
package report

import (
	"context"
	"fmt"

	"github.com/lib/pq"

	"hehuo/internal/db"
	"hehuo/internal/establishment"
	"hehuo/internal/position"
)

// Service builds reports.
type Service struct {
	db  *db.DB
	pos *position.Service
}

// NewService returns the report service; its money figures are
// internal/position's (with capital interest from the funding terms).
func NewService(d *db.DB) *Service {
	return &Service{db: d, pos: position.NewService(d, establishment.NewService(d, nil))}
}

// Filter chooses the projects of a report: those of the caller's scope
// (All, or the IDs), narrowed to one project or one batch when set.
type Filter struct {
	All       bool
	IDs       pq.Int64Array
	ProjectID int64
	BatchID   int64
}

// projectRow is a project as a report heads it.
type projectRow struct {
	ID          int64   `db:"id"`
	Name        string  `db:"name"`
	CityCompany string  `db:"city_company"`
	Batch       *string `db:"batch"`
}

// projects returns the projects f chooses, by batch then name.
func (s *Service) projects(ctx context.Context, f Filter) ([]projectRow, error) {
	var out []projectRow
	err := s.db.SelectContext(ctx, &out, `
		SELECT p.id, p.name, o.name AS city_company, b.name AS batch
		FROM projects p
		JOIN org_units o ON o.id = p.city_company_id
		LEFT JOIN batches b ON b.id = p.batch_id
		WHERE ($1 OR p.id = ANY($2))
		  AND ($3 = 0 OR p.id = $3)
		  AND ($4 = 0 OR p.batch_id = $4)
		ORDER BY b.name NULLS LAST, p.name, p.id`, f.All, f.IDs, f.ProjectID, f.BatchID)
	if err != nil {
		return nil, fmt.Errorf("report projects: %w", err)
	}
	return out, nil
}
