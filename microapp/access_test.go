package microapp_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"hehuo/internal/config"
	"hehuo/microapp"
)

// fillPath puts real ids into a route's path parameters.
func fillPath(r microapp.Route, projectID, orgUnitID, userID int64) string {
	p := r.Path
	switch {
	case strings.HasPrefix(p, "/api/v1/projects/:id"):
		p = strings.Replace(p, ":id", itoa(projectID), 1)
	case strings.HasPrefix(p, "/api/v1/org-units/:id"):
		p = strings.Replace(p, ":id", itoa(orgUnitID), 1)
	case strings.HasPrefix(p, "/api/v1/users/:id"):
		p = strings.Replace(p, ":id", itoa(userID), 1)
	case p == "/api/v1/dingtalk/jsapi-config":
		// A page of the site, so a permitted caller gets 200.
		p += "?url=" + url.QueryEscape("http://"+config.Default().HTTP.Addr+"/m/")
	}
	return p
}

// A plausible body for every write, so refusals are about access, not input.
func bodyFor(r microapp.Route, w world, userID int64) any {
	switch {
	case r.Path == "/api/v1/auth/password":
		return nil
	case strings.HasSuffix(r.Path, "/grants"):
		return map[string]any{"grants": []map[string]any{{"role": "accountant", "user_ids": []int64{userID}}}}
	case strings.HasPrefix(r.Path, "/api/v1/projects"):
		return map[string]any{"name": "越权项目", "city_company_id": w.cityA, "version": 1}
	case strings.HasPrefix(r.Path, "/api/v1/org-units"):
		return map[string]any{"name": "越权组织", "kind": "city", "parent_id": w.property, "version": 1}
	case strings.HasPrefix(r.Path, "/api/v1/users"):
		return map[string]any{"name": "越权用户", "roles": []string{"sysadmin"}, "version": 1}
	case strings.HasPrefix(r.Path, "/api/v1/batches"):
		return map[string]any{"name": "越权批次"}
	}
	return map[string]any{}
}

