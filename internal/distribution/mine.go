package distribution

import (
	"context"
	"fmt"

	"hehuo/internal/civil"
	"hehuo/internal/money"
)

// MyLine is one of the signed-in partner's lines in a batch on the ledger
// (approved or paid), as H5 我的分配 shows it.
type MyLine struct {
	BatchID          int64       `json:"batch_id" db:"batch_id"`
	ProjectID        int64       `json:"project_id" db:"project_id"`
	ProjectName      string      `json:"project_name" db:"project_name"`
	Kind             Kind        `json:"kind" db:"kind"`
	KindLabel        string      `json:"kind_label" db:"-"`
	Seq              int         `json:"seq" db:"seq"`
	Title            string      `json:"title" db:"-"` // 本金分配, 第1次利润分配, 清算分配
	DistributionDate *civil.Date `json:"distribution_date" db:"distribution_date"`
	// PrincipalReturned is E (本金分配 含其它), Profit is F; Amount = E + F.
	PrincipalReturned money.Amount `json:"principal_returned" db:"e"`
	Profit            money.Amount `json:"profit" db:"f"`
	Amount            money.Amount `json:"amount" db:"-"`
	// Status is the payout's (PayoutStatus: unpaid 待支付, paid 已支付,
	// nothing 无需支付), PaidOn its date once paid.
	Status      PayoutStatus `json:"status" db:"-"`
	StatusLabel string       `json:"status_label" db:"-"`
	PaidOn      *civil.Date  `json:"paid_on" db:"paid_on"`
	BatchStatus Status       `json:"-" db:"batch_status"`
}

// Mine lists the lines of the partner who is user userID in batches on the
// ledger, newest distribution first. Only the caller's own lines: the
// amounts of a batch are shown to each partner inside H5 and nowhere else.
func (s *Service) Mine(ctx context.Context, userID int64) ([]MyLine, error) {
	out := []MyLine{}
	if err := s.db.SelectContext(ctx, &out, `SELECT b.id AS batch_id, b.project_id, pr.name AS project_name, b.kind, b.seq,
		b.distribution_date, b.status AS batch_status, l.e, l.f, l.paid_on
		FROM distribution_lines l JOIN partners pt ON pt.id = l.partner_id
		JOIN distribution_batches b ON b.id = l.batch_id JOIN projects pr ON pr.id = b.project_id
		WHERE pt.user_id = $1 AND b.status IN ($2, $3)
		ORDER BY b.distribution_date DESC NULLS LAST, b.id DESC`, userID, StatusApproved, StatusPaid); err != nil {
		return nil, fmt.Errorf("my distributions: %w", err)
	}
	for i := range out {
		m := &out[i]
		m.KindLabel, m.Title = m.Kind.Label(), m.Kind.Title(m.Seq, false)
		m.Amount = money.AmountOf(m.PrincipalReturned.Add(m.Profit.Decimal))
		m.Status = payoutStatus(m.BatchStatus, Line{E: m.PrincipalReturned, F: m.Profit, PaidOn: m.PaidOn})
		m.StatusLabel = m.Status.Label()
	}
	return out, nil
}
