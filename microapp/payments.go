package microapp

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"hehuo/internal/auth"
	"hehuo/internal/org"
	"hehuo/internal/payment"
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
		Access: Access{Roles: accountant}, Request: payment.Input{}, Response: payment.Payment{}, Status: http.StatusCreated,
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			id, err := s.roundInScope(c, p)
			if err != nil {
				return nil, err
			}
			var in payment.Input
			if err := bind(c, &in); err != nil {
				return nil, err
			}
			return s.deps.Payments.Confirm(c.Request.Context(), p.Actor(), id, c.GetHeader("Idempotency-Key"), in)
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
		Access: Access{Roles: accountant}, Request: payment.ReverseInput{}, Response: payment.Payment{},
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
}

// paymentInScope returns the :id of a payment the caller may see: one of a
// project outside their scope is 404, as if it did not exist.
func (s *Server) paymentInScope(c *gin.Context, p auth.Principal) (int64, error) {
	id, err := pathID(c, "id")
	if err != nil {
		return 0, err
	}
	projectID, err := s.deps.Payments.ProjectOfPayment(c.Request.Context(), id)
	if err != nil {
		return 0, err
	}
	sc, err := s.deps.Auth.Scope(c.Request.Context(), p)
	if err != nil {
		return 0, err
	}
	if !sc.Contains(projectID) {
		return 0, payment.ErrPaymentNotFound
	}
	return id, nil
}
