package establishment

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/shopspring/decimal"

	"hehuo/internal/apperr"
	"hehuo/internal/audit"
	"hehuo/internal/calc"
	"hehuo/internal/civil"
	"hehuo/internal/db"
	"hehuo/internal/text"
)

// Shareholder kinds (股东类别).
const (
	KindGroup       = "group"       // 锦艺方: the group's own companies
	KindCooperator  = "cooperator"  // 合作方: a co-developing company
	KindPartnership = "partnership" // 合伙企业: the employees' partnership vehicle
)

// ShareholderKinds lists the kinds in display order.
var ShareholderKinds = []string{KindGroup, KindCooperator, KindPartnership}

// KindLabel is the Chinese name of a shareholder kind.
func KindLabel(kind string) string {
	switch kind {
	case KindGroup:
		return "锦艺方"
	case KindCooperator:
		return "合作方"
	case KindPartnership:
		return "合伙企业"
	}
	return kind
}

// Shareholder is one equity holder of the project company.
type Shareholder struct {
	Name      string          `db:"name" json:"name"`
	Kind      string          `db:"kind" json:"kind"`
	KindLabel string          `db:"-" json:"kind_label"`
	Stake     decimal.Decimal `db:"stake" json:"stake"` // a fraction: "0.51" = 51%
	// MinorityShareholderID links a cooperator to the registered minority
	// shareholder (外部股东, internal/shareholder) it is; nil when unlinked.
	MinorityShareholderID *int64 `db:"minority_shareholder_id" json:"minority_shareholder_id,omitempty"`
}

// Shareholding is one version of the shareholding (股权合作). Version is the
// version number (1, 2, …); 0 means none was saved yet.
type Shareholding struct {
	ID            int64         `db:"id" json:"id"`
	ProjectID     int64         `db:"project_id" json:"project_id"`
	Version       int           `db:"seq" json:"version"`
	EffectiveOn   civil.Date    `db:"effective_on" json:"effective_on"`
	Reason        string        `db:"reason" json:"reason"`
	CreatedBy     *int64        `db:"created_by" json:"created_by"`
	CreatedByName string        `db:"created_by_name" json:"created_by_name"`
	CreatedAt     time.Time     `db:"created_at" json:"created_at"`
	Shareholders  []Shareholder `db:"-" json:"shareholders"`
}

// ShareholderInput is one shareholder of a save.
type ShareholderInput struct {
	Name  string `json:"name"`
	Kind  string `json:"kind"`
	Stake string `json:"stake"`
	// MinorityShareholderID optionally links a cooperator row to a
	// registered minority shareholder (外部股东); other kinds → 400.
	MinorityShareholderID *int64 `json:"minority_shareholder_id,omitempty"`
}

// ShareholdingInput is the body of PUT /projects/{id}/shareholding: the
// full list of shareholders from the effective date, and the version the
// client saw (0 for the first).
type ShareholdingInput struct {
	EffectiveOn  civil.Date         `json:"effective_on"`
	Reason       string             `json:"reason"`
	Shareholders []ShareholderInput `json:"shareholders"`
	Version      int                `json:"version"`
}

const selectVersion = `SELECT id, project_id, seq, effective_on, reason, created_by, created_by_name, created_at
	FROM shareholding_versions`

func loadHolders(ctx context.Context, q sqlx.QueryerContext, v *Shareholding) error {
	v.Shareholders = []Shareholder{}
	if v.ID == 0 {
		return nil
	}
	if err := sqlx.SelectContext(ctx, q, &v.Shareholders, `SELECT name, kind, stake, minority_shareholder_id FROM shareholders
		WHERE version_id = $1 ORDER BY position`, v.ID); err != nil {
		return fmt.Errorf("shareholders of version %d: %w", v.ID, err)
	}
	for i := range v.Shareholders {
		v.Shareholders[i].KindLabel = KindLabel(v.Shareholders[i].Kind)
	}
	return nil
}

