package microapp

import (
	"bytes"
	"net/http"

	"github.com/gin-gonic/gin"

	"hehuo/internal/apperr"
	"hehuo/internal/auth"
	"hehuo/internal/org"
	"hehuo/internal/round"
)

type noticeRequest struct {
	Test bool `json:"test"`
}

// roundRoutes registers rounds, partner lists, subscriptions, the mandatory list and review.
func (s *Server) roundRoutes() {
	// The city company's accountant keeps the partner list, sends the notices
	// and closes the window (seed 2.3); the business admin reviews (2.4.3).
	accountant := []string{org.RoleAccountant}
	bizadmin := []string{org.RoleBizadmin}
	sysadmin := []string{org.RoleSysadmin}

	s.handle(Route{
		Method: http.MethodPost, Path: "/api/v1/projects/:id/rounds", Tag: "rounds", Status: http.StatusCreated,
		Summary: "Open a draft round: initial (立项, one per project) or supplementary (补充立项, only when every earlier round is approved).",
		Access:  Access{Roles: accountant, ProjectParam: "id"}, Request: round.CreateInput{}, Response: round.Round{},
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			id, err := pathID(c, "id")
			if err != nil {
				return nil, err
			}
			var in round.CreateInput
			if err := bind(c, &in); err != nil {
				return nil, err
			}
			return s.deps.Rounds.Create(c.Request.Context(), p.Actor(), id, in)
		},
	})
	s.handle(Route{
		Method: http.MethodGet, Path: "/api/v1/projects/:id/rounds", Tag: "rounds", Summary: "A project's rounds, oldest first.",
		Access: Access{Roles: staff, ProjectParam: "id"}, Response: list[round.Round]{},
		Handle: func(c *gin.Context, _ auth.Principal) (any, error) {
			id, err := pathID(c, "id")
			if err != nil {
				return nil, err
			}
			rs, err := s.deps.Rounds.List(c.Request.Context(), id)
			return list[round.Round]{rs}, err
		},
	})
	s.handle(Route{
		Method: http.MethodGet, Path: "/api/v1/rounds/:id", Tag: "rounds",
		Summary: "One round: status, pools, counts, deadline (the latest invitation deadline), timestamps.",
		Access:  Access{Roles: staff}, Response: roundView{},
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			id, err := s.roundInScope(c, p)
			if err != nil {
				return nil, err
			}
			return s.roundView(c, id)
		},
	})

	// The partner list (合伙名单).
	s.handle(Route{
		Method: http.MethodGet, Path: "/api/v1/rounds/:id/invitations", Tag: "rounds",
		Summary: "The round's partner list with each partner's current subscription.",
		Access:  Access{Roles: staff}, Response: list[round.Invitation]{},
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			id, err := s.roundInScope(c, p)
			if err != nil {
				return nil, err
			}
			is, err := s.deps.Rounds.Invitations(c.Request.Context(), id)
			return list[round.Invitation]{is}, err
		},
	})
	s.handle(Route{
		Method: http.MethodPost, Path: "/api/v1/rounds/:id/invitations", Tag: "rounds", Status: http.StatusCreated,
		Summary: "Invite a partner (draft or open round): tier, mandatory, whole-yuan limits (min ≤ max; a mandatory partner's min ≥ the mandatory list's minimum of their grade), a deadline not past.",
		Access:  Access{Roles: accountant, LineWrite: true}, Request: round.InvitationInput{}, Response: round.Invitation{},
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			id, err := s.roundInScope(c, p)
			if err != nil {
				return nil, err
			}
			var in round.InvitationInput
			if err := bind(c, &in); err != nil {
				return nil, err
			}
			return s.deps.Rounds.AddInvitation(c.Request.Context(), p.Actor(), id, in)
		},
	})
	s.handle(Route{
		Method: http.MethodPut, Path: "/api/v1/rounds/:id/invitations/:invitation_id", Tag: "rounds",
		Summary: "Change an invitation's tier, flag, limits or deadline; carries version (stale → 409).",
		Access:  Access{Roles: accountant, LineWrite: true}, Request: round.InvitationInput{}, Response: round.Invitation{},
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			id, err := s.roundInScope(c, p)
			if err != nil {
				return nil, err
			}
			invID, err := pathID(c, "invitation_id")
			if err != nil {
				return nil, err
			}
			var in round.InvitationInput
			if err := bind(c, &in); err != nil {
				return nil, err
			}
			return s.deps.Rounds.UpdateInvitation(c.Request.Context(), p.Actor(), id, invID, in)
		},
	})
	s.handle(Route{
		Method: http.MethodDelete, Path: "/api/v1/rounds/:id/invitations/:invitation_id", Tag: "rounds",
		Summary: "Take a partner off the list (draft or open round, not once they subscribed).",
		Access:  Access{Roles: accountant, LineWrite: true},
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			id, err := s.roundInScope(c, p)
			if err != nil {
				return nil, err
			}
			invID, err := pathID(c, "invitation_id")
			if err != nil {
				return nil, err
			}
			return nil, s.deps.Rounds.DeleteInvitation(c.Request.Context(), p.Actor(), id, invID)
		},
	})
	s.handle(Route{
		Method: http.MethodPost, Path: "/api/v1/rounds/:id/invitations/import", Tag: "rounds", Upload: true,
		Summary: "Import the partner list from an .xlsx (multipart field file; columns 工号, 姓名, 层级, 强投, 认购下限, 认购上限, 截止日期): all rows or none; every bad cell is reported in error.details with its row and column.",
		Access:  Access{Roles: accountant, LineWrite: true}, Response: importResult{},
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			id, err := s.roundInScope(c, p)
			if err != nil {
				return nil, err
			}
			f, err := importFile(c)
			if err != nil {
				return nil, err
			}
			defer f.Close()
			n, err := s.deps.Rounds.Import(c.Request.Context(), p.Actor(), id, f)
			return importResult{Imported: n}, err
		},
	})
	s.handle(Route{
		Method: http.MethodGet, Path: "/api/v1/invitations/import/template", Tag: "rounds",
		Summary: "The .xlsx template of the partner-list import.", Access: Access{Roles: staff}, Raw: true,
		Handle: func(c *gin.Context, _ auth.Principal) (any, error) {
			var buf bytes.Buffer
			if err := round.ImportTemplate(&buf); err != nil {
				return nil, err
			}
			c.Header("Content-Disposition", `attachment; filename*=UTF-8''%E5%90%88%E4%BC%99%E5%90%8D%E5%8D%95%E5%AF%BC%E5%85%A5%E6%A8%A1%E6%9D%BF.xlsx`)
			c.Data(http.StatusOK, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", buf.Bytes())
			return nil, nil
		},
	})

	// Notices, the window, on-behalf subscriptions and review.
	s.handle(Route{
		Method: http.MethodPost, Path: "/api/v1/rounds/:id/notices/subscription", Tag: "rounds",
		Summary: "Send the subscription notice (认购通知). test: true sends it only to the caller's DingTalk account; false sends it to every invited partner once and opens the round (draft → open); on an open round it tells only the partners invited since (409 when there are none).",
		Access:  Access{Roles: accountant}, Request: noticeRequest{}, Response: round.NoticeResult{},
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			id, err := s.roundInScope(c, p)
			if err != nil {
				return nil, err
			}
			var in noticeRequest
			if err := bind(c, &in); err != nil {
				return nil, err
			}
			return s.deps.Rounds.SendSubscriptionNotices(c.Request.Context(), p.Actor(), p.UserID, id, in.Test)
		},
	})
	s.handle(Route{
		Method: http.MethodPost, Path: "/api/v1/rounds/:id/close", Tag: "rounds",
		Summary: "End the subscription window early (open → closed); mandatory partners without a subscription are posted to the city company's group.",
		Access:  Access{Roles: accountant}, Response: round.Round{},
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			id, err := s.roundInScope(c, p)
			if err != nil {
				return nil, err
			}
			return s.deps.Rounds.Close(c.Request.Context(), p.Actor(), id)
		},
	})
	s.handle(Route{
		Method: http.MethodPut, Path: "/api/v1/rounds/:id/invitations/:invitation_id/subscription", Tag: "rounds",
		Summary: "Record a subscription on a partner's behalf (代认购): reason required, the same limits and deadline (R2); never for oneself.",
		Access:  Access{Roles: accountant, LineWrite: true}, Request: round.OnBehalfInput{}, Response: round.Invitation{},
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			id, err := s.roundInScope(c, p)
			if err != nil {
				return nil, err
			}
			invID, err := pathID(c, "invitation_id")
			if err != nil {
				return nil, err
			}
			var in round.OnBehalfInput
			if err := bind(c, &in); err != nil {
				return nil, err
			}
			return s.deps.Rounds.SubscribeOnBehalf(c.Request.Context(), p.Actor(), p.UserID, id, invID, in)
		},
	})
	s.handle(Route{
		Method: http.MethodGet, Path: "/api/v1/rounds/:id/invitations/:invitation_id/history", Tag: "rounds",
		Summary: "Every subscription change of an invitation (amount, by whom, on behalf, reason, when).",
		Access:  Access{Roles: staff}, Response: list[round.HistoryEntry]{},
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			id, err := s.roundInScope(c, p)
			if err != nil {
				return nil, err
			}
			invID, err := pathID(c, "invitation_id")
			if err != nil {
				return nil, err
			}
			hs, err := s.deps.Rounds.History(c.Request.Context(), 0, id, invID)
			return list[round.HistoryEntry]{hs}, err
		},
	})
	s.handle(Route{
		Method: http.MethodPost, Path: "/api/v1/rounds/:id/review", Tag: "rounds",
		Summary: "Review a submitted round (方案审核): approve → reviewed; reject (reason required) → calculated. The decision is posted to the city company's group.",
		Access:  Access{Roles: bizadmin, LineWrite: true}, Request: round.ReviewInput{}, Response: round.Round{},
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			id, err := s.roundInScope(c, p)
			if err != nil {
				return nil, err
			}
			var in round.ReviewInput
			if err := bind(c, &in); err != nil {
				return nil, err
			}
			return s.deps.Rounds.Review(c.Request.Context(), p.Actor(), id, in)
		},
	})

	// The partner's side (H5): only their own invitations.
	s.handle(Route{
		Method: http.MethodGet, Path: "/api/v1/me/invitations", Tag: "me",
		Summary:  "The signed-in partner's invitations (rounds whose notices were sent): project, tier, limits, deadline, current amount, status.",
		Response: list[round.MyInvitation]{},
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			ms, err := s.deps.Rounds.MyInvitations(c.Request.Context(), p.UserID)
			return list[round.MyInvitation]{ms}, err
		},
	})
	s.handle(Route{
		Method: http.MethodGet, Path: "/api/v1/me/invitations/:id", Tag: "me",
		Summary: "One of the signed-in partner's invitations; another partner's is 404.", Response: round.MyInvitation{},
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			id, err := pathID(c, "id")
			if err != nil {
				return nil, err
			}
			return s.deps.Rounds.MyInvitation(c.Request.Context(), p.UserID, id)
		},
	})
	s.handle(Route{
		Method: http.MethodPut, Path: "/api/v1/me/invitations/:id/subscription", Tag: "me",
		Summary: "Subscribe or change the amount (R2): whole yuan, min ≤ amount ≤ max, before the deadline (end of day, Asia/Shanghai), round open, risk_acknowledged true. The last amount counts; every change is kept.",
		Request: round.SubscriptionInput{}, Response: round.Invitation{},
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			id, err := pathID(c, "id")
			if err != nil {
				return nil, err
			}
			var in round.SubscriptionInput
			if err := bind(c, &in); err != nil {
				return nil, err
			}
			return s.deps.Rounds.Subscribe(c.Request.Context(), p.Actor(), p.UserID, id, in)
		},
	})
	s.handle(Route{
		Method: http.MethodGet, Path: "/api/v1/me/invitations/:id/history", Tag: "me",
		Summary: "The signed-in partner's subscription changes on one invitation.", Response: list[round.HistoryEntry]{},
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			id, err := pathID(c, "id")
			if err != nil {
				return nil, err
			}
			hs, err := s.deps.Rounds.History(c.Request.Context(), p.UserID, 0, id)
			return list[round.HistoryEntry]{hs}, err
		},
	})

	// The mandatory list (强投名单).
	s.handle(Route{
		Method: http.MethodGet, Path: "/api/v1/mandatory-grades", Tag: "rounds",
		Summary: "The mandatory list: minimum subscription per position grade, the default for other mandatory partners and the voluntary minimum.",
		Access:  Access{Roles: staff}, Response: round.MandatoryList{},
		Handle: func(c *gin.Context, _ auth.Principal) (any, error) {
			return s.deps.Rounds.MandatoryList(c.Request.Context())
		},
	})
	s.handle(Route{
		Method: http.MethodPut, Path: "/api/v1/mandatory-grades", Tag: "rounds",
		Summary: "Replace the mandatory list (sysadmin); carries version (stale → 409). Later invitations use the new minimums.",
		Access:  Access{Roles: sysadmin}, Request: round.MandatoryInput{}, Response: round.MandatoryList{},
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			var in round.MandatoryInput
			if err := bind(c, &in); err != nil {
				return nil, err
			}
			return s.deps.Rounds.UpdateMandatoryList(c.Request.Context(), p.Actor(), in)
		},
	})
}

// roundView is a round with its tier pools.
type roundView struct {
	round.Round
	// Pools are the tier pools this round allocates; null while the project has no terms.
	Pools map[string]string `json:"pools"`
}

func (s *Server) roundView(c *gin.Context, id int64) (roundView, error) {
	r, err := s.deps.Rounds.Get(c.Request.Context(), id)
	if err != nil {
		return roundView{}, err
	}
	v := roundView{Round: r}
	pools, err := s.deps.Rounds.PoolsOf(c.Request.Context(), id)
	if err == nil {
		v.Pools = map[string]string{}
		for _, t := range round.Tiers {
			v.Pools[t] = pools.Get(t).StringFixed(2)
		}
	} else if apperr.KindOf(err) != apperr.KindRule {
		return v, err
	}
	return v, nil
}

// roundInScope returns the :id of a round the caller may see.
func (s *Server) roundInScope(c *gin.Context, p auth.Principal) (int64, error) {
	return s.subjectInScope(c, p, s.deps.Rounds.ProjectOf, apperr.NotFound("round_not_found", "轮次不存在"))
}
