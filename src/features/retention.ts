/**
 * Pruning expired sessions: deletes every document of each session whose expiry time has passed,
 * in every collection, in batches. See docs/retention.md.
 *
 * Each session is retired on its own (see `storage/retention.ts`): its documents first, collection
 * by collection, the session document last, so a crash or an abort leaves it expired (absent to
 * every reader) and the next prune finishes it. Sessions with undelivered durable notifications are
 * left until those are delivered or given up (moved to `outbox_failed`).
 */
import type { MongoClient } from 'mongodb'
import { ValidationError } from '../errors.js'
import { DEFAULT_DATABASE_NAME, openCollections, type SessionCollections } from '../storage/collections.js'
import { mapDriverErrors } from '../storage/driver-errors.js'
import { emptyCounts, retireSession, type RetentionCounts } from '../storage/retention.js'

export type { RetentionCounts }

/** Where to prune: the collections, or a client with the database name and collection prefix. */
export type PruneTarget = SessionCollections | { client: MongoClient; databaseName?: string; collectionPrefix?: string }

export interface PruneOptions {
  /** Sessions listed, and documents deleted, per command: 1–10 000. Default 100. */
  batchSize?: number
  /** Stops the prune between two batches; the result says what was done until then. */
  signal?: AbortSignal
  /** Called after each batch with the totals so far. */
  onProgress?: (progress: PruneProgress) => void
  /** Count what would be deleted; write nothing. */
  dryRun?: boolean
  /** @internal The clock (tests). */
  now?: () => Date
}

export interface PruneProgress {
  /** Expired sessions whose documents are all deleted (or, in a dry run, would be). */
  sessions: number
  /** Expired sessions left for later: they still have undelivered durable notifications. */
  skippedPendingNotifications: number
  /** Documents deleted (or that would be) per collection. */
  counts: RetentionCounts
}

export interface PruneResult extends PruneProgress {
  dryRun: boolean
  /** The signal stopped the prune before it finished; run it again to continue. */
  aborted: boolean
}

/**
 * Deletes every document of every expired session, in every collection.
 * @throws {@link ValidationError} for a bad `batchSize`; {@link DatabaseUnavailableError} and other
 * library errors for database failures (what was deleted before stays deleted; run it again).
 */
export async function pruneExpiredSessions(target: PruneTarget, options: PruneOptions = {}): Promise<PruneResult> {
  const batchSize = options.batchSize ?? 100
  if (!Number.isSafeInteger(batchSize) || batchSize < 1 || batchSize > 10_000) {
    throw new ValidationError('batchSize must be an integer from 1 to 10000', { field: 'batchSize' })
  }
  const collections =
    'sessions' in target
      ? target
      : openCollections(target.client.db(target.databaseName ?? DEFAULT_DATABASE_NAME), target.collectionPrefix ?? '')
  return mapDriverErrors('pruneExpiredSessions', () => prune(collections, batchSize, options))
}

async function prune(collections: SessionCollections, batchSize: number, options: PruneOptions): Promise<PruneResult> {
  // One instant for the whole pass: a session revived meanwhile is live again and left alone.
  const now = (options.now ?? (() => new Date()))()
  const { signal } = options
  const result: PruneResult = {
    dryRun: options.dryRun ?? false,
    aborted: false,
    sessions: 0,
    skippedPendingNotifications: 0,
    counts: emptyCounts(),
  }
  const report = () =>
    options.onProgress?.({
      sessions: result.sessions,
      skippedPendingNotifications: result.skippedPendingNotifications,
      counts: { ...result.counts },
    })
  let after: string | undefined
  for (;;) {
    if (signal?.aborted) return { ...result, aborted: true }
    const ids = (
      await collections.sessions
        .find(
          { expires_at: { $lte: now }, ...(after !== undefined && { _id: { $gt: after } }) },
          { projection: { _id: 1 } },
        )
        .sort({ _id: 1 })
        .limit(batchSize)
        .toArray()
    ).map((d) => d._id)
    if (ids.length === 0) return result
    for (const id of ids) {
      const status = await retireSession(collections, id, {
        now,
        batchSize,
        ...(signal && { signal }),
        dryRun: result.dryRun,
        counts: result.counts,
        onBatch: report,
      })
      if (status === 'aborted') return { ...result, aborted: true }
      if (status === 'retired') result.sessions += 1
      if (status === 'pending-notifications') result.skippedPendingNotifications += 1
      report()
      if (signal?.aborted) return { ...result, aborted: true }
    }
    after = ids.at(-1)
  }
}
