// The stage tabs on top of the console, in the seed's order.
export const STAGES = [
  { name: 'establishment', label: '立项' },
  { name: 'payment', label: '缴款' },
  { name: 'disclosure', label: '披露' },
  { name: 'distribution', label: '分配' },
  { name: 'process', label: '流程' },
  { name: 'minority', label: '小股东' },
  { name: 'report', label: '报表' },
]

// The sub-tabs of the 立项 stage (route names `establishment-<name>`). Pages
// without a component show the placeholder; router.js maps the components.
export const ESTABLISHMENT_TABS = [
  { name: 'basic', label: '基础信息' },
  { name: 'shareholding', label: '股权合作' },
  { name: 'terms', label: '立项信息' },
  { name: 'milestones', label: '关键节点' },
  { name: 'indicators', label: '盈利指标' },
  { name: 'partners', label: '合伙名单' },
  { name: 'subscriptions', label: '认购明细' },
  { name: 'review', label: '方案审核' },
  { name: 'adjustment', label: '立项调整' },
  { name: 'signing', label: '协议签署' },
]

// The sub-tabs of 后台管理. Pages without a component show the placeholder.
export const ADMIN_PAGES = [
  { name: 'orgs', label: '城市公司' },
  { name: 'projects', label: '项目维护' },
  { name: 'accounts', label: '账号及角色' },
  { name: 'shareholders', label: '外部股东' },
  { name: 'templates', label: '模板管理' },
  { name: 'notices', label: '通知队列' },
  { name: 'dingtalk', label: '钉钉设置' },
  { name: 'audit', label: '系统日志' },
  { name: 'mandatory', label: '强投名单' },
  { name: 'rates', label: '资金成本利率' },
  { name: 'exit-policies', label: '退出政策' },
  { name: 'workcal', label: '工作日历' },
  { name: 'tools', label: '辅助工具' },
]
