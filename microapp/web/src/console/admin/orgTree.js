// Helpers over the flat org-unit list of GET /api/v1/org-units.

/** buildOrgTree nests units under their parent_id, keeping server order. */
export function buildOrgTree(units) {
  const byId = new Map(units.map((u) => [String(u.id), { ...u, children: [] }]))
  const roots = []
  for (const node of byId.values()) {
    const parent = node.parent_id != null ? byId.get(String(node.parent_id)) : null
    if (parent) parent.children.push(node)
    else roots.push(node)
  }
  return roots
}

/** orgPath names a unit with its ancestors: "置业集团 / 环沪城市公司". */
export function orgPath(units, id) {
  const byId = new Map(units.map((u) => [String(u.id), u]))
  const names = []
  const seen = new Set()
  let cur = byId.get(String(id))
  while (cur && !seen.has(cur.id)) {
    seen.add(cur.id)
    names.unshift(cur.name)
    cur = cur.parent_id != null ? byId.get(String(cur.parent_id)) : null
  }
  return names.join(' / ')
}

/** childKind is the usual kind of a new unit under a parent of the given kind. */
export function childKind(parentKind) {
  return { group: 'holding', holding: 'property', property: 'city' }[parentKind] || 'city'
}
