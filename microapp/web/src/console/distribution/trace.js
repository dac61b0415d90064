// The trace of a distribution line (calc.Step: figure, formula, inputs,
// rounding, value, note) as the server returns it: a list of steps whose
// figure names the column (a…f, total, e.g. "d" or "b.payment[0]"), or an
// object with the steps of each column. Every name shown is Chinese.
import { toFen, fromFen } from '../round/sum.js'

const FIGURES = {
  a: 'A 事业合伙本金',
  b: 'B 资金利息',
  c: 'C 其它',
  d: 'D 本金分配（不含其它）',
  e: 'E 本金分配（含其它）',
  f: 'F 利润分配',
  x: '本次分配金额',
  amount: '本次分配金额',
  total: '分配合计（不含其它）',
  principal: '本金',
  weight: '分配占比',
  manual: '手工录入',
}

// The steps shown beside each column: its own, and what it was made from
// (X for F; the manual entry for D, E and F).
const RELATED = { d: ['d', 'manual'], e: ['e', 'manual'], f: ['x', 'f', 'manual'] }

const INPUTS = {
  a: 'A',
  b: 'B',
  c: 'C',
  d: 'D',
  e: 'E',
  f: 'F',
  x: '本次分配金额',
  amount: '金额',
  ratio: '返还比例',
  return_ratio: '返还比例',
  net_profit: '锦艺方预计净利润',
  partnership_ratio: '合伙投资占比',
  profit_ratio: '本次分配比例',
  principal: '本金',
  total_principal: '本金合计',
  record_date: '股权登记日',
  distribution_date: '分配日期',
  paid_on: '缴款日',
  funding_date: '资金投入日',
  rate: '利率',
  days: '天数',
  sum: '合计',
  share: '份额',
  remainder: '尾差',
  previous: '此前分配',
  returned: '已返还本金',
  paid: '已缴本金',
  deducted: '已扣资金利息',
}

const HAN = /[\u4e00-\u9fff]/

/** figureLabel names a trace step's figure in Chinese. */
export function figureLabel(figure = '') {
  const f = String(figure)
  if (HAN.test(f)) return f
  const pay = /payment\[(\d+)\]$/.exec(f)
  if (pay) return `第${Number(pay[1]) + 1}笔缴款利息`
  const last = f.split('.').pop().replace(/\[\d+\]$/, '').toLowerCase()
  return FIGURES[last] || '计算项'
}

/** inputLabel names an input of a step; an unknown name is kept. */
export function inputLabel(name = '') {
  return INPUTS[String(name).toLowerCase()] || name
}

// The column a step belongs to: its figure's first segment (d, b.payment[0] → b).
function columnOf(figure = '') {
  return String(figure).split('.')[0].replace(/\[\d+\]$/, '').toLowerCase()
}

/** stepsOf returns the steps of one column; a trace that names no column is shown whole. */
export function stepsOf(trace, figure) {
  if (!trace) return []
  if (!Array.isArray(trace)) {
    const own = trace[figure] ?? trace[figure.toUpperCase()]
    return Array.isArray(own) ? own : []
  }
  const cols = RELATED[figure] || [figure]
  const own = trace.filter((s) => cols.includes(columnOf(s.figure)))
  if (own.length) return own
  return trace.some((s) => FIGURES[columnOf(s.figure)]) ? [] : trace
}

/** diff is a − b to the fen ("" when either is missing). */
export function diff(a, b) {
  if (a === null || a === undefined || a === '' || b === null || b === undefined || b === '') return ''
  return fromFen(toFen(a) - toFen(b))
}
