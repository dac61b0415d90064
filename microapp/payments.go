package microapp

import (
	"bytes"
	"net/http"
	"net/url"
	"time"

	"github.com/gin-gonic/gin"

	"hehuo/internal/auth"
	"hehuo/internal/civil"
	"hehuo/internal/org"
	"hehuo/internal/payment"
	"hehuo/internal/workcal"
)

// paymentRoutes registers payment confirmation (缴款确认), its reversal and
// the round's payment list.
func (s *Server) paymentRoutes() {
	// Confirming receipts is the accountant's (DESIGN §1); every staff role
	// may read what was paid.
	accountant := []string{org.RoleAccountant}
	s.handle(Route{
		Method: http.MethodPost, Path: "/api/v1/rounds/:id/payments", Tag: "payments",
		Summary: "Confirm a receipt (缴款确认) from a partner of an approved round: one balanced ledger transaction " +
			"(bank +amount, the partner's principal −amount). The Idempotency-Key header is required: the same key with the same " +
			"request returns the first payment and posts nothing; with another request it is 409. Partial payments are allowed; " +
			"more than the partner still owes is 422 payment_overpaid.",
		Access: Access{Roles: accountant, LineWrite: true}, Request: payment.Input{}, Response: payment.Payment{}, Status: http.StatusCreated,
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			id, err := s.roundInScope(c, p)
			if err != nil {
				return nil, err
			}
			key, err := idempotencyKey(c)
			if err != nil {
				return nil, err
			}
			var in payment.Input
			if err := bind(c, &in); err != nil {
				return nil, err
			}
			return s.deps.Payments.Confirm(c.Request.Context(), p.Actor(), id, key, in)
		},
	})
	s.handle(Route{
		Method: http.MethodGet, Path: "/api/v1/rounds/:id/payments", Tag: "payments",
		Summary: "Every allocated partner of the round with allocated, paid, outstanding and capital interest (RULES R4, with its trace), " +
			"all derived from the ledger; each partner's payments with their reversals.",
		Access: Access{Roles: staff}, Response: payment.Summary{},
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			id, err := s.roundInScope(c, p)
			if err != nil {
				return nil, err
			}
			return s.deps.Payments.List(c.Request.Context(), id)
		},
	})
	s.handle(Route{
		Method: http.MethodPost, Path: "/api/v1/payments/:id/reversal", Tag: "payments",
		Summary: "Reverse (冲销) a payment entered by mistake, with a reason and the payment's version: the negating ledger " +
			"transaction is posted and the payment no longer counts as paid nor for interest. A second reversal is 409.",
		Access: Access{Roles: accountant, LineWrite: true}, Request: payment.ReverseInput{}, Response: payment.Payment{},
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			id, err := s.paymentInScope(c, p)
			if err != nil {
				return nil, err
			}
			var in payment.ReverseInput
			if err := bind(c, &in); err != nil {
				return nil, err
			}
			return s.deps.Payments.Reverse(c.Request.Context(), p.Actor(), id, in)
		},
	})
	s.handle(Route{
		Method: http.MethodPost, Path: "/api/v1/rounds/:id/notices/payment", Tag: "payments",
		Summary: "Send the payment notice (缴款通知) of an approved round. test: true sends it only to the caller's DingTalk account; " +
			"false sends it once to every allocated partner (409 the second time), with the due date (default 20 working days by the " +
			"work calendar) and schedules the dunning cadence (default 3 days before, on the due date, then weekly for four weeks). " +
			"The granted accountant or the business admin (who sends it from 立项/方案审核) may send it.",
		Access: Access{Roles: noticeSenders}, Request: payment.NoticeInput{}, Response: payment.NoticeResult{},
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			id, err := s.roundInScope(c, p)
			if err != nil {
				return nil, err
			}
			var in payment.NoticeInput
			if err := bind(c, &in); err != nil {
				return nil, err
			}
			return s.deps.Payments.SendNotices(c.Request.Context(), p.Actor(), p.UserID, id, in)
		},
	})
	s.handle(Route{
		Method: http.MethodPost, Path: "/api/v1/rounds/:id/notices/dunning", Tag: "payments",
		Summary: "Send a reminder (催缴) now to the round's partners not fully paid (from the ledger); one per round and day (409 dunning_already_sent).",
		Access:  Access{Roles: accountant}, Response: payment.DunningResult{},
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			id, err := s.roundInScope(c, p)
			if err != nil {
				return nil, err
			}
			return s.deps.Payments.Dun(c.Request.Context(), p.Actor(), id)
		},
	})
	s.handle(Route{
		Method: http.MethodPost, Path: "/api/v1/rounds/:id/payments/import", Tag: "payments", Upload: true,
		Summary: "Import receipts from a bank statement (.xlsx, multipart field file; columns 流水号, 工号, 姓名, 金额, 到账日期): all rows or none; " +
			"every bad cell is reported in error.details with its row and column. 流水号 is each row's idempotency key: rows imported before are skipped (replayed).",
		Access: Access{Roles: accountant, LineWrite: true}, Response: payment.ImportResult{},
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
			return s.deps.Payments.Import(c.Request.Context(), p.Actor(), id, f)
		},
	})
	s.handle(Route{
		Method: http.MethodGet, Path: "/api/v1/payments/import/template", Tag: "payments",
		Summary: "The .xlsx template of the bank-statement import.", Access: Access{Roles: staff}, Raw: true,
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			var buf bytes.Buffer
			if err := payment.ImportTemplate(&buf); err != nil {
				return nil, err
			}
			c.Header("Content-Disposition", "attachment; filename*=UTF-8''"+url.PathEscape("银行流水导入模板.xlsx"))
			c.Data(http.StatusOK, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", buf.Bytes())
			return nil, nil
		},
	})
	s.handle(Route{
		Method: http.MethodGet, Path: "/api/v1/me/payments", Tag: "payments",
		Summary:  "The caller's approved allocations: allocated, paid, outstanding, due date, the project's collection account and each receipt (我的缴款, the payment notice page).",
		Response: myPayments{},
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			items, err := s.deps.Payments.Mine(c.Request.Context(), p.UserID)
			return myPayments{Items: items}, err
		},
	})
	s.handle(Route{
		Method: http.MethodGet, Path: "/api/v1/work-calendar", Tag: "payments",
		Summary: "The work calendar (工作日历) of a year: its exceptions (holidays on weekdays, 调休 make-up working days on weekends), every day of the year as working or not, and the kinds a day can be set to.",
		Access:  Access{Roles: staff}, Query: []Param{{Name: "year", Type: "integer", Description: "the year, default this year"}},
		Response: workDays{},
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			year := time.Now().In(civil.Shanghai).Year()
			y, err := queryInt(c, "year", int64(civil.Earliest.Year), int64(civil.Latest.Year))
			if err != nil {
				return nil, err
			}
			if y != 0 {
				year = int(y)
			}
			ctx := c.Request.Context()
			items, err := s.deps.WorkCalendar.List(ctx, year)
			if err != nil {
				return nil, err
			}
			days, err := s.deps.WorkCalendar.Year(ctx, year)
			return workDays{Year: year, Items: items, Days: days, Kinds: workcal.Kinds()}, err
		},
	})
	s.handle(Route{
		Method: http.MethodPut, Path: "/api/v1/work-calendar/:day", Tag: "payments",
		Summary: "Set one day of the work calendar: kind holiday (节假日), workday (调休上班) or normal (back to Monday–Friday).",
		Access:  Access{Roles: []string{org.RoleSysadmin}}, Request: workcal.Input{}, Response: workcal.Day{},
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			day, err := civil.ParseField(c.Param("day"), "day", "日期")
			if err != nil {
				return nil, err
			}
			var in workcal.Input
			if err := bind(c, &in); err != nil {
				return nil, err
			}
			d, err := s.deps.WorkCalendar.Put(c.Request.Context(), p.Actor(), day, in)
			if err != nil || d == nil {
				return map[string]any{"day": day, "kind": "normal"}, err
			}
			return d, nil
		},
	})
}

type myPayments struct {
	Items []payment.MyRound `json:"items"`
}

type workDays struct {
	Year  int                   `json:"year"`
	Items []workcal.Day         `json:"items"` // the exceptions
	Days  []workcal.CalendarDay `json:"days"`  // every day of the year
	Kinds []workcal.Kind        `json:"kinds"` // the choices of PUT, with their names
}

// paymentInScope returns the :id of a payment the caller may see.
func (s *Server) paymentInScope(c *gin.Context, p auth.Principal) (int64, error) {
	return s.subjectInScope(c, p, s.deps.Payments.ProjectOfPayment, payment.ErrPaymentNotFound)
}
