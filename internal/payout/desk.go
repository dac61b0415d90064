package payout

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"hehuo/internal/apperr"
	"hehuo/internal/audit"
	"hehuo/internal/civil"
	"hehuo/internal/db"
	"hehuo/internal/notify"
	"hehuo/internal/partner"
	"hehuo/internal/project"
	"hehuo/internal/text"
)

// Holder is one partner of a project with their payout account as staff see
// it (分配 → 分配账户): the status and its label, the number masked.
type Holder struct {
	PartnerID int64  `json:"partner_id"`
	UserID    int64  `json:"user_id"`
	Name      string `json:"name"`
	// Reachable says whether the partner has a DingTalk account, i.e. can
	// receive the confirmation notice.
	Reachable bool    `json:"reachable"`
	Account   Account `json:"account"`
}

// ErrNotHolder is a user who holds no stake in the project: staff act only on
// the accounts of the project's partners.
var ErrNotHolder = apperr.NotFound("partner_not_in_project", "该用户不是本项目的合伙人")

// Holders returns each of the project's partners (from round.ProjectPartners)
// with their account, masked; those without one have status none.
func (s *Service) Holders(ctx context.Context, partners []partner.Partner) ([]Holder, error) {
	ids := userIDs(partners)
	accounts, err := Of(ctx, s.db, ids)
	if err != nil {
		return nil, err
	}
	var reachable []int64
	if err := s.db.SelectContext(ctx, &reachable, `SELECT id FROM users WHERE id = ANY($1) AND btrim(coalesce(dingtalk_userid, '')) <> ''`,
		pq.Array(ids)); err != nil {
		return nil, fmt.Errorf("partners' DingTalk accounts: %w", err)
	}
	can := map[int64]bool{}
	for _, id := range reachable {
		can[id] = true
	}
	out := make([]Holder, 0, len(partners))
	for _, p := range partners {
		if p.UserID == nil {
			continue
		}
		acc, ok := accounts[*p.UserID]
		if !ok {
			acc = Account{UserID: *p.UserID, Status: StatusNone, StatusLabel: StatusNone.Label()}
		}
		out = append(out, Holder{PartnerID: p.ID, UserID: *p.UserID, Name: p.Name, Reachable: can[*p.UserID], Account: acc})
	}
	return out, nil
}

func userIDs(partners []partner.Partner) []int64 {
	ids := make([]int64, 0, len(partners))
	for _, p := range partners {
		if p.UserID != nil {
			ids = append(ids, *p.UserID)
		}
	}
	return ids
}

// ConfirmNoticeInput is a send of the 分配账户确认通知 of a project.
type ConfirmNoticeInput struct {
	// Test sends it only to the caller's own DingTalk account.
	Test bool `json:"test"`
}

// ConfirmNoticeResult says what a send did.
type ConfirmNoticeResult struct {
	Test       bool  `json:"test"`
	Recipients int   `json:"recipients"`
	Skipped    int   `json:"skipped"` // not confirmed, but without a DingTalk account
	NoticeID   int64 `json:"notice_id"`
}

// ErrConfirmNoticeSent is a second real send of one project on one day.
var ErrConfirmNoticeSent = apperr.Conflict("payout_notice_already_sent", "今天已向本项目未确认分配账户的合伙人发送过确认通知")

