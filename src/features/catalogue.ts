/**
 * The session catalogue: listing sessions across the database and deleting them (GDPR
 * data-subject deletes). Not per-session, so these are functions over the collections; the
 * manager, factory and CLI wrap them.
 *
 * Listing is keyset-paged on `(updated_at, _id)` descending, backed by the `msm_updated`,
 * `msm_app_updated` and `msm_user_updated` indexes, and by one index per declared metadata field
 * ({@link metadataFieldIndexes}). Filtering on undeclared metadata fields is refused: it would be
 * an unindexed collection scan.
 */
import type { AnyBulkWriteOperation, Document, IndexDescription } from 'mongodb'
import { DecryptionError, ValidationError } from '../errors.js'
import type { Metadata } from '../model/types.js'
import type { SessionCollections } from '../storage/collections.js'
import { DATA_KEY_FIELD, SessionKey } from '../storage/crypto/session-key.js'
import type { KeyProvider } from '../storage/crypto/key-provider.js'
import { hasSealedMetadata, openMetadata } from '../storage/crypto/sealed-metadata.js'
import { decodeValue, encodeValue, escapeKey } from '../storage/encoding.js'
import type { SessionDocument, StorageDocument } from '../storage/schema.js'
import { validateIdentifier } from '../validation/identifiers.js'
import { validateMetadataKey } from '../validation/metadata.js'
import { decodeCursor, encodeCursor } from './cursor.js'
import { pageLimit, type FeedbackCounts } from './feedback.js'
import { mapDriverErrors } from '../storage/driver-errors.js'
import { liveClause } from '../storage/retention.js'

/** Scalar values a declared metadata field can be filtered on (equality). */
export type MetadataFilterValue = string | number | boolean | null | Date

/** Which sessions to list or delete. */
export interface SessionFilter {
  applicationName?: string
  /** Sessions of this user (recorded from the manager's `userId` when the session was created). */
  userId?: string
  /** Equality on declared metadata fields (`metadataFields`); `null` also matches a missing field. */
  metadata?: Record<string, MetadataFilterValue>
  /** Sessions updated strictly after / before these instants. */
  updatedAfter?: Date
  updatedBefore?: Date
}

export interface ListSessionsQuery extends SessionFilter {
  /** 1–500, default 50. */
  limit?: number
  /** `nextCursor` of the previous page. */
  cursor?: string | null
  /** Only sessions with at least one feedback entry of this rating (`feedback_counts`). */
  feedbackRating?: 'up' | 'down' | 'neutral'
}

export interface DeleteSessionsFilter extends SessionFilter {
  /** Explicit ids (also removes leftovers of sessions whose session document is already gone). */
  sessionIds?: readonly string[]
}

export interface CatalogueOptions {
  /** Metadata fields declared for querying (same list as the manager's `metadataFields`). */
  metadataFields?: readonly string[]
  /** @internal The instant expired sessions are judged at (tests); default now. */
  now?: Date
  /**
   * Opens the metadata values of encrypted sessions (one key unwrap per listed encrypted session:
   * with KMS, one `Decrypt` each). Without it, sealed values are returned as stored (BSON Binary).
   */
  keyProvider?: KeyProvider | null
}

/** Token totals of a session (every agent, every invocation). */
export interface SessionTokenTotals {
  input: number
  output: number
  total: number
}

/** One session in a listing (no agent state, no messages). */
export interface SessionSummary {
  sessionId: string
  applicationName: string | null
  /** The session's user, or `null` (created without `userId`). */
  userId: string | null
  /** The title set with `setTitle()`, else the first user message (shortened), else `null`. */
  title: string | null
  /** The last message with text, shortened to 120 characters; `null` before any. */
  preview: string | null
  /** Messages in the latest conversation of every agent of the session. */
  messageCount: number
  createdAt: Date | null
  /** Last activity: the last turn, feedback, metadata change or title change. */
  updatedAt: Date | null
  metadata: Metadata
  feedbackCounts: FeedbackCounts
  tokens: SessionTokenTotals
}

export interface SessionPage {
  items: SessionSummary[]
  nextCursor: string | null
}

/** Documents removed per collection. */
export interface SessionDeleteCounts {
  sessions: number
  messages: number
  snapshots: number
  snapshotChunks: number
  feedback: number
  guardrailEvents: number
  storage: number
}

