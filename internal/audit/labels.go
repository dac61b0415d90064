package audit

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
	"testing"

	"github.com/jmoiron/sqlx"
)

// The 系统日志 speaks Chinese: every action, entity (对象) and field an entry
// can carry has one label here, served by GET /api/v1/audit-log/labels, so
// the console keeps no table of its own. The names of states are not
// repeated here: each area registers its one state table with
// DescribeStates, so a state reads the same in the log as on every screen.
// Record refuses, in tests, an action or entity without a label, so a new
// action cannot reach the log in English.

// actionLabels names every action Record may write.
var actionLabels = map[string]string{
	"adjustment.create":             "新建立项调整",
	"adjustment.submit":             "立项调整送审",
	"adjustment.review_approve":     "立项调整审核通过",
	"adjustment.review_return":      "立项调整审核退回",
	"adjustment.in_approval":        "立项调整发起审批",
	"adjustment.returned":           "立项调整审批未通过",
	"adjustment.agreed":             "立项调整审批通过",
	"adjustment.settle":             "登记变更缴款",
	"adjustment.settlement_reverse": "冲销变更缴款",
	"adjustment.notice":             "发送变更缴款通知",
	"adjustment.notice_test":        "测试变更缴款通知",
	// distributions (core-a): batches, lines, calculation, review
	"distribution.create":             "新建分配批次",
	"distribution.update":             "修改分配批次",
	"distribution.delete":             "删除分配批次",
	"distribution.line_update":        "修改分配明细",
	"distribution.calculate":          "分配测算",
	"distribution.save":               "保存分配测算",
	"distribution.submit":             "申请发布审核",
	"distribution.review_approve":     "分配审核通过",
	"distribution.review_return":      "分配审核退回",
	"distribution.unlock":             "解锁编辑分配",
	"distribution.lock":               "退出编辑分配",
	"actual_peak.create":              "新建实际资金峰值确认",
	"actual_peak.in_approval":         "实际资金峰值确认发起审批",
	"actual_peak.agreed":              "实际资金峰值确认审批通过",
	"actual_peak.returned":            "实际资金峰值确认审批未通过",
	"distribution.in_approval":        "分配发起审批",
	"distribution.approved":           "分配审批通过并记账",
	"distribution.returned":           "分配审批未通过",
	"allocation.compute":              "认购明细测算",
	"allocation.edit":                 "修改分配金额",
	"attachment.upload":               "上传附件",
	"batch.create":                    "新增批次",
	"dingtalk_robot.create":           "新增钉钉机器人",
	"distribution.import":             "导入分配金额（手工）",
	"distribution.payout":             "登记分配打款",
	"distribution.payout_import":      "导入分配打款",
	"distribution.bank_file":          "导出银行付款文件",
	"distribution.notice_test":        "测试分配通知",
	"disclosure.agreed":               "披露审批通过",
	"disclosure.sent":                 "披露已发送",
	"disclosure.notices":              "合并发送披露通知",
	"disclosure.notice_test":          "测试发送披露通知",
	"profit_update.create":            "新增盈亏动态",
	"profit_update.update":            "修改盈亏动态",
	"profit_update.in_approval":       "盈亏动态发起披露",
	"profit_update.returned":          "盈亏动态披露未通过",
	"profit_update.disclosed":         "盈亏动态已披露",
	"dingtalk_robot.update":           "修改钉钉机器人",
	"dingtalk_robot.delete":           "删除钉钉机器人",
	"dingtalk_robot.seal_webhook":     "加密机器人地址",
	"dingtalk_settings.update":        "修改钉钉设置",
	"directory.sync":                  "同步钉钉通讯录",
	"establishment.basic.save":        "保存基础信息",
	"establishment.funding.freeze":    "锁定资金成本利率",
	"establishment.indicators.save":   "保存盈利指标",
	"establishment.milestones.save":   "保存关键节点",
	"establishment.peak.change":       "资金峰值调整生效",
	"establishment.peak.in_approval":  "项目资金峰值发起审批",
	"establishment.peak.lock":         "项目资金峰值审批通过并锁定",
	"establishment.peak.unlock":       "项目资金峰值审批未通过，解除锁定",
	"establishment.shareholding.save": "保存股权合作",
	"establishment.terms.save":        "保存跟投条款",
	"financing_rate.create":           "新增资金成本利率",
	"financing_rate.update":           "修改资金成本利率",
	"financing_rate.delete":           "删除资金成本利率",
	"grants.set":                      "设置经营会计授权",
	"invitation.create":               "新增合伙人",
	"invitation.update":               "修改合伙人",
	"invitation.delete":               "删除合伙人",
	"mandatory_list.update":           "修改强制跟投名单",
	"notice.retry":                    "重发通知",
	"notify_template.update":          "修改通知模板",
	"opening.import":                  "导入期初数据",
	"org_unit.create":                 "新增组织",
	"org_unit.update":                 "修改组织",
	"payment.confirm":                 "缴款确认",
	"payment.dunning":                 "发送催缴通知",
	"payment.import":                  "导入银行流水",
	"payment.notice_test":             "发送测试缴款通知",
	"payment.notice":                  "发送缴款通知",
	"payment.reverse":                 "冲销缴款",
	"payout_account.save":             "填写分配账户",
	"payout_account.confirm":          "确认分配账户",
	"payout_account.save_on_behalf":   "代填分配账户",
	"payout_account.notice":           "发送分配账户确认通知",
	"payout_account.notice_test":      "测试分配账户确认通知",
	"peak_change.create":              "新建资金峰值调整",
	"peak_change.in_approval":         "资金峰值调整发起审批",
	"peak_change.agreed":              "资金峰值调整审批通过",
	"peak_change.returned":            "资金峰值调整审批未通过",
	"process.launch":                  "发起流程",
	"process.launched":                "流程已在钉钉创建",
	"process.agreed":                  "流程审批通过",
	"process.refused":                 "流程审批拒绝",
	"process.terminated":              "流程已撤销",
	"process.reset":                   "重置流程",
	"project.create":                  "新增项目",
	"project.update":                  "修改项目",
	"project.settle":                  "项目清算",
	"round.create":                    "新建合伙方案",
	"round.open":                      "发送认购通知，开放认购",
	"round.notice_test":               "发送测试认购通知",
	"round.notice_late":               "补发认购通知",
	"round.close":                     "截止认购",
	"round.close_due":                 "到期自动截止认购",
	"round.calculate":                 "认购明细测算完成",
	"round.submit":                    "方案送审",
	"round.review_approve":            "方案审核通过",
	"round.review_reject":             "方案审核驳回",
	"round.in_approval":               "发起立项审批",
	"round.approve":                   "立项审批通过",
	"round.refused":                   "立项审批未通过",
	"subscription.submit":             "提交认购",
	"subscription.on_behalf":          "代为登记认购",
	"user.bootstrap":                  "初始化账号",
	"user.create":                     "新增账号",
	"user.update":                     "修改账号",
	"user.sync_create":                "同步新增账号",
	"user.sync_update":                "同步修改账号",
	"user.sync_disable":               "同步停用账号",
	"user.unlock":                     "解锁账号",
	"work_calendar.put":               "设置工作日历",
	// exits (退投, R9)
	"exit.quote":          "离职退休测算",
	"exit.in_approval":    "发起退出审批",
	"exit.returned":       "退出审批未通过",
	"exit.agreed":         "退出审批通过",
	"exit.takeover":       "平台公司承接",
	"exit.payout":         "登记退出打款",
	"exit_policy.update":  "修改退出政策",
	"exit_request.create": "申请退出",
	"exit_request.reject": "驳回退出申请",
}

