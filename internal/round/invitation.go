package round

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/shopspring/decimal"

	"hehuo/internal/apperr"
	"hehuo/internal/audit"
	"hehuo/internal/civil"
	"hehuo/internal/db"
	"hehuo/internal/money"
	"hehuo/internal/partner"
)

// Invitation is one line of a round's partner list (合伙名单) with the
// partner's current subscription.
type Invitation struct {
	ID        int64  `db:"id" json:"id"`
	RoundID   int64  `db:"round_id" json:"round_id"`
	PartnerID int64  `db:"partner_id" json:"partner_id"`
	UserID    int64  `db:"user_id" json:"user_id"`
	UserName  string `db:"user_name" json:"user_name"`
	JobNumber string `db:"job_number" json:"job_number"`
	Title     string `db:"title" json:"title"`
	Grade     string `db:"grade" json:"grade"`
	OrgUnit   string `db:"org_unit" json:"org_unit"`
	Tier      string `db:"tier" json:"tier"`
	TierName  string `db:"-" json:"tier_name"`
	Mandatory bool   `db:"mandatory" json:"mandatory"`
	// MinAmount and MaxAmount are the subscription limits (认购上下限).
	MinAmount money.Amount `db:"min_amount" json:"min_amount"`
	MaxAmount money.Amount `db:"max_amount" json:"max_amount"`
	Deadline  civil.Date   `db:"deadline" json:"deadline"`
	// Amount is the current subscription (the last one counts); null until the partner subscribes.
	Amount           *money.Amount `db:"amount" json:"amount"`
	SubscribedAt     *time.Time    `db:"subscribed_at" json:"subscribed_at"`
	SubscribedBy     *string       `db:"subscribed_by" json:"subscribed_by"`
	OnBehalf         bool          `db:"on_behalf" json:"on_behalf"`
	RiskAcknowledged bool          `db:"risk_acknowledged" json:"risk_acknowledged"`
	Version          int           `db:"version" json:"version"`
	CreatedAt        time.Time     `db:"created_at" json:"created_at"`
	UpdatedAt        time.Time     `db:"updated_at" json:"updated_at"`
}

const selectInvitation = `SELECT i.id, i.round_id, i.partner_id, i.user_id, u.name AS user_name, u.job_number, u.title, u.grade,
	coalesce(o.name, '') AS org_unit, i.tier, i.mandatory, i.min_amount, i.max_amount, i.deadline, i.amount, i.subscribed_at,
	i.subscribed_by, i.on_behalf, i.risk_acknowledged, i.version, i.created_at, i.updated_at
	FROM invitations i JOIN users u ON u.id = i.user_id LEFT JOIN org_units o ON o.id = u.org_unit_id`

var errInvitationNotFound = apperr.NotFound("invitation_not_found", "合伙名单中没有这条记录")

func getInvitation(ctx context.Context, q sqlx.QueryerContext, id int64) (Invitation, error) {
	var inv Invitation
	err := sqlx.GetContext(ctx, q, &inv, selectInvitation+` WHERE i.id = $1`, id)
	if db.IsNoRows(err) {
		return inv, errInvitationNotFound
	}
	if err != nil {
		return inv, fmt.Errorf("get invitation %d: %w", id, err)
	}
	inv.TierName = TierNames[inv.Tier]
	return inv, nil
}

// Invitations returns a round's partner list in the order it was made.
func (s *Service) Invitations(ctx context.Context, roundID int64) ([]Invitation, error) {
	is := []Invitation{}
	if err := s.db.SelectContext(ctx, &is, selectInvitation+` WHERE i.round_id = $1 ORDER BY i.id`, roundID); err != nil {
		return nil, fmt.Errorf("invitations: %w", err)
	}
	for i := range is {
		is[i].TierName = TierNames[is[i].Tier]
	}
	return is, nil
}

// InvitationInput adds or changes an invitation. Amounts are whole yuan as
// strings; an empty min_amount takes the least the mandatory list allows
// (the grade's minimum for a mandatory partner, the voluntary minimum
// otherwise). Version is required by PUT.
type InvitationInput struct {
	UserID    int64      `json:"user_id"`
	Tier      string     `json:"tier"`
	Mandatory bool       `json:"mandatory"`
	MinAmount string     `json:"min_amount"`
	MaxAmount string     `json:"max_amount"`
	Deadline  civil.Date `json:"deadline"`
	Version   int        `json:"version,omitempty"`
}

// checked is an InvitationInput after its checks.
type checked struct {
	userID    int64
	tier      string
	mandatory bool
	min, max  decimal.Decimal
	deadline  civil.Date
}

