package round

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"

	"hehuo/internal/apperr"
	"hehuo/internal/audit"
	"hehuo/internal/notify"
	"hehuo/internal/partner"
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
	reason, err := text.CleanNote(in.Reason, "reason", "审核意见", in.Decision == "reject", 500)
	if err != nil {
		if e := apperr.As(err); e != nil && e.Code == "required" {
			return Round{}, apperr.Invalid("reason_required", "reason", "驳回须填写原因")
		}
		return Round{}, err
	}
	var r Round
	err = s.db.InTx(ctx, func(tx *sqlx.Tx) error {
		if err := writable(ctx, tx, roundID); err != nil {
			return err
		}
		// Segregation of duties: nobody reviews a plan that holds their own
		// line, nor one they submitted.
		if err := refuseOwnReview(ctx, tx, a, roundID); err != nil {
			return err
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

// refuseOwnReview is the reviewer's side of segregation of duties: a
// reviewer holding a line in round roundID, or who submitted it, is refused.
func refuseOwnReview(ctx context.Context, tx *sqlx.Tx, a audit.Actor, roundID int64) error {
	var lines []int64
	if err := tx.SelectContext(ctx, &lines, `SELECT partner_id FROM invitations WHERE round_id = $1
		UNION SELECT partner_id FROM allocation_lines WHERE round_id = $1`, roundID); err != nil {
		return fmt.Errorf("round %d partners: %w", roundID, err)
	}
	if err := partner.RefuseOwnLine(ctx, tx, a, lines...); err != nil {
		return err
	}
	return partner.RefuseOwnSubmission(ctx, tx, a, "round", roundID, "round.submit")
}
