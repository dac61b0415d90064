package round

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"hehuo/internal/apperr"
	"hehuo/internal/audit"
	"hehuo/internal/civil"
	"hehuo/internal/db"
	"hehuo/internal/notify"
)

// noticeLink is where a subscription notice leads: the micro-app's page of
// the round, which opens the reader's own invitation in it (the 认购 page).
// The link is the same for every recipient, as the notice text must be
// (DESIGN §8); the page finds each partner's invitation after sign-in.
func noticeLink(roundID int64) string { return fmt.Sprintf("/m/rounds/%d", roundID) }

// NoticeResult says what a send did.
type NoticeResult struct {
	Test       bool   `json:"test"`
	Recipients int    `json:"recipients"`
	Skipped    int    `json:"skipped"` // invited partners without a DingTalk account
	NoticeID   int64  `json:"notice_id"`
	Status     Status `json:"status"`
	// StatusLabel is Status (the round's) in Chinese.
	StatusLabel string `json:"status_label"`
}

// SendSubscriptionNotices sends the round's subscription notice (认购通知).
// A test goes only to the caller's DingTalk account. The real send goes to
// every invited partner once per round and opens the round (draft → open),
// with a robot alert in the city company's group.
func (s *Service) SendSubscriptionNotices(ctx context.Context, a audit.Actor, userID, roundID int64, test bool) (NoticeResult, error) {
	out := NoticeResult{Test: test}
	err := s.db.InTx(ctx, func(tx *sqlx.Tx) error {
		if err := writable(ctx, tx, roundID); err != nil {
			return err
		}
		r, err := s.lock(ctx, tx, roundID)
		if err != nil {
			return err
		}
		if r.Invited == 0 {
			return apperr.Rule("invitations_missing", "", "合伙名单为空，不能发送认购通知")
		}
		data := map[string]any{"project_name": r.ProjectName, "round_name": r.Name, "deadline": r.Deadline.String(), "link": noticeLink(r.ID)}
		if test {
			var dt *string
			if err := tx.GetContext(ctx, &dt, `SELECT dingtalk_userid FROM users WHERE id = $1`, userID); err != nil && !db.IsNoRows(err) {
				return fmt.Errorf("caller's DingTalk account: %w", err)
			}
			if dt == nil || *dt == "" {
				return apperr.Rule("dingtalk_account_missing", "test", "您的账号未绑定钉钉，无法接收测试消息")
			}
			// Each test is its own notice: a unique key, never the real send's.
			out.NoticeID, _, err = notify.Enqueue(ctx, tx, notify.Notice{Kind: notify.KindWorkNotice, Recipients: []string{*dt},
				ProjectID: &r.ProjectID, Template: "subscription_notice", Data: data,
				DedupeKey: fmt.Sprintf("round:%d:subscription:test:%d:%d", r.ID, userID, s.Now().UnixNano())})
			if err != nil {
				return err
			}
			out.Recipients, out.Status = 1, r.Status
			return audit.Record(ctx, tx, a, audit.Entry{Action: "round.notice_test", Entity: "round", EntityID: r.ID, ProjectID: &r.ProjectID,
				After: map[string]any{"recipient": *dt}})
		}
		if r.Status != StatusDraft && r.Status != StatusOpen {
			return apperr.Conflict("notices_already_sent", "本轮认购通知已发送（%s）", r.StatusLabel)
		}
		// On an open round only partners added since the notices went out are
		// told: everyone else already has the notice of this round.
		var ids []*string
		if err := tx.SelectContext(ctx, &ids, `SELECT u.dingtalk_userid FROM invitations i JOIN users u ON u.id = i.user_id
			WHERE i.round_id = $1 AND NOT ($2 AND i.notified_at IS NOT NULL)
			ORDER BY i.id`, r.ID, r.Status == StatusOpen); err != nil {
			return fmt.Errorf("recipients: %w", err)
		}
		// Those with a DingTalk account are told now; a later send skips them.
		if _, err := tx.ExecContext(ctx, `UPDATE invitations i SET notified_at = now() FROM users u
			WHERE u.id = i.user_id AND i.round_id = $1 AND i.notified_at IS NULL AND btrim(coalesce(u.dingtalk_userid, '')) <> ''`, r.ID); err != nil {
			return fmt.Errorf("mark notified: %w", err)
		}
		if r.Status == StatusOpen {
			return s.sendLate(ctx, tx, a, r, ids, data, &out)
		}
		var recipients []string
		for _, id := range ids {
			if id == nil || strings.TrimSpace(*id) == "" {
				out.Skipped++
				continue
			}
			recipients = append(recipients, *id)
		}
		if len(recipients) > 0 {
			if out.NoticeID, _, err = notify.Enqueue(ctx, tx, notify.Notice{Kind: notify.KindWorkNotice, Recipients: recipients,
				ProjectID: &r.ProjectID, Template: "subscription_notice", Data: data,
				DedupeKey: fmt.Sprintf("round:%d:subscription", r.ID)}); err != nil {
				return err
			}
		}
		out.Recipients = len(recipients)
		if err := s.transition(ctx, tx, r.ID, []Status{StatusDraft}, StatusOpen, a, "round.open"); err != nil {
			return err
		}
		city := r.CityCompanyID
		if _, _, err := notify.Enqueue(ctx, tx, notify.Notice{Kind: notify.KindRobot, OrgUnitID: &city, ProjectID: &r.ProjectID,
			Template: "subscription_sent", DedupeKey: fmt.Sprintf("round:%d:subscription_sent", r.ID),
			Data: map[string]any{"project_name": r.ProjectName, "round_name": r.Name, "partner_count": fmt.Sprint(r.Invited),
				"deadline": r.Deadline.String(), "link": roundLink(r)}}); err != nil {
			return err
		}
		out.Status = StatusOpen
		return nil
	})
	out.StatusLabel = out.Status.Label()
	return out, err
}

