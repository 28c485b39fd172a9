/**
 * Feedback storage: one document per entry in the `feedback` collection, plus per-rating counts on
 * the session document.
 *
 * The feedback document is the record: it is inserted first, with its durable outbox entries
 * inside it (one single-document write, so a notification exists if and only if the feedback
 * does). The session's `feedback_counts` are then bumped with `$inc` (upserting the session if
 * needed). Without transactions the two writes are not atomic: if the second fails the feedback is
 * kept, the failure is logged, and {@link recountFeedback} rebuilds the counts from the collection.
 */
import type { Document } from 'mongodb'
import { StorageOperationError, ValidationError } from '../errors.js'
import type { HookCall } from '../hooks/compose.js'
import { toOutboxEntry } from '../notifications/outbox.js'
import type { Feedback, FeedbackRating } from '../model/types.js'
import { describeError, log } from '../logging.js'
import type { SessionCollections } from '../storage/collections.js'
import type { FeedbackDocument } from '../storage/schema.js'
import { validateFeedbackInput } from '../validation/feedback.js'
import { validateIdentifier } from '../validation/identifiers.js'
import { decodeCursor, encodeCursor } from './cursor.js'
import { uuidv7 } from '../model/ids.js'
import { sessionSkeleton } from './session-skeleton.js'
import { mapDriverErrors } from '../storage/driver-errors.js'
import { expiryFields, isExpired, NO_EXPIRY, upsertLiveSession, type ExpiryPolicy } from '../storage/retention.js'
import { isSealed, open } from '../storage/crypto/cipher.js'
import type { SessionCrypto } from '../storage/crypto/session-crypto.js'
import { assertWritableWithoutKey, DATA_KEY_FIELD } from '../storage/crypto/session-key.js'

/** Name of the counter for a rating. */
export function ratingCounter(rating: FeedbackRating): 'up' | 'down' | 'neutral' {
  return rating === null ? 'neutral' : rating
}

export interface FeedbackContext {
  collections: SessionCollections
  sessionId: string
  applicationName: string | null
  durable: boolean
  /** Session expiry: each feedback moves the session's expiry time (an expired session is revived fresh). */
  expiry: ExpiryPolicy
  onStoredApplicationName?: (stored: string | null | undefined) => void
  /** The session's user, written when a write creates the session; immutable afterwards. */
  userId?: string | null
  onStoredUserId?: (stored: string | null | undefined) => void
  /** Encryption on: the comment and the outbox payloads are sealed under the session's key. */
  crypto?: SessionCrypto
}

/** Without encryption: refuses to store a comment in clear in an encrypted session (one read). */
async function assertNotEncrypted(ctx: FeedbackContext): Promise<void> {
  const doc = await ctx.collections.sessions.findOne(
    { _id: ctx.sessionId },
    { projection: { [`${DATA_KEY_FIELD}.id`]: 1, expires_at: 1 } },
  )
  // An expired session is retired and created afresh by this feedback: its key goes with it.
  if (!isExpired(doc, ctx.expiry.now())) assertWritableWithoutKey(ctx.sessionId, doc)
}

/** Where a sealed feedback comment lives: part of its authenticated data. */
function commentPlace(feedbackId: string): string {
  return `feedback/${feedbackId}/comment`
}

/** Per-rating counts. */
export interface FeedbackCounts {
  up: number
  down: number
  neutral: number
}

/** A page of feedback, oldest first. */
export interface FeedbackPage {
  items: Feedback[]
  /** Pass to the next `getFeedbacks` call; `null` when there is nothing more. */
  nextCursor: string | null
}

/** Options of `getFeedbacks`. */
export interface FeedbackPageOptions {
  /** 1–500, default 50. */
  limit?: number
  /** `nextCursor` of the previous page. */
  cursor?: string | null
}

export const DEFAULT_PAGE_LIMIT = 50
export const MAX_PAGE_LIMIT = 500

