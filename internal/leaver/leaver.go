// Package leaver lists the exits to start (待发起退出): partners a DingTalk
// sync (从钉钉同步, internal/directory) disabled because they left the
// company while they still held principal in a project (R9's P > 0, read
// from internal/position). In the sync's own transaction it remembers them
// (exit_candidates, one row per user, ever) and posts one robot alert per
// city company of their projects, names only; the accountants then start
// each exit (退出流程). Whether a candidate still holds anything is read
// from position every time the list is shown, so an agreed exit, whose
// takeover leaves the partner nothing, takes them off the list.
package leaver

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"hehuo/internal/db"
	"hehuo/internal/money"
	"hehuo/internal/notify"
	"hehuo/internal/partner"
	"hehuo/internal/position"
)

// Link is the console page that lists the candidates (报表 → 待发起退出).
const Link = "/report?report=exit-candidates"

// Template is the robot alert's template code (模板管理).
const Template = "exit_candidates"

// maxNames bounds the names one alert lists; more read "等N人".
const maxNames = 30

// Record is called by a sync, in its transaction tx, with the users it has
// just disabled (at now). Those who still hold principal in a project and
// were never recorded are remembered, and each city company of their
// projects gets one robot alert naming them; a user recorded by an earlier
// sync is not alerted again. It returns how many users were recorded.
func Record(ctx context.Context, tx *sqlx.Tx, userIDs []int64, now time.Time) (int, error) {
	if len(userIDs) == 0 {
		return 0, nil
	}
	stakes, err := position.NewService(nil, nil).Stakes(ctx, tx, userIDs)
	if err != nil || len(stakes) == 0 {
		return 0, err
	}
	var holders []int64
	for _, s := range stakes {
		if !slices.Contains(holders, s.UserID) {
			holders = append(holders, s.UserID)
		}
	}
	var fresh []int64
	if err := tx.SelectContext(ctx, &fresh, `INSERT INTO exit_candidates (user_id, disabled_at, alerted_at)
		SELECT u, $2, $2 FROM unnest($1::bigint[]) AS u
		ON CONFLICT (user_id) DO NOTHING RETURNING user_id`, pq.Int64Array(holders), now); err != nil {
		return 0, fmt.Errorf("record exit candidates: %w", err)
	}
	if len(fresh) == 0 {
		return 0, nil
	}
	var partnerIDs []int64
	for _, s := range stakes {
		if slices.Contains(fresh, s.UserID) && !slices.Contains(partnerIDs, s.PartnerID) {
			partnerIDs = append(partnerIDs, s.PartnerID)
		}
	}
	cards, err := partner.Cards(ctx, tx, partnerIDs)
	if err != nil {
		return 0, err
	}
	// One alert per city company, naming its new candidates.
	type city struct {
		users []int64
		names []string
	}
	byCity := map[int64]*city{}
	var cities []int64
	for _, s := range stakes {
		if !slices.Contains(fresh, s.UserID) {
			continue
		}
		c := byCity[s.CityCompanyID]
		if c == nil {
			c = &city{}
			byCity[s.CityCompanyID] = c
			cities = append(cities, s.CityCompanyID)
		}
		if !slices.Contains(c.users, s.UserID) {
			c.users = append(c.users, s.UserID)
			c.names = append(c.names, cards[s.PartnerID].Name)
		}
	}
	slices.Sort(cities)
	notices := make([]notify.Notice, 0, len(cities))
	for _, id := range cities {
		c := byCity[id]
		slices.Sort(c.users)
		slices.Sort(c.names)
		names := c.names
		tail := ""
		if len(names) > maxNames {
			names, tail = names[:maxNames], fmt.Sprintf("等%d人", len(c.names))
		}
		org := id
		notices = append(notices, notify.Notice{Kind: notify.KindRobot, OrgUnitID: &org, Template: Template,
			DedupeKey: dedupeKey(id, c.users),
			Data:      map[string]any{"names": strings.Join(names, "、") + tail, "link": Link}})
	}
	if _, err := notify.EnqueueMany(ctx, tx, notices); err != nil {
		return 0, err
	}
	return len(fresh), nil
}

// dedupeKey names the alert of city for users: the same users are never
// alerted twice (the table already sees to it; the key keeps a retried
// transaction from enqueueing a second row).
func dedupeKey(city int64, users []int64) string {
	h := sha256.New()
	for _, u := range users {
		fmt.Fprintf(h, "%d,", u)
	}
	return fmt.Sprintf("exit_candidates:%d:%s", city, hex.EncodeToString(h.Sum(nil))[:32])
}

// Project is a project where a candidate still holds principal.
type Project struct {
	ProjectID   int64        `json:"project_id"`
	ProjectName string       `json:"project_name"`
	Held        money.Amount `json:"held"` // principal still held (本金余额, R9's P)
}

// Candidate is one exit to start.
type Candidate struct {
	UserID     int64     `db:"user_id" json:"user_id"`
	Name       string    `db:"name" json:"name"`
	JobNumber  string    `db:"job_number" json:"job_number"`
	DisabledAt time.Time `db:"disabled_at" json:"disabled_at"`
	AlertedAt  time.Time `db:"alerted_at" json:"alerted_at"`
	Projects   []Project `db:"-" json:"projects"`
}

// Service lists the candidates.
type Service struct {
	db  *db.DB
	pos *position.Service
}

// NewService returns the candidates' service.
func NewService(d *db.DB) *Service { return &Service{db: d, pos: position.NewService(d, nil)} }

// List returns the candidates still disabled who still hold principal in a
// project the caller sees (all, or one of inScope's), newest first, each
// with the projects of the caller's scope where they hold principal.
func (s *Service) List(ctx context.Context, all bool, inScope func(int64) bool) ([]Candidate, error) {
	var rows []Candidate
	if err := s.db.SelectContext(ctx, &rows, `
		SELECT c.user_id, u.name, u.job_number, c.disabled_at, c.alerted_at
		FROM exit_candidates c JOIN users u ON u.id = c.user_id
		WHERE u.disabled_at IS NOT NULL
		ORDER BY c.alerted_at DESC, u.name, c.user_id`); err != nil {
		return nil, fmt.Errorf("list exit candidates: %w", err)
	}
	ids := make([]int64, len(rows))
	for i, r := range rows {
		ids[i] = r.UserID
	}
	stakes, err := s.pos.Stakes(ctx, nil, ids)
	if err != nil {
		return nil, err
	}
	by := map[int64][]Project{}
	for _, st := range stakes {
		if all || inScope(st.ProjectID) {
			by[st.UserID] = append(by[st.UserID], Project{ProjectID: st.ProjectID, ProjectName: st.ProjectName, Held: money.AmountOf(st.Held)})
		}
	}
	out := make([]Candidate, 0, len(rows))
	for _, r := range rows {
		if ps := by[r.UserID]; len(ps) > 0 {
			r.Projects = ps
			out = append(out, r)
		}
	}
	return out, nil
}