// roundLink is the console page of a round's partner list.
func roundLink(r Round) string {
	return fmt.Sprintf("/establishment/partners?project=%d&round=%d", r.ProjectID, r.ID)
}

// Close ends a round's subscription window by hand (截止认购).
func (s *Service) Close(ctx context.Context, a audit.Actor, roundID int64) (Round, error) {
	var r Round
	err := s.db.InTx(ctx, func(tx *sqlx.Tx) error {
		if err := writable(ctx, tx, roundID); err != nil {
			return err
		}
		if err := s.closeRound(ctx, tx, a, roundID, "round.close"); err != nil {
			return err
		}
		var err error
		r, err = s.Round(ctx, tx, roundID)
		return err
	})
	return r, err
}

// closeRound moves an open round to closed, runs the first allocation
// (the seed's 初次自动测算) and alerts the city company's group of mandatory
// partners without a subscription (R2: listed for follow-up).
func (s *Service) closeRound(ctx context.Context, tx *sqlx.Tx, a audit.Actor, roundID int64, action string) error {
	if err := s.transition(ctx, tx, roundID, []Status{StatusOpen}, StatusClosed, a, action); err != nil {
		return err
	}
	if err := s.autoAllocate(ctx, tx, a, roundID); err != nil {
		return err
	}
	r, err := s.Round(ctx, tx, roundID)
	if err != nil {
		return err
	}
	if r.MandatoryMissing == 0 {
		return nil
	}
	var names []string
	if err := tx.SelectContext(ctx, &names, `SELECT u.name FROM invitations i JOIN users u ON u.id = i.user_id
		WHERE i.round_id = $1 AND i.mandatory AND i.amount IS NULL ORDER BY u.name, i.id`, roundID); err != nil {
		return fmt.Errorf("mandatory partners without a subscription: %w", err)
	}
	city := r.CityCompanyID
	_, _, err = notify.Enqueue(ctx, tx, notify.Notice{Kind: notify.KindRobot, OrgUnitID: &city, ProjectID: &r.ProjectID,
		Template: "deadline_missing", DedupeKey: fmt.Sprintf("round:%d:deadline_missing", r.ID),
		Data: map[string]any{"project_name": r.ProjectName, "round_name": r.Name, "deadline": r.Deadline.String(),
			"missing_count": fmt.Sprint(r.MandatoryMissing), "missing_names": strings.Join(names, "、"), "link": roundLink(r)}})
	return err
}

