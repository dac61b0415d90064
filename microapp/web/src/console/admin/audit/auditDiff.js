// diffRows lines up the fields of an audit entry's before and after states.
// Either side may be null (a create has no before, a delete no after) or a
// non-object value, which is shown as a single "值" row.

function show(v) {
  if (v === undefined) return ''
  if (v === null) return 'null'
  if (typeof v === 'object') return JSON.stringify(v)
  return String(v)
}

const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v)

/** diffRows returns [{field, before, after, change: 'added'|'removed'|'changed'|''}]. */
export function diffRows(before, after) {
  if (!isObject(before ?? {}) || !isObject(after ?? {})) {
    const b = show(before)
    const a = show(after)
    return [{ field: '值', before: b, after: a, change: b === a ? '' : 'changed' }]
  }
  const b = before || {}
  const a = after || {}
  const fields = [...new Set([...Object.keys(b), ...Object.keys(a)])]
  return fields.map((field) => {
    const inB = Object.prototype.hasOwnProperty.call(b, field) && before != null
    const inA = Object.prototype.hasOwnProperty.call(a, field) && after != null
    const bs = inB ? show(b[field]) : ''
    const as = inA ? show(a[field]) : ''
    let change = ''
    if (inA && !inB) change = 'added'
    else if (inB && !inA) change = 'removed'
    else if (bs !== as) change = 'changed'
    return { field, before: bs, after: as, change }
  })
}
