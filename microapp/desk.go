package microapp

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"hehuo/internal/adjustment"
	"hehuo/internal/auth"
	"hehuo/internal/org"
	"hehuo/internal/payment"
	"hehuo/internal/payout"
)

// noticeSenders may send the payment notice (缴款通知) and the other notices
// of the payment desk: the granted accountant, and the business admin, who
// sends the 缴款通知 from 立项/方案审核 in the seed (step 6.4.5).
var noticeSenders = []string{org.RoleAccountant, org.RoleBizadmin}

// deskRoutes registers what the payment desk (缴款) and the 分配账户 tab show
// before a send: who a notice would reach; and the staff side of partners'
// payout accounts.
func (s *Server) deskRoutes() {
	s.handle(Route{
		Method: http.MethodGet, Path: "/api/v1/rounds/:id/notices/recipients", Tag: "payments",
		Summary: "Who a notice of the round would reach if sent now, listed before sending: notice=payment (缴款通知: every " +
			"allocated partner) or notice=dunning (催缴通知: those not fully paid, from the ledger), each with what they still owe " +
			"and whether they have a DingTalk account (reachable; the others are skipped); sent is the payment notice once it went out.",
		Access:   Access{Roles: staff},
		Query:    []Param{{Name: "notice", Type: "string", Description: "payment (default) or dunning"}},
		Response: payment.RecipientsResult{},
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			id, err := s.roundInScope(c, p)
			if err != nil {
				return nil, err
			}
			return s.deps.Payments.Recipients(c.Request.Context(), id, c.Query("notice"))
		},
	})
	s.handle(Route{
		Method: http.MethodGet, Path: "/api/v1/adjustments/:id/notices/recipients", Tag: "adjustments",
		Summary: "Who the 变更缴款通知 of the adjustment would reach if sent now: the partners whose top-up (补缴) or refund (退款) " +
			"is not fully settled, with what is left and whether they have a DingTalk account.",
		Access: Access{Roles: staff}, Response: adjustment.NoticeRecipients{},
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			id, err := s.adjustmentInScope(c, p)
			if err != nil {
				return nil, err
			}
			return s.deps.Adjustments.NoticeRecipientsOf(c.Request.Context(), id)
		},
	})
	s.handle(Route{
		Method: http.MethodPost, Path: "/api/v1/adjustments/:id/notices", Tag: "adjustments",
		Summary: "Send the 变更缴款通知 of an agreed adjustment again from the payment desk. test: true sends it only to the caller; " +
			"false to every partner whose top-up or refund is not fully settled, once per adjustment and day (409 adjustment_notice_already_sent).",
		Access: Access{Roles: noticeSenders}, Request: adjustment.NoticeInput{}, Response: adjustment.NoticeResult{},
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			id, err := s.adjustmentInScope(c, p)
			if err != nil {
				return nil, err
			}
			var in adjustment.NoticeInput
			if err := bind(c, &in); err != nil {
				return nil, err
			}
			return s.deps.Adjustments.SendNotice(c.Request.Context(), p.Actor(), p.UserID, id, in)
		},
	})

	project := func(roles []string) Access { return Access{Roles: roles, ProjectParam: "id"} }
	s.handle(Route{
		Method: http.MethodGet, Path: "/api/v1/projects/:id/payout-accounts", Tag: "partners",
		Summary: "Every partner of the project (a line allocated in an approved round) with their payout account (分配账户): " +
			"status none / unconfirmed / confirmed with its Chinese status_label, the number masked; reachable says whether " +
			"they can receive the confirmation notice.",
		Access: project(staff), Response: list[payout.Holder]{},
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			id, err := pathID(c, "id")
			if err != nil {
				return nil, err
			}
			partners, err := s.deps.Rounds.ProjectPartners(c.Request.Context(), id)
			if err != nil {
				return nil, err
			}
			items, err := s.deps.Payout.Holders(c.Request.Context(), partners)
			return list[payout.Holder]{Items: items}, err
		},
	})
	s.handle(Route{
		Method: http.MethodPost, Path: "/api/v1/projects/:id/payout-accounts/notices", Tag: "partners",
		Summary: "Send the 分配账户确认通知: test: true only to the caller; false to every partner of the project whose account is " +
			"not confirmed (none entered, or entered and not confirmed), once per project and day (409 payout_notice_already_sent).",
		Access: project(noticeSenders), Request: payout.ConfirmNoticeInput{}, Response: payout.ConfirmNoticeResult{},
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			id, err := pathID(c, "id")
			if err != nil {
				return nil, err
			}
			var in payout.ConfirmNoticeInput
			if err := bind(c, &in); err != nil {
				return nil, err
			}
			partners, err := s.deps.Rounds.ProjectPartners(c.Request.Context(), id)
			if err != nil {
				return nil, err
			}
			return s.deps.Payout.SendConfirmNotices(c.Request.Context(), p.Actor(), p.UserID, id, partners, in)
		},
	})
	s.handle(Route{
		Method: http.MethodPut, Path: "/api/v1/projects/:id/payout-accounts/:user_id", Tag: "partners",
		Summary: "Enter or change a partner's payout account on their behalf (代填), with a reason: as PUT /me/payout-account " +
			"(holder must be the partner, number sealed and masked, version 0 for the first account), audited with the reason; " +
			"the account stays unconfirmed until the partner confirms it on the phone. Not a partner of the project → 404; " +
			"one's own account → 403 own_line.",
		Access:  Access{Roles: []string{org.RoleAccountant}, ProjectParam: "id", LineWrite: true},
		Request: payout.OnBehalfInput{}, Response: payout.Account{},
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			id, err := pathID(c, "id")
			if err != nil {
				return nil, err
			}
			userID, err := pathID(c, "user_id")
			if err != nil {
				return nil, err
			}
			var in payout.OnBehalfInput
			if err := bind(c, &in); err != nil {
				return nil, err
			}
			partners, err := s.deps.Rounds.ProjectPartners(c.Request.Context(), id)
			if err != nil {
				return nil, err
			}
			return s.deps.Payout.SaveOnBehalf(c.Request.Context(), p.Actor(), id, userID, partners, in)
		},
	})
}
