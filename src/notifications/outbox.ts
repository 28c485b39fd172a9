/**
 * The durable outbox: notifications stored in the same single-document update as the change they
 * announce (metadata events on the `sessions` document, feedback events on the `feedback` document),
 * removed once delivered.
 *
 * Engine constraints shape these helpers: FerretDB 1.24 has no positional `$` and no `arrayFilters`,
 * and its `$pull` with a condition on a sub-document field (`{ $pull: { outbox: { event_id } } }`)
 * silently matches nothing (measured: modifiedCount 0). So no per-element updates: an entry is removed
 * with `$pullAll` of the exact stored entry (exact equality, the same on MongoDB and FerretDB), and
 * retry bookkeeping lives at document level (`outbox_lease_until`, `outbox_failures`).
 *
 * Stored entry (snake_case): `{ event_id, session_id, channel, target, payload, created_at, due_at }`.
 * `due_at` is when a relay may consider the entry abandoned by the process that wrote it.
 */
import type { Binary, Collection, Document, Filter, UpdateFilter } from 'mongodb'
import { MongoSessionError } from '../errors.js'
import { isSealed, open, seal } from '../storage/crypto/cipher.js'
import { decodeValue, encodeValue } from '../storage/encoding.js'
import type { Notification } from '../model/types.js'

/** One stored, not yet delivered notification. */
export interface OutboxEntryDocument {
  event_id: string
  session_id: string
  channel: string
  target: string
  /**
   * The channel payload, encoded with the storage encoding (keys safe for every engine); sealed
   * under the session's data key when the session is encrypted (it holds user content).
   */
  payload: Document | Binary
  created_at: Date
  due_at: Date
}

/** An entry given up on (permanent error), kept for inspection in the document's `outbox_failed` array. */
export interface FailedOutboxEntryDocument extends OutboxEntryDocument {
  failed_at: Date
  error: string
}

/** Fields the outbox adds to an owning document (`sessions` or `feedback`). */
export interface OutboxOwnerDocument {
  _id: string
  outbox?: Document[]
  outbox_failed?: Document[]
  outbox_lease_until?: Date
  outbox_failures?: number
}

/**
 * How long, by default, an entry belongs to the process that wrote it (its in-process dispatcher and
 * retries) before a relay picks it up. Longer than the dispatcher's whole default retry budget.
 */
export const DEFAULT_RELAY_DELAY_MS = 60_000

/** A stored outbox entry could not be read back as a notification. */
export class OutboxEntryError extends MongoSessionError {
  override readonly name = 'OutboxEntryError'

  constructor(message: string) {
    super('MSM_NOTIFICATION', message)
  }
}

/**
 * The entry to store for `notification`, in the same update as the change (`$push: { outbox: entry }`).
 * `relayDelayMs` sets `due_at` (default {@link DEFAULT_RELAY_DELAY_MS} after creation). With
 * `sealWith` (the data key of an encrypted session) the payload is sealed: it quotes user content.
 */
export function toOutboxEntry(
  notification: Notification,
  options: { relayDelayMs?: number; sealWith?: Buffer | null } = {},
): OutboxEntryDocument {
  const createdAt = new Date(notification.createdAt.getTime())
  const payload = encodeValue(notification.payload) as Document
  const place = { sessionId: notification.sessionId, place: outboxPlace(notification.eventId) }
  return {
    event_id: notification.eventId,
    session_id: notification.sessionId,
    channel: notification.channel,
    target: notification.target,
    payload: options.sealWith ? seal(options.sealWith, payload, place) : payload,
    created_at: createdAt,
    due_at: new Date(createdAt.getTime() + (options.relayDelayMs ?? DEFAULT_RELAY_DELAY_MS)),
  }
}

/** Where a sealed outbox payload lives: part of its authenticated data. */
export function outboxPlace(eventId: string): string {
  return `outbox/${eventId}`
}

/** Whether a stored entry's payload is sealed (reading it needs the session's data key). */
export function isSealedEntry(doc: Document): boolean {
  return isSealed(doc.payload)
}

/**
 * Reads a stored entry back; throws an {@link OutboxEntryError} when its shape is wrong, and
 * `DecryptionError` when its payload is sealed and `key` (the session's data key) does not open it.
 */
export function fromOutboxEntry(doc: Document, attempts = 0, key: Buffer | null = null): Notification {
  const text = (key: string): string => {
    const value: unknown = doc[key]
    if (typeof value !== 'string' || value === '') throw new OutboxEntryError(`outbox entry: '${key}' is missing`)
    return value
  }
  const createdAt: unknown = doc.created_at
  if (!(createdAt instanceof Date)) throw new OutboxEntryError(`outbox entry: 'created_at' is not a date`)
  const stored: unknown = isSealed(doc.payload)
    ? open(key, doc.payload, { sessionId: text('session_id'), place: outboxPlace(text('event_id')) })
    : doc.payload
  const payload = decodeValue(stored)
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
    throw new OutboxEntryError(`outbox entry ${String(doc.event_id)}: 'payload' is not an object`)
  }
  return {
    eventId: text('event_id'),
    sessionId: text('session_id'),
    channel: text('channel'),
    target: text('target'),
    payload: payload as Record<string, unknown>,
    createdAt,
    attempts,
  }
}

