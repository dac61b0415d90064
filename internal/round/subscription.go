package round

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/shopspring/decimal"

	"hehuo/internal/apperr"
	"hehuo/internal/audit"
	"hehuo/internal/db"
	"hehuo/internal/money"
	"hehuo/internal/partner"
	"hehuo/internal/text"
)

// RiskStatement is what a partner acknowledges before subscribing.
const RiskStatement = "跟投不保本、不保收益"

// SubscriptionInput is a partner's own subscription (认购).
type SubscriptionInput struct {
	Amount           string `json:"amount"`
	RiskAcknowledged bool   `json:"risk_acknowledged"`
}

// OnBehalfInput is a subscription the accountant records for a partner.
type OnBehalfInput struct {
	Amount string `json:"amount"`
	Reason string `json:"reason"`
}

// HistoryEntry is one subscription change.
type HistoryEntry struct {
	ID             int64         `db:"id" json:"id"`
	InvitationID   int64         `db:"invitation_id" json:"invitation_id"`
	Amount         money.Amount  `db:"amount" json:"amount"`
	PreviousAmount *money.Amount `db:"previous_amount" json:"previous_amount"`
	ByUserID       *int64        `db:"by_user_id" json:"by_user_id"`
	ByName         string        `db:"by_name" json:"by_name"`
	OnBehalf       bool          `db:"on_behalf" json:"on_behalf"`
	Reason         string        `db:"reason" json:"reason"`
	At             time.Time     `db:"at" json:"at"`
}

// subscriber is who records a subscription.
type subscriber struct {
	actor    audit.Actor
	userID   int64 // the signed-in user
	onBehalf bool
	reason   string
	riskAck  bool
}

// Subscribe records the signed-in partner's subscription on their own
// invitation; another partner's invitation is not found (RULES R2).
func (s *Service) Subscribe(ctx context.Context, a audit.Actor, userID, invitationID int64, in SubscriptionInput) (Invitation, error) {
	return s.subscribe(ctx, 0, invitationID, in.Amount, subscriber{actor: a, userID: userID, riskAck: in.RiskAcknowledged})
}

// SubscribeOnBehalf records a subscription for a partner (accountant, with a
// reason, within the same limits), while the round is open or, for a partner
// who missed the deadline, closed and not yet submitted (R2). An accountant who is the
// partner may not do it for themselves (segregation of duties).
func (s *Service) SubscribeOnBehalf(ctx context.Context, a audit.Actor, userID, roundID, invitationID int64, in OnBehalfInput) (Invitation, error) {
	reason, err := text.CleanNote(in.Reason, "reason", "代认购原因", true, 200)
	if err != nil {
		if e := apperr.As(err); e != nil && e.Code == "required" {
			return Invitation{}, apperr.Invalid("reason_required", "reason", "代认购须填写原因")
		}
		return Invitation{}, err
	}
	return s.subscribe(ctx, roundID, invitationID, in.Amount, subscriber{actor: a, userID: userID, onBehalf: true, reason: reason})
}

