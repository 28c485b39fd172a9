/**
 * Typed handles on the library's collections and the one declarative list of their indexes.
 *
 * Indexes are ensured once per process for each (client, database, prefix): a per-request manager
 * made by the factory never pays for `createIndexes` again.
 */
import type { Collection, Db, IndexDescription, MongoClient } from 'mongodb'
import {
  COLLECTIONS,
  type CollectionKey,
  type FeedbackDocument,
  type GuardrailEventDocument,
  type MessageDocument,
  type SessionDocument,
  type SnapshotChunkDocument,
  type SnapshotDocument,
  type StorageDocument,
} from './schema.js'
import { outsideDeadline, withDeadlines } from './deadline.js'
import { withRetry } from './retry.js'

/** Database used when `databaseName` is not given. */
export const DEFAULT_DATABASE_NAME = 'strands_sessions'

export interface SessionCollections {
  readonly db: Db
  readonly sessions: Collection<SessionDocument>
  readonly messages: Collection<MessageDocument>
  readonly snapshots: Collection<SnapshotDocument>
  readonly snapshotChunks: Collection<SnapshotChunkDocument>
  readonly feedback: Collection<FeedbackDocument>
  readonly guardrailEvents: Collection<GuardrailEventDocument>
  readonly storage: Collection<StorageDocument>
}

/** Every index the library relies on. Names are stable so `doctor` can report them. */
export const INDEXES: Record<CollectionKey, IndexDescription[]> = {
  sessions: [
    { key: { application_name: 1, updated_at: -1, _id: -1 }, name: 'msm_app_updated' },
    { key: { user_id: 1, updated_at: -1, _id: -1 }, name: 'msm_user_updated' },
    { key: { updated_at: -1, _id: -1 }, name: 'msm_updated' },
    { key: { 'outbox.due_at': 1 }, name: 'msm_outbox_due' },
  ],
  messages: [
    { key: { session_id: 1, agent_id: 1, seq: 1 }, name: 'msm_session_agent_seq', unique: true },
    { key: { session_id: 1, tracking_id: 1 }, name: 'msm_session_tracking' },
  ],
  snapshots: [{ key: { session_id: 1, scope: 1, scope_id: 1, snapshot_id: 1 }, name: 'msm_session_scope_snapshot' }],
  snapshotChunks: [
    { key: { snapshot_key: 1, index: 1 }, name: 'msm_snapshot_chunk', unique: true },
    { key: { session_id: 1 }, name: 'msm_session' },
  ],
  feedback: [
    { key: { session_id: 1, _id: 1 }, name: 'msm_session_id' },
    { key: { created_at: -1 }, name: 'msm_created' },
    { key: { 'outbox.due_at': 1 }, name: 'msm_outbox_due' },
  ],
  guardrailEvents: [
    { key: { session_id: 1, created_at: 1 }, name: 'msm_session_created' },
    // getGuardrailEvents pages on the time-ordered UUIDv7 `_id` within a session.
    { key: { session_id: 1, _id: 1 }, name: 'msm_session_id' },
  ],
  storage: [],
}

/** Name of the TTL index on `sessions.expires_at` (engines with TTL indexes). */
export const EXPIRY_TTL_INDEX = 'msm_expires_ttl'
/** Name of the plain index on `sessions.expires_at` (engines without TTL indexes). */
export const EXPIRY_INDEX = 'msm_expires'

/**
 * How long after its expiry the server's TTL monitor deletes a session document. Not at once: the
 * session document is what the prune finds a session's other documents by, and its expiry time is
 * the fence that keeps a revived session's documents out of the deletion; removed first, it would
 * leave the others unreachable and let a revival see them. The TTL index is a backstop for
 * expired sessions the prune has not reached in this time.
 */
export const EXPIRY_TTL_GRACE_SECONDS = 7 * 24 * 3600

/**
 * The index on `sessions.expires_at` created when `retention` is on: a TTL index where the engine
 * has them (the server then deletes expired session documents by itself, after
 * {@link EXPIRY_TTL_GRACE_SECONDS}), a plain one otherwise; either serves `pruneExpiredSessions`.
 */
export function expiryIndexes(capabilities: { ttlIndexes: boolean }): IndexDescription[] {
  return capabilities.ttlIndexes
    ? [{ key: { expires_at: 1 }, name: EXPIRY_TTL_INDEX, expireAfterSeconds: EXPIRY_TTL_GRACE_SECONDS }]
    : [{ key: { expires_at: 1 }, name: EXPIRY_INDEX }]
}

/** The collections of `db` (names prefixed by `prefix`); each call honours the deadline in force. */
export function openCollections(db: Db, prefix = ''): SessionCollections {
  const name = (key: CollectionKey) => `${prefix}${COLLECTIONS[key]}`
  return {
    db,
    sessions: withDeadlines(db.collection<SessionDocument>(name('sessions'))),
    messages: withDeadlines(db.collection<MessageDocument>(name('messages'))),
    snapshots: withDeadlines(db.collection<SnapshotDocument>(name('snapshots'))),
    snapshotChunks: withDeadlines(db.collection<SnapshotChunkDocument>(name('snapshotChunks'))),
    feedback: withDeadlines(db.collection<FeedbackDocument>(name('feedback'))),
    guardrailEvents: withDeadlines(db.collection<GuardrailEventDocument>(name('guardrailEvents'))),
    storage: withDeadlines(db.collection<StorageDocument>(name('storage'))),
  }
}

const ensured = new WeakMap<MongoClient, Map<string, Promise<void>>>()

/**
 * Creates the indexes (idempotent) once per process for this client, database and prefix.
 * Concurrent callers share one in-flight promise; a failure is not cached, so the next call retries.
 */
export function ensureIndexes(
  client: MongoClient,
  collections: SessionCollections,
  extra: Partial<Record<CollectionKey, IndexDescription[]>> = {},
): Promise<void> {
  let perClient = ensured.get(client)
  if (!perClient) {
    perClient = new Map()
    ensured.set(client, perClient)
  }
  const key = `${collections.db.databaseName}\u0000${collections.sessions.collectionName}\u0000${JSON.stringify(extra)}`
  const existing = perClient.get(key)
  if (existing) return existing
  // Shared by every later caller: it must not inherit the deadline of the call that started it.
  const run = outsideDeadline(async () => {
    for (const [collection, specs] of Object.entries(INDEXES) as [CollectionKey, IndexDescription[]][]) {
      const wanted = [...specs, ...(extra[collection] ?? [])]
      if (wanted.length === 0) continue
      // Create only the missing ones: besides saving round trips, FerretDB 1.24 drops the
      // connection when asked to create an index that already exists.
      const existingNames = async () =>
        new Set(
          (
            await collections[collection]
              .listIndexes()
              .toArray()
              .catch(() => [])
          ).map((index) => String(index.name)),
        )
      const existing = await existingNames()
      const missing = wanted.filter((index) => !existing.has(String(index.name)))
      if (missing.length === 0) continue
      try {
        await collections[collection].createIndexes(missing)
      } catch (error) {
        // Another process may have created them at the same time; only fail if they are still missing.
        const now = await withRetry('list indexes', () => existingNames())
        if (!missing.every((index) => now.has(String(index.name)))) throw error
      }
    }
  })
  perClient.set(key, run)
  run.catch(() => perClient.delete(key))
  return run
}
