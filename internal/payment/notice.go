package payment

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"hehuo/internal/apperr"
	"hehuo/internal/audit"
	"hehuo/internal/civil"
	"hehuo/internal/db"
	"hehuo/internal/money"
	"hehuo/internal/notify"
	"hehuo/internal/project"
	"hehuo/internal/round"
	"hehuo/internal/workcal"
)

// DueWorkingDays is the default time to pay after a payment notice (R4).
const DueWorkingDays = 20

// DefaultCadence is when reminders go out, in days relative to the due date:
// 3 days before, on the day, then weekly for four weeks.
var DefaultCadence = []int{-3, 0, 7, 14, 21, 28}

// noticeLink is where payment and dunning notices lead: the H5 payment page,
// which shows each partner their own amount and the collection account. The
// link is the same for every recipient, as the text is (DESIGN §8).
const noticeLink = "/m/payments"

// NoticeInput is a send of the payment notice.
type NoticeInput struct {
	Test bool `json:"test"`
	// DueDate overrides the default of 20 working days after today.
	DueDate *civil.Date `json:"due_date,omitempty"`
	// Cadence overrides DefaultCadence (days relative to the due date).
	Cadence []int `json:"cadence,omitempty"`
}

// NoticeResult says what a send did.
type NoticeResult struct {
	Test       bool         `json:"test"`
	DueDate    civil.Date   `json:"due_date"`
	Recipients int          `json:"recipients"`
	Skipped    int          `json:"skipped"` // partners without a DingTalk account
	NoticeID   int64        `json:"notice_id"`
	Reminders  []civil.Date `json:"reminders,omitempty"`
}

type roundInfo struct {
	ID        int64        `db:"id"`
	ProjectID int64        `db:"project_id"`
	Project   string       `db:"project_name"`
	Kind      string       `db:"kind"`
	Seq       int          `db:"seq"`
	Status    round.Status `db:"status"`
}

func lockRound(ctx context.Context, tx *sqlx.Tx, id int64) (roundInfo, error) {
	var r roundInfo
	err := tx.GetContext(ctx, &r, `SELECT r.id, r.project_id, p.name AS project_name, r.kind, r.seq, r.status
		FROM rounds r JOIN projects p ON p.id = r.project_id WHERE r.id = $1 FOR UPDATE OF r`, id)
	if db.IsNoRows(err) {
		return r, ErrRoundNotFound
	}
	return r, err
}

func callerDingTalk(ctx context.Context, tx *sqlx.Tx, userID int64) (string, error) {
	var dt *string
	if err := tx.GetContext(ctx, &dt, `SELECT dingtalk_userid FROM users WHERE id = $1`, userID); err != nil && !db.IsNoRows(err) {
		return "", fmt.Errorf("caller's DingTalk account: %w", err)
	}
	if dt == nil || strings.TrimSpace(*dt) == "" {
		return "", apperr.Rule("dingtalk_account_missing", "test", "您的账号未绑定钉钉，无法接收测试消息")
	}
	return *dt, nil
}

// Recipient is one partner a payment or dunning notice would reach.
type Recipient struct {
	UserID      *int64       `json:"user_id" db:"user_id"`
	Name        string       `json:"name" db:"name"`
	Outstanding money.Amount `json:"outstanding" db:"owed"`
	// Reachable is false for a partner without a DingTalk account: the
	// notice skips them (counted in skipped).
	Reachable bool    `json:"reachable" db:"-"`
	DingTalk  *string `json:"-" db:"dingtalk_userid"`
}