// The role × scope matrix over every route: a partner, an accountant without
// a grant on the project and an auditor trying to write are refused with
// 403 or 404, and nothing in the database changes.
func TestRoleScopeMatrixOverEveryRoute(t *testing.T) {
	e := newEnv(t)
	admin := e.admin()
	w := e.mustWorld(admin)
	noticeID := e.mustNotice("matrix", "dt_matrix")
	_, partner := e.mustUser("合伙人甲")
	acctID, accountant := e.mustUser("城市会计乙", "accountant")
	auditorID, auditor := e.mustUser("审计丙", "auditor")
	// A round of project A with the auditor invited, so round and /me paths have real ids.
	roundID, invitationID := e.mustRoundFixture(w.projA, auditorID)
	// Terms and an allocation (a preview) of that round, for the allocation reads.
	e.mustAllocationFixture(w.projA, roundID)
	// A process of project A with an attachment, for process and attachment paths.
	processID, attachmentID := e.mustProcessFixture(w.projA)
	// An adjustment of project A, for /adjustments paths.
	adjustmentID := e.mustAdjustmentFixture(w.projA)
	// A draft distribution batch of project A, for /distributions paths.
	distributionID := e.mustDistributionFixture(w.projA)
	// A sent disclosure of project A the auditor holds, for /profit-updates and /me/disclosures paths.
	profitUpdateID := e.mustDisclosureFixture(w.projA, processID, auditorID)
	// An agreement of the auditor's, for /me/agreements paths.
	agreementID := e.mustAgreementFixture(w.projA, auditorID)
	// An exit quote of a partner of project A, for /exits paths.
	exitID := e.mustQuotedExitFixture(w.projA)
	// A draft minority shareholder registration of project A, for /shareholder-registrations paths.
	shRegID := e.mustShareholderRegistrationFixture(w.projA)
	// A draft shareholder distribution of project A, for /shareholder-distributions paths.
	sdID := e.mustShareholderDistFixture(w.projA)
	// The accountant is granted city B only; the matrix probes project A.
	e.must(200, e.do(admin, "PUT", "/api/v1/org-units/"+itoa(w.cityB)+"/grants",
		map[string]any{"grants": []map[string]any{{"role": "accountant", "user_ids": []int64{acctID}}}}))

	before := fingerprint(t, e.db)
	checked := 0
	for _, r := range e.server.Routes() {
		if r.Access.Public {
			continue
		}
		path := fillProcessPath(fillRoundPath(fillNotifyPath(fillPath(r, w.projA, w.cityA, acctID), noticeID), roundID, invitationID), processID, attachmentID)
		path = fillDistributionPath(fillAdjustmentPath(path, adjustmentID), distributionID)
		path = fillDisclosurePath(path, profitUpdateID, w.projA, attachmentID)
		path = fillAgreementPath(path, agreementID)
		path = fillExitPath(path, exitID)
		path = fillShareholderPath(path, shRegID)
		path = fillShareholderDistPath(path, sdID)
		body := bodyFor(r, w, acctID)
		write := r.Method != http.MethodGet

		// A partner holds no role: every staff route is 403.
		if len(r.Access.Roles) > 0 {
			got := e.do(partner, r.Method, path, body)
			if got.Status != 403 {
				t.Errorf("partner %s %s: %d %s, want 403", r.Method, path, got.Status, got.Raw)
			}
			checked++
		}
		// An accountant: 403 where the role is not allowed, 404 on a project outside the grant.
		switch {
		case len(r.Access.Roles) > 0 && !slices.Contains(r.Access.Roles, "accountant"):
			if got := e.do(accountant, r.Method, path, body); got.Status != 403 {
				t.Errorf("accountant %s %s: %d %s, want 403", r.Method, path, got.Status, got.Raw)
			}
			checked++
		case r.Access.ProjectParam != "":
			if got := e.do(accountant, r.Method, path, body); got.Status != 404 {
				t.Errorf("ungranted accountant %s %s: %d %s, want 404", r.Method, path, got.Status, got.Raw)
			}
			checked++
		}
		// An auditor reads everything and writes nothing.
		if write {
			if got := e.do(auditor, r.Method, path, body); got.Status != 403 {
				t.Errorf("auditor %s %s: %d %s, want 403", r.Method, path, got.Status, got.Raw)
			}
			checked++
		} else if len(r.Access.Roles) == 0 || slices.Contains(r.Access.Roles, "auditor") {
			if got := e.do(auditor, r.Method, path, nil); got.Status != 200 {
				t.Errorf("auditor %s %s: %d %s, want 200", r.Method, path, got.Status, got.Raw)
			}
		}
	}
	if checked < 30 {
		t.Fatalf("only %d refusals checked; the matrix is not walking the routes", checked)
	}
	if after := fingerprint(t, e.db); after != before {
		t.Fatal("refused requests changed the database")
	}
}

// Without a session every non-public route is 401.
func TestEveryRouteNeedsASession(t *testing.T) {
	e := newEnv(t)
	for _, r := range e.server.Routes() {
		if r.Access.Public {
			continue
		}
		got := e.do("", r.Method, fillPath(r, 1, 1, 1), map[string]any{})
		if got.Status != 401 {
			t.Errorf("%s %s without a session: %d, want 401", r.Method, r.Path, got.Status)
		}
	}
}

