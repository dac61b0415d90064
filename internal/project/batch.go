package project

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"

	"hehuo/internal/apperr"
	"hehuo/internal/audit"
	"hehuo/internal/db"
	"hehuo/internal/text"
)

// Batch (管理批次) is a label grouping projects, e.g. "2019年10月".
type Batch struct {
	ID   int64  `db:"id" json:"id"`
	Name string `db:"name" json:"name"`
}

// Batches returns every batch by name.
func (s *Service) Batches(ctx context.Context) ([]Batch, error) {
	bs := []Batch{}
	if err := s.db.SelectContext(ctx, &bs, `SELECT id, name FROM batches ORDER BY name`); err != nil {
		return nil, fmt.Errorf("list batches: %w", err)
	}
	return bs, nil
}

// CreateBatch adds a batch.
func (s *Service) CreateBatch(ctx context.Context, a audit.Actor, name string) (Batch, error) {
	name, err := text.Clean(name, "name", "批次名称", true, 40)
	if err != nil {
		return Batch{}, err
	}
	var b Batch
	err = s.db.InTx(ctx, func(tx *sqlx.Tx) error {
		err := tx.GetContext(ctx, &b, `INSERT INTO batches (name) VALUES ($1) RETURNING id, name`, name)
		if _, dup := db.IsUniqueViolation(err); dup {
			return apperr.Conflict("batch_name_taken", "批次「%s」已存在", name).WithField("name")
		}
		if err != nil {
			return fmt.Errorf("insert batch: %w", err)
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "batch.create", Entity: "batch", EntityID: b.ID, After: b})
	})
	return b, err
}