func (s *Service) subscribe(ctx context.Context, roundID, invitationID int64, amountText string, by subscriber) (Invitation, error) {
	var inv Invitation
	err := s.db.InTx(ctx, func(tx *sqlx.Tx) error {
		// Lock the round before the invitation, the order every writer of both uses.
		var owner struct {
			RoundID   int64 `db:"round_id"`
			UserID    int64 `db:"user_id"`
			PartnerID int64 `db:"partner_id"`
		}
		err := tx.GetContext(ctx, &owner, `SELECT round_id, user_id, partner_id FROM invitations WHERE id = $1`, invitationID)
		if db.IsNoRows(err) || (err == nil && roundID != 0 && owner.RoundID != roundID) ||
			(err == nil && !by.onBehalf && owner.UserID != by.userID) {
			return errInvitationNotFound
		}
		if err != nil {
			return fmt.Errorf("invitation: %w", err)
		}
		if err := writable(ctx, tx, owner.RoundID); err != nil {
			return err
		}
		// Recording on behalf is a staff write on the line; subscribing
		// oneself (/me) is the partner's own act.
		if by.onBehalf {
			if err := partner.RefuseOwnLine(ctx, tx, by.actor, owner.PartnerID); err != nil {
				return err
			}
		}
		// Only the state and the project are needed: a light lock, not the
		// round's figures, which sum every invitation.
		var r struct {
			ID        int64  `db:"id"`
			ProjectID int64  `db:"project_id"`
			Status    Status `db:"status"`
		}
		if err := tx.GetContext(ctx, &r, `SELECT id, project_id, status FROM rounds WHERE id = $1 FOR UPDATE`, owner.RoundID); err != nil {
			return fmt.Errorf("lock round: %w", err)
		}
		before, err := lockInvitation(ctx, tx, owner.RoundID, invitationID)
		if err != nil {
			return err
		}
		// The partner subscribes while the round is open; the accountant may
		// also record one for a partner who missed the deadline (R2: listed
		// for follow-up) until the allocation is submitted — closing runs the
		// first allocation at once, and a subscription recorded after it makes
		// that allocation stale, to be recalculated before submit.
		if r.Status != StatusOpen && !(by.onBehalf && (r.Status == StatusClosed || r.Status == StatusCalculated)) {
			if r.Status == StatusDraft {
				return apperr.Conflict("round_not_open", "认购尚未开放")
			}
			return apperr.Conflict("round_not_open", "本轮认购已截止")
		}
		if !by.onBehalf && !by.riskAck {
			return apperr.Rule("risk_not_acknowledged", "risk_acknowledged", "请先确认风险提示：%s", RiskStatement)
		}
		amount, err := money.ParseYuan(amountText)
		if err != nil {
			e := apperr.As(err)
			return apperr.Invalid(e.Code, "amount", "认购金额：%s", e.Message)
		}
		if !by.onBehalf && !s.Now().Before(before.Deadline.EndExclusive()) {
			return apperr.Rule("subscription_deadline_passed", "amount", "认购已于 %s 截止", before.Deadline)
		}
		if amount.LessThan(before.MinAmount.Decimal) {
			return apperr.Rule("subscription_below_min", "amount", "认购金额低于下限 %s", money.Display(before.MinAmount.Decimal))
		}
		if amount.GreaterThan(before.MaxAmount.Decimal) {
			return apperr.Rule("subscription_above_max", "amount", "认购金额高于上限 %s", money.Display(before.MaxAmount.Decimal))
		}
		var seq int64
		if err := tx.GetContext(ctx, &seq, `UPDATE rounds SET subscription_seq = subscription_seq + 1 WHERE id = $1 RETURNING subscription_seq`,
			r.ID); err != nil {
			return fmt.Errorf("bump subscription seq: %w", err)
		}
		name := actorName(by.actor)
		if _, err := tx.ExecContext(ctx, `UPDATE invitations SET amount = $1, subscribed_at = now(), subscribed_by = $2, on_behalf = $3,
			risk_acknowledged = risk_acknowledged OR $4, version = version + 1, updated_at = now() WHERE id = $5`,
			amount, name, by.onBehalf, by.riskAck, invitationID); err != nil {
			return fmt.Errorf("record subscription: %w", err)
		}
		var prev *decimal.Decimal
		if before.Amount != nil {
			prev = &before.Amount.Decimal
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO subscription_history (invitation_id, round_id, amount, previous_amount, by_user_id,
			by_name, on_behalf, reason, subscription_seq) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
			invitationID, r.ID, amount, prev, by.userID, name, by.onBehalf, by.reason, seq); err != nil {
			return fmt.Errorf("subscription history: %w", err)
		}
		if inv, err = getInvitation(ctx, tx, invitationID); err != nil {
			return err
		}
		action := "subscription.submit"
		if by.onBehalf {
			action = "subscription.on_behalf"
		}
		return audit.Record(ctx, tx, by.actor, audit.Entry{Action: action, Entity: "invitation", EntityID: invitationID, ProjectID: &r.ProjectID,
			Before: map[string]any{"amount": before.Amount}, After: map[string]any{"amount": inv.Amount, "reason": by.reason, "on_behalf": by.onBehalf}})
	})
	return inv, err
}