// entityLabels names every entity (对象) an entry may be about.
var entityLabels = map[string]string{
	"actual_peak":           "实际资金峰值确认",
	"adjustment":            "立项调整",
	"adjustment_settlement": "变更缴款",
	"allocation":            "认购明细",
	"allocation_line":       "认购明细行",
	"attachment":            "附件",
	"basic_info":            "基础信息",
	"batch":                 "批次",
	"dingtalk_robot":        "钉钉机器人",
	"dingtalk_settings":     "钉钉设置",
	"distribution":          "分配批次",
	"distribution_payout":   "分配打款",
	"disclosure":            "披露",
	"disclosure_send":       "披露通知发送",
	"profit_update":         "盈亏动态",
	"directory":             "钉钉通讯录",
	"establishment_terms":   "跟投条款",
	"financing_rate":        "资金成本利率",
	"invitation":            "合伙人邀请",
	"mandatory_list":        "强制跟投名单",
	"milestones":            "关键节点",
	"notice":                "通知",
	"notify_template":       "通知模板",
	"opening_import":        "期初数据导入",
	"org_unit":              "组织",
	"payment":               "缴款",
	"payout_account":        "分配账户",
	"peak_change":           "资金峰值调整",
	"process":               "流程",
	"profit_indicators":     "盈利指标",
	"project":               "项目",
	"round":                 "合伙方案",
	"shareholding_version":  "股权合作",
	"user":                  "账号",
	"work_calendar":         "工作日历",
	"exit":                  "退出",
	"exit_policy":           "退出政策",
	"exit_request":          "退出申请",
}