// autoAllocate runs the first allocation of a round just closed, so the
// accountant finds it calculated (and may still edit and recalculate). A
// round the rules cannot allocate yet (no subscriptions, terms missing)
// stays closed: the business error is dropped back to a savepoint and the
// close goes on; any other error fails the close.
func (s *Service) autoAllocate(ctx context.Context, tx *sqlx.Tx, a audit.Actor, roundID int64) error {
	if _, err := tx.ExecContext(ctx, `SAVEPOINT auto_allocate`); err != nil {
		return fmt.Errorf("auto allocation savepoint: %w", err)
	}
	_, err := s.allocate(ctx, tx, a, roundID)
	if err != nil && apperr.As(err) != nil && apperr.KindOf(err) != apperr.KindInternal {
		if _, rerr := tx.ExecContext(ctx, `ROLLBACK TO SAVEPOINT auto_allocate`); rerr != nil {
			return fmt.Errorf("auto allocation rollback: %w", rerr)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("auto allocation of round %d: %w", roundID, err)
	}
	_, err = tx.ExecContext(ctx, `RELEASE SAVEPOINT auto_allocate`)
	return err
}

// CloseDue closes every open round whose latest deadline has passed at now
// (end of day, Asia/Shanghai); the scheduler calls it. It returns how many
// rounds it closed.
func (s *Service) CloseDue(ctx context.Context, now time.Time) (int, error) {
	var due []int64
	today := civil.Today(now)
	if err := s.db.SelectContext(ctx, &due, `SELECT r.id FROM rounds r WHERE r.status = 'open'
		AND (SELECT max(deadline) FROM invitations WHERE round_id = r.id) < $1 ORDER BY r.id`, today); err != nil {
		return 0, fmt.Errorf("rounds due: %w", err)
	}
	n := 0
	for _, id := range due {
		err := s.db.InTx(ctx, func(tx *sqlx.Tx) error {
			return s.closeRound(ctx, tx, audit.System, id, "round.close_due")
		})
		if apperr.KindOf(err) == apperr.KindConflict {
			continue // closed by hand meanwhile
		}
		if err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// sendLate sends the subscription notice of an open round to the partners
// invited after it went out (ids), once each.
func (s *Service) sendLate(ctx context.Context, tx *sqlx.Tx, a audit.Actor, r Round, ids []*string, data map[string]any, out *NoticeResult) error {
	var recipients []string
	for _, id := range ids {
		if id == nil || strings.TrimSpace(*id) == "" {
			out.Skipped++
			continue
		}
		recipients = append(recipients, *id)
	}
	if len(recipients) == 0 {
		return apperr.Conflict("notices_already_sent", "本轮认购通知已发送给合伙名单中的每一位合伙人")
	}
	var last int64
	if err := tx.GetContext(ctx, &last, `SELECT max(id) FROM invitations WHERE round_id = $1`, r.ID); err != nil {
		return fmt.Errorf("last invitation: %w", err)
	}
	var err error
	if out.NoticeID, _, err = notify.Enqueue(ctx, tx, notify.Notice{Kind: notify.KindWorkNotice, Recipients: recipients,
		ProjectID: &r.ProjectID, Template: "subscription_notice", Data: data,
		DedupeKey: fmt.Sprintf("round:%d:subscription:late:%d", r.ID, last)}); err != nil {
		return err
	}
	out.Recipients, out.Status = len(recipients), r.Status
	return audit.Record(ctx, tx, a, audit.Entry{Action: "round.notice_late", Entity: "round", EntityID: r.ID, ProjectID: &r.ProjectID,
		After: map[string]any{"recipients": recipients}})
}
