package adjustment

import (
	"context"
	"fmt"
	"strings"

	"github.com/jmoiron/sqlx"
	"github.com/shopspring/decimal"

	"hehuo/internal/apperr"
	"hehuo/internal/audit"
	"hehuo/internal/civil"
	"hehuo/internal/db"
	"hehuo/internal/money"
	"hehuo/internal/notify"
	"hehuo/internal/project"
	"hehuo/internal/workcal"
)

// NoticeRecipient is one partner the 变更缴款通知 of an adjustment would
// reach now: a top-up or refund not yet fully settled.
type NoticeRecipient struct {
	UserID int64  `json:"user_id"`
	Name   string `json:"name"`
	// Direction is top_up (补缴) or refund (退款); DirectionLabel says it in Chinese.
	Direction      string       `json:"direction"`
	DirectionLabel string       `json:"direction_label"`
	Left           money.Amount `json:"left"` // still to settle
	Reachable      bool         `json:"reachable"`
	dingTalk       string
}

// NoticeRecipients lists who a 变更缴款通知 sent now would reach.
type NoticeRecipients struct {
	Reachable int               `json:"reachable"`
	Skipped   int               `json:"skipped"`
	Items     []NoticeRecipient `json:"items"`
}

func noticeRecipients(ctx context.Context, q sqlx.QueryerContext, id int64) (NoticeRecipients, error) {
	var rows []struct {
		UserID  int64           `db:"user_id"`
		Name    string          `db:"name"`
		DT      *string         `db:"dingtalk_userid"`
		TopUp   decimal.Decimal `db:"top_up"`
		Refund  decimal.Decimal `db:"refund"`
		Settled decimal.Decimal `db:"settled"`
	}
	if err := sqlx.SelectContext(ctx, q, &rows, `SELECT l.user_id, u.name, u.dingtalk_userid,
		sum(l.top_up) AS top_up, sum(l.refund) AS refund, sum(l.settled) AS settled
		FROM adjustment_lines l JOIN users u ON u.id = l.user_id
		WHERE l.adjustment_id = $1 GROUP BY l.user_id, u.name, u.dingtalk_userid ORDER BY u.name, l.user_id`, id); err != nil {
		return NoticeRecipients{}, fmt.Errorf("adjustment notice recipients: %w", err)
	}
	out := NoticeRecipients{Items: []NoticeRecipient{}}
	for _, r := range rows {
		// Netted as Settle nets them: one principal account per partner.
		direction, due := DirectionTopUp, r.TopUp.Sub(r.Refund)
		if due.Sign() < 0 {
			direction, due = DirectionRefund, due.Neg()
		}
		left := due.Sub(r.Settled)
		if left.Sign() <= 0 {
			continue
		}
		n := NoticeRecipient{UserID: r.UserID, Name: r.Name, Direction: direction, DirectionLabel: directionLabel(direction),
			Left: money.AmountOf(left), Reachable: r.DT != nil && strings.TrimSpace(*r.DT) != ""}
		if n.Reachable {
			n.dingTalk = *r.DT
			out.Reachable++
		} else {
			out.Skipped++
		}
		out.Items = append(out.Items, n)
	}
	return out, nil
}

// NoticeRecipientsOf lists who the 变更缴款通知 of adjustment id would reach if
// sent now: the partners whose top-up or refund is not fully settled.
func (s *Service) NoticeRecipientsOf(ctx context.Context, id int64) (NoticeRecipients, error) {
	if _, err := get(ctx, s.db, id); err != nil {
		return NoticeRecipients{}, err
	}
	return noticeRecipients(ctx, s.db, id)
}

// NoticeInput is a send of the 变更缴款通知 from the payment desk.
type NoticeInput struct {
	// Test sends it only to the caller's own DingTalk account.
	Test bool `json:"test"`
}

// NoticeResult says what a send did.
type NoticeResult struct {
	Test       bool       `json:"test"`
	DueDate    civil.Date `json:"due_date"`
	Recipients int        `json:"recipients"`
	Skipped    int        `json:"skipped"`
	NoticeID   int64      `json:"notice_id"`
}

