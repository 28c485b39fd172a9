/**
 * The outbox relay: delivers stored notifications that their writer did not (crash, restart, AWS
 * outage longer than the in-process retries). Safe to run in several processes at once: each
 * document's outbox is delivered under a document-level lease, entries in stored order.
 *
 * Delivery is at-least-once: a crash between a send and its `markDelivered` re-sends that entry later,
 * with the same event id (the FIFO deduplication id, and the `event_id` message attribute).
 */
import type { Collection, Document } from 'mongodb'
import { ConfigurationError, DecryptionError } from '../errors.js'
import { describeError, log } from '../logging.js'
import {
  claimOutbox,
  findPendingOutboxDocuments,
  fromOutboxEntry,
  isSealedEntry,
  markDelivered,
  markFailed,
  OutboxEntryError,
  releaseOutbox,
  type ClaimedOutbox,
  type OutboxEntryDocument,
} from './outbox.js'
import type { NotificationSender } from '../model/types.js'
import { mapDriverErrors } from '../storage/driver-errors.js'
import type { KeyProvider } from '../storage/crypto/key-provider.js'
import { SessionKey } from '../storage/crypto/session-key.js'
import type { SessionDocument } from '../storage/schema.js'
import { backoffCeiling, sendWithTimeout } from './send.js'

/** A collection whose documents carry an `outbox` array (`sessions`, `feedback`). */
// `any`: Collection<T> is invariant, so Collection<SessionDocument> is not a Collection<Document>.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type OutboxCollection = Collection<Document> | Collection<any>

/** What {@link relayPendingNotifications} needs. */
export interface RelayOptions {
  /** Collections to scan: the `sessions` and `feedback` collections (a list, or `{ sessions, feedback }`). */
  collections: readonly OutboxCollection[] | Record<string, OutboxCollection>
  /** One sender per channel (`sns`, `sqs`, `websocket`…), e.g. the `senders` of the configured hooks. */
  senders: readonly NotificationSender[] | Record<string, NotificationSender>
  /** How long a document is leased while being delivered. Default 60 000 ms. */
  leaseMs?: number
  /** Documents fetched per query. Default 100. */
  batchSize?: number
  /** Documents delivered in parallel (entries of one document are always sequential). Default 4. */
  concurrency?: number
  /** Backoff of a document after a failed round: base, doubling per consecutive failure. Default 1 000 ms. */
  baseDelayMs?: number
  /** Cap of that backoff. Default 300 000 ms. */
  maxDelayMs?: number
  /** One send is abandoned after this long. Default 30 000 ms. */
  sendTimeoutMs?: number
  /** Clock (tests move it forward to make fresh entries due). */
  now?: () => Date
  /**
   * Encrypted sessions store their notifications' payloads sealed: the relay opens them with the
   * session's data key, read from the `sessions` collection (`sessions`, default: the collection
   * given as `collections.sessions`, or the listed one named like it) and unwrapped by `keyProvider`.
   * Without it, sealed entries are left pending (and logged) for a relay that has the key.
   */
  encryption?: { keyProvider: KeyProvider; sessions?: OutboxCollection }
}

/** Outcome of one relay pass. */
export interface RelayResult {
  /** Documents whose outbox was leased and processed. */
  documents: number
  delivered: number
  /** Entries given up (permanent error, unreadable entry): moved to `outbox_failed`. */
  failed: number
  /** Documents left for a later pass after a transient failure (backoff set on the document). */
  deferred: number
}

const MAX_ROUNDS = 1_000

/** Delivers every due, unleased outbox entry of the given collections once; resolves the counts. */
export async function relayPendingNotifications(options: RelayOptions): Promise<RelayResult> {
  return mapDriverErrors('relayPendingNotifications', () => relayOnce(options))
}

