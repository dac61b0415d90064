package distribution

import (
	"context"

	"github.com/jmoiron/sqlx"

	"hehuo/internal/apperr"
	"hehuo/internal/db"
)

// ProjectOf is the project of batch id (for the routes' scope check); a
// missing batch is 404 distribution_not_found, as load answers.
func (s *Service) ProjectOf(ctx context.Context, id int64) (int64, error) {
	var p int64
	err := sqlx.GetContext(ctx, s.db, &p, `SELECT project_id FROM distribution_batches WHERE id = $1`, id)
	if db.IsNoRows(err) {
		return 0, apperr.NotFound("distribution_not_found", "分配批次不存在")
	}
	return p, err
}