// Must show: create a project, grant it to an accountant, and that accountant
// sees exactly that project — also through an org-unit grant that covers
// sub-companies and projects created after the grant.
func TestAccountantSeesExactlyGrantedProjects(t *testing.T) {
	e := newEnv(t)
	admin := e.admin()
	w := e.mustWorld(admin)
	acctID, acct := e.mustUser("会计丁", "accountant")

	if got := ids(e.must(200, e.do(acct, "GET", "/api/v1/projects", nil))); len(got) != 0 {
		t.Fatalf("before any grant the accountant sees %v", got)
	}
	e.must(200, e.do(admin, "PUT", "/api/v1/projects/"+itoa(w.projB)+"/grants",
		map[string]any{"grants": []map[string]any{{"role": "accountant", "user_ids": []int64{acctID}}}}))
	if got := ids(e.must(200, e.do(acct, "GET", "/api/v1/projects", nil))); !slices.Equal(got, []int64{w.projB}) {
		t.Fatalf("project grant: sees %v, want [%d]", got, w.projB)
	}
	e.must(200, e.do(acct, "GET", "/api/v1/projects/"+itoa(w.projB), nil))
	if r := e.do(acct, "GET", "/api/v1/projects/"+itoa(w.projA), nil); r.Status != 404 {
		t.Fatalf("ungranted project: %d, want 404", r.Status)
	}

	// An org-unit grant on city A covers its sub-company's project and later projects.
	e.must(200, e.do(admin, "PUT", "/api/v1/org-units/"+itoa(w.cityA)+"/grants",
		map[string]any{"grants": []map[string]any{{"role": "accountant", "user_ids": []int64{acctID}}}}))
	later := e.must(201, e.do(admin, "POST", "/api/v1/projects", map[string]any{"name": "江阴项目", "city_company_id": w.cityA1}))
	laterID := int64(later.Body["id"].(float64))
	got := ids(e.must(200, e.do(acct, "GET", "/api/v1/projects", nil)))
	if want := []int64{w.projA, w.projA1, w.projB, laterID}; !slices.Equal(got, want) {
		t.Fatalf("org-unit grant: sees %v, want %v", got, want)
	}
	tree := e.must(200, e.do(acct, "GET", "/api/v1/project-tree", nil))
	if !strings.Contains(string(tree.Raw), "江阴项目") || tree.Body["items"].([]any)[0].(map[string]any)["project_count"].(float64) != 4 {
		t.Fatalf("tree = %s", tree.Raw)
	}

	// Removing the accountant role drops the grants with it.
	u := e.must(200, e.do(admin, "GET", "/api/v1/users/"+itoa(acctID), nil))
	e.must(200, e.do(admin, "PATCH", "/api/v1/users/"+itoa(acctID), map[string]any{"roles": []string{"auditor"}, "version": u.Body["version"]}))
	var n int
	e.db.Get(&n, `SELECT count(*) FROM grants WHERE user_id = $1`, acctID)
	if n != 0 {
		t.Fatalf("%d grants left after the accountant role was removed", n)
	}
}

func TestGrantsRefuseUsersWithoutTheRole(t *testing.T) {
	e := newEnv(t)
	admin := e.admin()
	w := e.mustWorld(admin)
	partnerID, _ := e.mustUser("合伙人戊")
	before := fingerprint(t, e.db)
	r := e.do(admin, "PUT", "/api/v1/projects/"+itoa(w.projA)+"/grants",
		map[string]any{"grants": []map[string]any{{"role": "accountant", "user_ids": []int64{partnerID}}}})
	if r.Status != 422 || r.errCode() != "grantee_lacks_role" {
		t.Fatalf("got %d %s", r.Status, r.Raw)
	}
	r = e.do(admin, "PUT", "/api/v1/projects/"+itoa(w.projA)+"/grants",
		map[string]any{"grants": []map[string]any{{"role": "sysadmin", "user_ids": []int64{}}}})
	if r.Status != 400 || r.errCode() != "grant_role_invalid" {
		t.Fatalf("got %d %s", r.Status, r.Raw)
	}
	if r := e.do(admin, "PUT", "/api/v1/projects/999999/grants", map[string]any{"grants": []any{}}); r.Status != 404 {
		t.Fatalf("grant on a missing project: %d", r.Status)
	}
	if fingerprint(t, e.db) != before {
		t.Fatal("refused grants changed the database")
	}
}
