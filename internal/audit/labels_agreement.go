package audit

// The labels of agreements (协议, internal/agreement), kept in their own file
// and merged at start-up; a label already defined elsewhere is kept.
func init() {
	merge := func(dst, src map[string]string) {
		for k, v := range src {
			if _, ok := dst[k]; !ok {
				dst[k] = v
			}
		}
	}
	merge(actionLabels, map[string]string{
		"agreement.generate": "生成协议", "agreement.sign": "签署协议", "agreement.remind": "发送签署提醒",
		"agreement_template.save": "保存协议模板",
	})
	merge(entityLabels, map[string]string{"agreement": "协议", "agreement_template": "协议模板"})
	merge(fieldLabels, map[string]string{
		"subject_kind": "协议对象类型", "subject_id": "协议对象ID", "count": "数量", "template_version": "模板版本",
		"document_sha256": "文件摘要(SHA-256)", "dingtalk_userid": "钉钉userid", "recipients": "接收人数",
		"code": "代码", "code_label": "模板类型", "version": "版本", "name": "名称", "body": "正文",
		"created_by_name": "创建人", "created_at": "创建时间", "variables": "变量", "id": "ID", "status": "状态",
	})
}
