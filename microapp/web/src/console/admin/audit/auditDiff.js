// diffRows lines up the fields of an audit entry's before and after states,
// in Chinese: field names, states and values come from the server's labels
// (GET /api/v1/audit-log/labels); the screen keeps no table of its own.
// Either side may be null (a create has no before, a delete no after) or a
// non-object value, which is shown as a single "值" row.

const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v)

/**
 * describer returns show(value, field), which words a value for people:
 * states and other coded values by the entity's names for them, yes/no for booleans, nested records
 * as "名称：值" pairs with their fields named too.
 */
export function describer(labels, entity) {
  const fields = labels?.fields || {}
  const states = labels?.states?.[entity] || {}
  const values = labels?.values?.[entity] || {}
  const fieldName = (f) => fields[f] || '其他'
  const show = (v, field) => {
    if (v === undefined) return ''
    if (v === null || v === '') return '—'
    if (v === true) return '是'
    if (v === false) return '否'
    if (Array.isArray(v)) return v.map((x) => show(x)).join('、') || '—'
    if (isObject(v)) {
      return Object.entries(v)
        .map(([k, x]) => `${fieldName(k)}：${show(x, k)}`)
        .join('；')
    }
    if (field === 'status' && states[v]) return states[v]
    if (values[field]?.[v]) return values[field][v]
    return String(v)
  }
  return { show, fieldName }
}

/** diffRows returns [{field, label, before, after, change: 'added'|'removed'|'changed'|''}]. */
export function diffRows(before, after, labels, entity) {
  const { show, fieldName } = describer(labels, entity)
  const same = (x, y) => JSON.stringify(x) === JSON.stringify(y)
  if (!isObject(before ?? {}) || !isObject(after ?? {})) {
    return [{ field: '', label: '值', before: show(before), after: show(after), change: same(before, after) ? '' : 'changed' }]
  }
  const b = before || {}
  const a = after || {}
  const keys = [...new Set([...Object.keys(b), ...Object.keys(a)])]
  return keys.map((field) => {
    const inB = Object.prototype.hasOwnProperty.call(b, field) && before != null
    const inA = Object.prototype.hasOwnProperty.call(a, field) && after != null
    let change = ''
    if (inA && !inB) change = 'added'
    else if (inB && !inA) change = 'removed'
    else if (!same(b[field], a[field])) change = 'changed'
    return {
      field,
      label: fieldName(field),
      before: inB ? show(b[field], field) : '',
      after: inA ? show(a[field], field) : '',
      change,
    }
  })
}
