package audit

// The labels of the distribution payouts (登记打款, 打款导入, 银行付款文件,
// 分配通知). They are kept apart from the tables in labels.go only while the
// distribution branches are merged — keys another branch adds too must not
// collide in one map literal — and belong in those tables afterwards.
func init() {
	for k, v := range map[string]string{
		"distribution.payout":        "登记分配打款",
		"distribution.payout_import": "导入分配打款",
		"distribution.bank_file":     "导出银行付款文件",
		"distribution.notice_test":   "测试分配通知",
	} {
		actionLabels[k] = v
	}
	entityLabels["distribution_payout"] = "分配打款"
	for k, v := range map[string]string{
		"payee_partner_id": "收款合伙人ID", "paid_amount": "打款金额", "batch_status": "批次状态", "file_name": "文件名",
	} {
		fieldLabels[k] = v
	}
}
