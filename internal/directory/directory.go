// Package directory keeps Hehuo's users in step with the DingTalk address
// book (从钉钉同步): it walks DingTalk's departments from the root, then
// creates, updates and disables Hehuo users in one audited transaction.
//
// DingTalk departments do not become org units: org units are the business
// tree (group → property → city company) the sysadmin maintains, and they
// rarely match the HR tree. A user's DingTalk department ids are kept on the
// user (users.dingtalk_dept_ids) only as a hint.
package directory

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"hehuo/internal/apperr"
	"hehuo/internal/audit"
	"hehuo/internal/cache"
	"hehuo/internal/db"
	"hehuo/internal/dingtalk"
	"hehuo/internal/leaver"
	"hehuo/internal/org"
)

// RootDepartment is the id of a DingTalk organisation's root department.
const RootDepartment int64 = 1

// Report counts what one sync did. Every DingTalk user lands in exactly one
// of created, updated, disabled or unchanged; disabled also counts Hehuo users
// DingTalk no longer lists.
type Report struct {
	Created     int `json:"created"`
	Updated     int `json:"updated"`
	Disabled    int `json:"disabled"`
	Unchanged   int `json:"unchanged"`
	Departments int `json:"departments"` // DingTalk departments walked, the root included
	// ExitCandidates counts the users disabled by this sync who still hold
	// principal in a project: listed as exits to start, with a robot alert
	// to their city companies (internal/leaver).
	ExitCandidates int `json:"exit_candidates"`
}

// Errors of a sync.
var (
	ErrDirectoryEmpty = apperr.Rule("directory_empty", "", "钉钉通讯录中没有任何成员，未同步（请检查应用的通讯录权限）")
	ErrNotConfigured  = apperr.Unavailable("dingtalk_not_configured", "未配置钉钉应用，无法同步通讯录")
)

// Service syncs users from DingTalk.
type Service struct {
	db     *db.DB
	client *dingtalk.Client
	now    func() time.Time
}

// NewService returns the directory service.
func NewService(d *db.DB, client *dingtalk.Client) *Service {
	return &Service{db: d, client: client, now: time.Now}
}

// person is one DingTalk user as the sync sees them, merged over departments.
type person struct {
	userID, name, mobile, jobNumber, title string
	active                                 bool
	deptIDs                                []int64
}

// Sync reads the whole DingTalk address book, then applies it to Hehuo's
// users in one transaction with an audit entry per changed user and one for
// the sync. DingTalk is read before the transaction opens, so no network
// call holds database locks.
func (s *Service) Sync(ctx context.Context, a audit.Actor) (Report, error) {
	if s.client == nil {
		return Report{}, ErrNotConfigured
	}
	people, depts, err := s.fetch(ctx)
	if err != nil {
		return Report{}, Unavailable(err)
	}
	// An empty answer is far more likely a permission problem than an empty
	// company; applying it would disable every synced user.
	if len(people) == 0 {
		return Report{}, ErrDirectoryEmpty
	}
	var rep Report
	err = s.db.InTx(ctx, func(tx *sqlx.Tx) error {
		var err error
		rep, err = apply(ctx, tx, a, people, s.now())
		rep.Departments = depts
		if err != nil {
			return err
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "directory.sync", Entity: "directory", EntityID: "dingtalk", After: rep})
	})
	if err != nil {
		return Report{}, fmt.Errorf("apply dingtalk directory: %w", err)
	}
	return rep, nil
}

// Unavailable turns a failed DingTalk call into a 503 the UI can show;
// errors that are already apperr errors pass through, and a failure of the
// Redis holding DingTalk's tokens is our outage (service_unavailable), not
// DingTalk's.
func Unavailable(err error) error {
	if apperr.As(err) != nil {
		return err
	}
	if cache.IsUnavailable(err) {
		return apperr.ServiceUnavailable(err)
	}
	return &apperr.Error{Kind: apperr.KindUnavailable, Code: "dingtalk_unavailable",
		Message: "钉钉服务暂时不可用，请稍后再试", Err: err}
}