// History returns an invitation's subscription changes, oldest first. With
// userID set, only the partner's own invitation is found.
func (s *Service) History(ctx context.Context, userID, roundID, invitationID int64) ([]HistoryEntry, error) {
	var owner struct {
		RoundID int64 `db:"round_id"`
		UserID  int64 `db:"user_id"`
	}
	err := s.db.GetContext(ctx, &owner, `SELECT round_id, user_id FROM invitations WHERE id = $1`, invitationID)
	if db.IsNoRows(err) || (err == nil && ((userID != 0 && owner.UserID != userID) || (roundID != 0 && owner.RoundID != roundID))) {
		return nil, errInvitationNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("invitation: %w", err)
	}
	hs := []HistoryEntry{}
	if err := s.db.SelectContext(ctx, &hs, `SELECT id, invitation_id, amount, previous_amount, by_user_id, by_name, on_behalf, reason, at
		FROM subscription_history WHERE invitation_id = $1 ORDER BY id`, invitationID); err != nil {
		return nil, fmt.Errorf("subscription history: %w", err)
	}
	return hs, nil
}

// MyInvitation is an invitation as its partner sees it on the phone.
type MyInvitation struct {
	Invitation
	ProjectID   int64  `db:"project_id" json:"project_id"`
	ProjectName string `db:"project_name" json:"project_name"`
	RoundKind   string `db:"round_kind" json:"round_kind"`
	RoundSeq    int    `db:"round_seq" json:"round_seq"`
	RoundName   string `db:"-" json:"round_name"`
	RoundStatus Status `db:"round_status" json:"round_status"`
	// RoundStatusLabel is RoundStatus in Chinese.
	RoundStatusLabel string `db:"-" json:"round_status_label"`
	// Status is the partner's view: open (待认购), subscribed (已认购, still
	// changeable), closed (已截止).
	Status MyStatus `db:"-" json:"status"`
	// StatusLabel is Status in Chinese.
	StatusLabel string `db:"-" json:"status_label"`
	// Open says whether a subscription may be made or changed now.
	Open          bool   `db:"-" json:"open"`
	RiskStatement string `db:"-" json:"risk_statement"`
}

// MyStatus is a partner's view of one invitation.
type MyStatus string

// The partner's views of an invitation.
const (
	MyOpen       MyStatus = "open"
	MySubscribed MyStatus = "subscribed"
	MyClosed     MyStatus = "closed"
)

var myStatusLabels = map[MyStatus]string{MyOpen: "待认购", MySubscribed: "已认购", MyClosed: "已截止"}

// Label is the view in Chinese, or the code itself for an unknown one.
func (s MyStatus) Label() string {
	if l, ok := myStatusLabels[s]; ok {
		return l
	}
	return string(s)
}

// MyInvitations returns the signed-in partner's invitations, newest first.
// A draft round's invitations are not shown: the partner has not been told yet.
func (s *Service) MyInvitations(ctx context.Context, userID int64) ([]MyInvitation, error) {
	ms := []MyInvitation{}
	err := s.db.SelectContext(ctx, &ms, `SELECT x.*, r.project_id, p.name AS project_name, r.kind AS round_kind, r.seq AS round_seq,
		r.status AS round_status FROM (`+selectInvitation+` WHERE i.user_id = $1) x
		JOIN rounds r ON r.id = x.round_id JOIN projects p ON p.id = r.project_id
		WHERE r.status <> $2 ORDER BY x.id DESC`, userID, StatusDraft)
	if err != nil {
		return nil, fmt.Errorf("my invitations: %w", err)
	}
	now := s.Now()
	for i := range ms {
		ms[i].fill(now)
	}
	return ms, nil
}

// MyInvitation returns one of the partner's invitations.
func (s *Service) MyInvitation(ctx context.Context, userID, id int64) (MyInvitation, error) {
	ms, err := s.MyInvitations(ctx, userID)
	if err != nil {
		return MyInvitation{}, err
	}
	for _, m := range ms {
		if m.ID == id {
			return m, nil
		}
	}
	return MyInvitation{}, errInvitationNotFound
}

func (m *MyInvitation) fill(now time.Time) {
	m.TierName = TierNames[m.Tier]
	m.RoundName = RoundName(m.RoundKind, m.RoundSeq)
	m.RiskStatement = RiskStatement
	m.Open = m.RoundStatus == StatusOpen && now.Before(m.Deadline.EndExclusive())
	switch {
	case m.Open && m.Amount != nil:
		m.Status = MySubscribed
	case m.Open:
		m.Status = MyOpen
	default:
		m.Status = MyClosed
	}
	m.StatusLabel = m.Status.Label()
	m.RoundStatusLabel = m.RoundStatus.Label()
}
