package round

import (
	"context"
	"fmt"

	"hehuo/internal/partner"
)

// ProjectPartners returns the employee partners who hold a stake in project
// projectID — a line allocated above zero in an approved round — ordered by
// name. They are the people refunds and distributions are paid to, so the
// 分配账户 desk lists them.
func (s *Service) ProjectPartners(ctx context.Context, projectID int64) ([]partner.Partner, error) {
	out := []partner.Partner{}
	if err := s.db.SelectContext(ctx, &out, `
		SELECT p.id, p.kind, p.user_id, p.name FROM partners p
		WHERE p.user_id IS NOT NULL AND EXISTS (SELECT 1 FROM allocation_lines l JOIN rounds r ON r.id = l.round_id
			WHERE l.partner_id = p.id AND r.project_id = $1 AND r.status = $2 AND l.allocated > 0)
		ORDER BY p.name, p.id`, projectID, StatusApproved); err != nil {
		return nil, fmt.Errorf("partners of project %d: %w", projectID, err)
	}
	return out, nil
}
