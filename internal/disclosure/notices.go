package disclosure

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"hehuo/internal/apperr"
	"hehuo/internal/audit"
	"hehuo/internal/civil"
	"hehuo/internal/notify"
	"hehuo/internal/org"
	"hehuo/internal/position"
	"hehuo/internal/project"
)

// noticeTemplate is the 披露通知's template in 模板管理 (migration 00005).
const noticeTemplate = "disclosure_notice"

// noticeLink is the H5 page the notice opens: 披露, the partner's projects.
const noticeLink = "/m/disclosures"

// noticeGroup is how many partners with the same news one queued notice
// addresses (a work notice's userid_list takes at most 100).
const noticeGroup = 100

// Scope limits the disclosures a caller sees and sends: All, or the
// projects IDs.
type Scope struct {
	All bool
	IDs []int64
}

func (sc Scope) where(col string, args *[]any) string {
	if sc.All {
		return "true"
	}
	*args = append(*args, pq.Int64Array(sc.IDs))
	return fmt.Sprintf("%s = ANY($%d)", col, len(*args))
}

const selectDisclosures = `SELECT d.id, d.project_id, d.profit_update_id, u.period_on, u.title, d.process_id, d.status,
	d.agreed_at, d.sent_at, s.sent_by_name, d.notice_ids
	FROM disclosures d JOIN profit_updates u ON u.id = d.profit_update_id LEFT JOIN disclosure_sends s ON s.id = d.send_id`

type disclosureRow struct {
	Disclosure
	Notices pq.Int64Array `db:"notice_ids"`
}

// Disclosures returns the disclosures of the scope for 披露审核: those waiting
// (agreed, oldest first) then those sent (newest first), each with its
// project and how many partners hold the project now.
func (s *Service) Disclosures(ctx context.Context, sc Scope) ([]Disclosure, error) {
	return s.list(ctx, s.db, sc, false)
}

func (s *Service) list(ctx context.Context, q sqlx.QueryerContext, sc Scope, pendingOnly bool) ([]Disclosure, error) {
	var args []any
	query := selectDisclosures + ` WHERE ` + sc.where("d.project_id", &args)
	if pendingOnly {
		query += ` AND d.status = 'agreed' ORDER BY d.project_id, d.id FOR UPDATE OF d`
	} else {
		query += ` ORDER BY d.status = 'sent', CASE WHEN d.status = 'sent' THEN -extract(epoch FROM d.sent_at) END, d.agreed_at, d.id`
	}
	var rows []disclosureRow
	if err := sqlx.SelectContext(ctx, q, &rows, query, args...); err != nil {
		return nil, fmt.Errorf("disclosures: %w", err)
	}
	out := make([]Disclosure, len(rows))
	var projects []int64
	for i, r := range rows {
		d := r.Disclosure
		d.NoticeIDs = []int64(r.Notices)
		if d.NoticeIDs == nil {
			d.NoticeIDs = []int64{}
		}
		d.StatusLabel = d.Status.Label()
		out[i] = d
		if !slices.Contains(projects, d.ProjectID) {
			projects = append(projects, d.ProjectID)
		}
	}
	if len(projects) == 0 {
		return out, nil
	}
	holders, err := s.holders(ctx, q, projects)
	if err != nil {
		return nil, err
	}
	for i := range out {
		h := holders[out[i].ProjectID]
		out[i].ProjectName, out[i].Partners = h.name, len(h.users)
	}
	return out, nil
}

// holding is a project's name and the users of the partners who hold it.
type holding struct {
	name  string
	users []int64
}

// holds reports whether a position is a stake: principal in force, or
// principal paid in and not returned (partners brought by opening balances
// have no allocation). An exited partner's stake passed to the platform
// company: both are zero.
func holds(p position.Position) bool {
	return p.Principal.IsPositive() || p.Paid.Sub(p.Returned).IsPositive()
}