// recipientList returns the round's allocated partners with what they still
// owe (position's figures); unpaidOnly keeps those not fully paid. The send
// and the list shown before it are this one list.
func (s *Service) recipientList(ctx context.Context, q sqlx.QueryerContext, roundID, projectID int64, unpaidOnly bool) ([]Recipient, error) {
	rp, err := s.pos.Round(ctx, q, roundID, projectID)
	if err != nil {
		return nil, fmt.Errorf("payment notice recipients: %w", err)
	}
	var users []int64
	for _, l := range rp.Lines {
		if l.UserID != nil {
			users = append(users, *l.UserID)
		}
	}
	var accounts []struct {
		ID int64   `db:"id"`
		DT *string `db:"dingtalk_userid"`
	}
	if err := sqlx.SelectContext(ctx, q, &accounts, `SELECT id, dingtalk_userid FROM users WHERE id = ANY($1)`, pq.Int64Array(users)); err != nil {
		return nil, fmt.Errorf("payment notice recipients: %w", err)
	}
	dt := map[int64]*string{}
	for _, a := range accounts {
		dt[a.ID] = a.DT
	}
	lines := rp.Lines
	sort.Slice(lines, func(i, j int) bool {
		if lines[i].Name != lines[j].Name {
			return lines[i].Name < lines[j].Name
		}
		return lines[i].PartnerID < lines[j].PartnerID
	})
	out := []Recipient{}
	for _, l := range lines {
		if !l.Allocated.IsPositive() || unpaidOnly && !l.Outstanding.IsPositive() {
			continue
		}
		r := Recipient{UserID: l.UserID, Name: l.Name, Outstanding: money.Amount{Decimal: l.Outstanding}}
		if l.UserID != nil {
			r.DingTalk = dt[*l.UserID]
		}
		r.Reachable = r.DingTalk != nil && strings.TrimSpace(*r.DingTalk) != ""
		out = append(out, r)
	}
	return out, nil
}

// recipients returns the DingTalk accounts of the round's allocated
// partners; unpaidOnly keeps those not fully paid.
func (s *Service) recipients(ctx context.Context, tx *sqlx.Tx, r roundInfo, unpaidOnly bool) (ids []string, skipped int, err error) {
	rows, err := s.recipientList(ctx, tx, r.ID, r.ProjectID, unpaidOnly)
	if err != nil {
		return nil, 0, err
	}
	for _, row := range rows {
		if !row.Reachable {
			skipped++
			continue
		}
		ids = append(ids, *row.DingTalk)
	}
	return ids, skipped, nil
}

// The notices a round's recipients can be listed for.
const (
	NoticePayment = "payment" // 缴款通知: every allocated partner
	NoticeDunning = "dunning" // 催缴通知: the partners not fully paid
)

// RecipientsResult lists who a notice would reach, before it is sent.
type RecipientsResult struct {
	Notice string `json:"notice"`
	// Sent is the round's payment notice once it went out (sent once per round).
	Sent      *SentNotice `json:"sent"`
	Reachable int         `json:"reachable"`
	Skipped   int         `json:"skipped"`
	Items     []Recipient `json:"items"`
}

// SentNotice is a round's payment notice as sent.
type SentNotice struct {
	DueDate civil.Date `json:"due_date" db:"due_date"`
	SentBy  string     `json:"sent_by" db:"sent_by"`
	SentAt  time.Time  `json:"sent_at" db:"sent_at"`
}

// Recipients lists who the round's payment notice (NoticePayment, the
// default) or a reminder sent now (NoticeDunning) would reach: the same
// query the send uses, so the list shown before sending is the list sent to.
func (s *Service) Recipients(ctx context.Context, roundID int64, notice string) (RecipientsResult, error) {
	if notice == "" {
		notice = NoticePayment
	}
	out := RecipientsResult{Notice: notice}
	if notice != NoticePayment && notice != NoticeDunning {
		return out, apperr.Invalid("notice_invalid", "notice", "通知类型只能是缴款通知或催缴通知")
	}
	var projectID int64
	err := s.db.GetContext(ctx, &projectID, `SELECT project_id FROM rounds WHERE id = $1`, roundID)
	if db.IsNoRows(err) {
		return out, ErrRoundNotFound
	}
	if err != nil {
		return out, err
	}
	if out.Items, err = s.recipientList(ctx, s.db, roundID, projectID, notice == NoticeDunning); err != nil {
		return out, err
	}
	var sent SentNotice
	err = s.db.GetContext(ctx, &sent, `SELECT due_date, sent_by, sent_at FROM payment_notices WHERE round_id = $1`, roundID)
	if err == nil {
		out.Sent = &sent
	} else if !db.IsNoRows(err) {
		return out, fmt.Errorf("payment notice of round %d: %w", roundID, err)
	}
	for _, r := range out.Items {
		if r.Reachable {
			out.Reachable++
		} else {
			out.Skipped++
		}
	}
	return out, nil
}