/** Entries as stored on a document, in order (anything that is not an object is skipped). */
export function outboxEntriesOf(doc: Document): OutboxEntryDocument[] {
  const outbox: unknown = doc.outbox
  if (!Array.isArray(outbox)) return []
  return outbox.filter((e): e is OutboxEntryDocument => typeof e === 'object' && e !== null)
}

/**
 * Marks one entry delivered by removing it from the document's `outbox`. Pass the exact stored entry
 * (one write), or its event id (a read to find the stored entry, then the write). Resolves `true` when
 * the entry was there and is now gone, `false` when it was already gone.
 */
export async function markDelivered<T extends Document>(
  collection: Collection<T>,
  documentId: string,
  entryOrEventId: OutboxEntryDocument | string,
): Promise<boolean> {
  const entry = await resolveEntry(collection, documentId, entryOrEventId)
  if (!entry) return false
  const result = await collection.updateOne(
    { _id: documentId } as unknown as Filter<T>,
    { $pullAll: { outbox: [entry] } } as unknown as UpdateFilter<T>,
  )
  return result.modifiedCount > 0
}

/**
 * Gives up on an entry: moves it from `outbox` to `outbox_failed` (with the reason) in one update, so
 * a relay does not retry it forever. Used for permanent errors (bad ARN, access denied).
 */
export async function markFailed<T extends Document>(
  collection: Collection<T>,
  documentId: string,
  entryOrEventId: OutboxEntryDocument | string,
  reason: string,
  now: Date = new Date(),
): Promise<boolean> {
  const entry = await resolveEntry(collection, documentId, entryOrEventId)
  if (!entry) return false
  const failed: FailedOutboxEntryDocument = { ...entry, failed_at: now, error: reason.slice(0, 2000) }
  const result = await collection.updateOne(
    { _id: documentId } as unknown as Filter<T>,
    { $pullAll: { outbox: [entry] }, $push: { outbox_failed: failed } } as unknown as UpdateFilter<T>,
  )
  return result.modifiedCount > 0
}

async function resolveEntry<T extends Document>(
  collection: Collection<T>,
  documentId: string,
  entryOrEventId: OutboxEntryDocument | string,
): Promise<OutboxEntryDocument | undefined> {
  if (typeof entryOrEventId !== 'string') return entryOrEventId
  const doc = await collection.findOne({ _id: documentId } as unknown as Filter<T>, { projection: { outbox: 1 } })
  return doc ? outboxEntriesOf(doc).find((e) => e.event_id === entryOrEventId) : undefined
}

/** A document's outbox, leased to one deliverer until `leaseUntil`. */
export interface ClaimedOutbox {
  documentId: string
  leaseUntil: Date
  /** All entries, in stored (write) order. */
  entries: OutboxEntryDocument[]
  /** Consecutive failed delivery rounds so far (drives the relay's backoff). */
  failures: number
}

function leaseFree(now: Date): Document {
  return { $or: [{ outbox_lease_until: { $exists: false } }, { outbox_lease_until: { $lte: now } }] }
}

/**
 * Takes the document-level lease (`outbox_lease_until`) with one conditional update, so two relays
 * never deliver the same document at once. `null` when someone else holds it or the document is gone.
 */
export async function claimOutbox<T extends Document>(
  collection: Collection<T>,
  documentId: string,
  options: { leaseMs: number; now?: Date },
): Promise<ClaimedOutbox | null> {
  const now = options.now ?? new Date()
  const leaseUntil = new Date(now.getTime() + options.leaseMs)
  const doc = await collection.findOneAndUpdate(
    { _id: documentId, ...leaseFree(now) } as unknown as Filter<T>,
    { $set: { outbox_lease_until: leaseUntil } } as unknown as UpdateFilter<T>,
    // No projection: FerretDB 1.24 rejects findAndModify's `fields` (NotImplemented). Owning documents are small.
    { returnDocument: 'after' },
  )
  if (!doc) return null
  const failures = typeof doc.outbox_failures === 'number' ? doc.outbox_failures : 0
  return { documentId, leaseUntil, entries: outboxEntriesOf(doc), failures }
}

/**
 * Releases a lease taken by {@link claimOutbox}. With `retryAt`, the lease is extended to that time
 * instead (the document-level backoff after a failed round) and the failure count incremented.
 * Does nothing when the lease is no longer ours.
 */
export async function releaseOutbox<T extends Document>(
  collection: Collection<T>,
  claim: ClaimedOutbox,
  options: { retryAt?: Date } = {},
): Promise<void> {
  const filter = { _id: claim.documentId, outbox_lease_until: claim.leaseUntil } as unknown as Filter<T>
  const update = options.retryAt
    ? { $set: { outbox_lease_until: options.retryAt }, $inc: { outbox_failures: 1 } }
    : { $unset: { outbox_lease_until: '', outbox_failures: '' } }
  await collection.updateOne(filter, update as unknown as UpdateFilter<T>)
}

/**
 * Ids of documents holding at least one entry due by `now` and not leased (uses the `outbox.due_at`
 * index).
 */
export async function findPendingOutboxDocuments<T extends Document>(
  collection: Collection<T>,
  options: { now?: Date; limit?: number } = {},
): Promise<string[]> {
  const now = options.now ?? new Date()
  const docs = await collection
    .find({ 'outbox.due_at': { $lte: now }, ...leaseFree(now) } as unknown as Filter<T>, { projection: { _id: 1 } })
    .limit(options.limit ?? 100)
    .toArray()
  return docs.map((d) => String(d._id))
}
