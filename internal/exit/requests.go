package exit

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"

	"hehuo/internal/apperr"
	"hehuo/internal/audit"
	"hehuo/internal/civil"
	"hehuo/internal/db"
	"hehuo/internal/partner"
	"hehuo/internal/position"
	"hehuo/internal/text"
)

const selectRequest = `SELECT r.id, r.partner_id, r.user_id, pt.name AS partner_name, r.reason, r.desired_date, r.status, r.exit_id,
	r.created_at, r.version FROM exit_requests r JOIN partners pt ON pt.id = r.partner_id`

func loadRequest(ctx context.Context, q sqlx.QueryerContext, id int64, lock bool) (Request, error) {
	var r Request
	query := selectRequest + ` WHERE r.id = $1`
	if lock {
		query += ` FOR UPDATE OF r`
	}
	err := sqlx.GetContext(ctx, q, &r, query, id)
	if db.IsNoRows(err) {
		return r, ErrRequestNotFound
	}
	if err != nil {
		return r, fmt.Errorf("exit request %d: %w", id, err)
	}
	r.StatusLabel = r.Status.Label()
	return r, nil
}

// Request records a partner's own exit request (H5 申请退出): the reason
// and the desired exit date. A user with no stake is refused; one open
// request per partner at a time (409 exit_request_open).
func (s *Service) Request(ctx context.Context, a audit.Actor, userID int64, in RequestInput) (Request, error) {
	reason, err := text.CleanNote(in.Reason, "reason", "退出原因", true, 500)
	if err != nil {
		return Request{}, err
	}
	if in.DesiredDate == "" {
		return Request{}, apperr.Invalid("desired_date_required", "desired_date", "请填写期望退出日期")
	}
	date, err := civil.ParseField(in.DesiredDate, "desired_date", "期望退出日期")
	if err != nil {
		return Request{}, err
	}
	var id int64
	err = s.db.InTx(ctx, func(tx *sqlx.Tx) error {
		partnerID, ok, err := partner.ForUser(ctx, tx, userID)
		if err != nil {
			return err
		}
		if !ok {
			return errNoStake
		}
		if _, err := tx.ExecContext(ctx, `SELECT id FROM partners WHERE id = $1 FOR UPDATE`, partnerID); err != nil {
			return fmt.Errorf("lock partner: %w", err)
		}
		ps, err := s.pos.Positions(ctx, tx, position.Query{PartnerID: partnerID})
		if err != nil {
			return err
		}
		held := false
		for _, p := range ps {
			held = held || p.Held().IsPositive()
		}
		if !held {
			return errNoStake
		}
		var open bool
		if err := tx.GetContext(ctx, &open, `SELECT EXISTS (SELECT 1 FROM exit_requests WHERE partner_id = $1
			AND status NOT IN ('done', 'rejected'))`, partnerID); err != nil {
			return fmt.Errorf("open requests: %w", err)
		}
		if open {
			return apperr.Conflict("exit_request_open", "您已有一条处理中的退出申请")
		}
		if err := tx.GetContext(ctx, &id, `INSERT INTO exit_requests (partner_id, user_id, reason, desired_date)
			VALUES ($1, $2, $3, $4) RETURNING id`, partnerID, userID, reason, date); err != nil {
			return fmt.Errorf("insert exit request: %w", err)
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "exit_request.create", Entity: "exit_request", EntityID: id,
			After: map[string]any{"partner_id": partnerID, "reason": reason, "desired_date": date, "status": RequestSubmitted}})
	})
	if err != nil {
		return Request{}, err
	}
	return loadRequest(ctx, s.db, id, false)
}

// MyRequests returns the requests of the partner who is userID, newest first.
func (s *Service) MyRequests(ctx context.Context, userID int64) ([]Request, error) {
	out := []Request{}
	if err := s.db.SelectContext(ctx, &out, selectRequest+` WHERE r.user_id = $1 ORDER BY r.id DESC`, userID); err != nil {
		return nil, fmt.Errorf("my exit requests: %w", err)
	}
	for i := range out {
		out[i].StatusLabel = out[i].Status.Label()
	}
	return out, nil
}

// Requests returns the requests of partners holding a stake in a project
// of sc (or with a quote seen there), newest first.
func (s *Service) Requests(ctx context.Context, sc Scope) ([]Request, error) {
	var all []Request
	if err := s.db.SelectContext(ctx, &all, selectRequest+` ORDER BY r.id DESC`); err != nil {
		return nil, fmt.Errorf("exit requests: %w", err)
	}
	out := []Request{}
	seen := map[int64]bool{}
	for _, r := range all {
		visible, ok := seen[r.PartnerID]
		if !ok {
			var err error
			if visible, err = s.visible(ctx, s.db, sc, r.PartnerID); err != nil {
				return nil, err
			}
			seen[r.PartnerID] = visible
		}
		if visible {
			r.StatusLabel = r.Status.Label()
			out = append(out, r)
		}
	}
	return out, nil
}

// RejectRequest closes a request without an exit (驳回), audited.
func (s *Service) RejectRequest(ctx context.Context, a audit.Actor, sc Scope, id int64) (Request, error) {
	err := s.db.InTx(ctx, func(tx *sqlx.Tx) error {
		r, err := loadRequest(ctx, tx, id, true)
		if err != nil {
			return err
		}
		if ok, err := s.visible(ctx, tx, sc, r.PartnerID); err != nil {
			return err
		} else if !ok {
			return ErrRequestNotFound
		}
		if r.Status != RequestSubmitted && r.Status != RequestQuoted {
			return apperr.Conflict("exit_request_closed", "该退出申请%s，不能驳回", r.Status.Label())
		}
		if _, err := tx.ExecContext(ctx, `UPDATE exit_requests SET status = 'rejected', version = version + 1, updated_at = now()
			WHERE id = $1`, id); err != nil {
			return fmt.Errorf("reject exit request: %w", err)
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "exit_request.reject", Entity: "exit_request", EntityID: id,
			Before: map[string]any{"status": r.Status}, After: map[string]any{"status": RequestRejected}})
	})
	if err != nil {
		return Request{}, err
	}
	return loadRequest(ctx, s.db, id, false)
}

// visible reports whether partnerID holds (or held) a stake in a project of
// sc: staff see the requests of the partners of their projects.
func (s *Service) visible(ctx context.Context, q sqlx.QueryerContext, sc Scope, partnerID int64) (bool, error) {
	ps, err := s.pos.Positions(ctx, q, position.Query{PartnerID: partnerID})
	if err != nil {
		return false, err
	}
	for _, p := range ps {
		if sc == nil || sc.Contains(p.ProjectID) {
			return true, nil
		}
	}
	return false, nil
}
