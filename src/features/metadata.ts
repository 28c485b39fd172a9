/**
 * Session metadata storage: the operations at the bottom of the metadata hook chain.
 *
 * Semantics (see docs/metadata.md):
 * - `update` merges: each key is a `$set` of `metadata.<segment>…`, other fields are preserved. A
 *   dotted key addresses a nested field (`customer.tier` changes only `tier` inside `customer`); an
 *   object value replaces the whole value at its key (no deep merge).
 * - `delete` removes keys (`$unset`); deleting a missing key is not an error.
 * - `update`/`delete` on a session that does not exist create the session document (upsert with
 *   the skeleton in `$setOnInsert`); `get` on a missing session returns `{}`.
 * - An empty update or key list writes nothing and returns the current metadata.
 * - Each write is ONE `findOneAndUpdate` on the session document, carrying the durable outbox
 *   entries (`$push: { outbox: { $each } }`) registered by hooks before the write.
 */
import type { Document, UpdateFilter } from 'mongodb'
import { MongoSessionError, StorageOperationError, ValidationError } from '../errors.js'
import type { HookCall } from '../hooks/compose.js'
import { toOutboxEntry } from '../notifications/outbox.js'
import type { Metadata, MetadataValue } from '../model/types.js'
import { describeError, log } from '../logging.js'
import type { SessionCollections } from '../storage/collections.js'
import { decodeValue, encodeValue, escapeKey } from '../storage/encoding.js'
import type { SessionDocument } from '../storage/schema.js'
import {
  METADATA_LIMITS,
  validateMetadataKeys,
  validateMetadataUpdate,
  type MetadataPath,
} from '../validation/metadata.js'
import { sessionSkeleton } from './session-skeleton.js'
import { expiryFields, isExpired, upsertLiveSession, type ExpiryPolicy } from '../storage/retention.js'
import { hasSealedMetadata, openMetadata, sealMetadataValue } from '../storage/crypto/sealed-metadata.js'
import { KEY_PROJECTION, type SessionCrypto } from '../storage/crypto/session-crypto.js'
import { assertWritableWithoutKey, DATA_KEY_FIELD } from '../storage/crypto/session-key.js'
import { defineOwn } from '../model/objects.js'

/** What the metadata operations need to know about their session. */
export interface MetadataContext {
  collections: SessionCollections
  sessionId: string
  applicationName: string | null
  durable: boolean
  /** Session expiry: an expired session reads as `{}`; each write moves the expiry time. */
  expiry: ExpiryPolicy
  /** Called with the stored application name after each write (immutability check). */
  onStoredApplicationName?: (stored: string | null | undefined) => void
  /** The session's user, written when a write creates the session; immutable afterwards. */
  userId?: string | null
  /** Called with the stored user id after each write (immutability check). */
  onStoredUserId?: (stored: string | null | undefined) => void
  /** Encryption on: values (outside `clearPaths`) and outbox payloads are sealed under the session's key. */
  crypto?: SessionCrypto
  /** Escaped path segments of the declared metadata fields: stored in clear, to stay queryable. */
  clearPaths?: readonly (readonly string[])[]
}

/** The MongoDB path of a validated metadata key: every segment escaped like keys inside values. */
export function metadataFieldPath(path: MetadataPath): string {
  return `metadata.${path.segments.map(escapeKey).join('.')}`
}

function decodeMetadata(stored: unknown): Metadata {
  if (stored === null || stored === undefined || typeof stored !== 'object') return {}
  return decodeValue(stored) as Metadata
}

/** The metadata of a session document; sealed values are opened with `key`, or the key `doc` holds. */
async function metadataOf(ctx: MetadataContext, doc: Document | null, key?: Buffer): Promise<Metadata> {
  const stored: unknown = doc?.metadata
  if (!hasSealedMetadata(stored)) return decodeMetadata(stored)
  const opener = key ?? (ctx.crypto ? await ctx.crypto.readKey(doc) : null)
  return decodeMetadata(openMetadata(opener, ctx.sessionId, stored))
}

/** Reads the value at `segments` of a decoded metadata object (own properties only). */
function lookup(metadata: Metadata, segments: string[]): { found: boolean; value?: MetadataValue } {
  let current: unknown = metadata
  for (const segment of segments) {
    if (current === null || typeof current !== 'object' || Array.isArray(current) || current instanceof Date) {
      return { found: false }
    }
    if (!Object.prototype.hasOwnProperty.call(current, segment)) return { found: false }
    current = (current as Record<string, unknown>)[segment]
  }
  return { found: true, value: current as MetadataValue }
}

async function readStoredMetadata(ctx: MetadataContext): Promise<Metadata> {
  return (await readSession(ctx)).metadata
}

