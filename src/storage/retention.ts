/**
 * Session expiry at the storage level: the `expires_at` field every activity moves, the clause that
 * keeps expired sessions out of reads and conditional writes, and the retirement of one expired
 * session (shared by the writer that revives it and by the prune).
 *
 * Retirement deletes the session's documents collection by collection, the session document last,
 * and touches only documents created before the session's expiry time (the fence). Every document
 * of the expired session was written during its activity, so before that time; every document of a
 * revived session is written after someone saw it expired, so after it. Two retirements of the same
 * session may therefore overlap, or one may lag behind a revival, without either deleting a
 * document of the new session (clocks are assumed to agree to well within `expireAfter`). Until
 * the session document is deleted it keeps its past expiry time, so a half-retired session is never
 * read as live, and running the retirement again finishes it.
 */
import type { Collection, Document, Filter } from 'mongodb'
import { StorageOperationError } from '../errors.js'
import type { SessionCollections } from './collections.js'
import { DATA_KEY_FIELD } from './crypto/session-key.js'
import type { CollectionKey } from './schema.js'
import { isDuplicateKeyError } from './upsert.js'

/** How sessions expire, as every reader and writer of a session sees it. */
export interface ExpiryPolicy {
  /** A session expires this long after its last activity; `null`: activity sets no expiry. */
  expireAfterMs: number | null
  /** The clock (injectable for tests). */
  now: () => Date
}

/** No expiry set by this process (sessions that another process gave one still expire). */
export const NO_EXPIRY: ExpiryPolicy = Object.freeze({ expireAfterMs: null, now: () => new Date() })

/** Documents per collection (removed, or that would be removed by a dry run). */
export type RetentionCounts = Record<CollectionKey, number>

export function emptyCounts(): RetentionCounts {
  return { sessions: 0, messages: 0, snapshots: 0, snapshotChunks: 0, feedback: 0, guardrailEvents: 0, storage: 0 }
}

/** The `$set` fields of an activity at `now`: its new expiry time, when the policy sets one. */
export function expiryFields(policy: ExpiryPolicy, now: Date): { expires_at?: Date } {
  return policy.expireAfterMs === null ? {} : { expires_at: new Date(now.getTime() + policy.expireAfterMs) }
}

/** Filter clause for sessions that are live at `now` (a session without `expires_at` never expires). */
export function liveClause(now: Date): Document {
  return { expires_at: { $not: { $lte: now } } }
}

/** Whether a session document read with its `expires_at` is expired at `now`. */
export function isExpired(doc: { expires_at?: unknown } | null | undefined, now: Date): boolean {
  return doc?.expires_at instanceof Date && doc.expires_at.getTime() <= now.getTime()
}

/** Outcome of {@link retireSession}. */
export type RetireStatus = 'retired' | 'live' | 'absent' | 'pending-notifications' | 'aborted'

export interface RetireOptions {
  now: Date
  /** Documents listed and deleted per command. Default 500. */
  batchSize?: number
  signal?: AbortSignal
  /** Count what would be deleted; write nothing. */
  dryRun?: boolean
  /** Added to as documents are deleted (or counted). */
  counts: RetentionCounts
  /** Called (and awaited) after each batch. */
  onBatch?: () => void | Promise<void>
}

/**
 * Whether the session document or one of its feedback documents (those of the expired session: older
 * than `fence`) holds undelivered durable notifications.
 */
async function hasPendingNotifications(
  collections: SessionCollections,
  sessionId: string,
  doc: { outbox?: unknown },
  fence: Date,
): Promise<boolean> {
  if (Array.isArray(doc.outbox) && doc.outbox.length > 0) return true
  // A feedback that is reviving the session is newer, and its own notifications are not in the way.
  const feedback = await collections.feedback.findOne(
    { session_id: sessionId, created_at: { $lt: fence }, 'outbox.0': { $exists: true } },
    { projection: { _id: 1 } },
  )
  return feedback !== null
}

/**
 * Deletes every document of `sessionId` if the session is expired at `options.now` and has no
 * undelivered durable notifications; the session document goes last. Resumable and idempotent.
 */