/** MongoDB path of a declared field: validated like a metadata key, each segment escaped as stored. */
function declaredPath(field: string): string {
  return `metadata.${validateMetadataKey(field).segments.map(escapeKey).join('.')}`
}

/**
 * Indexes for declared metadata fields, to pass as `ensureIndexes(client, collections, { sessions: … })`.
 * Each supports equality on the field plus the catalogue's `(updated_at, _id)` ordering.
 */
export function metadataFieldIndexes(fields: readonly string[]): IndexDescription[] {
  return fields.map((field) => {
    const path = declaredPath(field)
    const name = `msm_meta_${path.slice('metadata.'.length).replace(/[^A-Za-z0-9_]/g, '_')}`.slice(0, 100)
    return { key: { [path]: 1, updated_at: -1, _id: -1 }, name }
  })
}

function checkDate(value: unknown, field: string): Date {
  if (!(value instanceof Date) || Number.isNaN(value.getTime())) {
    throw new ValidationError(`${field} must be a valid Date`, { field })
  }
  return value
}

function buildFilter(filter: SessionFilter, options: CatalogueOptions): Document[] {
  const clauses: Document[] = []
  if (filter.applicationName !== undefined) {
    if (typeof filter.applicationName !== 'string') {
      throw new ValidationError('applicationName must be a string', { field: 'applicationName' })
    }
    clauses.push({ application_name: filter.applicationName })
  }
  if (filter.userId !== undefined) {
    if (typeof filter.userId !== 'string') {
      throw new ValidationError('userId must be a string', { field: 'userId' })
    }
    clauses.push({ user_id: filter.userId })
  }
  if (filter.metadata !== undefined) {
    if (filter.metadata === null || typeof filter.metadata !== 'object' || Array.isArray(filter.metadata)) {
      throw new ValidationError('metadata filter must be an object', { field: 'metadata' })
    }
    const declared = new Set(options.metadataFields ?? [])
    for (const [field, value] of Object.entries(filter.metadata)) {
      if (!declared.has(field)) {
        throw new ValidationError(
          `metadata field ${JSON.stringify(field)} is not declared in metadataFields; only declared (indexed) fields can be filtered`,
          { field },
        )
      }
      const scalar =
        value === null ||
        typeof value === 'string' ||
        typeof value === 'boolean' ||
        (typeof value === 'number' && Number.isFinite(value)) ||
        (value instanceof Date && !Number.isNaN(value.getTime()))
      if (!scalar) {
        throw new ValidationError(
          `metadata filter ${JSON.stringify(field)} must be a string, number, boolean, null or Date`,
          {
            field,
          },
        )
      }
      // A scalar can never be read as an operator; strings are encoded exactly as stored.
      clauses.push({ [declaredPath(field)]: encodeValue(value) })
    }
  }
  if (filter.updatedAfter !== undefined) {
    clauses.push({ updated_at: { $gt: checkDate(filter.updatedAfter, 'updatedAfter') } })
  }
  if (filter.updatedBefore !== undefined) {
    clauses.push({ updated_at: { $lt: checkDate(filter.updatedBefore, 'updatedBefore') } })
  }
  return clauses
}

function and(clauses: Document[]): Document {
  if (clauses.length === 0) return {}
  if (clauses.length === 1) return clauses[0]!
  return { $and: clauses }
}

/** Lists sessions, most recently updated first. */
export async function listSessions(
  collections: SessionCollections,
  query: ListSessionsQuery = {},
  options: CatalogueOptions = {},
): Promise<SessionPage> {
  return mapDriverErrors('listSessions', () => querySessions(collections, query, options))
}