// fetch walks the departments breadth-first from the root and reads each
// department's members. A person in several departments appears once.
func (s *Service) fetch(ctx context.Context) ([]person, int, error) {
	byID := map[string]*person{}
	queue := []int64{RootDepartment}
	seen := map[int64]bool{RootDepartment: true}
	for len(queue) > 0 {
		id := queue[0]
		queue = queue[1:]
		subs, err := s.client.Departments(ctx, id)
		if err != nil {
			return nil, 0, fmt.Errorf("list sub-departments of %d: %w", id, err)
		}
		for _, d := range subs {
			if !seen[d.ID] {
				seen[d.ID] = true
				queue = append(queue, d.ID)
			}
		}
		members, err := s.client.DepartmentUsers(ctx, id)
		if err != nil {
			return nil, 0, fmt.Errorf("list users of department %d: %w", id, err)
		}
		for _, m := range members {
			if m.UserID == "" {
				continue
			}
			p := byID[m.UserID]
			if p == nil {
				p = &person{userID: m.UserID, name: m.Name, mobile: m.Mobile, jobNumber: m.JobNumber, title: m.Title, active: m.Active}
				byID[m.UserID] = p
			}
			for _, d := range append(m.DeptIDs, id) {
				if !slices.Contains(p.deptIDs, d) {
					p.deptIDs = append(p.deptIDs, d)
				}
			}
		}
	}
	out := make([]person, 0, len(byID))
	for _, p := range byID {
		slices.Sort(p.deptIDs)
		out = append(out, *p)
	}
	// A stable order makes audit entries and ids reproducible.
	slices.SortFunc(out, func(a, b person) int { return strings.Compare(a.userID, b.userID) })
	return out, len(seen), nil
}

// row is a user as the sync compares them.
type row struct {
	ID        int64         `db:"id"`
	Username  *string       `db:"username"`
	Name      string        `db:"name"`
	DingTalk  *string       `db:"dingtalk_userid"`
	Mobile    string        `db:"mobile"`
	JobNumber string        `db:"job_number"`
	Title     string        `db:"title"`
	DeptIDs   pq.Int64Array `db:"dingtalk_dept_ids"`
	SyncedAt  *time.Time    `db:"dingtalk_synced_at"`
	Disabled  *time.Time    `db:"disabled_at"`
}

func apply(ctx context.Context, tx *sqlx.Tx, a audit.Actor, people []person, now time.Time) (Report, error) {
	var rep Report
	// Two syncs at once would both create the same new users; take turns.
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtext('hehuo.directory.sync'))`); err != nil {
		return rep, fmt.Errorf("lock directory sync: %w", err)
	}
	var rows []row
	if err := tx.SelectContext(ctx, &rows, `SELECT id, username, name, dingtalk_userid, mobile, job_number, title,
			dingtalk_dept_ids, dingtalk_synced_at, disabled_at
		FROM users ORDER BY id FOR UPDATE`); err != nil {
		return rep, fmt.Errorf("load users: %w", err)
	}
	byDingTalk := map[string]*row{}
	byMobile := map[string]*row{} // hand-made users without a DingTalk userid, first by id
	for i := range rows {
		r := &rows[i]
		switch {
		case r.DingTalk != nil:
			byDingTalk[*r.DingTalk] = r
		case r.Username == nil && r.Mobile != "":
			if _, dup := byMobile[r.Mobile]; !dup {
				byMobile[r.Mobile] = r
			}
		}
	}
	seen := map[int64]bool{}
	var disabled []int64 // users this sync disables, for the exits to start
	for _, p := range people {
		f := clean(p)
		r := byDingTalk[p.userID]
		if r == nil && f.mobile != "" {
			if m := byMobile[f.mobile]; m != nil && !seen[m.ID] {
				r = m
				delete(byMobile, f.mobile)
			}
		}
		if r == nil {
			if err := create(ctx, tx, a, f, now); err != nil {
				return rep, err
			}
			rep.Created++
			continue
		}
		seen[r.ID] = true
		// The bootstrap password accounts belong to Hehuo, not to DingTalk.
		if r.Username != nil {
			rep.Unchanged++
			continue
		}
		outcome, err := update(ctx, tx, a, r, f, now)
		if err != nil {
			return rep, err
		}
		switch outcome {
		case outcomeUpdated:
			rep.Updated++
		case outcomeDisabled:
			rep.Disabled++
			disabled = append(disabled, r.ID)
		default:
			rep.Unchanged++
		}
	}
	// Synced users DingTalk no longer lists have left: disable them, keep
	// them (their stakes stay). Users never synced are not DingTalk's to judge.
	for i := range rows {
		r := &rows[i]
		if seen[r.ID] || r.Username != nil || r.DingTalk == nil || r.SyncedAt == nil || r.Disabled != nil {
			continue
		}
		before, err := org.GetUser(ctx, tx, r.ID)
		if err != nil {
			return rep, err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE users SET disabled_at = $1, version = version + 1, updated_at = $1 WHERE id = $2`, now, r.ID); err != nil {
			return rep, fmt.Errorf("disable user %d: %w", r.ID, err)
		}
		if err := recordChange(ctx, tx, a, "user.sync_disable", r.ID, &before); err != nil {
			return rep, err
		}
		rep.Disabled++
		disabled = append(disabled, r.ID)
	}
	// Those who leave holding stakes are exits to start: remembered and
	// alerted in this transaction, so the alert exists exactly when the
	// change does.
	n, err := leaver.Record(ctx, tx, disabled, now)
	if err != nil {
		return rep, err
	}
	rep.ExitCandidates = n
	return rep, nil
}