async function relayOnce(options: RelayOptions): Promise<RelayResult> {
  const collections = Array.isArray(options.collections)
    ? (options.collections as readonly OutboxCollection[])
    : Object.values(options.collections as Record<string, OutboxCollection>)
  const senders = senderMap(options.senders)
  const keys = options.encryption ? sessionKeys(options.encryption, options.collections) : null
  const now = options.now ?? (() => new Date())
  const concurrency = Math.max(1, options.concurrency ?? 4)
  const result: RelayResult = { documents: 0, delivered: 0, failed: 0, deferred: 0 }
  for (const collection of collections) {
    const seen = new Set<string>()
    for (let round = 0; round < MAX_ROUNDS; round += 1) {
      const ids = (
        await findPendingOutboxDocuments(collection, { now: now(), limit: options.batchSize ?? 100 })
      ).filter((id) => !seen.has(id))
      if (ids.length === 0) break
      ids.forEach((id) => seen.add(id))
      await forEachLimited(ids, concurrency, async (id) => {
        const claim = await claimOutbox(collection, id, { leaseMs: options.leaseMs ?? 60_000, now: now() })
        if (!claim) return
        result.documents += 1
        await deliverClaim(collection, claim, senders, keys, options, now, result)
      })
    }
  }
  if (result.documents > 0) log.info({ ...result }, 'outbox relay pass finished')
  return result
}

async function deliverClaim(
  collection: OutboxCollection,
  claim: ClaimedOutbox,
  senders: Map<string, NotificationSender>,
  keys: SessionKeys | null,
  options: RelayOptions,
  now: () => Date,
  result: RelayResult,
): Promise<void> {
  const coll = collection as Collection<Document>
  for (const entry of claim.entries) {
    // Entries are in write order; a not-yet-due entry still belongs to its writer, and so do later ones.
    if (!(entry.due_at instanceof Date) || entry.due_at.getTime() > now().getTime()) break
    const fields = { session_id: entry.session_id, channel: entry.channel, event_id: entry.event_id }
    const outcome = await sendEntry(entry, senders, keys, claim.failures + 1, options.sendTimeoutMs ?? 30_000)
    if (outcome.ok) {
      await markDelivered(coll, claim.documentId, entry)
      result.delivered += 1
      continue
    }
    if (outcome.permanent) {
      log.error(fields, `${entry.channel} delivery failed (permanent error), moved to outbox_failed: ${outcome.reason}`)
      await markFailed(coll, claim.documentId, entry, outcome.reason)
      result.failed += 1
      continue
    }
    const delay = backoffCeiling(claim.failures + 1, options.baseDelayMs ?? 1_000, options.maxDelayMs ?? 300_000)
    log.warn({ ...fields, retry_in_ms: delay }, `${entry.channel} delivery failed, relay will retry: ${outcome.reason}`)
    await releaseOutbox(coll, claim, { retryAt: new Date(now().getTime() + delay) })
    result.deferred += 1
    return
  }
  await releaseOutbox(coll, claim)
}

/**
 * Sends one stored entry. An entry that cannot be read back (malformed, sealed for a session whose
 * key is gone, or failing authentication) is a permanent failure; a sealed entry without a key
 * provider, or whose key cannot be unwrapped now, is not.
 */
async function sendEntry(
  entry: OutboxEntryDocument,
  senders: Map<string, NotificationSender>,
  keys: SessionKeys | null,
  attempt: number,
  timeoutMs: number,
): Promise<{ ok: true } | { ok: false; permanent: boolean; reason: string }> {
  const sender = senders.get(entry.channel)
  if (!sender) return { ok: false, permanent: false, reason: `no sender configured for channel '${entry.channel}'` }
  const sealed = isSealedEntry(entry)
  if (sealed && !keys) {
    return { ok: false, permanent: false, reason: 'the payload is encrypted: give the relay encryption.keyProvider' }
  }
  let key: Buffer | null = null
  if (sealed && keys) {
    try {
      key = await keys.of(String(entry.session_id))
    } catch (error) {
      // Unwrapping failed: KMS throttled or unreachable, or this relay has the wrong master key.
      // Another pass (or a relay configured right) can still deliver it: not a permanent failure.
      if (error instanceof DecryptionError) return { ok: false, permanent: false, reason: error.message }
      throw error
    }
  }
  let notification
  try {
    notification = fromOutboxEntry(entry, attempt, key)
  } catch (error) {
    if (error instanceof OutboxEntryError || error instanceof DecryptionError) {
      return { ok: false, permanent: true, reason: error.message }
    }
    throw error
  }
  const outcome = await sendWithTimeout(sender, notification, timeoutMs)
  return outcome.ok ? outcome : { ok: false, permanent: outcome.permanent, reason: describeError(outcome.error) }
}