/** Validates a page size. */
export function pageLimit(limit: unknown): number {
  if (limit === undefined) return DEFAULT_PAGE_LIMIT
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_LIMIT) {
    throw new ValidationError(`limit must be an integer from 1 to ${MAX_PAGE_LIMIT}`, { field: 'limit' })
  }
  return limit
}

/** The public form of a stored feedback document. */
export function toFeedback(doc: FeedbackDocument): Feedback {
  return {
    id: doc._id,
    sessionId: doc.session_id,
    rating: doc.rating,
    // Opened by the readers that hold the key; keyless tools (the CLI) get a sealed comment as stored.
    comment: doc.comment as string | null,
    messageId: doc.message_id,
    agentId: doc.agent_id,
    userId: doc.user_id,
    createdAt: doc.created_at,
  }
}

/** Storage operation of `addFeedback`. */
export async function storeFeedback(ctx: FeedbackContext, input: unknown, call: HookCall): Promise<Feedback> {
  const valid = validateFeedbackInput(input)
  // With encryption the session is made live and keyed first: the comment is sealed under the key
  // of the session the feedback ends up in.
  const key = ctx.crypto ? await ctx.crypto.writeKey() : null
  if (!ctx.crypto) await assertNotEncrypted(ctx)
  const now = ctx.expiry.now()
  const pending = call.takePending()
  const entries = ctx.durable ? pending.map((p) => (p.entry = toOutboxEntry(p.notification, { sealWith: key }))) : []
  const id = uuidv7()
  const doc: FeedbackDocument = {
    _id: id,
    session_id: ctx.sessionId,
    rating: valid.rating,
    comment: valid.comment,
    message_id: valid.messageId,
    agent_id: valid.agentId,
    user_id: valid.userId,
    created_at: now,
    ...(entries.length > 0 && { outbox: entries as Document[] }),
  }
  const stored: FeedbackDocument =
    key && ctx.crypto && valid.comment !== null
      ? { ...doc, comment: ctx.crypto.seal(key, valid.comment, commentPlace(id)) }
      : doc
  try {
    await ctx.collections.feedback.insertOne(stored)
  } catch (error) {
    throw new StorageOperationError(`feedback insert failed for session '${ctx.sessionId}'`, { cause: error })
  }
  log.debug({ session_id: ctx.sessionId, feedback_id: doc._id, rating: ratingCounter(valid.rating) }, 'feedback stored')
  call.dispatch(pending, ctx.durable ? { collection: ctx.collections.feedback, documentId: doc._id } : null)
  await bumpCounts(ctx, ratingCounter(valid.rating), now)
  return toFeedback(doc)
}

async function bumpCounts(ctx: FeedbackContext, counter: keyof FeedbackCounts, now: Date): Promise<void> {
  try {
    // The feedback document is newer than an expired session's expiry time, so retiring that
    // session (here, before the upsert creates a fresh one) keeps it.
    const doc = await upsertLiveSession(ctx.collections, ctx.sessionId, now, (live) =>
      ctx.collections.sessions.findOneAndUpdate(
        { _id: ctx.sessionId, ...live },
        {
          $inc: { [`feedback_counts.${counter}`]: 1 },
          $set: { updated_at: now, ...expiryFields(ctx.expiry, now) },
          $setOnInsert: sessionSkeleton(
            ctx.sessionId,
            ctx.applicationName,
            now,
            ['feedback_counts', 'updated_at'],
            ctx.userId ?? null,
          ),
        },
        // No projection: FerretDB 1.24 rejects findAndModify's `fields` (the session document is small).
        { upsert: true, returnDocument: 'after' },
      ),
    )
    ctx.onStoredApplicationName?.(doc?.application_name)
    ctx.onStoredUserId?.(doc?.user_id)
  } catch (error) {
    // The feedback itself is stored; failing now would invite a duplicate retry by the caller.
    log.error(
      { session_id: ctx.sessionId, error: describeError(error) },
      'feedback stored but its count was not updated | run recountFeedback() to repair',
    )
  }
}