// holders reads, through the position read model, the employee partners
// holding a stake in each project.
func (s *Service) holders(ctx context.Context, q sqlx.QueryerContext, projects []int64) (map[int64]holding, error) {
	ps, err := s.pos.Positions(ctx, q, position.Query{ProjectIDs: projects})
	if err != nil {
		return nil, err
	}
	out := map[int64]holding{}
	for _, id := range projects {
		name, err := project.Name(ctx, q, id)
		if err != nil {
			return nil, err
		}
		out[id] = holding{name: name}
	}
	for _, p := range ps {
		if p.UserID == nil || !holds(p) {
			continue
		}
		h := out[p.ProjectID]
		h.users = append(h.users, *p.UserID)
		out[p.ProjectID] = h
	}
	return out, nil
}

// SendInput is a 合并发送通知 request: Test sends one merged notice to
// the caller only.
type SendInput struct {
	Test bool `json:"test"`
}

// SendResult says what a send did.
type SendResult struct {
	Test        bool     `json:"test"`
	Disclosures int      `json:"disclosures"` // disclosures sent (0 for a test)
	Projects    []string `json:"projects"`    // the projects with news
	Partners    int      `json:"partners"`    // partners notified (1 for a test: the caller)
	Notices     int      `json:"notices"`     // outbox rows queued
	NoticeIDs   []int64  `json:"notice_ids"`
	Recipient   string   `json:"recipient,omitempty"` // the caller's DingTalk userid, for a test
}

// noticeData is a merged notice's data: the projects with news, the same
// for every partner holding exactly those projects (no amount: DESIGN §8).
func noticeData(names []string, today civil.Date) map[string]any {
	title := "盈亏动态"
	if len(names) > 1 {
		title = fmt.Sprintf("盈亏动态（共%d个项目）", len(names))
	}
	return map[string]any{"project_name": strings.Join(names, "、"), "disclosure_title": title,
		"published_on": today.String(), "link": noticeLink}
}