async function querySessions(
  collections: SessionCollections,
  query: ListSessionsQuery = {},
  options: CatalogueOptions = {},
): Promise<SessionPage> {
  const limit = pageLimit(query.limit)
  // Expired sessions read as absent, from the moment they expire until they are pruned.
  const clauses = [...buildFilter(query, options), liveClause(options.now ?? new Date())]
  if (query.feedbackRating !== undefined) {
    if (!['up', 'down', 'neutral'].includes(query.feedbackRating)) {
      throw new ValidationError('feedbackRating must be up, down or neutral', { field: 'feedbackRating' })
    }
    clauses.push({ [`feedback_counts.${query.feedbackRating}`]: { $gt: 0 } })
  }
  if (query.cursor) {
    const position = decodeCursor(query.cursor, 'sessions')
    const updated = typeof position.u === 'number' ? new Date(position.u) : null
    if (!updated || Number.isNaN(updated.getTime()) || typeof position.i !== 'string') {
      throw new ValidationError('invalid cursor', { field: 'cursor' })
    }
    clauses.push({ $or: [{ updated_at: { $lt: updated } }, { updated_at: updated, _id: { $lt: position.i } }] })
  }
  const docs = await collections.sessions
    .find(and(clauses), { projection: summaryProjection(options.keyProvider) })
    .sort({ updated_at: -1, _id: -1 })
    .limit(limit + 1)
    .toArray()
  const items: SessionSummary[] = await toSummaries(collections, docs.slice(0, limit), options.keyProvider)
  const last = docs[limit - 1]
  const nextCursor =
    docs.length > limit && last
      ? encodeCursor('sessions', { u: (last.updated_at ?? new Date(0)).getTime(), i: last._id })
      : null
  return { items, nextCursor }
}

/** The session document fields a {@link SessionSummary} is made of (no agent state). */
export const SUMMARY_PROJECTION = {
  _id: 1,
  application_name: 1,
  user_id: 1,
  title: 1,
  auto_title: 1,
  preview: 1,
  message_counts: 1,
  created_at: 1,
  updated_at: 1,
  metadata: 1,
  feedback_counts: 1,
  'metrics.input_tokens': 1,
  'metrics.output_tokens': 1,
  'metrics.total_tokens': 1,
} as const

/** {@link SUMMARY_PROJECTION}, with the data key when sealed metadata is to be opened. */
export function summaryProjection(keyProvider: KeyProvider | null | undefined): Document {
  return keyProvider ? { ...SUMMARY_PROJECTION, [DATA_KEY_FIELD]: 1 } : SUMMARY_PROJECTION
}

/**
 * Session documents (read with {@link summaryProjection}) as listing items, their sealed metadata
 * values opened with the session's data key when a key provider is given.
 */
export async function toSummaries(
  collections: SessionCollections,
  docs: (Partial<SessionDocument> & { _id: string })[],
  keyProvider: KeyProvider | null | undefined,
): Promise<SessionSummary[]> {
  return Promise.all(
    docs.map(async (doc) => {
      if (!keyProvider || !hasSealedMetadata(doc.metadata)) return toSummary(doc)
      try {
        const key = await new SessionKey(keyProvider, collections.sessions, doc._id).fromDocument(doc)
        return toSummary({ ...doc, metadata: openMetadata(key, doc._id, doc.metadata) as Document })
      } catch (error) {
        // One session that cannot be opened (being deleted: its key goes first; or under another
        // master key) does not fail the listing: its values stay sealed, as for a keyless reader.
        if (!(error instanceof DecryptionError)) throw error
        return toSummary(doc)
      }
    }),
  )
}

function count(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : 0
}

/** A session document (read with {@link SUMMARY_PROJECTION}) as a listing item. */
export function toSummary(doc: Partial<SessionDocument> & { _id: string }): SessionSummary {
  const metrics = (doc.metrics ?? {}) as Document
  return {
    sessionId: doc._id,
    applicationName: doc.application_name ?? null,
    userId: doc.user_id ?? null,
    title: doc.title ?? doc.auto_title ?? null,
    preview: doc.preview ?? null,
    messageCount: Object.values(doc.message_counts ?? {}).reduce((sum, n) => sum + count(n), 0),
    createdAt: doc.created_at ?? null,
    updatedAt: doc.updated_at ?? null,
    metadata: (doc.metadata ? decodeValue(doc.metadata) : {}) as Metadata,
    feedbackCounts: {
      up: doc.feedback_counts?.up ?? 0,
      down: doc.feedback_counts?.down ?? 0,
      neutral: doc.feedback_counts?.neutral ?? 0,
    },
    tokens: {
      input: count(metrics.input_tokens),
      output: count(metrics.output_tokens),
      total: count(metrics.total_tokens),
    },
  }
}

/** Sessions deleted per batch (one bulk delete per collection per batch). */
const DELETE_BATCH = 500