// SendConfirmNotices sends the 分配账户确认通知 of project projectID to every
// partner in partners whose account is not confirmed (none entered, or
// entered and not confirmed since): they enter or confirm it on the phone.
// A test goes only to the caller (callerID). The real send goes once per
// project and day; an unconfirmed account gets the notice as its
// confirmation notice, so the partner can confirm it.
func (s *Service) SendConfirmNotices(ctx context.Context, a audit.Actor, callerID, projectID int64, partners []partner.Partner, in ConfirmNoticeInput) (ConfirmNoticeResult, error) {
	out := ConfirmNoticeResult{Test: in.Test}
	now := time.Now()
	err := s.db.InTx(ctx, func(tx *sqlx.Tx) error {
		if !in.Test {
			if err := project.Writable(ctx, tx, projectID); err != nil {
				return err
			}
		}
		projectName, err := project.Name(ctx, tx, projectID)
		if err != nil {
			return err
		}
		data := map[string]any{"project_name": projectName, "distribution_name": "分配账户确认",
			"deadline": civil.Today(now).AddDays(confirmDays).String(), "link": "/m/payout-account"}
		if in.Test {
			var dt *string
			if err := tx.GetContext(ctx, &dt, `SELECT dingtalk_userid FROM users WHERE id = $1`, callerID); err != nil && !db.IsNoRows(err) {
				return fmt.Errorf("caller's DingTalk account: %w", err)
			}
			if dt == nil || strings.TrimSpace(*dt) == "" {
				return apperr.Rule("dingtalk_account_missing", "test", "您的账号未绑定钉钉，无法接收测试消息")
			}
			id, _, err := notify.Enqueue(ctx, tx, notify.Notice{Kind: notify.KindWorkNotice, Recipients: []string{*dt}, ProjectID: &projectID,
				Template: "account_confirm_notice", Data: data,
				DedupeKey: fmt.Sprintf("project:%d:payout_confirm:test:%d:%d", projectID, callerID, now.UnixNano())})
			if err != nil {
				return err
			}
			out.NoticeID, out.Recipients = id, 1
			return audit.Record(ctx, tx, a, audit.Entry{Action: "payout_account.notice_test", Entity: "project", EntityID: projectID,
				ProjectID: &projectID, After: map[string]any{"recipient": *dt}})
		}
		var rows []struct {
			UserID int64   `db:"id"`
			DT     *string `db:"dingtalk_userid"`
		}
		if err := tx.SelectContext(ctx, &rows, `SELECT u.id, u.dingtalk_userid FROM users u
			LEFT JOIN payout_accounts pa ON pa.user_id = u.id
			WHERE u.id = ANY($1) AND coalesce(pa.status, $2) <> $3 ORDER BY u.id`,
			pq.Array(userIDs(partners)), StatusNone, StatusConfirmed); err != nil {
			return fmt.Errorf("unconfirmed payout accounts: %w", err)
		}
		var dts []string
		var reached []int64
		for _, r := range rows {
			if r.DT == nil || strings.TrimSpace(*r.DT) == "" {
				out.Skipped++
				continue
			}
			dts, reached = append(dts, *r.DT), append(reached, r.UserID)
		}
		if len(dts) == 0 {
			return apperr.Rule("nobody_unconfirmed", "", "本项目合伙人的分配账户均已确认（或未绑定钉钉），无需发送")
		}
		id, created, err := notify.Enqueue(ctx, tx, notify.Notice{Kind: notify.KindWorkNotice, Recipients: dts, ProjectID: &projectID,
			Template: "account_confirm_notice", Data: data,
			DedupeKey: fmt.Sprintf("project:%d:payout_confirm:%s", projectID, civil.Today(now))})
		if err != nil {
			return err
		}
		if !created {
			return ErrConfirmNoticeSent
		}
		if _, err := tx.ExecContext(ctx, `UPDATE payout_accounts SET notice_id = $2 WHERE user_id = ANY($1) AND status = $3`,
			pq.Array(reached), id, StatusUnconfirmed); err != nil {
			return fmt.Errorf("payout confirmation notice: %w", err)
		}
		out.NoticeID, out.Recipients = id, len(dts)
		return audit.Record(ctx, tx, a, audit.Entry{Action: "payout_account.notice", Entity: "project", EntityID: projectID,
			ProjectID: &projectID, After: map[string]any{"recipients": out.Recipients, "skipped": out.Skipped}})
	})
	return out, err
}

// OnBehalfInput is an account staff enter for a partner (代填), with the reason.
type OnBehalfInput struct {
	Input
	Reason string `json:"reason"`
}

type onBehalf struct {
	actor     audit.Actor
	userID    int64
	projectID int64
	reason    string
}

// check is the own-line rule of the segregation of duties (403 own_line):
// staff never enter their own account through the staff route — they enter
// it on their own phone like every partner.
func (o *onBehalf) check(ctx context.Context, q sqlx.QueryerContext) error {
	id, ok, err := partner.ForUser(ctx, q, o.userID)
	if err != nil || !ok {
		return err
	}
	return partner.RefuseOwnLine(ctx, q, o.actor, id)
}

type onBehalfEntry struct {
	Account
	Reason   string `json:"reason"`
	OnBehalf bool   `json:"on_behalf"`
}

// SaveOnBehalf enters or changes the payout account of user userID, a partner
// of project projectID (in partners), for them, with a reason (代填). It is Save
// — the holder must be the partner, the number is sealed and shown masked,
// and the account stays unconfirmed until the partner confirms it on the
// phone after the confirmation notice — with the reason and the project in
// the audit entry.
func (s *Service) SaveOnBehalf(ctx context.Context, a audit.Actor, projectID, userID int64, partners []partner.Partner, in OnBehalfInput) (Account, error) {
	held := false
	for _, p := range partners {
		held = held || p.UserID != nil && *p.UserID == userID
	}
	if !held {
		return Account{}, ErrNotHolder
	}
	reason, err := text.Clean(in.Reason, "reason", "代填原因", true, 200)
	if err != nil {
		return Account{}, err
	}
	if err := project.Writable(ctx, s.db, projectID); err != nil {
		return Account{}, err
	}
	behalf := &onBehalf{actor: a, userID: userID, projectID: projectID, reason: reason}
	// The own-line rule first, before the account is even checked or sealed
	// (and again inside save's transaction).
	if err := behalf.check(ctx, s.db); err != nil {
		return Account{}, err
	}
	return s.save(ctx, a, userID, in.Input, behalf)
}
