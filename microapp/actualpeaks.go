package microapp

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"hehuo/internal/auth"
	"hehuo/internal/distribution"
)

// actualPeakRoutes registers the actual peak confirmations (实际资金峰值确认),
// the subjects of the repeatable actual_peak process.
func (s *Server) actualPeakRoutes() {
	project := func(roles []string) Access { return Access{Roles: roles, ProjectParam: "id"} }
	s.handle(Route{
		Method: http.MethodPost, Path: "/api/v1/projects/:id/actual-peaks", Tag: "distributions", Status: http.StatusCreated,
		Summary: "Record the project's actual peak capital (实际资金峰值确认: 资金峰值-实际 and 情况说明), the subject of an " +
			"actual_peak process: launch it with POST /projects/{id}/processes {\"kind\":\"actual_peak\",\"subject_id\"} and its " +
			"attachment_ids. A principal batch is calculated against the last one agreed. One open (draft or in approval) " +
			"per project (409 actual_peak_open).",
		Access: project(establishmentEditors), Request: distribution.ActualPeakInput{}, Response: distribution.ActualPeak{},
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			id, err := pathID(c, "id")
			if err != nil {
				return nil, err
			}
			var in distribution.ActualPeakInput
			if err := bind(c, &in); err != nil {
				return nil, err
			}
			return s.deps.Distributions.CreateActualPeak(c.Request.Context(), p.Actor(), id, in)
		},
	})
	s.handle(Route{
		Method: http.MethodGet, Path: "/api/v1/projects/:id/actual-peaks", Tag: "distributions",
		Summary: "The project's actual peak confirmations, newest first, with status and status_label (待发起, 审批中, 已确认).",
		Access:  project(staff), Response: list[distribution.ActualPeak]{},
		Handle: func(c *gin.Context, p auth.Principal) (any, error) {
			id, err := pathID(c, "id")
			if err != nil {
				return nil, err
			}
			items, err := s.deps.Distributions.ActualPeaks(c.Request.Context(), id)
			return list[distribution.ActualPeak]{Items: items}, err
		},
	})
}
