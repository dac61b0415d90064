package microapp

import (
	"net/http"
	"net/url"

	"github.com/gin-gonic/gin"

	"hehuo/internal/apperr"
	"hehuo/internal/auth"
	"hehuo/internal/distribution"
	"hehuo/internal/org"
)

// distributionNotFound answers a batch outside the caller's scope, as if it did not exist.
var distributionNotFound = apperr.NotFound("distribution_not_found", "分配批次不存在")

// batchInScope reads the batch id of the path and checks the caller may see
// its project (404 otherwise).
func (s *Server) batchInScope(c *gin.Context, p auth.Principal) (int64, error) {
	return s.subjectInScope(c, p, s.deps.Distributions.ProjectOfBatch, distributionNotFound)
}

// distributionPayoutRoutes registers the payouts of approved batches (登记打款,
// 打款导入, 银行付款文件), the 分配通知 and the partner's H5 我的分配.
func (s *Server) distributionPayoutRoutes() {
	// Registering money paid out is the accountant's, as confirming receipts is.
	accountant := []string{org.RoleAccountant}
	s.handle(Route{
		Method: http.MethodPost, Path: "/api/v1/distributions/:id/payouts", Tag: "distributions", Status: http.StatusCreated,
		Summary: "Register a line's payout (登记打款) on an approved batch: paid_amount is the line's E + F, posted as one ledger " +
			"transaction (payable:{project}:{payee} +E, profit:{project}:{payee} +F, bank:{project} −(E+F)). The Idempotency-Key header " +
			"is required: the same key returns the first payout (replayed) and posts nothing; another key on a paid line → 409 " +
			"distribution_line_paid. A batch not approved → 422 distribution_not_approved; the payee's account not confirmed → 422 " +
			"payout_account_unconfirmed; the caller's own line → 403 own_line. The batch becomes paid with its last line.",
		Access: Access{Roles: accountant, LineWrite: true}, Request: distribution.PayoutInput{}, Response: distribution.Payout{},
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			id, err := s.batchInScope(c, p)
			if err != nil {
				return nil, err
			}
			key, err := idempotencyKey(c)
			if err != nil {
				return nil, err
			}
			var in distribution.PayoutInput
			if err := bind(c, &in); err != nil {
				return nil, err
			}
			return s.deps.Distributions.RegisterPayout(c.Request.Context(), p.Actor(), id, key, in)
		},
	})
	s.handle(Route{
		Method: http.MethodPost, Path: "/api/v1/distributions/:id/payouts/import", Tag: "distributions", Upload: true,
		Summary: "Register payouts from the bank's file (.xlsx, multipart field file; columns 户名 (or 姓名), 金额, 打款日期): every row or " +
			"none, each bad cell reported in error.details with its row and column. The amount must equal the line's E + F; the file " +
			"is its own idempotency key (rows of a file imported before are skipped as replayed).",
		Access: Access{Roles: accountant, LineWrite: true}, Response: distribution.PayoutImportResult{},
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			id, err := s.batchInScope(c, p)
			if err != nil {
				return nil, err
			}
			f, err := importFile(c)
			if err != nil {
				return nil, err
			}
			defer f.Close()
			return s.deps.Distributions.ImportPayouts(c.Request.Context(), p.Actor(), id, f)
		},
	})
	s.handle(Route{
		Method: http.MethodGet, Path: "/api/v1/distributions/:id/bank-file.xlsx", Tag: "distributions", Raw: true,
		Summary: "The bank payout file of an approved batch (银行付款文件, .xlsx: 户名, 账号, 开户行, 金额, 用途), one row per unpaid line " +
			"payable to an employee. The one place account numbers appear in clear; the export is recorded in the 系统日志 (without them). " +
			"A payee without a confirmed account → 422 payout_account_unconfirmed naming them.",
		Access: Access{Roles: accountant},
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			id, err := s.batchInScope(c, p)
			if err != nil {
				return nil, err
			}
			name, content, err := s.deps.Distributions.BankFile(c.Request.Context(), p.Actor(), id, s.deps.Payout)
			if err != nil {
				return nil, err
			}
			c.Header("Cache-Control", "no-store")
			c.Header("Content-Disposition", "attachment; filename*=UTF-8''"+url.PathEscape(name))
			c.Data(http.StatusOK, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", content)
			return nil, nil
		},
	})
	s.handle(Route{
		Method: http.MethodGet, Path: "/api/v1/projects/:id/distribution-notices", Tag: "distributions",
		Summary: "分配 → 分配通知: the project's batches with their notices (one per payee, queued for 09:00 Shanghai on the " +
			"distribution day): how many are queued (and for when), sent and failed.",
		Access: Access{Roles: staff, ProjectParam: "id"}, Response: list[distribution.BatchNotices]{},
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			id, err := pathID(c, "id")
			if err != nil {
				return nil, err
			}
			items, err := s.deps.Distributions.Notices(c.Request.Context(), id)
			return list[distribution.BatchNotices]{Items: items}, err
		},
	})
	s.handle(Route{
		Method: http.MethodPost, Path: "/api/v1/distributions/:id/notices/test", Tag: "distributions",
		Summary: "测试消息: send the batch's 分配通知, rendered as partners get it, to the caller only, now.",
		Access:  Access{Roles: noticeSenders}, Response: distribution.NoticeTestResult{},
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			id, err := s.batchInScope(c, p)
			if err != nil {
				return nil, err
			}
			return s.deps.Distributions.SendTestNotice(c.Request.Context(), p.Actor(), p.UserID, id)
		},
	})
	s.handle(Route{
		Method: http.MethodGet, Path: "/api/v1/me/distributions", Tag: "distributions",
		Summary: "我的分配: the signed-in partner's own lines in approved or paid batches — project, batch title, distribution date, " +
			"principal returned (E), profit (F), amount, payout status (待支付/已支付 in status_label) and paid_on.",
		Response: list[distribution.MyLine]{},
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			items, err := s.deps.Distributions.Mine(c.Request.Context(), p.UserID)
			return list[distribution.MyLine]{Items: items}, err
		},
	})
}