// fieldLabels names the fields of the records entries carry (their JSON
// names), for the before/after table.
var fieldLabels = map[string]string{
	"id": "ID", "version": "版本", "created_at": "创建时间", "created_by": "创建人", "created_by_name": "创建人",
	"updated_at": "修改时间", "updated_by": "修改人", "status": "状态", "status_label": "状态名称", "name": "名称",
	"code": "编码", "kind": "类型", "title": "标题", "reason": "原因", "note": "备注", "memo": "备注",
	"project_id": "项目ID", "project_name": "项目", "round_id": "合伙方案ID", "round_name": "合伙方案",
	"round_kind": "方案类型", "round_seq": "方案序号", "round_status": "方案状态",
	"user_id": "账号ID", "user_name": "姓名", "username": "用户名", "partner_id": "合伙人ID", "invitation_id": "邀请ID",
	"adjustment_id": "立项调整ID", "peak_change_id": "资金峰值调整ID", "process_id": "流程ID", "subject_id": "流程对象ID",
	"org_unit_id": "组织ID", "org_unit": "组织", "org_unit_name": "组织", "parent_id": "上级组织ID",
	"city_company_id": "城市公司ID", "city_company_name": "城市公司", "city_company": "城市公司",
	"batch_id": "批次ID", "batch_name": "批次", "batch": "批次",
	"addresses": "客户端地址", "backoff_seconds": "退避秒数", "skipped": "未送达人数",
	// accounts and org
	"job_number": "工号", "mobile": "手机号", "department": "部门", "dingtalk_userid": "钉钉用户ID", "grade": "职级",
	"employment_status": "在职状态", "disabled": "停用", "role": "角色", "roles": "角色", "secret_hint": "密钥提示",
	"enabled": "启用", "webhook_url": "Webhook 地址", "secret_key_set": "已设置密钥", "app_secret_set": "已设置应用密钥",
	"agent_id": "应用ID", "app_key": "应用 Key", "corp_id": "企业ID", "robot_code": "机器人编码",
	"users": "账号", "created": "新增", "updated": "修改", "unchanged": "未变", "count": "数量",
	// projects and establishment
	"acquisition_method": "获取方式", "operator": "操盘方", "joint_operation": "合作开发", "is_open": "开放",
	"is_settled": "清算", "land_acquired_on": "拿地日期", "funding_date": "资金到位日期", "collection_account": "收款账户",
	"peak_capital": "资金峰值", "old_peak_capital": "原资金峰值", "new_peak_capital": "新资金峰值",
	"per_person_cap_ratio": "个人认购上限比例", "per_person_cap": "个人认购上限", "group_cap_ratio": "集团跟投上限比例",
	"ratios": "各层级比例", "tier_ratios": "各层级比例", "pools": "各层级额度", "per_tier": "各层级", "terms": "跟投条款",
	"peak_locked": "资金峰值已锁定", "peak_locked_at": "资金峰值锁定时间", "peak_in_approval": "资金峰值审批中",
	"funding_frozen": "资金成本利率已锁定", "financing_rate": "资金成本利率", "rate": "利率", "rate_overridden": "利率已手工设置",
	"rate_in_force": "适用利率", "rate_in_force_from": "利率生效日期", "effective_from": "生效日期", "effective_on": "生效日期",
	"shareholders": "股东", "stake": "持股比例", "group_equity_ratio": "集团权益比例", "milestones": "关键节点",
	"planned_on": "计划日期", "actual_on": "实际日期", "planned_ratio": "计划比例", "address": "地址",
	"land_area": "用地面积", "building_area": "建筑面积", "saleable_area": "可售面积", "saleable_value": "可售货值",
	"sales_revenue": "销售收入", "collections": "回款", "total_investment": "总投资", "net_profit": "净利润", "net_margin": "净利率",
	"group_net_profit": "集团净利润", "irr": "IRR", "payback_months": "回正周期（月）",
	// rounds, invitations, allocation
	"tier": "层级", "tier_name": "层级", "mandatory": "强制跟投", "min_amount": "认购下限", "max_amount": "认购上限",
	"amount": "金额", "requested": "认购金额", "calculated": "测算金额", "allocated": "分配金额", "previous_amount": "原认购金额",
	"deadline": "认购截止日", "invited": "合伙人数", "subscribed": "已认购人数", "mandatory_missing": "未认购的强制跟投人数",
	"subscription_seq": "认购版本", "has_allocation": "已测算", "preview": "预览测算", "notices_sent_at": "认购通知发送时间",
	"notices_sent_by": "认购通知发送人", "closed_at": "截止时间", "closed_by": "截止操作人", "submitted_at": "送审时间",
	"reviewed_at": "审核时间", "reviewed_by": "审核人", "review_decision": "审核结论", "review_reason": "审核意见",
	"review_note": "审核意见", "approved_at": "审批通过时间", "seq": "序号", "on_behalf": "代为登记",
	"risk_acknowledged": "已确认风险提示", "subscribed_at": "认购时间", "subscribed_by": "认购登记人",
	"edited": "已修改", "edited_at": "修改时间", "edited_by": "修改人", "lines": "明细", "edited_lines": "修改的明细行", "recipients": "接收人",
	"computed_at": "测算时间", "computed_by": "测算人", "status_name": "状态名称",
	// distributions (effects of their processes)
	"actual_peak_capital": "资金峰值-实际", "agreed_at": "确认时间", "ledger_tx_id": "记账凭证ID", "label": "流程名称",
	"slots": "附件栏", "payable": "应付分配款",
	// processes and attachments
	"instance_id": "钉钉审批实例ID", "process_code": "审批模板编码", "initiator": "发起人", "initiator_id": "发起人ID",
	"initiator_name": "发起人", "started_at": "发起时间", "finished_at": "完成时间", "result": "结果",
	"launch_error": "发起失败原因", "form": "表单", "size": "大小", "sha256": "SHA-256", "content_type": "文件类型",
	// payments, adjustments, settlements
	"paid_on": "缴款日期", "paid": "已缴", "outstanding": "待缴", "bank_ref": "银行流水号", "reversed": "已冲销",
	"reversed_at": "冲销时间", "reversed_by": "冲销人", "reversal_reason": "冲销原因", "ledger_transaction_id": "记账凭证ID",
	"reversal_transaction_id": "冲销凭证ID", "direction": "方向", "settled_on": "变更缴款日期", "settlement": "变更缴款",
	"settled": "已结算", "pool_delta": "额度变动", "top_up": "补缴", "refund": "退款", "delta": "变动",
	"old_principal": "原本金", "new_principal": "新本金", "due_date": "缴款截止日", "cadence": "催缴节奏",
	"imported": "导入条数", "day": "日期", "test": "测试发送",
	// distributions
	"totals": "合计", "changed": "变更条数",
	// payout accounts and notices
	"bank": "开户行", "branch": "支行", "holder": "户名", "number_masked": "账号", "confirmed_at": "确认时间",
	"total": "合计", "payments": "缴款", "receipts": "到账", "interest": "资金利息", "capital_interest": "资金利息",
	"account_name": "户名", "account_number": "账号", "user_ids": "账号", "partners": "合伙人", "items": "明细",
	"recipient": "接收人", "period_on": "截至日期", "profit_update_id": "盈亏动态ID", "notice_ids": "通知ID",
	"projects": "项目", "notices": "通知数", "comparison": "立项与动态对比", "history": "历史版本", "updated_by_name": "修改人", "reminders": "催缴提醒", "sent_on": "发送日期", "replayed": "重复提交",
	"deliveries_reset": "重新发送的接收人数", "api_base": "接口地址", "login_base": "登录地址", "oapi_base": "旧版接口地址",
	"stream": "事件推送（Stream）", "grades": "职级", "other_mandatory_min": "其他强投人员最低金额",
	"voluntary_min": "自愿认购最低金额", "departments": "部门", "exit_candidates": "待发起退出", "attempts": "尝试次数", "last_error": "最后错误", "template": "模板", "body": "内容", "msg_type": "消息格式",
	// opening balances (期初数据导入)
	"payee_partner_id": "收款合伙人ID", "paid_amount": "打款金额", "batch_status": "批次状态",
	"file_name": "文件名", "file_hash": "文件指纹", "rows": "行数", "principal_paid": "已缴本金",
	"principal_returned": "已返还本金", "profit_received": "已分配利润",
	// distributions (core-a)
	"distribution_date": "分配日期", "record_date": "股权登记日", "return_ratio": "本次返还比例", "amount_entered": "直接填写分配金额",
	"profit_ratio": "本次分配比例", "partnership_ratio": "合伙投资占比", "sales_target_on": "销售去化达标时间",
	"collection_target_on": "销售回款达标时间", "actual_peak_id": "实际资金峰值确认ID", "unlocked": "解锁编辑",
	"c": "其它", "c_reason": "其它说明", "d": "本金分配（不含其它）", "e": "本金分配（含其它）", "f": "利润分配", "manual": "手工录入",
	// exits (退投, R9)
	"exit_type": "退出类型", "exit_date": "退出日期", "superseded": "作废的测算", "request_id": "退出申请ID",
	"holding_return": "计持有收益", "platform_partner_id": "承接方ID", "ledger_transactions": "记账凭证", "exited": "退",
	"left": "离", "on": "日期", "desired_date": "期望退出日期",
}