/** The session's metadata, and the document read (with its data key, when encrypting). */
async function readSession(ctx: MetadataContext): Promise<{ metadata: Metadata; doc: Document | null }> {
  const doc = await ctx.collections.sessions.findOne(
    { _id: ctx.sessionId },
    { projection: { metadata: 1, expires_at: 1, ...(ctx.crypto ? KEY_PROJECTION : { [`${DATA_KEY_FIELD}.id`]: 1 }) } },
  )
  if (isExpired(doc, ctx.expiry.now())) return { metadata: {}, doc }
  return { metadata: await metadataOf(ctx, doc), doc }
}

/**
 * Applies the update to a copy of the current metadata, to check the total size and that every
 * dotted path can be created (MongoDB refuses `a.b` when `a` holds a string or an array).
 */
function simulateUpdate(current: Metadata, entries: ReturnType<typeof validateMetadataUpdate>['entries']): number {
  const next = structuredClone(current) as Record<string, unknown>
  for (const { path, value } of entries) {
    let target: Record<string, unknown> = next
    for (let i = 0; i < path.segments.length - 1; i++) {
      const segment = path.segments[i]!
      const child = Object.prototype.hasOwnProperty.call(target, segment) ? target[segment] : undefined
      if (child === undefined || child === null) {
        const created: Record<string, unknown> = {}
        defineOwn(target, segment, created)
        target = created
      } else if (typeof child === 'object' && !Array.isArray(child) && !(child instanceof Date)) {
        target = child as Record<string, unknown>
      } else {
        const prefix = path.segments.slice(0, i + 1).join('.')
        throw new ValidationError(
          `metadata key ${JSON.stringify(path.key)}: '${prefix}' holds a ${Array.isArray(child) ? 'list' : typeof child}, not an object`,
          { field: path.key },
        )
      }
    }
    const last = path.segments[path.segments.length - 1]!
    defineOwn(target, last, value)
  }
  return Buffer.byteLength(JSON.stringify(next), 'utf8')
}

function isPathNotViable(error: unknown): boolean {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined
  return code === 28 || code === 2
}

/**
 * Upserts the session document (a new session is created by its first metadata write; an expired
 * one is retired first, so the write starts a fresh session).
 */
async function upsertSession(
  ctx: MetadataContext,
  update: UpdateFilter<SessionDocument>,
  what: string,
  now: Date,
): Promise<Document | null> {
  try {
    return await upsertLiveSession(ctx.collections, ctx.sessionId, now, (live) =>
      ctx.collections.sessions.findOneAndUpdate({ _id: ctx.sessionId, ...live }, update, {
        upsert: true,
        returnDocument: 'after',
        // No projection: FerretDB 1.24 rejects findAndModify's `fields` (the session document is small).
      }),
    )
  } catch (error) {
    if (error instanceof StorageOperationError) throw error
    if (isPathNotViable(error)) {
      throw new ValidationError(`${what}: ${describeError(error)}`, { field: 'metadata', cause: error })
    }
    throw new StorageOperationError(`${what} failed for session '${ctx.sessionId}'`, { cause: error })
  }
}

/**
 * Takes the notifications hooks registered for this write. Durable ones become outbox entries of the
 * write, their payloads sealed when a key is given (`key` is asked for only when there are some).
 */
async function outboxPush(ctx: MetadataContext, call: HookCall, key: () => Promise<Buffer | null>) {
  const pending = call.takePending()
  const sealWith = ctx.durable && pending.length > 0 && ctx.crypto ? await key() : null
  const entries = ctx.durable ? pending.map((p) => (p.entry = toOutboxEntry(p.notification, { sealWith }))) : []
  return { pending, push: entries.length > 0 ? { $push: { outbox: { $each: entries } } } : {} }
}

function committed(
  ctx: MetadataContext,
  call: HookCall,
  pending: ReturnType<HookCall['takePending']>,
  doc: Document | null,
) {
  ctx.onStoredApplicationName?.(doc?.application_name as string | null | undefined)
  ctx.onStoredUserId?.(doc?.user_id as string | null | undefined)
  call.dispatch(pending, ctx.durable ? { collection: ctx.collections.sessions, documentId: ctx.sessionId } : null)
}

