package agreement

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"

	"hehuo/internal/apperr"
	"hehuo/internal/audit"
	"hehuo/internal/civil"
	"hehuo/internal/notify"
	"hehuo/internal/project"
)

// Subject names the round or adjustment whose agreements are asked for.
type Subject struct {
	Kind string `json:"subject_kind" form:"subject_kind"`
	ID   int64  `json:"subject_id" form:"subject_id"`
}

func (sub Subject) check() error {
	if _, ok := CodeLabels[sub.Kind]; !ok {
		return apperr.Invalid("subject_kind_invalid", "subject_kind", "协议对象须为 round（轮次）或 adjustment（立项调整）")
	}
	if sub.ID <= 0 {
		return apperr.Invalid("subject_id_invalid", "subject_id", "请选择轮次或立项调整")
	}
	return nil
}

// Signing is who signed and who has not, for one subject of a project (or
// the whole project when no subject is given).
type Signing struct {
	Signed   int         `json:"signed"`
	Unsigned int         `json:"unsigned"`
	Items    []Agreement `json:"items"`
}

// ProjectSigning lists the project's agreements, of one subject when sub is
// given, with their signing state, unsigned first then by partner.
func (s *Service) ProjectSigning(ctx context.Context, projectID int64, sub Subject) (Signing, error) {
	where, args := `WHERE a.project_id = $1`, []any{projectID}
	if sub.Kind != "" || sub.ID != 0 {
		if err := sub.check(); err != nil {
			return Signing{}, err
		}
		where += ` AND a.subject_kind = $2 AND a.subject_id = $3`
		args = append(args, sub.Kind, sub.ID)
	}
	items, err := selectAgreements(ctx, s.db, where+` ORDER BY (s.agreement_id IS NOT NULL), a.subject_kind, a.subject_id, a.id`, args...)
	if err != nil {
		return Signing{}, err
	}
	out := Signing{Items: items}
	for _, a := range items {
		if a.Status == StatusSigned {
			out.Signed++
		} else {
			out.Unsigned++
		}
	}
	return out, nil
}

// ReminderResult says how many partners a reminder went to.
type ReminderResult struct {
	Recipients int  `json:"recipients"`
	Queued     bool `json:"queued"`
	// AlreadySent: today's reminder for this subject was queued before.
	AlreadySent bool `json:"already_sent"`
}

// reminderTemplate is the work notice 协议签署提醒.
const reminderTemplate = "agreement_sign_reminder"

// Remind queues a work notice (发送签署提醒) to every partner of the subject
// who has not signed and has a DingTalk account — the caller's own line left
// out (segregation: staff do not remind themselves) —, once a day per
// subject. No one left to remind → 422 nothing_to_remind.
func (s *Service) Remind(ctx context.Context, a audit.Actor, projectID int64, sub Subject) (ReminderResult, error) {
	if err := sub.check(); err != nil {
		return ReminderResult{}, err
	}
	var out ReminderResult
	err := s.db.InTx(ctx, func(tx *sqlx.Tx) error {
		var rows []struct {
			UserID     int64  `db:"user_id"`
			DingTalkID string `db:"dingtalk_userid"`
			Subject    string `db:"subject_name"`
		}
		var self int64
		if a.ID != nil {
			self = *a.ID
		}
		if err := tx.SelectContext(ctx, &rows, `SELECT a.user_id, u.dingtalk_userid, a.vars->>'round_name' AS subject_name
			FROM agreements a JOIN users u ON u.id = a.user_id
			WHERE a.project_id = $1 AND a.subject_kind = $2 AND a.subject_id = $3 AND a.user_id <> $4
			  AND NOT EXISTS (SELECT 1 FROM agreement_signoffs s WHERE s.agreement_id = a.id)
			  AND btrim(coalesce(u.dingtalk_userid, '')) <> '' ORDER BY a.user_id`, projectID, sub.Kind, sub.ID, self); err != nil {
			return fmt.Errorf("unsigned agreements: %w", err)
		}
		if len(rows) == 0 {
			return apperr.Rule("nothing_to_remind", "subject_id", "没有需要提醒的未签署合伙人")
		}
		name, err := project.Name(ctx, tx, projectID)
		if err != nil {
			return err
		}
		to := make([]string, len(rows))
		for i, r := range rows {
			to[i] = r.DingTalkID
		}
		today := civil.Today(s.now()).String()
		_, created, err := notify.Enqueue(ctx, tx, notify.Notice{Kind: notify.KindWorkNotice, Recipients: to, ProjectID: &projectID,
			Template: reminderTemplate, Data: map[string]any{"project_name": name, "round_name": rows[0].Subject, "sent_on": today,
				"link": "/m/me/agreements"},
			DedupeKey: fmt.Sprintf("agreement_sign_reminder:%s:%d:%s", sub.Kind, sub.ID, today)})
		if err != nil {
			return err
		}
		out = ReminderResult{Recipients: len(to), Queued: created, AlreadySent: !created}
		if !created {
			return nil
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "agreement.remind", Entity: "agreement",
			EntityID: fmt.Sprintf("%s:%d", sub.Kind, sub.ID), ProjectID: &projectID,
			After: map[string]any{"subject_kind": sub.Kind, "subject_id": sub.ID, "recipients": len(to)}})
	})
	return out, err
}