// check validates in against the mandatory list and the clock. It reads in
// q but changes nothing.
func (s *Service) check(ctx context.Context, q sqlx.QueryerContext, in InvitationInput, list MandatoryList) (checked, error) {
	c := checked{userID: in.UserID, tier: in.Tier, mandatory: in.Mandatory, deadline: in.Deadline}
	if !slices.Contains(Tiers, in.Tier) {
		return c, apperr.Invalid("tier_invalid", "tier", "层级须为 holding（控股集团）、property（置业集团）、city（城市公司）或 other（其它）")
	}
	var u struct {
		Grade    string     `db:"grade"`
		Name     string     `db:"name"`
		Disabled *time.Time `db:"disabled_at"`
		Status   string     `db:"employment_status"`
	}
	err := sqlx.GetContext(ctx, q, &u, `SELECT grade, name, disabled_at, employment_status FROM users WHERE id = $1`, in.UserID)
	if db.IsNoRows(err) || in.UserID <= 0 {
		return c, apperr.Invalid("user_not_found", "user_id", "合伙人须为合伙系统中的用户")
	}
	if err != nil {
		return c, fmt.Errorf("invitee: %w", err)
	}
	if u.Disabled != nil || u.Status != "active" {
		return c, apperr.Rule("user_inactive", "user_id", "%s已停用或离职，不能加入合伙名单", u.Name)
	}
	if in.Deadline.IsZero() {
		return c, apperr.Invalid("deadline_required", "deadline", "请填写认购截止日期")
	}
	if in.Deadline.EndExclusive().Compare(s.Now()) <= 0 {
		return c, apperr.Rule("deadline_past", "deadline", "认购截止日期 %s 已过", in.Deadline)
	}
	least := list.minimumFor(u.Grade, in.Mandatory)
	if in.MinAmount == "" {
		c.min = least
		if !in.Mandatory {
			c.min = list.VoluntaryMin.Decimal
		}
	} else if c.min, err = yuanField(in.MinAmount, "min_amount", "认购下限"); err != nil {
		return c, err
	}
	if c.max, err = yuanField(in.MaxAmount, "max_amount", "认购上限"); err != nil {
		return c, err
	}
	if !c.max.IsPositive() {
		return c, apperr.Invalid("max_amount_invalid", "max_amount", "认购上限须大于0")
	}
	if c.min.GreaterThan(c.max) {
		return c, apperr.Rule("min_above_max", "min_amount", "认购下限 %s 高于上限 %s", money.Display(c.min), money.Display(c.max))
	}
	if c.min.LessThan(least) {
		grade := u.Grade
		if grade == "" {
			grade = "未设置"
		}
		return c, apperr.Rule("below_mandatory_min", "min_amount", "%s为强投人员（职级 %s），认购下限不能低于强投名单的最低金额 %s 元",
			u.Name, grade, money.Display(least))
	}
	return c, nil
}

// editable refuses a change to the partner list of a round past open.
func editable(r Round, step string) error {
	if r.Status != StatusDraft && r.Status != StatusOpen {
		return stateError(r, step)
	}
	return nil
}

// AddInvitation puts a partner on a round's list.
func (s *Service) AddInvitation(ctx context.Context, a audit.Actor, roundID int64, in InvitationInput) (Invitation, error) {
	var inv Invitation
	err := s.db.InTx(ctx, func(tx *sqlx.Tx) error {
		if err := writable(ctx, tx, roundID); err != nil {
			return err
		}
		r, err := s.lock(ctx, tx, roundID)
		if err != nil {
			return err
		}
		if err := editable(r, "修改合伙名单"); err != nil {
			return err
		}
		list, err := mandatoryList(ctx, tx)
		if err != nil {
			return err
		}
		c, err := s.check(ctx, tx, in, list)
		if err != nil {
			return err
		}
		inv, err = s.insertInvitation(ctx, tx, a, r, c)
		return err
	})
	return inv, err
}

func (s *Service) insertInvitation(ctx context.Context, tx *sqlx.Tx, a audit.Actor, r Round, c checked) (Invitation, error) {
	pid, err := partner.EnsureForUser(ctx, tx, c.userID)
	if err != nil {
		return Invitation{}, err
	}
	// The partner row just made (if any) goes with the refused transaction.
	if err := partner.RefuseOwnLine(ctx, tx, a, pid); err != nil {
		return Invitation{}, err
	}
	var id int64
	err = tx.GetContext(ctx, &id, `INSERT INTO invitations (round_id, partner_id, user_id, tier, mandatory, min_amount, max_amount, deadline)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (round_id, partner_id) DO NOTHING RETURNING id`,
		r.ID, pid, c.userID, c.tier, c.mandatory, c.min, c.max, c.deadline)
	if db.IsNoRows(err) {
		return Invitation{}, apperr.Conflict("invitation_duplicate", "该合伙人已在本轮合伙名单中").WithField("user_id")
	}
	if err != nil {
		return Invitation{}, fmt.Errorf("insert invitation: %w", err)
	}
	inv, err := getInvitation(ctx, tx, id)
	if err != nil {
		return inv, err
	}
	return inv, audit.Record(ctx, tx, a, audit.Entry{Action: "invitation.create", Entity: "invitation", EntityID: id, ProjectID: &r.ProjectID, After: inv})
}

