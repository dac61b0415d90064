package audit

// The labels of the shareholder distributions (股东分配, internal/shareholderdist),
// kept in their own file so that the area's labels travel with it.
func init() {
	for k, v := range map[string]string{
		"shareholder_distribution.create":         "新建股东分配批次",
		"shareholder_distribution.line_update":    "修改股东分配金额",
		"shareholder_distribution.submit":         "录入分配及申请审核",
		"shareholder_distribution.review_approve": "股东分配审核通过",
		"shareholder_distribution.review_return":  "股东分配审核退回",
		"shareholder_distribution.payout":         "登记股东分配打款",
		"shareholder_distribution.bank_file":      "导出股东分配银行付款文件",
	} {
		actionLabels[k] = v
	}
	entityLabels["shareholder_distribution"] = "股东分配"
	entityLabels["shareholder_payout"] = "股东分配打款"
	if _, ok := fieldLabels["shareholder_id"]; !ok {
		fieldLabels["shareholder_id"] = "股东ID"
	}
}