/** Storage operation of `updateMetadata`: merges `metadata` and returns the session's metadata afterwards. */
export async function storeMetadataUpdate(ctx: MetadataContext, input: unknown, call: HookCall): Promise<Metadata> {
  const validated = validateMetadataUpdate(input)
  if (validated.entries.length === 0) {
    call.takePending()
    return readStoredMetadata(ctx)
  }
  const { metadata: current, doc: read } = await readSession(ctx)
  if (!ctx.crypto && !isExpired(read, ctx.expiry.now())) assertWritableWithoutKey(ctx.sessionId, read)
  const total = simulateUpdate(current, validated.entries)
  if (total > METADATA_LIMITS.maxTotalBytes) {
    throw new ValidationError(
      `session metadata would be ${total} bytes as JSON; at most ${METADATA_LIMITS.maxTotalBytes} are kept per session`,
      { field: 'metadata' },
    )
  }
  // With encryption, the session is made live and keyed before anything is sealed.
  const key = ctx.crypto ? await ctx.crypto.writeKey(read) : undefined
  const now = ctx.expiry.now()
  const set: Document = { updated_at: now, ...expiryFields(ctx.expiry, now) }
  for (const { path, value } of validated.entries) {
    const segments = path.segments.map(escapeKey)
    set[`metadata.${segments.join('.')}`] = key
      ? sealMetadataValue(
          { key, sessionId: ctx.sessionId, clearPaths: ctx.clearPaths ?? [] },
          segments,
          encodeValue(value),
        )
      : encodeValue(value)
  }
  const { pending, push } = await outboxPush(ctx, call, async () => key ?? null)
  const update = {
    $set: set,
    $setOnInsert: sessionSkeleton(
      ctx.sessionId,
      ctx.applicationName,
      now,
      ['metadata', 'updated_at', 'outbox'],
      ctx.userId ?? null,
    ),
    ...push,
  } as UpdateFilter<SessionDocument>
  log.debug({ session_id: ctx.sessionId, keys: validated.entries.map((e) => e.path.key) }, 'metadata update')
  const doc = await upsertSession(ctx, update, 'metadata update', now)
  committed(ctx, call, pending, doc)
  return metadataOf(ctx, doc, key)
}

/** Storage operation of `deleteMetadata`: removes `keys` and returns the session's metadata afterwards. */
export async function storeMetadataDelete(ctx: MetadataContext, input: unknown, call: HookCall): Promise<Metadata> {
  const paths = validateMetadataKeys(input)
  if (paths.length === 0) {
    call.takePending()
    return readStoredMetadata(ctx)
  }
  // `$unset` of both `a` and `a.b` is refused by MongoDB; deleting `a` already deletes `a.b`.
  const keys = new Set(paths.map((p) => p.key))
  const effective = paths.filter((p) => !p.segments.some((_, n) => n > 0 && keys.has(p.segments.slice(0, n).join('.'))))
  const now = ctx.expiry.now()
  const unset: Document = {}
  for (const path of effective) unset[metadataFieldPath(path)] = ''
  const { pending, push } = await outboxPush(ctx, call, () => ctx.crypto!.writeKey())
  const update = {
    $unset: unset,
    $set: { updated_at: now, ...expiryFields(ctx.expiry, now) },
    $setOnInsert: sessionSkeleton(
      ctx.sessionId,
      ctx.applicationName,
      now,
      ['metadata', 'updated_at', 'outbox'],
      ctx.userId ?? null,
    ),
    ...push,
  } as UpdateFilter<SessionDocument>
  log.debug({ session_id: ctx.sessionId, keys: effective.map((p) => p.key) }, 'metadata delete')
  const doc = await upsertSession(ctx, update, 'metadata delete', now)
  committed(ctx, call, pending, doc)
  return metadataOf(ctx, doc)
}

/**
 * Storage operation of `getMetadata`: the whole metadata object, or only `keys` (a result key is
 * the requested key as given, dotted keys included; missing keys are left out).
 */
export async function loadMetadata(
  ctx: MetadataContext,
  input: { keys?: unknown } | undefined,
  call: HookCall,
): Promise<Metadata> {
  const paths = input?.keys === undefined ? undefined : validateMetadataKeys(input.keys)
  const pending = call.takePending()
  let metadata: Metadata
  try {
    metadata = await readStoredMetadata(ctx)
  } catch (error) {
    if (error instanceof MongoSessionError) throw error
    throw new StorageOperationError(`metadata read failed for session '${ctx.sessionId}'`, { cause: error })
  }
  call.dispatch(pending, null)
  if (!paths) return metadata
  const out: Metadata = {}
  for (const path of paths) {
    const { found, value } = lookup(metadata, path.segments)
    if (found) {
      defineOwn(out, path.key, value)
    }
  }
  return out
}

/** Logs (once per caller) that a stored application name differs from the configured one. */
export function applicationNameChecker(
  sessionId: string,
  configured: string | null,
): (stored: string | null | undefined) => void {
  return immutableFieldChecker(sessionId, configured, 'application name')
}

/** Logs (once per caller) that a stored immutable field (`what`) differs from the configured value. */
export function immutableFieldChecker(
  sessionId: string,
  configured: string | null,
  what: string,
): (stored: string | null | undefined) => void {
  let warned = false
  return (stored) => {
    if (warned || configured === null || stored === undefined || stored === configured) return
    warned = true
    log.warn(
      { session_id: sessionId, stored: stored, configured },
      `${what} is immutable once the session exists | the configured value was ignored`,
    )
  }
}