var (
	statesMu sync.RWMutex
	// stateLabels[entity][code] names the values of an entity's status field.
	stateLabels = map[string]map[string]string{}
	// valueLabels[entity][field][code] names the coded values of an
	// entity's other fields (a work calendar day's kind, an exit's type).
	valueLabels = map[string]map[string]map[string]string{}
)

// DescribeStates registers the Chinese names of entity's states, from the
// owning area's one table (called from its init).
func DescribeStates[S ~string](entity string, labels map[S]string) {
	m := make(map[string]string, len(labels))
	for k, v := range labels {
		m[string(k)] = v
	}
	statesMu.Lock()
	defer statesMu.Unlock()
	stateLabels[entity] = m
}

// DescribeValues registers the Chinese names of the coded values of
// entity's field other than its status, from the owning area's one table
// (called from its init), so the 系统日志 shows no English code.
func DescribeValues[S ~string](entity, field string, labels map[S]string) {
	m := make(map[string]string, len(labels))
	for k, v := range labels {
		m[string(k)] = v
	}
	statesMu.Lock()
	defer statesMu.Unlock()
	if valueLabels[entity] == nil {
		valueLabels[entity] = map[string]map[string]string{}
	}
	valueLabels[entity][field] = m
}

// Labels are the Chinese names the 系统日志 shows, by code.
type Labels struct {
	Actions  map[string]string `json:"actions"`
	Entities map[string]string `json:"entities"`
	Fields   map[string]string `json:"fields"`
	// States names the values of each entity's status field: States[entity][code].
	States map[string]map[string]string `json:"states"`
	// Values names the coded values of other fields: Values[entity][field][code].
	Values map[string]map[string]map[string]string `json:"values"`
}

