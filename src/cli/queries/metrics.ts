/**
 * Metric totals across sessions, from the per-session totals the library keeps on each session
 * document (`metrics.*`, maintained with `$inc`).
 */
import type { Document } from 'mongodb'
import { METRIC_COUNTERS } from '../../features/metrics.js'
import type { SessionCollections } from '../../storage/collections.js'

export type MetricTotals = Record<(typeof METRIC_COUNTERS)[keyof typeof METRIC_COUNTERS], number> & {
  sessions: number
  averageTimeToFirstByteMs: number | null
}

/**
 * Sums the metric totals of the sessions matching `filter` (all sessions when empty): one `$group`
 * with `$sum` per counter. FerretDB 1.24 silently sums nested paths (`$metrics.x`) to 0, so when
 * sessions matched but every sum is 0 the per-session totals are streamed (a small projection) and
 * added up here — the same answer either way, computed where the engine can.
 */
export async function metricTotals(
  collections: SessionCollections,
  filter: { applicationName?: string; updatedAfter?: Date; updatedBefore?: Date } = {},
): Promise<MetricTotals> {
  const match: Document = {}
  if (filter.applicationName !== undefined) match.application_name = filter.applicationName
  if (filter.updatedAfter !== undefined || filter.updatedBefore !== undefined) {
    match.updated_at = {
      ...(filter.updatedAfter !== undefined && { $gt: filter.updatedAfter }),
      ...(filter.updatedBefore !== undefined && { $lt: filter.updatedBefore }),
    }
  }
  let sums: Record<string, number> = { sessions: 0 }
  const group: Document = { _id: null, sessions: { $sum: 1 } }
  for (const stored of Object.keys(METRIC_COUNTERS)) group[stored] = { $sum: `$metrics.${stored}` }
  const [row] = await collections.sessions
    .aggregate<Record<string, unknown>>([{ $match: match }, { $group: group }])
    .toArray()
  for (const [key, value] of Object.entries(row ?? {})) if (typeof value === 'number') sums[key] = value
  const allZero = Object.keys(METRIC_COUNTERS).every((stored) => !sums[stored])
  if ((sums.sessions ?? 0) > 0 && allZero) {
    sums = { sessions: 0 }
    const cursor = collections.sessions.find(match, { projection: { metrics: 1 } }).batchSize(1_000)
    for await (const doc of cursor) {
      sums.sessions! += 1
      const metrics = (doc.metrics ?? {}) as Record<string, unknown>
      for (const stored of Object.keys(METRIC_COUNTERS)) {
        const value = metrics[stored]
        if (typeof value === 'number') sums[stored] = (sums[stored] ?? 0) + value
      }
    }
  }
  const totals = { sessions: sums.sessions ?? 0 } as MetricTotals
  for (const [stored, name] of Object.entries(METRIC_COUNTERS)) {
    ;(totals as Record<string, number | null>)[name] = sums[stored] ?? 0
  }
  totals.averageTimeToFirstByteMs =
    totals.timeToFirstByteSamples > 0 ? totals.timeToFirstByteMs / totals.timeToFirstByteSamples : null
  return totals
}
