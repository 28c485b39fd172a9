/**
 * Feedback across sessions: listing (newest first, keyset-paged on the time-ordered id) and the
 * report (counts by rating, agent and day), using only `$match` and `$group` with `$sum` so it runs
 * on every supported engine.
 */
import type { Document } from 'mongodb'
import { ValidationError } from '../../errors.js'
import { decodeCursor, encodeCursor } from '../../features/cursor.js'
import { toFeedback } from '../../features/feedback.js'
import type { Feedback, FeedbackRating } from '../../model/types.js'
import type { SessionCollections } from '../../storage/collections.js'
import { redactSealed, type EncryptedValue } from '../sealed.js'

/** A feedback entry as the CLI shows it: a comment encrypted at rest is `{ $encrypted: true }`. */
export type DisplayFeedback = Omit<Feedback, 'comment'> & { comment: string | EncryptedValue | null }

/** Feedback entries with their encrypted values replaced by markers. */
export function displayFeedback(items: readonly Feedback[]): DisplayFeedback[] {
  return items.map((item) => redactSealed(item) as DisplayFeedback)
}

/** Rating names used on the command line and in reports. */
export type RatingName = 'up' | 'down' | 'neutral'

export function ratingName(rating: FeedbackRating): RatingName {
  return rating === 'up' ? 'up' : rating === 'down' ? 'down' : 'neutral'
}

export function ratingValue(name: RatingName): FeedbackRating {
  return name === 'neutral' ? null : name
}

/** Which feedback to list or count. */
export interface FeedbackQuery {
  sessionId?: string
  rating?: RatingName
  agentId?: string
  since?: Date
  until?: Date
}

function feedbackFilter(query: FeedbackQuery): Document {
  const filter: Document = {}
  if (query.sessionId !== undefined) filter.session_id = query.sessionId
  if (query.rating !== undefined) filter.rating = ratingValue(query.rating)
  if (query.agentId !== undefined) filter.agent_id = query.agentId
  if (query.since !== undefined || query.until !== undefined) {
    filter.created_at = {
      ...(query.since !== undefined && { $gte: query.since }),
      ...(query.until !== undefined && { $lt: query.until }),
    }
  }
  return filter
}

/** Feedback newest first; `nextCursor` continues after the last item. */
export async function listFeedback(
  collections: SessionCollections,
  query: FeedbackQuery,
  page: { limit: number; cursor?: string | undefined },
): Promise<{ items: DisplayFeedback[]; nextCursor: string | null }> {
  const filter = feedbackFilter(query)
  if (page.cursor) {
    const position = decodeCursor(page.cursor, 'feedback-all')
    if (typeof position.id !== 'string') throw new ValidationError('invalid cursor', { field: 'cursor' })
    filter._id = { $lt: position.id }
  }
  const docs = await collections.feedback
    .find(filter, { projection: { outbox: 0, outbox_failed: 0, outbox_lease_until: 0 } })
    .sort({ _id: -1 })
    .limit(page.limit + 1)
    .toArray()
  const items = displayFeedback(docs.slice(0, page.limit).map(toFeedback))
  const last = items.at(-1)
  return {
    items,
    nextCursor: docs.length > page.limit && last ? encodeCursor('feedback-all', { id: last.id }) : null,
  }
}

/** Counts per rating. */
export type RatingCounts = Record<RatingName, number> & { total: number }

/** The feedback report. */
export interface FeedbackReport {
  since: Date
  until: Date
  byRating: RatingCounts
  /** Keyed by agent id (`(none)` for feedback without one). */
  byAgent: Record<string, RatingCounts>
  /** Keyed by UTC day `YYYY-MM-DD`, every day of the range, oldest first. */
  byDay: Record<string, RatingCounts>
}

const DAY_MS = 86_400_000
/** Longest range the per-day breakdown covers (one small aggregation per day). */
export const MAX_REPORT_DAYS = 366

function emptyCounts(): RatingCounts {
  return { up: 0, down: 0, neutral: 0, total: 0 }
}

function add(counts: RatingCounts, rating: FeedbackRating, n: number): void {
  counts[ratingName(rating)] += n
  counts.total += n
}

/**
 * Counts feedback in `[since, until)`: by rating and agent in one aggregation, by UTC day with one
 * `$match`/`$group` per day (engines without date operators, e.g. FerretDB, support these).
 */
export async function feedbackReport(
  collections: SessionCollections,
  query: FeedbackQuery & { since: Date; until: Date },
): Promise<FeedbackReport> {
  const firstDay = Math.floor(query.since.getTime() / DAY_MS) * DAY_MS
  const days = Math.ceil((query.until.getTime() - firstDay) / DAY_MS)
  if (days > MAX_REPORT_DAYS) {
    throw new ValidationError(`the report covers at most ${MAX_REPORT_DAYS} days (got ${days})`, { field: 'since' })
  }
  const report: FeedbackReport = {
    since: query.since,
    until: query.until,
    byRating: emptyCounts(),
    byAgent: {},
    byDay: {},
  }
  const groups = await collections.feedback
    .aggregate<{ _id: { rating: FeedbackRating; agent: string | null }; n: number }>([
      { $match: feedbackFilter(query) },
      { $group: { _id: { rating: '$rating', agent: '$agent_id' }, n: { $sum: 1 } } },
    ])
    .toArray()
  for (const group of groups) {
    add(report.byRating, group._id.rating ?? null, group.n)
    const agent = group._id.agent ?? '(none)'
    add((report.byAgent[agent] ??= emptyCounts()), group._id.rating ?? null, group.n)
  }
  for (let i = 0; i < days; i++) {
    const start = new Date(Math.max(firstDay + i * DAY_MS, query.since.getTime()))
    const end = new Date(Math.min(firstDay + (i + 1) * DAY_MS, query.until.getTime()))
    const day = new Date(firstDay + i * DAY_MS).toISOString().slice(0, 10)
    const counts = (report.byDay[day] = emptyCounts())
    if (report.byRating.total === 0 || end <= start) continue
    const perDay = await collections.feedback
      .aggregate<{ _id: FeedbackRating; n: number }>([
        { $match: feedbackFilter({ ...query, since: start, until: end }) },
        { $group: { _id: '$rating', n: { $sum: 1 } } },
      ])
      .toArray()
    for (const group of perDay) add(counts, group._id ?? null, group.n)
  }
  return report
}
