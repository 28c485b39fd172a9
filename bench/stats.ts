/** Small statistics and formatting helpers for the bench's tables. */

/** The q-quantile (0..1) of `values`, interpolated between the nearest ranks; NaN when empty. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  const position = (sorted.length - 1) * q
  const low = Math.floor(position)
  const high = Math.ceil(position)
  return sorted[low]! + (sorted[high]! - sorted[low]!) * (position - low)
}

export const median = (values: readonly number[]) => quantile(values, 0.5)

export function formatBytes(value: number): string {
  if (!Number.isFinite(value)) return '—'
  if (value >= 1024 * 1024) return `${(value / 1024 / 1024).toFixed(2)} MiB`
  if (value >= 1024) return `${(value / 1024).toFixed(1)} KiB`
  return `${Math.round(value)} B`
}

export function formatMs(value: number): string {
  if (!Number.isFinite(value)) return '—'
  if (value >= 10_000) return `${(value / 1000).toFixed(1)} s`
  return value >= 100 ? `${value.toFixed(0)} ms` : `${value.toFixed(1)} ms`
}

/** `theirs ÷ ours`, e.g. `4.7×`; `—` when either is missing. */
export function ratio(theirs: number, ours: number): string {
  if (!Number.isFinite(theirs) || !Number.isFinite(ours) || ours <= 0) return '—'
  const r = theirs / ours
  return `${r >= 10 ? r.toFixed(0) : r.toFixed(1)}×`
}

/** A Markdown table; `align` has one entry per column, `r` for right-aligned numbers. */
export function markdownTable(header: readonly string[], rows: readonly string[][], align: string): string {
  const rule = header.map((_, i) => (align[i] === 'r' ? '---:' : '---'))
  return [header, rule, ...rows].map((cells) => `| ${cells.join(' | ')} |`).join('\n')
}

/** The innermost cause, `Name: message` (the SDK wraps storage errors in a SessionError). */
export function rootCause(error: unknown): string {
  let inner = error
  while (inner instanceof Error && inner.cause instanceof Error) inner = inner.cause
  return inner instanceof Error ? `${inner.name}: ${inner.message}`.slice(0, 160) : String(inner)
}
