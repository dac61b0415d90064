package disclosure

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/lib/pq"

	"hehuo/internal/apperr"
	"hehuo/internal/civil"
	"hehuo/internal/position"
)

// errMineNotFound answers a project the partner does not hold or that has
// no disclosure sent: as if it did not exist.
var errMineNotFound = apperr.NotFound("disclosure_not_found", "没有该项目的披露信息")

// MyProject is one project the signed-in partner holds with disclosures
// sent, as H5 披露 lists it.
type MyProject struct {
	ProjectID   int64      `json:"project_id"`
	ProjectName string     `json:"project_name"`
	Periods     int        `json:"periods"`
	LatestOn    civil.Date `json:"latest_period_on"`
	LatestTitle string     `json:"latest_title"`
	SentAt      time.Time  `json:"sent_at"`
}

// Period is one disclosed period as the partner reads it.
type Period struct {
	ID       int64      `json:"id"`
	PeriodOn civil.Date `json:"period_on"`
	Title    string     `json:"title"`
	Note     string     `json:"note"`
	Values
	Comparison []Compared `json:"comparison"`
	SentAt     time.Time  `json:"sent_at"`
}

// Document is a file of a disclosure process the partner may download.
type Document struct {
	ID       int64      `json:"id"`
	Name     string     `json:"name"`
	Size     int64      `json:"size"`
	PeriodOn civil.Date `json:"period_on"`
}

// MyDisclosure is a project's disclosures for a partner holding it: the
// 立项 baseline, the disclosed periods oldest first (the chart), and the
// documents.
type MyDisclosure struct {
	ProjectID   int64       `json:"project_id"`
	ProjectName string      `json:"project_name"`
	Indicators  []Indicator `json:"indicators"`
	Baseline    Values      `json:"baseline"`
	Periods     []Period    `json:"periods"`
	Documents   []Document  `json:"documents"`
}

// held returns the projects user userID holds a stake in (the position
// read model, holds), with their names.
func (s *Service) held(ctx context.Context, userID int64) (map[int64]string, []int64, error) {
	ps, err := s.pos.Positions(ctx, s.db, position.Query{UserID: userID})
	if err != nil {
		return nil, nil, err
	}
	names := map[int64]string{}
	var ids []int64
	for _, p := range ps {
		if holds(p) {
			names[p.ProjectID] = p.ProjectName
			ids = append(ids, p.ProjectID)
		}
	}
	return names, ids, nil
}

type sentRow struct {
	ProjectID int64      `db:"project_id"`
	UpdateID  int64      `db:"profit_update_id"`
	ProcessID int64      `db:"process_id"`
	PeriodOn  civil.Date `db:"period_on"`
	Title     string     `db:"title"`
	SentAt    time.Time  `db:"sent_at"`
}

// sent reads the sent disclosures of the projects, by period.
func (s *Service) sent(ctx context.Context, projects []int64) ([]sentRow, error) {
	var rows []sentRow
	if len(projects) == 0 {
		return rows, nil
	}
	if err := s.db.SelectContext(ctx, &rows, `SELECT d.project_id, d.profit_update_id, d.process_id, u.period_on, u.title, d.sent_at
		FROM disclosures d JOIN profit_updates u ON u.id = d.profit_update_id
		WHERE d.status = 'sent' AND d.project_id = ANY($1) ORDER BY d.project_id, u.period_on, d.id`, pq.Int64Array(projects)); err != nil {
		return nil, fmt.Errorf("sent disclosures: %w", err)
	}
	return rows, nil
}

// Mine lists the projects user userID holds that have disclosures sent,
// the latest news first.
func (s *Service) Mine(ctx context.Context, userID int64) ([]MyProject, error) {
	names, ids, err := s.held(ctx, userID)
	if err != nil {
		return nil, err
	}
	rows, err := s.sent(ctx, ids)
	if err != nil {
		return nil, err
	}
	by := map[int64]*MyProject{}
	var order []int64
	for _, r := range rows {
		p := by[r.ProjectID]
		if p == nil {
			p = &MyProject{ProjectID: r.ProjectID, ProjectName: names[r.ProjectID]}
			by[r.ProjectID] = p
			order = append(order, r.ProjectID)
		}
		p.Periods++
		if !r.PeriodOn.Before(p.LatestOn) {
			p.LatestOn, p.LatestTitle = r.PeriodOn, r.Title
		}
		if r.SentAt.After(p.SentAt) {
			p.SentAt = r.SentAt
		}
	}
	out := make([]MyProject, 0, len(order))
	for _, id := range order {
		out = append(out, *by[id])
	}
	// The latest news first.
	slices.SortStableFunc(out, func(a, b MyProject) int { return b.SentAt.Compare(a.SentAt) })
	return out, nil
}

// MyProject returns project projectID's disclosures for user userID: 404
// unless they hold the project and it has a disclosure sent.
func (s *Service) MyProject(ctx context.Context, userID, projectID int64) (MyDisclosure, error) {
	names, _, err := s.held(ctx, userID)
	if err != nil {
		return MyDisclosure{}, err
	}
	name, ok := names[projectID]
	if !ok {
		return MyDisclosure{}, errMineNotFound
	}
	rows, err := s.sent(ctx, []int64{projectID})
	if err != nil {
		return MyDisclosure{}, err
	}
	if len(rows) == 0 {
		return MyDisclosure{}, errMineNotFound
	}
	base, err := s.baseline(ctx, projectID)
	if err != nil {
		return MyDisclosure{}, err
	}
	out := MyDisclosure{ProjectID: projectID, ProjectName: name, Indicators: Indicators(), Baseline: base,
		Periods: []Period{}, Documents: []Document{}}
	for _, r := range rows {
		u, err := loadUpdate(ctx, s.db, r.UpdateID, false)
		if err != nil {
			return MyDisclosure{}, err
		}
		out.Periods = append(out.Periods, Period{ID: u.ID, PeriodOn: u.PeriodOn, Title: u.Title, Note: u.Note, Values: u.Values,
			Comparison: compare(base, u.Values), SentAt: r.SentAt})
		if s.wf == nil {
			continue
		}
		d, err := s.wf.Detail(ctx, r.ProcessID)
		if err != nil {
			return MyDisclosure{}, err
		}
		for _, f := range d.Attachments {
			out.Documents = append(out.Documents, Document{ID: f.ID, Name: f.Name, Size: f.Size, PeriodOn: u.PeriodOn})
		}
	}
	return out, nil
}

// MyDocument checks that attachment id is a document of project
// projectID's disclosures that user userID may download (404 otherwise).
func (s *Service) MyDocument(ctx context.Context, userID, projectID, id int64) error {
	d, err := s.MyProject(ctx, userID, projectID)
	if err != nil {
		return err
	}
	for _, doc := range d.Documents {
		if doc.ID == id {
			return nil
		}
	}
	return apperr.NotFound("attachment_not_found", "附件不存在")
}