/**
 * Feedback of the session, oldest first, keyset-paged on the time-ordered id. Sealed comments are
 * opened with `crypto`; `null` (a reader configured without encryption) makes a sealed comment a
 * `DecryptionError`; without the argument (keyless tools) sealed comments are returned as stored.
 */
export async function loadFeedbackPage(
  collections: SessionCollections,
  sessionId: string,
  options: FeedbackPageOptions = {},
  crypto?: SessionCrypto | null,
): Promise<FeedbackPage> {
  const limit = pageLimit(options.limit)
  const after = options.cursor ? decodeCursor(options.cursor, 'feedback') : undefined
  const filter: Document = { session_id: sessionId }
  if (after !== undefined) {
    if (typeof after.id !== 'string') throw new ValidationError('invalid cursor', { field: 'cursor' })
    filter._id = { $gt: after.id }
  }
  const docs = await collections.feedback
    .find(filter, { projection: { outbox: 0, outbox_lease_until: 0 } })
    .sort({ _id: 1 })
    .limit(limit + 1)
    .toArray()
  const more = docs.length > limit
  const page = docs.slice(0, limit)
  const items =
    crypto !== undefined && page.some((doc) => isSealed(doc.comment))
      ? await openComments(crypto, sessionId, page)
      : page.map(toFeedback)
  const last = items.at(-1)
  return { items, nextCursor: more && last ? encodeCursor('feedback', { id: last.id }) : null }
}

/** The per-rating counts stored on the session (zeros for a missing session). */
export async function loadFeedbackCounts(
  collections: SessionCollections,
  sessionId: string,
  expiry: ExpiryPolicy = NO_EXPIRY,
): Promise<FeedbackCounts> {
  const doc = await collections.sessions.findOne(
    { _id: sessionId },
    { projection: { feedback_counts: 1, expires_at: 1 } },
  )
  const counts = (isExpired(doc, expiry.now()) ? undefined : doc?.feedback_counts) ?? {}
  return { up: counts.up ?? 0, down: counts.down ?? 0, neutral: counts.neutral ?? 0 }
}

/**
 * Rebuilds `feedback_counts` of a session from the feedback collection (after a failed count
 * update, or a manual edit). Uses only `$match`/`$group`.
 */
export async function recountFeedback(collections: SessionCollections, sessionId: string): Promise<FeedbackCounts> {
  return mapDriverErrors('recountFeedback', () => countFeedbackByRating(collections, sessionId))
}

async function countFeedbackByRating(collections: SessionCollections, sessionId: string): Promise<FeedbackCounts> {
  validateIdentifier(sessionId, 'sessionId')
  const groups = await collections.feedback
    .aggregate<{ _id: FeedbackRating; n: number }>([
      { $match: { session_id: sessionId } },
      { $group: { _id: '$rating', n: { $sum: 1 } } },
    ])
    .toArray()
  const counts: FeedbackCounts = { up: 0, down: 0, neutral: 0 }
  for (const group of groups) counts[ratingCounter(group._id)] += group.n
  await collections.sessions.updateOne({ _id: sessionId }, { $set: { feedback_counts: counts } })
  return counts
}

/** Feedback with sealed comments opened (`null`: no key, so a sealed comment is a `DecryptionError`). */
function openComments(crypto: SessionCrypto | null, sessionId: string, docs: FeedbackDocument[]): Promise<Feedback[]> {
  const opened = (key: Buffer | null) =>
    docs.map((doc) =>
      toFeedback({ ...doc, comment: open(key, doc.comment, { sessionId, place: commentPlace(doc._id) }) as string }),
    )
  return crypto ? crypto.withReadKey(opened) : Promise.resolve().then(() => opened(null))
}
