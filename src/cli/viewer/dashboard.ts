/**
 * The dashboard's figures over a date range of UTC days: invocations, tokens and model latency
 * (p50/p95) per day from the per-invocation records on final assistant messages, feedback per day
 * from the CLI's feedback report, and the metric totals of the sessions updated in the range.
 *
 * Index-friendly and bounded: the sessions updated since the range's start come from the
 * `(updated_at, _id)` index (at most {@link MAX_SESSIONS}), their invocation records from the
 * `(session_id, agent_id, seq)` index in batches, projected to the few fields summed here. Engines
 * without date operators in aggregations (FerretDB) are served too: the per-day buckets are computed here.
 */
import type { Document } from 'mongodb'
import type { SessionCollections } from '../../storage/collections.js'
import { feedbackReport, type RatingCounts } from '../queries/feedback.js'
import { metricTotals, type MetricTotals } from '../queries/metrics.js'

const DAY_MS = 86_400_000
/** Longest range the dashboard covers. */
export const MAX_DASHBOARD_DAYS = 92
/** Most sessions whose invocations are read for one dashboard (the most recently updated). */
export const MAX_SESSIONS = 20_000
const SESSION_BATCH = 500

export interface DashboardDay {
  /** UTC day, `YYYY-MM-DD`. */
  day: string
  invocations: number
  inputTokens: number
  outputTokens: number
  totalTokens: number
  modelCalls: number
  /** Model latency percentiles of the day's model calls (provider-reported, else measured), ms. */
  latencyP50: number | null
  latencyP95: number | null
  feedback: RatingCounts
}

export interface Dashboard {
  since: Date
  until: Date
  applicationName: string | null
  days: DashboardDay[]
  totals: MetricTotals
  /** Sessions whose invocations were read. */
  sessionsScanned: number
  /** True when more than {@link MAX_SESSIONS} sessions were updated in the range (the oldest were left out). */
  truncated: boolean
}

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length))
  return sorted[rank - 1]!
}

function num(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : 0
}

/** Dashboard of `[since, until)` (whole UTC days); `applicationName` narrows the sessions (not feedback). */
export async function loadDashboard(
  collections: SessionCollections,
  range: { since: Date; until: Date; applicationName?: string },
): Promise<Dashboard> {
  const { since, until } = range
  const dayCount = Math.ceil((until.getTime() - since.getTime()) / DAY_MS)
  const days: DashboardDay[] = []
  const index = new Map<string, { day: DashboardDay; latencies: number[] }>()
  for (let i = 0; i < dayCount; i++) {
    const day = new Date(since.getTime() + i * DAY_MS).toISOString().slice(0, 10)
    const entry: DashboardDay = {
      day,
      invocations: 0,
      inputTokens: 0,
      outputTokens: 0,
      totalTokens: 0,
      modelCalls: 0,
      latencyP50: null,
      latencyP95: null,
      feedback: { up: 0, down: 0, neutral: 0, total: 0 },
    }
    days.push(entry)
    index.set(day, { day: entry, latencies: [] })
  }

  const sessionFilter: Document = { updated_at: { $gte: since } }
  if (range.applicationName !== undefined) sessionFilter.application_name = range.applicationName
  const sessionIds = (
    await collections.sessions
      .find(sessionFilter, { projection: { _id: 1 } })
      .sort({ updated_at: -1, _id: -1 })
      .limit(MAX_SESSIONS + 1)
      .toArray()
  ).map((doc) => doc._id)
  const truncated = sessionIds.length > MAX_SESSIONS
  if (truncated) sessionIds.length = MAX_SESSIONS

  for (let i = 0; i < sessionIds.length; i += SESSION_BATCH) {
    const cursor = collections.messages
      .find(
        {
          session_id: { $in: sessionIds.slice(i, i + SESSION_BATCH) },
          'invocation_metrics.started_at': { $gte: since, $lt: until },
        },
        {
          projection: {
            _id: 0,
            'invocation_metrics.started_at': 1,
            'invocation_metrics.usage': 1,
            'invocation_metrics.model_calls': 1,
          },
        },
      )
      .batchSize(1_000)
    for await (const doc of cursor) {
      const record = (doc.invocation_metrics ?? {}) as Document
      if (!(record.started_at instanceof Date)) continue
      const bucket = index.get(record.started_at.toISOString().slice(0, 10))
      if (!bucket) continue
      const usage = (record.usage ?? {}) as Document
      bucket.day.invocations += 1
      bucket.day.inputTokens += num(usage.input_tokens)
      bucket.day.outputTokens += num(usage.output_tokens)
      bucket.day.totalTokens += num(usage.total_tokens)
      for (const call of Array.isArray(record.model_calls) ? (record.model_calls as Document[]) : []) {
        bucket.day.modelCalls += 1
        const latency = typeof call.latency_ms === 'number' ? call.latency_ms : call.duration_ms
        if (typeof latency === 'number' && Number.isFinite(latency)) bucket.latencies.push(latency)
      }
    }
  }
  for (const { day, latencies } of index.values()) {
    latencies.sort((a, b) => a - b)
    day.latencyP50 = percentile(latencies, 50)
    day.latencyP95 = percentile(latencies, 95)
  }

  const [feedback, totals] = await Promise.all([
    feedbackReport(collections, { since, until }),
    metricTotals(collections, {
      updatedAfter: new Date(since.getTime() - 1),
      ...(range.applicationName !== undefined && { applicationName: range.applicationName }),
    }),
  ])
  for (const day of days) day.feedback = feedback.byDay[day.day] ?? day.feedback

  return {
    since,
    until,
    applicationName: range.applicationName ?? null,
    days,
    totals,
    sessionsScanned: sessionIds.length,
    truncated,
  }
}
