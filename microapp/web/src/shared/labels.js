// Chinese labels for the English codes the API speaks (see GLOSSARY.md).

export const ROLES = [
  { value: 'sysadmin', label: '系统管理员' },
  { value: 'bizadmin', label: '业务管理员' },
  { value: 'accountant', label: '经营会计' },
  { value: 'auditor', label: '审计(只读)' },
]

export const ORG_KINDS = [
  { value: 'group', label: '集团' },
  { value: 'holding', label: '控股集团' },
  { value: 'property', label: '置业集团' },
  { value: 'city', label: '城市公司/直属项目公司' },
]

export const EMPLOYMENT_STATUSES = [
  { value: 'active', label: '在职' },
  { value: 'resigned', label: '离职' },
  { value: 'retired', label: '退休' },
]

/** OPERATORS are the usual 操盘方 values; free text is allowed too. */
export const OPERATORS = ['锦艺操盘', '锦艺方', '自操盘', '合作方操盘']

export const ACQUISITION_METHODS = ['招拍挂', '收并购', '合作开发', '其他']

function lookup(list) {
  const m = Object.fromEntries(list.map((x) => [x.value, x.label]))
  return (value) => m[value] || value || ''
}

export const roleLabel = lookup(ROLES)
export const orgKindLabel = lookup(ORG_KINDS)
export const employmentStatusLabel = lookup(EMPLOYMENT_STATUSES)