// AllLabels returns every label (copies).
func AllLabels() Labels {
	statesMu.RLock()
	defer statesMu.RUnlock()
	states := make(map[string]map[string]string, len(stateLabels))
	for e, m := range stateLabels {
		states[e] = maps.Clone(m)
	}
	values := make(map[string]map[string]map[string]string, len(valueLabels))
	for e, fs := range valueLabels {
		values[e] = make(map[string]map[string]string, len(fs))
		for f, m := range fs {
			values[e][f] = maps.Clone(m)
		}
	}
	return Labels{Actions: maps.Clone(actionLabels), Entities: maps.Clone(entityLabels),
		Fields: maps.Clone(fieldLabels), States: states, Values: values}
}

// ActionLabel is the action in Chinese; ok is false when it has none.
func ActionLabel(action string) (label string, ok bool) {
	label, ok = actionLabels[action]
	return label, ok
}

// EntityLabel is the entity in Chinese; ok is false when it has none.
func EntityLabel(entity string) (label string, ok bool) {
	label, ok = entityLabels[entity]
	return label, ok
}

// FieldLabel is the field in Chinese; ok is false when it has none.
func FieldLabel(field string) (label string, ok bool) {
	label, ok = fieldLabels[field]
	return label, ok
}

// unlabelled refuses, while tests run, an entry the 系统日志 could not name
// in Chinese; in production an entry is never lost for want of a label.
func unlabelled(e Entry) error {
	if !testing.Testing() {
		return nil
	}
	if _, ok := actionLabels[e.Action]; !ok {
		return fmt.Errorf("audit action %q has no Chinese label: add it to internal/audit/labels.go", e.Action)
	}
	if _, ok := entityLabels[e.Entity]; !ok {
		return fmt.Errorf("audit entity %q has no Chinese label: add it to internal/audit/labels.go", e.Entity)
	}
	return nil
}