export async function retireSession(
  collections: SessionCollections,
  sessionId: string,
  options: RetireOptions,
): Promise<RetireStatus> {
  const doc = await collections.sessions.findOne(
    { _id: sessionId },
    { projection: { expires_at: 1, pruning: 1, outbox: 1 } },
  )
  if (!doc) return 'absent'
  if (!isExpired(doc, options.now)) return 'live'
  const fence = doc.expires_at as Date
  if (await hasPendingNotifications(collections, sessionId, doc, fence)) return 'pending-notifications'
  const batchSize = options.batchSize ?? 500
  const { counts, signal } = options
  const before = { $lt: fence }
  if (!options.dryRun && (doc as { pruning?: unknown }).pruning !== true) {
    // Informational (doctor, operators): the session stays expired whatever this says.
    // With encryption, the data key goes first (crypto-shredding): what the rest of the run has not
    // deleted yet, or a copy of it, can no longer be read.
    await collections.sessions.updateOne(
      { _id: sessionId, expires_at: fence },
      { $set: { pruning: true }, $unset: { [DATA_KEY_FIELD]: '' } },
    )
  }

  /** Lists up to `batchSize` ids matching `filter`, deletes them; repeats until none is left. */
  const drain = async (key: CollectionKey, filter: Document, alsoDelete?: (ids: string[]) => Promise<void>) => {
    const collection = collections[key] as unknown as Collection<{ _id: string }>
    if (options.dryRun) {
      counts[key] += await collection.countDocuments(filter)
      if (alsoDelete) await alsoDelete([])
      return true
    }
    for (;;) {
      if (signal?.aborted) return false
      const ids = (
        await collection
          .find(filter, { projection: { _id: 1 } })
          .limit(batchSize)
          .toArray()
      ).map((d) => d._id)
      if (ids.length === 0) return true
      if (alsoDelete) await alsoDelete(ids)
      const result = await collection.deleteMany({ ...filter, _id: { $in: ids } } as Filter<{ _id: string }>)
      counts[key] += result.deletedCount
      await options.onBatch?.()
    }
  }

  const bySession = { session_id: sessionId, created_at: before }
  if (!(await drain('messages', bySession))) return 'aborted'
  if (!(await drain('guardrailEvents', bySession))) return 'aborted'
  if (!(await drain('feedback', bySession))) return 'aborted'
  // Snapshot chunks with their headers, chunks first: a header never points at missing chunks.
  const chunks = async (keys: string[]) => {
    if (options.dryRun) {
      const headers = await collections.snapshots
        .find(bySession, { projection: { _id: 1 } })
        .map((d) => d._id)
        .toArray()
      counts.snapshotChunks += await collections.snapshotChunks.countDocuments({ snapshot_key: { $in: headers } })
      return
    }
    const result = await collections.snapshotChunks.deleteMany({ snapshot_key: { $in: keys } })
    counts.snapshotChunks += result.deletedCount
  }
  if (!(await drain('snapshots', bySession, chunks))) return 'aborted'
  // `session/<id>/…` keys as a range on `_id` (ids are `[a-z0-9_-]`; '0' is the character after '/').
  const storageKeys = { _id: { $gte: `session/${sessionId}/`, $lt: `session/${sessionId}0` }, updated_at: before }
  if (!(await drainStorage(collections, storageKeys, options))) return 'aborted'
  if (signal?.aborted) return 'aborted'
  if (options.dryRun) {
    counts.sessions += 1
    return 'retired'
  }
  const deleted = await collections.sessions.deleteOne({ _id: sessionId, expires_at: fence })
  counts.sessions += deleted.deletedCount
  await options.onBatch?.()
  // Zero: another retirement finished first (and the session may live again, revived).
  return deleted.deletedCount === 1 ? 'retired' : 'absent'
}

/** The storage keys of the session (their `_id` is the filter's range, so the id list cannot be merged in). */
async function drainStorage(collections: SessionCollections, filter: Document, options: RetireOptions) {
  if (options.dryRun) {
    options.counts.storage += await collections.storage.countDocuments(filter)
    return true
  }
  for (;;) {
    if (options.signal?.aborted) return false
    const ids = (
      await collections.storage
        .find(filter, { projection: { _id: 1 } })
        .limit(options.batchSize ?? 500)
        .toArray()
    ).map((d) => d._id)
    if (ids.length === 0) return true
    const result = await collections.storage.deleteMany({ _id: { $in: ids }, updated_at: filter.updated_at })
    options.counts.storage += result.deletedCount
    await options.onBatch?.()
  }
}

/**
 * Runs an upsert of the session document whose filter includes `live` (the session is live at
 * `now`). An expired session document makes the upsert's insert collide on `_id`: the session is
 * retired, then the upsert runs again and creates a fresh session. A collision with a live
 * document (another writer created it first) just runs it again, as an update.
 */
export async function upsertLiveSession<T>(
  collections: SessionCollections,
  sessionId: string,
  now: Date,
  upsert: (live: Document) => Promise<T>,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await upsert(liveClause(now))
    } catch (error) {
      if (!isDuplicateKeyError(error) || attempt >= 3) throw error
      await retireExpiredSession(collections, sessionId, now)
    }
  }
}

/** Retires `sessionId` if it is expired at `now`, before a write revives it. */
export async function retireExpiredSession(collections: SessionCollections, sessionId: string, now: Date) {
  const status = await retireSession(collections, sessionId, { now, counts: emptyCounts() })
  if (status === 'pending-notifications') {
    throw new StorageOperationError(
      `session '${sessionId}' expired but still has undelivered durable notifications; it can be ` +
        'written again once they are delivered (relayPendingNotifications) or given up',
      { retryable: true },
    )
  }
}