/** Data keys of the sessions whose sealed entries one relay pass opens (each unwrapped once per pass). */
interface SessionKeys {
  of(sessionId: string): Promise<Buffer | null>
}

function sessionKeys(
  encryption: NonNullable<RelayOptions['encryption']>,
  collections: RelayOptions['collections'],
): SessionKeys {
  const sessions = (encryption.sessions ?? sessionsCollectionOf(collections)) as Collection<SessionDocument>
  const known = new Map<string, Promise<Buffer | null>>()
  return {
    of(sessionId) {
      let key = known.get(sessionId)
      if (!key) {
        key = new SessionKey(encryption.keyProvider, sessions, sessionId).forRead()
        known.set(sessionId, key)
      }
      return key
    },
  }
}

function sessionsCollectionOf(collections: RelayOptions['collections']): OutboxCollection {
  const found = Array.isArray(collections)
    ? (collections as readonly OutboxCollection[]).find((c) => c.collectionName.endsWith('sessions'))
    : (collections as Record<string, OutboxCollection>).sessions
  if (!found) {
    throw new ConfigurationError(
      'relayPendingNotifications: encryption needs the sessions collection (pass encryption.sessions)',
    )
  }
  return found
}

function senderMap(senders: RelayOptions['senders']): Map<string, NotificationSender> {
  const map = new Map<string, NotificationSender>()
  const list = Array.isArray(senders)
    ? (senders as readonly NotificationSender[])
    : Object.values(senders as Record<string, NotificationSender>)
  for (const sender of list) map.set(sender.channel, sender)
  if (map.size === 0) throw new ConfigurationError('relayPendingNotifications: no senders given')
  return map
}

async function forEachLimited<T>(items: readonly T[], limit: number, run: (item: T) => Promise<void>): Promise<void> {
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++] as T
      await run(item)
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
}

/** A running relay started by {@link startOutboxRelay}. */
export interface OutboxRelayWorker {
  /** Runs one pass now (waits for a pass already running). */
  runOnce(): Promise<RelayResult>
  /** Stops scheduling and waits for the current pass. Idempotent. */
  stop(): Promise<void>
  /** Counts summed over all passes so far. */
  readonly totals: Readonly<RelayResult>
}

/** Options of {@link startOutboxRelay}. */
export interface OutboxRelayWorkerOptions extends RelayOptions {
  /** Pause between passes. Default 5 000 ms. */
  intervalMs?: number
  /** Do not keep the process alive just for the relay timer (for use inside a server). Default false. */
  unref?: boolean
  /** Called when a pass fails (MongoDB unreachable…); the worker keeps going. Default: logged. */
  onError?: (error: unknown) => void
}

/**
 * Runs {@link relayPendingNotifications} every `intervalMs` until stopped (the first pass starts at
 * once). Passes never overlap. A failing pass is logged and the next one runs on schedule.
 */
export function startOutboxRelay(options: OutboxRelayWorkerOptions): OutboxRelayWorker {
  const intervalMs = options.intervalMs ?? 5_000
  const totals: RelayResult = { documents: 0, delivered: 0, failed: 0, deferred: 0 }
  let stopped = false
  let timer: NodeJS.Timeout | undefined
  let current: Promise<RelayResult> | undefined

  const pass = (): Promise<RelayResult> => {
    if (current) return current
    current = relayPendingNotifications(options)
      .then((result) => {
        for (const key of Object.keys(totals) as (keyof RelayResult)[]) totals[key] += result[key]
        return result
      })
      .finally(() => {
        current = undefined
      })
    return current
  }

  const schedule = (): void => {
    if (stopped) return
    timer = setTimeout(() => {
      pass()
        .catch((error: unknown) => {
          if (options.onError) options.onError(error)
          else log.error({}, `outbox relay pass failed: ${describeError(error)}`)
        })
        .finally(schedule)
    }, intervalMs)
    if (options.unref) timer.unref()
  }

  // First pass right away, then on the interval.
  pass()
    .catch((error: unknown) => {
      if (options.onError) options.onError(error)
      else log.error({}, `outbox relay pass failed: ${describeError(error)}`)
    })
    .finally(schedule)

  return {
    runOnce: pass,
    totals,
    async stop() {
      stopped = true
      clearTimeout(timer)
      await current?.catch(() => undefined)
    },
  }
}