/**
 * Deletes every document of the matching sessions, in every collection: messages, snapshots,
 * snapshot chunks, feedback, guardrail events, `MongoStorage` keys under `session/<id>/`, and
 * finally the session documents (last, so an interrupted run can simply be repeated). At least one
 * criterion is required, so a mistaken empty filter cannot wipe the database.
 *
 * Writers still active on a session while it is deleted can leave new documents behind; stop
 * them first (or run the delete again).
 */
export async function deleteSessions(
  collections: SessionCollections,
  filter: DeleteSessionsFilter,
  options: CatalogueOptions = {},
): Promise<SessionDeleteCounts> {
  return mapDriverErrors('deleteSessions', () => removeSessionDocuments(collections, filter, options))
}

async function removeSessionDocuments(
  collections: SessionCollections,
  filter: DeleteSessionsFilter,
  options: CatalogueOptions = {},
): Promise<SessionDeleteCounts> {
  if (filter === null || typeof filter !== 'object')
    throw new ValidationError('filter must be an object', { field: 'filter' })
  const clauses = buildFilter(filter, options)
  const explicit = filter.sessionIds?.map((id) => validateIdentifier(id, 'sessionIds[]'))
  if (filter.sessionIds !== undefined && !Array.isArray(filter.sessionIds)) {
    throw new ValidationError('sessionIds must be an array', { field: 'sessionIds' })
  }
  if (clauses.length === 0 && explicit === undefined) {
    throw new ValidationError(
      'deleteSessions needs at least one criterion (sessionIds, applicationName, userId, metadata, updatedAfter/Before)',
      {
        field: 'filter',
      },
    )
  }
  const counts: SessionDeleteCounts = {
    sessions: 0,
    messages: 0,
    snapshots: 0,
    snapshotChunks: 0,
    feedback: 0,
    guardrailEvents: 0,
    storage: 0,
  }
  let ids: string[]
  if (explicit !== undefined) {
    // Explicit ids combined with other criteria: only those ids that also match.
    ids =
      clauses.length === 0
        ? [...new Set(explicit)]
        : (
            await collections.sessions
              .find(and([...clauses, { _id: { $in: explicit } }]), { projection: { _id: 1 } })
              .toArray()
          ).map((d) => d._id)
  } else {
    ids = (await collections.sessions.find(and(clauses), { projection: { _id: 1 } }).toArray()).map((d) => d._id)
  }
  for (let i = 0; i < ids.length; i += DELETE_BATCH) {
    await deleteBatch(collections, ids.slice(i, i + DELETE_BATCH), counts)
  }
  return counts
}

async function deleteBatch(collections: SessionCollections, ids: string[], counts: SessionDeleteCounts): Promise<void> {
  // Crypto-shredding first: without its data key, no copy of an encrypted session (a backup taken
  // earlier, a document this run misses) can be read back.
  await collections.sessions.updateMany({ _id: { $in: ids } }, { $unset: { [DATA_KEY_FIELD]: '' } })
  const bySession = { session_id: { $in: ids } }
  const [messages, snapshotChunks, feedback, guardrailEvents] = await Promise.all([
    collections.messages.deleteMany(bySession),
    collections.snapshotChunks.deleteMany(bySession),
    collections.feedback.deleteMany(bySession),
    collections.guardrailEvents.deleteMany(bySession),
  ])
  // Snapshot headers after their chunks: a half-deleted snapshot is never left pointing at nothing.
  const snapshots = await collections.snapshots.deleteMany(bySession)
  // `session/<id>/…` keys as a range on `_id` (index-backed; ids are `[a-z0-9_-]`, and '0' is the character after '/').
  const storageOps: AnyBulkWriteOperation<StorageDocument>[] = ids.map((id) => ({
    deleteMany: { filter: { _id: { $gte: `session/${id}/`, $lt: `session/${id}0` } } },
  }))
  const storage = await collections.storage.bulkWrite(storageOps, { ordered: false })
  const sessions = await collections.sessions.deleteMany({ _id: { $in: ids } })
  counts.messages += messages.deletedCount
  counts.snapshotChunks += snapshotChunks.deletedCount
  counts.feedback += feedback.deletedCount
  counts.guardrailEvents += guardrailEvents.deletedCount
  counts.snapshots += snapshots.deletedCount
  counts.storage += storage.deletedCount
  counts.sessions += sessions.deletedCount
}