// SendNotices sends the payment notice (缴款通知) of an approved round. A
// test goes only to the caller's DingTalk account. The real send goes once
// per round to every allocated partner, records the due date (default: 20
// working days by the work calendar) and schedules the dunning cadence.
func (s *Service) SendNotices(ctx context.Context, a audit.Actor, userID, roundID int64, in NoticeInput) (NoticeResult, error) {
	out := NoticeResult{Test: in.Test}
	today := civil.Today(s.Now())
	cadence := in.Cadence
	if len(cadence) == 0 {
		cadence = DefaultCadence
	}
	if len(cadence) > 20 {
		return out, apperr.Invalid("cadence_too_long", "cadence", "催缴节奏最多 20 次")
	}
	err := s.db.InTx(ctx, func(tx *sqlx.Tx) error {
		r, err := lockRound(ctx, tx, roundID)
		if err != nil {
			return err
		}
		if err := project.Writable(ctx, tx, r.ProjectID); err != nil {
			return err
		}
		if r.Status != round.StatusApproved {
			return apperr.Rule("round_not_approved", "", "轮次尚未审批通过，不能发送缴款通知")
		}
		if in.DueDate != nil && !in.DueDate.IsZero() {
			if in.DueDate.DaysSince(today) < 0 {
				return apperr.Invalid("due_date_past", "due_date", "缴款截止日不能早于今天")
			}
			out.DueDate = *in.DueDate
		} else if out.DueDate, err = workcal.AddWorkingDays(ctx, tx, today, DueWorkingDays); err != nil {
			return err
		}
		data := map[string]any{"project_name": r.Project, "round_name": round.RoundName(r.Kind, r.Seq),
			"due_date": out.DueDate.String(), "link": noticeLink}
		if in.Test {
			dt, err := callerDingTalk(ctx, tx, userID)
			if err != nil {
				return err
			}
			out.NoticeID, _, err = notify.Enqueue(ctx, tx, notify.Notice{Kind: notify.KindWorkNotice, Recipients: []string{dt},
				ProjectID: &r.ProjectID, Template: "payment_notice", Data: data,
				DedupeKey: fmt.Sprintf("round:%d:payment_notice:test:%d:%d", r.ID, userID, s.Now().UnixNano())})
			if err != nil {
				return err
			}
			out.Recipients = 1
			return audit.Record(ctx, tx, a, audit.Entry{Action: "payment.notice_test", Entity: "round", EntityID: r.ID,
				ProjectID: &r.ProjectID, After: map[string]any{"recipient": dt, "due_date": out.DueDate}})
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO payment_notices (round_id, due_date, sent_by) VALUES ($1, $2, $3)
			ON CONFLICT (round_id) DO NOTHING`, r.ID, out.DueDate, actorName(a))
		if err != nil {
			return fmt.Errorf("payment notice: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return apperr.Conflict("payment_notices_already_sent", "本轮缴款通知已发送")
		}
		ids, skipped, err := s.recipients(ctx, tx, r, false)
		if err != nil {
			return err
		}
		out.Skipped = skipped
		if len(ids) > 0 {
			if out.NoticeID, _, err = notify.Enqueue(ctx, tx, notify.Notice{Kind: notify.KindWorkNotice, Recipients: ids,
				ProjectID: &r.ProjectID, Template: "payment_notice", Data: data,
				DedupeKey: fmt.Sprintf("round:%d:payment_notice", r.ID)}); err != nil {
				return err
			}
		}
		out.Recipients = len(ids)
		days := map[civil.Date]bool{}
		for _, off := range cadence {
			if d := out.DueDate.AddDays(off); d.DaysSince(today) > 0 {
				days[d] = true
			}
		}
		for d := range days {
			out.Reminders = append(out.Reminders, d)
			if _, err := tx.ExecContext(ctx, `INSERT INTO dunning_schedule (round_id, run_on) VALUES ($1, $2)`, r.ID, d); err != nil {
				return fmt.Errorf("dunning schedule: %w", err)
			}
		}
		sort.Slice(out.Reminders, func(i, j int) bool { return out.Reminders[i].DaysSince(out.Reminders[j]) < 0 })
		return audit.Record(ctx, tx, a, audit.Entry{Action: "payment.notice", Entity: "round", EntityID: r.ID, ProjectID: &r.ProjectID,
			After: map[string]any{"due_date": out.DueDate, "recipients": out.Recipients, "reminders": out.Reminders}})
	})
	return out, err
}

// DunningResult says what a reminder did.
type DunningResult struct {
	Recipients int        `json:"recipients"`
	Skipped    int        `json:"skipped"`
	NoticeID   int64      `json:"notice_id"`
	SentOn     civil.Date `json:"sent_on"`
}

// ErrDunningSent is a second reminder of one round on one day.
var ErrDunningSent = apperr.Conflict("dunning_already_sent", "今天已向本轮未缴清的合伙人发送过催缴通知")

// Dun sends a reminder (催缴) of round roundID now to the partners not fully
// paid. One reminder per round and day: the outbox key is the round and the
// day, so a second click, or the cadence job on the same day, adds nothing.
func (s *Service) Dun(ctx context.Context, a audit.Actor, roundID int64) (DunningResult, error) {
	var out DunningResult
	err := s.db.InTx(ctx, func(tx *sqlx.Tx) error {
		var err error
		out, err = s.dun(ctx, tx, a, roundID, civil.Today(s.Now()))
		return err
	})
	return out, err
}

func (s *Service) dun(ctx context.Context, tx *sqlx.Tx, a audit.Actor, roundID int64, today civil.Date) (DunningResult, error) {
	out := DunningResult{SentOn: today}
	r, err := lockRound(ctx, tx, roundID)
	if err != nil {
		return out, err
	}
	// The cadence job too: a project closed or settled meanwhile gets no
	// more reminders (RunDueDunning marks the day done).
	if err := project.Writable(ctx, tx, r.ProjectID); err != nil {
		return out, err
	}
	var due civil.Date
	err = tx.GetContext(ctx, &due, `SELECT due_date FROM payment_notices WHERE round_id = $1`, r.ID)
	if db.IsNoRows(err) {
		return out, apperr.Rule("payment_notices_not_sent", "", "请先发送缴款通知，再催缴")
	}
	if err != nil {
		return out, err
	}
	ids, skipped, err := s.recipients(ctx, tx, r, true)
	if err != nil {
		return out, err
	}
	out.Skipped = skipped
	if len(ids) == 0 {
		return out, apperr.Rule("nobody_unpaid", "", "本轮合伙人均已缴清，无需催缴")
	}
	id, created, err := notify.Enqueue(ctx, tx, notify.Notice{Kind: notify.KindWorkNotice, Recipients: ids,
		ProjectID: &r.ProjectID, Template: "dunning_notice", DedupeKey: fmt.Sprintf("round:%d:dunning:%s", r.ID, today),
		Data: map[string]any{"project_name": r.Project, "sent_on": today.String(), "due_date": due.String(), "link": noticeLink}})
	if err != nil {
		return out, err
	}
	if !created {
		return out, ErrDunningSent
	}
	out.NoticeID, out.Recipients = id, len(ids)
	return out, audit.Record(ctx, tx, a, audit.Entry{Action: "payment.dunning", Entity: "round", EntityID: r.ID, ProjectID: &r.ProjectID,
		After: map[string]any{"sent_on": today, "recipients": len(ids)}})
}

// RunDueDunning sends the reminders of the cadence due on or before today
// that have not gone out, each to the partners not fully paid at that
// moment; a round everyone has paid is simply marked done. It is the job
// function the scheduler calls daily; running it twice sends nothing twice.
func (s *Service) RunDueDunning(ctx context.Context, today civil.Date) (sent int, err error) {
	var due []struct {
		RoundID int64      `db:"round_id"`
		RunOn   civil.Date `db:"run_on"`
	}
	if err := s.db.SelectContext(ctx, &due, `SELECT round_id, run_on FROM dunning_schedule WHERE done_at IS NULL AND run_on <= $1 ORDER BY run_on, round_id`, today); err != nil {
		return 0, fmt.Errorf("due dunning: %w", err)
	}
	for _, d := range due {
		err := s.db.InTx(ctx, func(tx *sqlx.Tx) error {
			res, err := tx.ExecContext(ctx, `UPDATE dunning_schedule SET done_at = now() WHERE round_id = $1 AND run_on = $2 AND done_at IS NULL`, d.RoundID, d.RunOn)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 0 {
				return nil // another runner took it
			}
			if err := s.alertOverdue(ctx, tx, d.RoundID, today); err != nil {
				return err
			}
			r, err := s.dun(ctx, tx, audit.System, d.RoundID, today)
			switch apperr.As(err) {
			case nil:
				if err != nil {
					return err
				}
				sent += r.Recipients
			default:
				// Everybody paid, or today's reminder already went out by hand: done.
			}
			return nil
		})
		if err != nil {
			return sent, err
		}
	}
	return sent, nil
}

// DunningHour is the hour (Shanghai) from which the cadence's reminders of
// the day go out: partners are not reminded at night.
const DunningHour = 9

// DunningJob is RunDueDunning for the scheduler: from DunningHour on, the
// reminders due today and before that have not gone out.
func (s *Service) DunningJob(ctx context.Context) (int, error) {
	now := s.Now().In(civil.Shanghai)
	if now.Hour() < DunningHour {
		return 0, nil
	}
	return s.RunDueDunning(ctx, civil.Today(now))
}

// alertOverdue posts, once a day after the due date, the names of the
// round's partners not fully paid to the city company's robot.
func (s *Service) alertOverdue(ctx context.Context, tx *sqlx.Tx, roundID int64, today civil.Date) error {
	var r struct {
		roundInfo
		City int64      `db:"city_company_id"`
		Due  civil.Date `db:"due_date"`
	}
	err := tx.GetContext(ctx, &r, `SELECT r.id, r.project_id, p.name AS project_name, r.kind, r.seq, r.status, p.city_company_id, pn.due_date
		FROM rounds r JOIN projects p ON p.id = r.project_id JOIN payment_notices pn ON pn.round_id = r.id WHERE r.id = $1`, roundID)
	if err != nil {
		return fmt.Errorf("overdue alert: %w", err)
	}
	if today.DaysSince(r.Due) <= 0 {
		return nil
	}
	rp, err := s.pos.Round(ctx, tx, roundID, r.ProjectID)
	if err != nil {
		return fmt.Errorf("overdue partners: %w", err)
	}
	var names []string
	for _, l := range rp.Lines {
		if l.Outstanding.IsPositive() {
			names = append(names, l.Name)
		}
	}
	sort.Strings(names)
	if len(names) == 0 {
		return nil
	}
	_, _, err = notify.Enqueue(ctx, tx, notify.Notice{Kind: notify.KindRobot, OrgUnitID: &r.City, ProjectID: &r.ProjectID,
		Template: "payments_overdue", DedupeKey: fmt.Sprintf("round:%d:overdue:%s", roundID, today),
		Data: map[string]any{"project_name": r.Project, "round_name": round.RoundName(r.Kind, r.Seq), "due_date": r.Due.String(),
			"overdue_count": fmt.Sprint(len(names)), "overdue_names": strings.Join(names, "、"),
			"link": fmt.Sprintf("/payments/confirm?project=%d&round=%d", r.ProjectID, roundID)}})
	return err
}
