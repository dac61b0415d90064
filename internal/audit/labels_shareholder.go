package audit

// The labels of the minority shareholders' registry and registrations
// (外部股东, 股东登记: internal/shareholder), merged at start-up; a label
// already defined elsewhere is kept.
func init() {
	merge := func(dst, src map[string]string) {
		for k, v := range src {
			if _, ok := dst[k]; !ok {
				dst[k] = v
			}
		}
	}
	merge(actionLabels, map[string]string{
		"minority_shareholder.create": "新增外部股东", "minority_shareholder.update": "修改外部股东",
		"minority_shareholder.import":        "导入外部股东",
		"shareholder_registration.create":    "新增股东登记",
		"shareholder_registration.update":    "修改股东登记",
		"shareholder_registration.submit":    "股东登记申请审核",
		"shareholder_registration.approve":   "股东登记审核通过",
		"shareholder_registration.return":    "股东登记审核退回",
		"shareholder_registration.supersede": "股东登记被新版本替代",
		"shareholding.cooperator_link":       "股权合作关联外部股东",
	})
	merge(entityLabels, map[string]string{"minority_shareholder": "外部股东", "shareholder_registration": "股东登记"})
	merge(fieldLabels, map[string]string{
		"kind": "类型", "kind_label": "类型", "id_number_masked": "证件号码", "contact": "联系方式", "bank": "开户银行",
		"account_masked": "银行账号", "shareholder_id": "外部股东ID", "shareholder_name": "外部股东",
		"shareholder_kind": "股东类型", "stake": "持股比例", "contributed": "实缴出资", "contributed_on": "出资日期",
		"review_reason": "审核意见", "reviewed_by_name": "审核人", "submitted_by": "申请人ID", "submitted_at": "申请时间",
		"reviewed_at": "审核时间", "status_label": "状态", "project_id": "项目ID", "updated_at": "更新时间",
		"count": "数量", "superseded_by": "替代的登记ID", "minority_shareholder_id": "关联外部股东ID",
	})
}
