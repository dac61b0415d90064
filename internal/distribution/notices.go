package distribution

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"hehuo/internal/apperr"
	"hehuo/internal/audit"
	"hehuo/internal/civil"
	"hehuo/internal/notify"
	"hehuo/internal/org"
	"hehuo/internal/partner"
	"hehuo/internal/project"
)

// noticeTemplate is the 分配通知's template in 模板管理 (seeded by migration
// 00005 with its variables in notify's templateVars).
const noticeTemplate = "distribution_notice"

// noticeLink is the H5 page the notice opens: 我的分配, where each partner
// sees their own amounts.
const noticeLink = "/m/distributions"

// noticeHour is when, on the distribution day, the notices go out (Shanghai).
const noticeHour = 9

// noticePrefix is the dedupe-key prefix of batch id's notices; the number
// of each group of recipients follows it (noticePrefix + 0, 1, …).
func noticePrefix(id int64) string { return fmt.Sprintf("distribution:%d:notice:", id) }

// noticeGroup is how many payees one queued notice addresses: the text is
// the same for everyone, so a group goes out in one DingTalk call (a work
// notice's userid_list takes at most 100), and a failed call holds back
// only its own group.
const noticeGroup = 100

// noticeData is the notice's data: the same for every recipient, no amount
// (amounts are only inside H5, DESIGN §8).
func noticeData(projectName string, b Batch) map[string]any {
	date := "待定"
	if b.DistributionDate != nil {
		date = b.DistributionDate.String()
	}
	return map[string]any{"project_name": projectName, "distribution_name": b.Kind.Title(b.Seq, false),
		"distribution_date": date, "link": noticeLink}
}

// noticeTime is when the notices of a batch distributed on day may go: 09:00
// Shanghai that day, or now when that is past (an approval after the day).
func noticeTime(day *civil.Date, now time.Time) time.Time {
	if day == nil {
		return now
	}
	t := day.Start().Add(noticeHour * time.Hour)
	if t.Before(now) {
		return now
	}
	return t
}

// queueNotices queues the 分配通知 of batch b, just approved, in tx (the
// approval effect's transaction, seed 7.2.9 分配当日完成通知发送): a work
// notice to every payee employee with a non-zero amount and a DingTalk
// account, not before 09:00 Shanghai on the distribution day, the same text
// for everyone, in groups of noticeGroup recipients by user id, each group
// deduplicated per batch so a repeated approval event queues nothing new.
func (s *Service) queueNotices(ctx context.Context, tx *sqlx.Tx, b Batch) error {
	projectName, err := project.Name(ctx, tx, b.ProjectID)
	if err != nil {
		return err
	}
	var payees []int64
	if err := tx.SelectContext(ctx, &payees, `SELECT DISTINCT payee_partner_id FROM distribution_lines
		WHERE batch_id = $1 AND (e <> 0 OR f <> 0)`, b.ID); err != nil {
		return fmt.Errorf("distribution notices: payees: %w", err)
	}
	accounts, err := partner.DingTalkAccounts(ctx, tx, payees)
	if err != nil {
		return fmt.Errorf("distribution notices: %w", err)
	}
	// One notice per user, in user id order (two payee rows never share a
	// user, but the order keeps the groups stable).
	users := slices.SortedFunc(maps.Values(accounts), func(a, b partner.Account) int { return cmp.Compare(a.UserID, b.UserID) })
	data := noticeData(projectName, b)
	at := noticeTime(b.DistributionDate, s.now())
	var ns []notify.Notice
	for i := 0; i < len(users); i += noticeGroup {
		group := users[i:min(i+noticeGroup, len(users))]
		to := make([]string, len(group))
		for j, u := range group {
			to[j] = u.DingTalkID
		}
		ns = append(ns, notify.Notice{Kind: notify.KindWorkNotice, Recipients: to,
			ProjectID: &b.ProjectID, Template: noticeTemplate, Data: data, NotBefore: at,
			DedupeKey: noticePrefix(b.ID) + fmt.Sprint(i/noticeGroup)})
	}
	// All at once: a batch may pay thousands of partners.
	_, err = notify.EnqueueMany(ctx, tx, ns)
	return err
}

