// Exact sums of decimal strings (money to the fen) without floats.

/** toFen turns "1,234.5" into 123450n; empty → 0n. */
export function toFen(value) {
  const s = String(value ?? '').replace(/,/g, '').trim()
  const m = /^(-?)(\d+)(?:\.(\d{1,2}))?$/.exec(s)
  if (!m) return 0n
  const fen = BigInt(m[2]) * 100n + BigInt((m[3] || '').padEnd(2, '0') || '0')
  return m[1] ? -fen : fen
}

/** fromFen turns 123450n into "1234.50". */
export function fromFen(fen) {
  const neg = fen < 0n
  const a = neg ? -fen : fen
  return `${neg ? '-' : ''}${a / 100n}.${String(a % 100n).padStart(2, '0')}`
}

export function sumAmounts(values) {
  return fromFen(values.reduce((acc, v) => acc + toFen(v), 0n))
}
