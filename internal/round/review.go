package round

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"

	"hehuo/internal/apperr"
	"hehuo/internal/audit"
	"hehuo/internal/notify"
	"hehuo/internal/text"
)

// ReviewInput is the business admin's decision on a submitted round (方案审核).
type ReviewInput struct {
	Decision string `json:"decision"` // approve or reject
	Reason   string `json:"reason"`   // required on reject
}

// Review approves (submitted → reviewed) or rejects (submitted → calculated,
// for the accountant to rework) a submitted round, and posts the decision
// to the city company's group.
func (s *Service) Review(ctx context.Context, a audit.Actor, roundID int64, in ReviewInput) (Round, error) {
	if in.Decision != "approve" && in.Decision != "reject" {
		return Round{}, apperr.Invalid("decision_invalid", "decision", "审核结果须为 approve（通过）或 reject（驳回）")
	}
	reason, err := text.Clean(in.Reason, "reason", "审核意见", in.Decision == "reject", 500)
	if err != nil {
		if e := apperr.As(err); e != nil && e.Code == "required" {
			return Round{}, apperr.Invalid("reason_required", "reason", "驳回须填写原因")
		}
		return Round{}, err
	}
	var r Round
	err = s.db.InTx(ctx, func(tx *sqlx.Tx) error {
		// Segregation of duties: nobody reviews a plan that holds their own line.
		if a.ID != nil {
			var own bool
			if err := tx.GetContext(ctx, &own, `SELECT EXISTS (SELECT 1 FROM invitations WHERE round_id = $1 AND user_id = $2)`,
				roundID, *a.ID); err != nil {
				return fmt.Errorf("own line: %w", err)
			}
			if own {
				return apperr.Forbidden("own_line", "您在本轮合伙名单中，不能审核本轮方案（职责分离）")
			}
		}
		to, action, result := StatusReviewed, "round.review_approve", "通过"
		if in.Decision == "reject" {
			to, action, result = StatusCalculated, "round.review_reject", "驳回"
		}
		if err := s.transition(ctx, tx, roundID, []Status{StatusSubmitted}, to, a, action); err != nil {
			return err
		}
		// One alert per decision: the count of decisions keys it, so a reject
		// and a later approval both post.
		var n int
		if err := tx.GetContext(ctx, &n, `UPDATE rounds SET reviewed_at = now(), reviewed_by = $1, review_decision = $2, review_reason = $3,
			review_count = review_count + 1 WHERE id = $4 RETURNING review_count`, actorName(a), in.Decision, reason, roundID); err != nil {
			return fmt.Errorf("record review: %w", err)
		}
		var err error
		if r, err = s.Round(ctx, tx, roundID); err != nil {
			return err
		}
		city := r.CityCompanyID
		shown := reason
		if shown == "" {
			shown = "（无意见）"
		}
		_, _, err = notify.Enqueue(ctx, tx, notify.Notice{Kind: notify.KindRobot, OrgUnitID: &city, ProjectID: &r.ProjectID,
			Template: "round_review", DedupeKey: fmt.Sprintf("round:%d:review:%d", roundID, n),
			Data: map[string]any{"project_name": r.ProjectName, "round_name": r.Name, "result": result, "reviewer": actorName(a),
				"reason": shown, "link": roundLink(r)}})
		return err
	})
	return r, err
}