// BatchNotices is a batch as 分配 → 分配通知 lists it: its title, date and
// state, and how its notices stand.
type BatchNotices struct {
	ID               int64       `json:"id"`
	Kind             Kind        `json:"kind"`
	Seq              int         `json:"seq"`
	Title            string      `json:"title"`
	Status           Status      `json:"status"`
	StatusLabel      string      `json:"status_label"`
	DistributionDate *civil.Date `json:"distribution_date"`
	// Notices counts the batch's recipients (one per payee); Queued of them
	// wait for QueuedFor (09:00 of the distribution day), Sent went out,
	// Failed could not be delivered — counted by the state of the queued
	// notice that addresses them.
	Notices   int        `json:"notices"`
	Queued    int        `json:"queued"`
	QueuedFor *time.Time `json:"queued_for"`
	Sent      int        `json:"sent"`
	Failed    int        `json:"failed"`
}

// Notices lists the batches of project projectID in stage order with their
// notices' state (分配通知).
func (s *Service) Notices(ctx context.Context, projectID int64) ([]BatchNotices, error) {
	var batches []Batch
	if err := s.db.SelectContext(ctx, &batches, selectBatch+` WHERE project_id = $1
		ORDER BY CASE kind WHEN 'principal' THEN 0 WHEN 'profit' THEN 1 ELSE 2 END, seq, id`, projectID); err != nil {
		return nil, fmt.Errorf("distribution notices: batches: %w", err)
	}
	prefixes := make([]string, len(batches))
	for i, b := range batches {
		prefixes[i] = noticePrefix(b.ID)
	}
	counts, err := notify.CountsByPrefix(ctx, s.db, prefixes)
	if err != nil {
		return nil, err
	}
	out := make([]BatchNotices, len(batches))
	for i, b := range batches {
		c := counts[prefixes[i]]
		out[i] = BatchNotices{ID: b.ID, Kind: b.Kind, Seq: b.Seq, Title: b.Kind.Title(b.Seq, false), Status: b.Status,
			StatusLabel: b.Status.Label(), DistributionDate: b.DistributionDate,
			Notices: c.Notices, Queued: c.Queued, QueuedFor: c.QueuedFor, Sent: c.Sent, Failed: c.Failed}
	}
	return out, nil
}

// NoticeTestResult says what a test send of a batch's notice did.
type NoticeTestResult struct {
	NoticeID  int64  `json:"notice_id"`
	Recipient string `json:"recipient"`
}

// SendTestNotice sends batch id's 分配通知, rendered as partners will get it,
// to the caller (userID) only, now (测试消息). It changes nothing else.
func (s *Service) SendTestNotice(ctx context.Context, a audit.Actor, userID, id int64) (NoticeTestResult, error) {
	var out NoticeTestResult
	err := s.db.InTx(ctx, func(tx *sqlx.Tx) error {
		b, err := loadRow(ctx, tx, id, false)
		if err != nil {
			return err
		}
		caller, err := org.GetUser(ctx, tx, userID)
		if err != nil && apperr.As(err) == nil {
			return fmt.Errorf("caller's DingTalk account: %w", err)
		}
		dt := caller.DingTalkUserID
		if dt == nil || strings.TrimSpace(*dt) == "" {
			return apperr.Rule("dingtalk_account_missing", "test", "您的账号未绑定钉钉，无法接收测试消息")
		}
		projectName, err := project.Name(ctx, tx, b.ProjectID)
		if err != nil {
			return err
		}
		// A test key of its own (never the batch's notice prefix, so the
		// counts stay the partners'), unique per send.
		id2, _, err := notify.Enqueue(ctx, tx, notify.Notice{Kind: notify.KindWorkNotice, Recipients: []string{*dt},
			ProjectID: &b.ProjectID, Template: noticeTemplate, Data: noticeData(projectName, b),
			DedupeKey: fmt.Sprintf("distribution:%d:notice_test:%d:%d", id, userID, s.now().UnixNano())})
		if err != nil {
			return err
		}
		out = NoticeTestResult{NoticeID: id2, Recipient: *dt}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "distribution.notice_test", Entity: "distribution_payout", EntityID: id,
			ProjectID: &b.ProjectID, After: map[string]any{"recipient": *dt}})
	})
	if err != nil {
		return NoticeTestResult{}, err
	}
	return out, nil
}