// fields are a person's values as Hehuo stores them.
type fields struct {
	userID, name, mobile, jobNumber, title string
	active                                 bool
	deptIDs                                pq.Int64Array
}

var mobileRE = regexp.MustCompile(`^1\d{10}$`)

// clean fits DingTalk's values into Hehuo's columns. A mobile Hehuo cannot
// use (foreign, or hidden for lack of the permission) comes out empty and
// then never overwrites the one Hehuo has.
func clean(p person) fields {
	f := fields{userID: p.userID, name: cut(p.name, 40), jobNumber: cut(p.jobNumber, 32), title: cut(p.title, 60),
		active: p.active, deptIDs: pq.Int64Array(p.deptIDs)}
	if f.name == "" {
		f.name = p.userID
	}
	m := strings.TrimPrefix(strings.TrimPrefix(strings.TrimSpace(p.mobile), "+86-"), "+86")
	if mobileRE.MatchString(m) {
		f.mobile = m
	}
	if f.deptIDs == nil {
		f.deptIDs = pq.Int64Array{}
	}
	return f
}

// cut trims s and keeps at most n characters.
func cut(s string, n int) string {
	s = strings.TrimSpace(s)
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}

func create(ctx context.Context, tx *sqlx.Tx, a audit.Actor, f fields, now time.Time) error {
	var disabled *time.Time
	if !f.active {
		disabled = &now
	}
	var id int64
	err := tx.GetContext(ctx, &id, `INSERT INTO users (name, dingtalk_userid, mobile, job_number, title,
			dingtalk_dept_ids, dingtalk_synced_at, disabled_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
		f.name, f.userID, f.mobile, f.jobNumber, f.title, f.deptIDs, now, disabled)
	if err != nil {
		return fmt.Errorf("create user %s: %w", f.userID, err)
	}
	return recordChange(ctx, tx, a, "user.sync_create", id, nil)
}

type outcome int

const (
	outcomeUnchanged outcome = iota
	outcomeUpdated
	outcomeDisabled
)

func update(ctx context.Context, tx *sqlx.Tx, a audit.Actor, r *row, f fields, now time.Time) (outcome, error) {
	mobile := r.Mobile
	if f.mobile != "" {
		mobile = f.mobile
	}
	wasDisabled := r.Disabled != nil
	changed := r.DingTalk == nil || r.Name != f.name || r.Mobile != mobile || r.JobNumber != f.jobNumber ||
		r.Title != f.title || !slices.Equal(r.DeptIDs, f.deptIDs) || wasDisabled == f.active
	if !changed {
		// Only the bookkeeping moves: the user is still in DingTalk.
		if _, err := tx.ExecContext(ctx, `UPDATE users SET dingtalk_synced_at = $1 WHERE id = $2`, now, r.ID); err != nil {
			return 0, fmt.Errorf("mark user %d synced: %w", r.ID, err)
		}
		return outcomeUnchanged, nil
	}
	before, err := org.GetUser(ctx, tx, r.ID)
	if err != nil {
		return 0, err
	}
	disabled := r.Disabled
	switch {
	case !f.active && !wasDisabled:
		disabled = &now
	case f.active:
		disabled = nil
	}
	_, err = tx.ExecContext(ctx, `UPDATE users SET name = $1, dingtalk_userid = $2, mobile = $3, job_number = $4, title = $5,
			dingtalk_dept_ids = $6, dingtalk_synced_at = $7, disabled_at = $8, version = version + 1, updated_at = $7
		WHERE id = $9`, f.name, f.userID, mobile, f.jobNumber, f.title, f.deptIDs, now, disabled, r.ID)
	if err != nil {
		return 0, fmt.Errorf("update user %d from dingtalk: %w", r.ID, err)
	}
	action, out := "user.sync_update", outcomeUpdated
	if !f.active && !wasDisabled {
		action, out = "user.sync_disable", outcomeDisabled
	}
	return out, recordChange(ctx, tx, a, action, r.ID, &before)
}

// recordChange audits one user changed by the sync, with the user as
// org.User shows them before (nil for a creation) and after.
func recordChange(ctx context.Context, tx *sqlx.Tx, a audit.Actor, action string, id int64, before *org.User) error {
	after, err := org.GetUser(ctx, tx, id)
	if err != nil {
		return err
	}
	e := audit.Entry{Action: action, Entity: "user", EntityID: id, After: after}
	if before != nil {
		e.Before = *before
	}
	return audit.Record(ctx, tx, a, e)
}