// lockInvitation reads invitation id of round roundID FOR UPDATE; one of
// another round is not found.
func lockInvitation(ctx context.Context, tx *sqlx.Tx, roundID, id int64) (Invitation, error) {
	var rid int64
	if err := tx.GetContext(ctx, &rid, `SELECT round_id FROM invitations WHERE id = $1 FOR UPDATE`, id); err != nil {
		if db.IsNoRows(err) {
			return Invitation{}, errInvitationNotFound
		}
		return Invitation{}, fmt.Errorf("lock invitation: %w", err)
	}
	if roundID != 0 && rid != roundID {
		return Invitation{}, errInvitationNotFound
	}
	return getInvitation(ctx, tx, id)
}

// UpdateInvitation changes an invitation's tier, flag, limits or deadline
// (the partner stays); a subscription already made must still fit.
func (s *Service) UpdateInvitation(ctx context.Context, a audit.Actor, roundID, id int64, in InvitationInput) (Invitation, error) {
	var inv Invitation
	err := s.db.InTx(ctx, func(tx *sqlx.Tx) error {
		if err := writable(ctx, tx, roundID); err != nil {
			return err
		}
		r, err := s.lock(ctx, tx, roundID)
		if err != nil {
			return err
		}
		before, err := lockInvitation(ctx, tx, roundID, id)
		if err != nil {
			return err
		}
		if err := partner.RefuseOwnLine(ctx, tx, a, before.PartnerID); err != nil {
			return err
		}
		if err := editable(r, "修改合伙名单"); err != nil {
			return err
		}
		if in.Version != before.Version {
			return apperr.ErrStaleVersion
		}
		in.UserID = before.UserID
		list, err := mandatoryList(ctx, tx)
		if err != nil {
			return err
		}
		c, err := s.check(ctx, tx, in, list)
		if err != nil {
			return err
		}
		if before.Amount != nil && (before.Amount.LessThan(c.min) || before.Amount.GreaterThan(c.max)) {
			return apperr.Rule("limits_exclude_subscription", "min_amount", "%s已认购 %s 元，新的上下限须包含该金额",
				before.UserName, money.Display(before.Amount.Decimal))
		}
		if _, err := tx.ExecContext(ctx, `UPDATE invitations SET tier = $1, mandatory = $2, min_amount = $3, max_amount = $4, deadline = $5,
			version = version + 1, updated_at = now() WHERE id = $6`, c.tier, c.mandatory, c.min, c.max, c.deadline, id); err != nil {
			return fmt.Errorf("update invitation: %w", err)
		}
		if before.Amount != nil && before.Tier != c.tier {
			// The subscription moved to another tier's pool: an allocation made before is stale.
			if _, err := tx.ExecContext(ctx, `UPDATE rounds SET subscription_seq = subscription_seq + 1 WHERE id = $1`, roundID); err != nil {
				return fmt.Errorf("bump subscription seq: %w", err)
			}
		}
		if inv, err = getInvitation(ctx, tx, id); err != nil {
			return err
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "invitation.update", Entity: "invitation", EntityID: id, ProjectID: &r.ProjectID,
			Before: before, After: inv})
	})
	return inv, err
}

// DeleteInvitation takes a partner off the list; one who has subscribed
// stays (their subscription is history that counts).
func (s *Service) DeleteInvitation(ctx context.Context, a audit.Actor, roundID, id int64) error {
	return s.db.InTx(ctx, func(tx *sqlx.Tx) error {
		if err := writable(ctx, tx, roundID); err != nil {
			return err
		}
		r, err := s.lock(ctx, tx, roundID)
		if err != nil {
			return err
		}
		before, err := lockInvitation(ctx, tx, roundID, id)
		if err != nil {
			return err
		}
		if err := partner.RefuseOwnLine(ctx, tx, a, before.PartnerID); err != nil {
			return err
		}
		if err := editable(r, "修改合伙名单"); err != nil {
			return err
		}
		if before.Amount != nil {
			return apperr.Conflict("invitation_subscribed", "%s已认购，不能从合伙名单中删除", before.UserName)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM invitations WHERE id = $1`, id); err != nil {
			return fmt.Errorf("delete invitation: %w", err)
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "invitation.delete", Entity: "invitation", EntityID: id, ProjectID: &r.ProjectID, Before: before})
	})
}
