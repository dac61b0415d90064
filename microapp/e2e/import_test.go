package e2e

import (
	"testing"

	"github.com/chromedp/chromedp"

	"hehuo/internal/opening"
	"hehuo/internal/project"
)

// The two imports outside a dialog of their own page — 导入主数据项目 (in the
// shared import dialog) and 期初数据导入 (inline on 辅助工具) — list a
// refused sheet cell by cell, row and column, and import the fixed one.
func TestConsoleProjectAndOpeningImportsNameBadCells(t *testing.T) {
	ctx := browser(t)
	w := newLiveServer(t)
	_, _, proj := w.projectWithTerms()
	w.user("p_open", "期初甲")
	// 期初数据导入 is the accountant's; 后台管理 shows for the sysadmin.
	w.user("sys_import", "系统管理员乙", "sysadmin", "accountant")
	consoleErrors(t, ctx)

	badProjects := writeSheet(t, "projects-bad.xlsx", project.ImportColumns, [][]any{
		{"P-101", "导入项目一", "环沪城市公司", "2019-10-21", "2019年10月", "是", "否", "锦艺方", "招拍挂"},
		{"P-102", "导入项目二", "无此城市公司", "2019-10-21", "2019年10月", "是", "否", "锦艺方", "招拍挂"},
	})
	goodProjects := writeSheet(t, "projects.xlsx", project.ImportColumns, [][]any{
		{"P-101", "导入项目一", "环沪城市公司", "2019-10-21", "2019年10月", "是", "否", "锦艺方", "招拍挂"},
	})
	run(t, ctx, "导入主数据项目",
		chromedp.Navigate(w.srv.URL+"/login"),
		chromedp.Evaluate[chromedp.Void](`document.cookie = "hehuo_session=`+w.session("sys_import")+`; path=/"; undefined`),
		chromedp.Navigate(w.srv.URL+"/admin/projects"),
		clickUntil(`[data-test=project-import]`, `[data-test=project-import-template]`),
		chromedp.SetUploadFiles(`[data-test=project-import-file] input[type=file]`, []string{badProjects}),
		chromedp.Click(`[data-test=project-import-submit]:not(.is-disabled)`),
		chromedp.WaitVisible(`//*[@data-test="project-import-errors"]//tr[td[normalize-space(.)="3"]][td[normalize-space(.)="城市公司"]][contains(.,"无此城市公司")]`),
		chromedp.SetUploadFiles(`[data-test=project-import-file] input[type=file]`, []string{goodProjects}),
		chromedp.Click(`[data-test=project-import-submit]:not(.is-disabled)`),
		chromedp.WaitVisible(`//*[contains(@class,"el-message")][contains(.,"已导入 1 个项目")]`),
		chromedp.WaitNotVisible(`[data-test=project-import-dialog]`),
	)
	var n int
	if err := w.deps.DB.Get(&n, `SELECT count(*) FROM projects WHERE name LIKE '导入项目%'`); err != nil || n != 1 {
		t.Fatalf("projects imported: %d (%v), want 1 (the refused sheet imported nothing)", n, err)
	}

	badOpening := writeSheet(t, "opening-bad.xlsx", opening.Columns[:7], [][]any{
		{"期初甲", "p_open", "100000", "2024-03-01", "0", "0", "0"},
		{"无此人", "p_nobody", "一百元", "2024-03-01", "0", "0", "0"},
	})
	goodOpening := writeSheet(t, "opening.xlsx", opening.Columns[:7], [][]any{
		{"期初甲", "p_open", "100000", "2024-03-01", "-100.00", "0", "0"},
	})
	run(t, ctx, "期初数据导入",
		chromedp.Navigate(w.srv.URL+"/admin/tools"),
		clickUntil(`[data-test=opening-project]`, `//li[contains(@class,"el-select-dropdown__item")][contains(.,"常州项目")]`),
		chromedp.Click(`//li[contains(@class,"el-select-dropdown__item")][contains(.,"常州项目")]`),
		chromedp.WaitVisible(`//*[@data-test="opening-import"]//*[contains(.,"该项目尚未导入期初数据")]`),
		chromedp.SetUploadFiles(`[data-test=opening-file] input[type=file]`, []string{badOpening}),
		chromedp.Click(`[data-test=opening-submit]:not(.is-disabled)`),
		chromedp.WaitVisible(`//*[@data-test="opening-errors"]//tr[td[normalize-space(.)="3"]][td[normalize-space(.)="钉钉账号"]]`),
		chromedp.WaitVisible(`//*[@data-test="opening-errors"]//tr[td[normalize-space(.)="3"]][td[normalize-space(.)="事业合伙本金(已缴)"]]`),
		chromedp.SetUploadFiles(`[data-test=opening-file] input[type=file]`, []string{goodOpening}),
		chromedp.Click(`[data-test=opening-submit]:not(.is-disabled)`),
		chromedp.WaitVisible(`//*[@data-test="opening-rows"]//tr[contains(.,"期初甲")][contains(.,"100,000.00")]`),
		chromedp.WaitNotPresent(`[data-test=opening-errors]`),
	)
	if err := w.deps.DB.Get(&n, `SELECT count(*) FROM opening_imports WHERE project_id = $1`, proj); err != nil || n != 1 {
		t.Fatalf("opening imports: %d (%v), want 1", n, err)
	}
}