// SendNotice sends the 变更缴款通知 of agreed adjustment id again, from the
// payment desk: a test to the caller (callerID) only, or to every partner
// whose top-up or refund is not fully settled, once per adjustment and day
// (the agreement itself sent the first one).
func (s *Service) SendNotice(ctx context.Context, a audit.Actor, callerID, id int64, in NoticeInput) (NoticeResult, error) {
	out := NoticeResult{Test: in.Test}
	today := civil.Today(s.now())
	err := s.db.InTx(ctx, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, `SELECT 1 FROM adjustments WHERE id = $1 FOR SHARE`, id); err != nil {
			return fmt.Errorf("lock adjustment: %w", err)
		}
		if !in.Test {
			if err := writable(ctx, tx, id); err != nil {
				return err
			}
		}
		adj, err := get(ctx, tx, id)
		if err != nil {
			return err
		}
		if adj.Status != StatusAgreed {
			return apperr.Conflict("adjustment_not_agreed", "立项调整审批通过后才能发送变更缴款通知")
		}
		projectName, err := project.Name(ctx, tx, adj.ProjectID)
		if err != nil {
			return err
		}
		if out.DueDate, err = workcal.AddWorkingDays(ctx, tx, today, 20); err != nil {
			return err
		}
		data := map[string]any{"project_name": projectName, "adjustment_name": "立项调整", "due_date": out.DueDate.String(),
			"link": fmt.Sprintf("/h5/adjustments/%d", adj.ID)}
		if in.Test {
			var dt *string
			if err := tx.GetContext(ctx, &dt, `SELECT dingtalk_userid FROM users WHERE id = $1`, callerID); err != nil && !db.IsNoRows(err) {
				return fmt.Errorf("caller's DingTalk account: %w", err)
			}
			if dt == nil || strings.TrimSpace(*dt) == "" {
				return apperr.Rule("dingtalk_account_missing", "test", "您的账号未绑定钉钉，无法接收测试消息")
			}
			if out.NoticeID, _, err = notify.Enqueue(ctx, tx, notify.Notice{Kind: notify.KindWorkNotice, Recipients: []string{*dt},
				ProjectID: &adj.ProjectID, Template: "adjustment_notice", Data: data,
				DedupeKey: fmt.Sprintf("adjustment:%d:notice:test:%d:%d", id, callerID, s.now().UnixNano())}); err != nil {
				return err
			}
			out.Recipients = 1
			return audit.Record(ctx, tx, a, audit.Entry{Action: "adjustment.notice_test", Entity: "adjustment", EntityID: id,
				ProjectID: &adj.ProjectID, After: map[string]any{"recipient": *dt}})
		}
		list, err := noticeRecipients(ctx, tx, id)
		if err != nil {
			return err
		}
		var dts []string
		for _, r := range list.Items {
			if r.Reachable {
				dts = append(dts, r.dingTalk)
			}
		}
		out.Skipped = list.Skipped
		if len(dts) == 0 {
			return apperr.Rule("nobody_unsettled", "", "本次立项调整的补缴和退款均已确认（或合伙人未绑定钉钉），无需发送")
		}
		id2, created, err := notify.Enqueue(ctx, tx, notify.Notice{Kind: notify.KindWorkNotice, Recipients: dts,
			ProjectID: &adj.ProjectID, Template: "adjustment_notice", Data: data,
			DedupeKey: fmt.Sprintf("adjustment:%d:notice:%s", id, today)})
		if err != nil {
			return err
		}
		if !created {
			return apperr.Conflict("adjustment_notice_already_sent", "今天已发送过本次立项调整的变更缴款通知")
		}
		out.NoticeID, out.Recipients = id2, len(dts)
		return audit.Record(ctx, tx, a, audit.Entry{Action: "adjustment.notice", Entity: "adjustment", EntityID: id,
			ProjectID: &adj.ProjectID, After: map[string]any{"recipients": out.Recipients, "skipped": out.Skipped, "due_date": out.DueDate}})
	})
	return out, err
}
