package e2e

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/chromedp"

	"hehuo/internal/holding/holdingtest"
)

// failedLoads fails t when the browser logs an error that is not a script's
// (a request the page made that failed: Chrome's "Failed to load resource").
// consoleErrors covers console.error and uncaught exceptions.
func failedLoads(t *testing.T, ctx context.Context) {
	t.Helper()
	var mu sync.Mutex
	var errs []string
	if err := chromedp.Listen(ctx, func(ev any) {
		if e, ok := ev.(*log.EventEntryAdded); ok && e.Entry.Level == log.EntryLevelError {
			mu.Lock()
			defer mu.Unlock()
			errs = append(errs, string(e.Entry.Source)+": "+e.Entry.Text+" "+e.Entry.URL)
		}
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		if len(errs) > 0 {
			t.Errorf("the browser logged errors on the pages walked:\n%s", strings.Join(errs, "\n"))
		}
	})
}

// Every console tab opens without a console error, an uncaught exception or
// a failed request, for a staff member who may use all of them, on a project
// with an approved round and a payment.
func TestConsoleEveryTabWithoutConsoleErrors(t *testing.T) {
	ctx := browser(t)
	w := newLiveServer(t)
	_, _, proj := w.projectWithTerms()
	pid, _ := strconv.ParseInt(proj, 10, 64)
	uid, _ := w.user("p_walk", "周八")
	partner := holdingtest.Partner(t, w.deps.DB, uid)
	holdingtest.Round(t, w.deps.DB, pid, "approved", map[int64]string{partner: "500000"})
	holdingtest.Pay(t, w.deps.DB, pid, partner, "200000")
	w.user("staff_all", "全能员工", "sysadmin", "bizadmin", "accountant")
	token := w.session("staff_all")

	if err := chromedp.Do(ctx, chromedp.Navigate(w.srv.URL+"/login")); err != nil {
		t.Fatal(err)
	}
	consoleErrors(t, ctx)
	run(t, ctx, "sign in",
		chromedp.Evaluate[chromedp.Void](`document.cookie = "hehuo_session=`+token+`; path=/"; undefined`),
		chromedp.Navigate(w.srv.URL+"/?project="+proj),
		chromedp.WaitVisible(`[data-test=project-tree]`),
	)
	// Signed in, no request of any page may fail (the sign-in page's own
	// probe of /me before the session existed is its 401 by design).
	failedLoads(t, ctx)
	pages := []string{
		"/establishment/basic", "/establishment/shareholding", "/establishment/terms", "/establishment/milestones",
		"/establishment/indicators", "/establishment/partners", "/establishment/subscriptions", "/establishment/review",
		"/establishment/adjustment", "/establishment/signing",
		"/payment", "/payment?tab=settlements", "/disclosure", "/distribution", "/process", "/process?tab=exits", "/minority",
		"/report", "/report?report=establishment-payments", "/report?report=partners", "/report?report=exit-candidates",
		"/report?report=exits",
		"/admin/orgs", "/admin/projects", "/admin/accounts", "/admin/shareholders", "/admin/templates", "/admin/notices",
		"/admin/dingtalk", "/admin/audit", "/admin/mandatory", "/admin/rates", "/admin/exit-policies", "/admin/workcal", "/admin/tools",
	}
	for _, p := range pages {
		sep := "?"
		if strings.Contains(p, "?") {
			sep = "&"
		}
		run(t, ctx, "open "+p,
			chromedp.Navigate(w.srv.URL+p+sep+"project="+proj),
			chromedp.WaitVisible(`[data-test=project-tree]`),
			// Let the page's requests finish before the next one.
			chromedp.Sleep(300*time.Millisecond),
		)
		if strings.HasPrefix(p, "/establishment/") || strings.HasPrefix(p, "/admin/") {
			continue // their tabs are the pages listed
		}
		// Every sub-tab of the stage, in turn.
		n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("main .el-tabs__item:not(.is-disabled)").length`))
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < n; i++ {
			run(t, ctx, p+" tab "+strconv.Itoa(i+1),
				chromedp.Evaluate[chromedp.Void](`document.querySelectorAll("main .el-tabs__item:not(.is-disabled)")[`+strconv.Itoa(i)+`]?.click(); undefined`),
				chromedp.Sleep(300*time.Millisecond),
			)
		}
	}
}