// Unlabelled lists what the log in q holds without a Chinese label
// ("action x", "entity x", "field x" for a top-level field of before or
// after), for tests that walk what a whole flow recorded.
func Unlabelled(ctx context.Context, q sqlx.QueryerContext) ([]string, error) {
	var rows []struct {
		What string `db:"what"`
		Code string `db:"code"`
	}
	err := sqlx.SelectContext(ctx, q, &rows, `
		SELECT DISTINCT 'action' AS what, action AS code FROM audit_log
		UNION SELECT DISTINCT 'entity', entity FROM audit_log
		UNION SELECT DISTINCT 'field', k FROM audit_log l,
			jsonb_object_keys(CASE WHEN jsonb_typeof(l.before) = 'object' THEN l.before ELSE '{}' END
				|| CASE WHEN jsonb_typeof(l.after) = 'object' THEN l.after ELSE '{}' END) k`)
	if err != nil {
		return nil, fmt.Errorf("audit codes: %w", err)
	}
	var out []string
	for _, r := range rows {
		var ok bool
		switch r.What {
		case "action":
			_, ok = actionLabels[r.Code]
		case "entity":
			_, ok = entityLabels[r.Code]
		default:
			_, ok = fieldLabels[r.Code]
		}
		if !ok {
			out = append(out, r.What+" "+r.Code)
		}
	}
	slices.Sort(out)
	return out, nil
}
