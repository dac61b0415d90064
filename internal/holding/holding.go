// Package holding is the read model of a partner's stakes (我的跟投): per
// project, the principal subscribed, paid and returned and the profit
// received, all derived from ledger postings.
package holding

import (
	"context"
	"fmt"
	"sort"

	"github.com/lib/pq"
	"github.com/shopspring/decimal"

	"hehuo/internal/db"
	"hehuo/internal/partner"
)

// Holding is a partner's stake in one project.
type Holding struct {
	ProjectID   int64
	ProjectName string
	// Principal is the principal subscribed (认缴本金): the allocated
	// principal of the project's approved rounds, or Paid where none is
	// known (stakes recorded in the ledger before allocations existed).
	Principal decimal.Decimal
	// Paid is the principal paid in (已缴): credits to principal:{project}:{partner}.
	Paid decimal.Decimal
	// Returned is the principal paid back (已返还本金): debits to the same account.
	Returned decimal.Decimal
	// ProfitReceived is the profit paid out (已分配收益): debits to profit:{project}:{partner}.
	ProfitReceived decimal.Decimal
}

// Commitments is where the subscribed principal of a partner comes from.
type Commitments interface {
	// Committed returns the principal partnerID (a partners.id) subscribed, by project id.
	Committed(ctx context.Context, partnerID int64) (map[int64]decimal.Decimal, error)
}

// ApprovedAllocations is the Commitments of Hehuo: a partner's principal in a
// project is the sum of their allocated lines (认购明细) over the project's
// approved rounds (立项 and every 补充立项). A round still in review or
// approval commits nobody.
type ApprovedAllocations struct{ DB *db.DB }

// Committed implements Commitments.
func (a ApprovedAllocations) Committed(ctx context.Context, partnerID int64) (map[int64]decimal.Decimal, error) {
	var rows []struct {
		ProjectID int64           `db:"project_id"`
		Allocated decimal.Decimal `db:"allocated"`
	}
	err := a.DB.SelectContext(ctx, &rows, `
		SELECT r.project_id, sum(l.allocated) AS allocated
		FROM allocation_lines l
		JOIN rounds r ON r.id = l.round_id
		WHERE l.partner_id = $1 AND r.status = 'approved'
		GROUP BY r.project_id`, partnerID)
	if err != nil {
		return nil, fmt.Errorf("approved allocations of partner %d: %w", partnerID, err)
	}
	out := make(map[int64]decimal.Decimal, len(rows))
	for _, r := range rows {
		out[r.ProjectID] = r.Allocated
	}
	return out, nil
}

// Service reads holdings.
type Service struct {
	db          *db.DB
	commitments Commitments
}

// NewService returns the holding service; a nil c reads the approved
// allocations (ApprovedAllocations).
func NewService(d *db.DB, c Commitments) *Service {
	if c == nil {
		c = ApprovedAllocations{DB: d}
	}
	return &Service{db: d, commitments: c}
}

// ForUser returns the stakes of the partner who is user userID (我的跟投);
// a user who was never invited holds nothing.
func (s *Service) ForUser(ctx context.Context, userID int64) ([]Holding, error) {
	id, ok, err := partner.ForUser(ctx, s.db, userID)
	if err != nil || !ok {
		return nil, err
	}
	return s.ForPartner(ctx, id)
}

// ForPartner returns the stakes of partnerID (a partners.id: the ledger's
// {partner} segment) in project id order: every project where the
// partner has a principal or profit posting, or a commitment.
//
// A reversed ledger transaction and its reversal are both left out, so that
// correcting a mistyped payment does not show up as principal returned.
func (s *Service) ForPartner(ctx context.Context, partnerID int64) ([]Holding, error) {
	var rows []struct {
		ProjectID int64           `db:"project_id"`
		Name      *string         `db:"name"`
		Kind      string          `db:"kind"`
		Credits   decimal.Decimal `db:"credits"`
		Debits    decimal.Decimal `db:"debits"`
	}
	err := s.db.SelectContext(ctx, &rows, `
		SELECT a.project_id, pr.name, a.kind, s.credits, s.debits
		FROM ledger_accounts a
		LEFT JOIN projects pr ON pr.id = a.project_id
		-- Per account, so that its postings are read by index however big the ledger is.
		CROSS JOIN LATERAL (
			SELECT coalesce(sum(-p.amount) FILTER (WHERE p.amount < 0), 0) AS credits,
				coalesce(sum(p.amount) FILTER (WHERE p.amount > 0), 0) AS debits
			FROM ledger_postings p
			JOIN ledger_transactions t ON t.id = p.transaction_id
			WHERE p.account_id = a.id
			  AND t.reverses_id IS NULL
			  AND NOT EXISTS (SELECT 1 FROM ledger_transactions r WHERE r.reverses_id = t.id)) s
		WHERE a.partner_id = $1 AND a.kind IN ('principal', 'profit')`, partnerID)
	if err != nil {
		return nil, fmt.Errorf("holdings of partner %d: %w", partnerID, err)
	}
	committed, err := s.commitments.Committed(ctx, partnerID)
	if err != nil {
		return nil, fmt.Errorf("commitments of partner %d: %w", partnerID, err)
	}
	byProject := map[int64]*Holding{}
	stake := func(id int64) *Holding {
		h, ok := byProject[id]
		if !ok {
			h = &Holding{ProjectID: id}
			byProject[id] = h
		}
		return h
	}
	names := map[int64]string{}
	for _, r := range rows {
		h := stake(r.ProjectID)
		if r.Name != nil {
			names[r.ProjectID] = *r.Name
		}
		switch r.Kind {
		case "principal":
			h.Paid, h.Returned = r.Credits, r.Debits
		case "profit":
			h.ProfitReceived = r.Debits
		}
	}
	for id := range committed {
		stake(id)
	}
	ids := make([]int64, 0, len(byProject))
	for id, h := range byProject {
		ids = append(ids, id)
		if c, ok := committed[id]; ok {
			h.Principal = c
		} else {
			h.Principal = h.Paid
		}
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	var unnamed []int64 // projects with a commitment and no posting yet
	for _, id := range ids {
		if _, ok := names[id]; !ok {
			unnamed = append(unnamed, id)
		}
	}
	if len(unnamed) > 0 {
		var ps []struct {
			ID   int64  `db:"id"`
			Name string `db:"name"`
		}
		if err := s.db.SelectContext(ctx, &ps, `SELECT id, name FROM projects WHERE id = ANY($1)`, pq.Int64Array(unnamed)); err != nil {
			return nil, fmt.Errorf("names of projects: %w", err)
		}
		for _, p := range ps {
			names[p.ID] = p.Name
		}
	}
	out := make([]Holding, len(ids))
	for i, id := range ids {
		h := byProject[id]
		h.ProjectName = names[id]
		if h.ProjectName == "" {
			// The ledger does not reference projects; a posting for a
			// project that is gone still shows, by its id.
			h.ProjectName = fmt.Sprintf("项目 %d", id)
		}
		out[i] = *h
	}
	return out, nil
}