// currentShareholding returns the latest version, or an empty one with
// version 0.
func currentShareholding(ctx context.Context, q sqlx.QueryerContext, projectID int64) (Shareholding, error) {
	var v Shareholding
	err := sqlx.GetContext(ctx, q, &v, selectVersion+` WHERE project_id = $1 ORDER BY seq DESC LIMIT 1`, projectID)
	if isNoRows(err) {
		v = Shareholding{} // sqlx allocated the pointers before finding no row
	} else if err != nil {
		return v, fmt.Errorf("current shareholding %d: %w", projectID, err)
	}
	v.ProjectID = projectID
	return v, loadHolders(ctx, q, &v)
}

// Shareholding returns the shareholding in force (the latest version).
func (s *Service) Shareholding(ctx context.Context, q sqlx.QueryerContext, projectID int64) (Shareholding, error) {
	if err := mustExist(ctx, q, projectID); err != nil {
		return Shareholding{}, err
	}
	return currentShareholding(ctx, q, projectID)
}

// ShareholdingVersions returns every version, the newest first.
func (s *Service) ShareholdingVersions(ctx context.Context, projectID int64) ([]Shareholding, error) {
	if err := mustExist(ctx, s.db, projectID); err != nil {
		return nil, err
	}
	vs := []Shareholding{}
	if err := s.db.SelectContext(ctx, &vs, selectVersion+` WHERE project_id = $1 ORDER BY seq DESC`, projectID); err != nil {
		return nil, fmt.Errorf("shareholding versions %d: %w", projectID, err)
	}
	for i := range vs {
		if err := loadHolders(ctx, s.db, &vs[i]); err != nil {
			return nil, err
		}
	}
	return vs, nil
}

// checkShareholders validates a list: names, known kinds, stakes in (0, 1]
// with at most six decimals, no name twice, Σ stakes = 100% exactly.
func checkShareholders(in []ShareholderInput) ([]Shareholder, error) {
	if len(in) == 0 {
		return nil, apperr.Rule("shareholders_required", "shareholders", "请至少填写一个股东")
	}
	if len(in) > 50 {
		return nil, apperr.Invalid("shareholders_too_many", "shareholders", "股东不能超过50个")
	}
	out := make([]Shareholder, 0, len(in))
	seen := map[string]bool{}
	sum := decimal.Zero
	for i, h := range in {
		field := fmt.Sprintf("shareholders[%d]", i)
		name, err := text.Clean(h.Name, field+".name", fmt.Sprintf("第%d行股东名称", i+1), true, 60)
		if err != nil {
			return nil, err
		}
		if seen[name] {
			return nil, apperr.Invalid("shareholder_duplicate", field+".name", "股东「%s」重复", name)
		}
		seen[name] = true
		if KindLabel(h.Kind) == h.Kind {
			return nil, apperr.Invalid("shareholder_kind_invalid", field+".kind", "第%d行股东类别须为锦艺方、合作方或合伙企业", i+1)
		}
		stake, err := parseFraction(h.Stake, field+".stake", fmt.Sprintf("第%d行持股比例", i+1), decimal.NewFromInt(1))
		if err != nil {
			return nil, err
		}
		if stake == nil || !stake.IsPositive() {
			return nil, apperr.Invalid("stake_invalid", field+".stake", "第%d行持股比例须大于0", i+1)
		}
		sum = sum.Add(*stake)
		link := h.MinorityShareholderID
		if link != nil && *link <= 0 {
			link = nil
		}
		if link != nil && h.Kind != KindCooperator {
			return nil, apperr.Invalid("minority_link_kind", field+".minority_shareholder_id", "第%d行：只有合作方可以关联外部股东", i+1)
		}
		out = append(out, Shareholder{Name: name, Kind: h.Kind, KindLabel: KindLabel(h.Kind), Stake: *stake, MinorityShareholderID: link})
	}
	if !sum.Equal(decimal.NewFromInt(1)) {
		return nil, apperr.Rule("stakes_not_whole", "shareholders", "持股比例合计须为100%%，现为%s", calc.Percent(sum))
	}
	return out, nil
}