// Send merges every agreed disclosure not yet sent in the scope into one
// notice per partner naming every project they hold that has news
// (合并发送通知, seed 6.1.3): partners with the same projects share a
// queued notice, by groups of noticeGroup. The disclosures are marked sent
// in the transaction that queues the notices. A test sends the merged
// notice of all the projects with news to the caller (userID) only and
// marks nothing. Nothing waiting → 422 disclosures_none_pending.
func (s *Service) Send(ctx context.Context, a audit.Actor, userID int64, sc Scope, in SendInput) (SendResult, error) {
	out := SendResult{Test: in.Test, Projects: []string{}, NoticeIDs: []int64{}}
	err := s.db.InTx(ctx, func(tx *sqlx.Tx) error {
		pending, err := s.list(ctx, tx, sc, true)
		if err != nil {
			return err
		}
		if len(pending) == 0 {
			return apperr.Rule("disclosures_none_pending", "", "没有待发送的披露")
		}
		var projects []int64
		names := map[int64]string{}
		for _, d := range pending {
			if _, ok := names[d.ProjectID]; !ok {
				projects = append(projects, d.ProjectID)
				names[d.ProjectID] = d.ProjectName
			}
		}
		for _, id := range projects {
			out.Projects = append(out.Projects, names[id])
		}
		today := civil.Today(s.now())
		if in.Test {
			return s.sendTest(ctx, tx, a, userID, out.Projects, today, &out)
		}
		holders, err := s.holders(ctx, tx, projects)
		if err != nil {
			return err
		}
		// Each partner's projects with news, in the order of the projects.
		news := map[int64][]int64{}
		var users []int64
		for _, id := range projects {
			for _, u := range holders[id].users {
				if _, ok := news[u]; !ok {
					users = append(users, u)
				}
				news[u] = append(news[u], id)
			}
		}
		// Partners with the same projects share their notices.
		type group struct {
			projects []int64
			to       []string
		}
		groups := map[string]*group{}
		var keys []string
		for _, u := range users {
			user, err := org.GetUser(ctx, tx, u)
			if err != nil {
				return fmt.Errorf("partner user %d: %w", u, err)
			}
			if user.DingTalkUserID == nil || strings.TrimSpace(*user.DingTalkUserID) == "" || user.Disabled {
				continue
			}
			k := fmt.Sprint(news[u])
			g := groups[k]
			if g == nil {
				g = &group{projects: news[u]}
				groups[k] = g
				keys = append(keys, k)
			}
			g.to = append(g.to, *user.DingTalkUserID)
			out.Partners++
		}
		var sendID int64
		if err := tx.GetContext(ctx, &sendID, `INSERT INTO disclosure_sends (sent_by, sent_by_name) VALUES ($1, $2) RETURNING id`,
			a.ID, a.Name); err != nil {
			return fmt.Errorf("disclosure send: %w", err)
		}
		// One queued notice per group of recipients; Enqueue (not
		// EnqueueMany) for the ids, which the disclosures keep — there are
		// as many groups as distinct sets of projects, not as partners.
		byProject := map[int64][]int64{}
		for gi, k := range keys {
			g := groups[k]
			ns := make([]string, len(g.projects))
			for i, id := range g.projects {
				ns[i] = names[id]
			}
			for i := 0; i < len(g.to); i += noticeGroup {
				nid, _, err := notify.Enqueue(ctx, tx, notify.Notice{Kind: notify.KindWorkNotice, Recipients: g.to[i:min(i+noticeGroup, len(g.to))],
					Template: noticeTemplate, Data: noticeData(ns, today),
					DedupeKey: fmt.Sprintf("disclosure:send:%d:%d:%d", sendID, gi, i/noticeGroup)})
				if err != nil {
					return err
				}
				out.NoticeIDs = append(out.NoticeIDs, nid)
				for _, id := range g.projects {
					byProject[id] = append(byProject[id], nid)
				}
			}
		}
		out.Notices = len(out.NoticeIDs)
		for _, d := range pending {
			ids := byProject[d.ProjectID]
			if ids == nil {
				ids = []int64{}
			}
			if _, err := tx.ExecContext(ctx, `UPDATE disclosures SET status = 'sent', sent_at = now(), send_id = $2, notice_ids = $3,
				version = version + 1 WHERE id = $1`, d.ID, sendID, pq.Int64Array(ids)); err != nil {
				return fmt.Errorf("disclosure %d sent: %w", d.ID, err)
			}
			pid := d.ProjectID
			if err := audit.Record(ctx, tx, a, audit.Entry{Action: "disclosure.sent", Entity: "disclosure", EntityID: d.ID,
				ProjectID: &pid, Before: map[string]any{"status": d.Status},
				After: map[string]any{"status": SendSent, "notice_ids": ids}}); err != nil {
				return err
			}
		}
		out.Disclosures = len(pending)
		if _, err := tx.ExecContext(ctx, `UPDATE disclosure_sends SET partners = $2, notices = $3 WHERE id = $1`,
			sendID, out.Partners, out.Notices); err != nil {
			return fmt.Errorf("disclosure send %d: %w", sendID, err)
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "disclosure.notices", Entity: "disclosure_send", EntityID: sendID,
			After: map[string]any{"projects": out.Projects, "partners": out.Partners, "notices": out.Notices}})
	})
	if err != nil {
		return SendResult{}, err
	}
	return out, nil
}

// sendTest queues the merged notice of every project with news to the
// caller only (测试发送（发给自己）); nothing is marked.
func (s *Service) sendTest(ctx context.Context, tx *sqlx.Tx, a audit.Actor, userID int64, names []string, today civil.Date, out *SendResult) error {
	caller, err := org.GetUser(ctx, tx, userID)
	if err != nil && apperr.As(err) == nil {
		return fmt.Errorf("caller's DingTalk account: %w", err)
	}
	dt := caller.DingTalkUserID
	if dt == nil || strings.TrimSpace(*dt) == "" {
		return apperr.Rule("dingtalk_account_missing", "test", "您的账号未绑定钉钉，无法接收测试消息")
	}
	id, _, err := notify.Enqueue(ctx, tx, notify.Notice{Kind: notify.KindWorkNotice, Recipients: []string{*dt},
		Template: noticeTemplate, Data: noticeData(names, today),
		DedupeKey: fmt.Sprintf("disclosure:notice_test:%d:%d", userID, s.now().UnixNano())})
	if err != nil {
		return err
	}
	out.Partners, out.Notices, out.NoticeIDs, out.Recipient = 1, 1, []int64{id}, *dt
	return audit.Record(ctx, tx, a, audit.Entry{Action: "disclosure.notice_test", Entity: "disclosure_send", EntityID: 0,
		After: map[string]any{"recipient": *dt, "projects": names}})
}
