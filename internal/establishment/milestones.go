package establishment

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"

	"hehuo/internal/apperr"
	"hehuo/internal/audit"
	"hehuo/internal/civil"
	"hehuo/internal/text"
)

// Node is a milestone (关键节点) of a project's schedule.
type Node struct {
	Node  string `json:"node"`
	Label string `json:"label"`
}

// Nodes are the milestones every project plans, in schedule order (GLOSSARY:
// 开工, 开盘, 现金流回正, 交付, 清算, with the sales targets the profit
// distribution form asks for).
var Nodes = []Node{
	{"land_acquired", "拿地"},
	{"construction_start", "开工"},
	{"sales_launch", "开盘"},
	{"cash_flow_positive", "现金流回正"},
	{"sales_target", "销售去化达标"},
	{"collection_target", "销售回款达标"},
	{"completion", "竣工备案"},
	{"delivery", "交付"},
	{"liquidation", "清算"},
}

// NodeLabel is the Chinese name of a node, "" for an unknown node.
func NodeLabel(node string) string {
	for _, n := range Nodes {
		if n.Node == node {
			return n.Label
		}
	}
	return ""
}

// Milestone is one node with its planned and actual dates.
type Milestone struct {
	Node      string     `db:"node" json:"node"`
	Label     string     `db:"-" json:"label"`
	PlannedOn civil.Date `db:"planned_on" json:"planned_on"`
	ActualOn  civil.Date `db:"actual_on" json:"actual_on"`
	Note      string     `db:"note" json:"note"`
}

// Milestones are a project's nodes, every node listed, and the tab's version.
type Milestones struct {
	Milestones []Milestone `json:"milestones"`
	Version    int         `json:"version"`
}

// MilestonesInput is the body of PUT /projects/{id}/milestones: the nodes
// to set (a node left out keeps its dates).
type MilestonesInput struct {
	Milestones []Milestone `json:"milestones"`
	Version    int         `json:"version"`
}

func tabVersion(ctx context.Context, q sqlx.QueryerContext, projectID int64, column string) (int, error) {
	var v int
	err := sqlx.GetContext(ctx, q, &v, `SELECT `+column+` FROM establishments WHERE project_id = $1`, projectID)
	if isNoRows(err) {
		return 0, nil
	}
	return v, err
}

func loadMilestones(ctx context.Context, q sqlx.QueryerContext, projectID int64) (Milestones, error) {
	var rows []Milestone
	if err := sqlx.SelectContext(ctx, q, &rows, `SELECT node, planned_on, actual_on, note FROM milestones WHERE project_id = $1`, projectID); err != nil {
		return Milestones{}, fmt.Errorf("milestones %d: %w", projectID, err)
	}
	byNode := map[string]Milestone{}
	for _, r := range rows {
		byNode[r.Node] = r
	}
	out := Milestones{Milestones: make([]Milestone, 0, len(Nodes))}
	for _, n := range Nodes {
		m := byNode[n.Node]
		m.Node, m.Label = n.Node, n.Label
		out.Milestones = append(out.Milestones, m)
	}
	v, err := tabVersion(ctx, q, projectID, "milestones_version")
	out.Version = v
	return out, err
}

// Milestones returns the project's milestones.
func (s *Service) Milestones(ctx context.Context, projectID int64) (Milestones, error) {
	if err := mustExist(ctx, s.db, projectID); err != nil {
		return Milestones{}, err
	}
	return loadMilestones(ctx, s.db, projectID)
}

// PutMilestones sets planned and actual dates. An actual date cannot lie in
// the future (it records what happened).
func (s *Service) PutMilestones(ctx context.Context, a audit.Actor, projectID int64, in MilestonesInput) (Milestones, error) {
	today := civil.Today(s.now())
	seen := map[string]bool{}
	for i, m := range in.Milestones {
		field := fmt.Sprintf("milestones[%d]", i)
		label := NodeLabel(m.Node)
		if label == "" {
			return Milestones{}, apperr.Invalid("milestone_node_invalid", field+".node", "未知的关键节点：%s", m.Node)
		}
		if seen[m.Node] {
			return Milestones{}, apperr.Invalid("milestone_duplicate", field+".node", "关键节点「%s」重复", label)
		}
		seen[m.Node] = true
		if !m.ActualOn.IsZero() && today.Start().Before(m.ActualOn.Start()) {
			return Milestones{}, apperr.Rule("milestone_actual_in_future", field+".actual_on", "「%s」的实际日期不能晚于今天", label)
		}
		note, err := text.Clean(m.Note, field+".note", label+"备注", false, 200)
		if err != nil {
			return Milestones{}, err
		}
		in.Milestones[i].Note = note
	}
	var out Milestones
	err := s.db.InTx(ctx, func(tx *sqlx.Tx) error {
		if err := ensureWritable(ctx, tx, projectID); err != nil {
			return err
		}
		before, err := loadMilestones(ctx, tx, projectID)
		if err != nil {
			return err
		}
		if err := checkVersion(in.Version, before.Version); err != nil {
			return err
		}
		for _, m := range in.Milestones {
			if _, err := tx.ExecContext(ctx, `INSERT INTO milestones (project_id, node, planned_on, actual_on, note)
				VALUES ($1, $2, $3, $4, $5) ON CONFLICT (project_id, node) DO UPDATE
				SET planned_on = EXCLUDED.planned_on, actual_on = EXCLUDED.actual_on, note = EXCLUDED.note`,
				projectID, m.Node, m.PlannedOn, m.ActualOn, m.Note); err != nil {
				return fmt.Errorf("save milestone %s: %w", m.Node, err)
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE establishments SET milestones_version = milestones_version + 1,
			updated_at = now() WHERE project_id = $1`, projectID); err != nil {
			return fmt.Errorf("bump milestones version: %w", err)
		}
		if out, err = loadMilestones(ctx, tx, projectID); err != nil {
			return err
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "establishment.milestones.save", Entity: "milestones",
			EntityID: projectID, ProjectID: &projectID, Before: before, After: out})
	})
	return out, err
}