// PutShareholding saves a new version of the shareholding, by hand: the
// project must be writable and the registered guard (a peak change in
// progress) must let it.
func (s *Service) PutShareholding(ctx context.Context, a audit.Actor, projectID int64, in ShareholdingInput) (Shareholding, error) {
	var out Shareholding
	err := s.db.InTx(ctx, func(tx *sqlx.Tx) error {
		if err := ensureWritable(ctx, tx, projectID); err != nil {
			return err
		}
		if s.guard != nil {
			if err := s.guard(ctx, tx, projectID); err != nil {
				return err
			}
		}
		var err error
		out, err = s.SaveShareholding(ctx, tx, a, projectID, in)
		return err
	})
	return out, err
}

// SaveShareholding saves a new version of the shareholding in tx: the peak
// change process calls it with the new shareholders. in.Version must be the
// latest version (0 when none), else 409.
func (s *Service) SaveShareholding(ctx context.Context, tx *sqlx.Tx, a audit.Actor, projectID int64, in ShareholdingInput) (Shareholding, error) {
	holders, err := checkShareholders(in.Shareholders)
	if err != nil {
		return Shareholding{}, err
	}
	if in.EffectiveOn.IsZero() {
		return Shareholding{}, apperr.Invalid("effective_on_required", "effective_on", "请填写生效日期")
	}
	reason, err := text.CleanNote(in.Reason, "reason", "变更说明", false, 200)
	if err != nil {
		return Shareholding{}, err
	}
	if err := ensure(ctx, tx, projectID); err != nil {
		return Shareholding{}, err
	}
	before, err := currentShareholding(ctx, tx, projectID)
	if err != nil {
		return Shareholding{}, err
	}
	if err := checkVersion(in.Version, before.Version); err != nil {
		return Shareholding{}, err
	}
	if before.Version > 0 && in.EffectiveOn.Start().Before(before.EffectiveOn.Start()) {
		return Shareholding{}, apperr.Rule("effective_on_before_previous", "effective_on",
			"生效日期不能早于上一版本的生效日期（%s）", before.EffectiveOn)
	}
	var id int64
	if err := tx.GetContext(ctx, &id, `INSERT INTO shareholding_versions (project_id, seq, effective_on, reason, created_by, created_by_name)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`, projectID, before.Version+1, in.EffectiveOn, reason, a.ID, actorName(a)); err != nil {
		return Shareholding{}, fmt.Errorf("insert shareholding version: %w", err)
	}
	for i, h := range holders {
		if _, err := tx.ExecContext(ctx, `INSERT INTO shareholders (version_id, position, name, kind, stake, minority_shareholder_id)
			VALUES ($1, $2, $3, $4, $5, $6)`, id, i+1, h.Name, h.Kind, h.Stake, h.MinorityShareholderID); err != nil {
			if _, ok := db.IsForeignKeyViolation(err); ok {
				return Shareholding{}, apperr.Invalid("shareholder_not_found", fmt.Sprintf("shareholders[%d].minority_shareholder_id", i),
					"第%d行关联的外部股东不存在", i+1)
			}
			return Shareholding{}, fmt.Errorf("insert shareholder: %w", err)
		}
	}
	after, err := currentShareholding(ctx, tx, projectID)
	if err != nil {
		return after, err
	}
	var prev any
	if before.Version > 0 {
		prev = before
	}
	return after, audit.Record(ctx, tx, a, audit.Entry{Action: "establishment.shareholding.save", Entity: "shareholding_version",
		EntityID: id, ProjectID: &projectID, Before: prev, After: after})
}

func actorName(a audit.Actor) string {
	if a.Name == "" {
		return audit.System.Name
	}
	return a.Name
}
