/**
 * Background delivery of notifications: bounded global concurrency, strict order per session,
 * retries with exponential backoff and full jitter, permanent errors given up at once.
 *
 * `enqueue()` is synchronous and never throws because of delivery: a failing or slow AWS call
 * never fails or delays the storage call that announced it. `flush()` waits for everything queued so
 * far, up to a bound (Lambda handlers call it before returning), and reports what is still pending;
 * `close()` waits for everything, then stops accepting.
 *
 * In durable mode the caller passes where the notification is stored ({@link OutboxLocation}); on
 * success the entry is removed from that document's `outbox`, on a permanent error it is moved to
 * `outbox_failed`, and when retries run out it stays for the relay (see `outbox-relay.ts`).
 */
import type { Collection, Document } from 'mongodb'
import { ConfigurationError } from '../errors.js'
import { outsideDeadline } from '../storage/deadline.js'
import { describeError, log } from '../logging.js'
import { markDelivered, markFailed, type OutboxEntryDocument } from './outbox.js'
import type { Notification, NotificationSender } from '../model/types.js'
import { backoffCeiling, sendWithTimeout, type SendOutcome } from './send.js'

/** Tuning of a {@link NotificationDispatcher}. */
export interface NotificationDispatcherOptions {
  /** Sends in flight at once, across all sessions. Default 8. */
  concurrency?: number
  /** Attempts per notification, the first included. Default 5. */
  maxAttempts?: number
  /** Backoff before the second attempt; doubles each time. Default 200 ms. */
  baseDelayMs?: number
  /** Cap of one backoff. Default 5 000 ms. */
  maxDelayMs?: number
  /** One send is abandoned (and counts as a failed attempt) after this long. Default 30 000 ms. */
  sendTimeoutMs?: number
  /**
   * Default bound of {@link NotificationDispatcher.flush}: it resolves after this long even when
   * notifications are still being retried. Default {@link DEFAULT_FLUSH_TIMEOUT_MS}.
   */
  flushTimeoutMs?: number
  /** Random source in [0, 1) for the jitter (tests pin it). */
  random?: () => number
}

/**
 * Default bound of `flush()`, in milliseconds. Without a bound, an AWS outage makes `flush()` last
 * as long as every queued notification's retries: per session they run one after the other.
 */
export const DEFAULT_FLUSH_TIMEOUT_MS = 10_000

/** Options of {@link NotificationDispatcher.flush}. */
export interface FlushOptions {
  /**
   * Resolve after this many milliseconds at the latest (default: the dispatcher's `flushTimeoutMs`,
   * {@link DEFAULT_FLUSH_TIMEOUT_MS} unless configured). `Infinity` waits for every retry.
   */
  timeoutMs?: number | undefined
}

/**
 * What became, by the time `flush()` resolved, of the notifications that were queued or being
 * retried when it was called. Notifications queued after the call are not counted.
 */
export interface FlushResult {
  /** Delivered. */
  delivered: number
  /**
   * Given up: a permanent error, or the retries ran out (in durable mode the latter stay stored for
   * the relay).
   */
  failed: number
  /**
   * Still queued or being retried when the bound was reached. They go on in the background (in a
   * Lambda, when the instance is next thawed); in durable mode they are also stored for the relay.
   */
  pending: number
  /** `true` when `flush()` resolved because of its bound rather than because everything settled. */
  timedOut: boolean
}

/** Counters since the dispatcher was created. */
export interface DispatcherStats {
  /** Delivered. */
  sent: number
  /** Given up (permanent error, retries exhausted, or enqueued after close). */
  failed: number
  /** Attempts that failed and were retried. */
  retried: number
  /** Queued or in progress. */
  pending: number
}

/** Where a durable notification is stored: the owning document and the exact stored entry. */
export interface OutboxLocation {
  // `any`: Collection<T> is invariant, so Collection<SessionDocument> is not a Collection<Document>.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  collection: Collection<Document> | Collection<any>
  documentId: string
  entry: OutboxEntryDocument
}

/** Per-call options of {@link NotificationDispatcher.enqueue}. */
export interface EnqueueOptions {
  /** Durable mode: the stored entry to remove on delivery. */
  outbox?: OutboxLocation
}

interface Job {
  notification: Notification
  sender: NotificationSender
  outbox: OutboxLocation | undefined
  /** Set when the job settles. */
  outcome: 'delivered' | 'failed' | undefined
  /** Resolves when the job settles. */
  finished: Promise<void>
  done: () => void
}

interface Lane {
  jobs: Job[]
  running: boolean
}

/** Delivers notifications in the background; see the module comment. */
export class NotificationDispatcher {
  readonly #concurrency: number
  readonly #maxAttempts: number
  readonly #baseDelayMs: number
  readonly #maxDelayMs: number
  readonly #sendTimeoutMs: number
  readonly #flushTimeoutMs: number
  readonly #random: () => number
  readonly #lanes = new Map<string, Lane>()
  readonly #inFlight = new Set<Job>()
  readonly #waiters: (() => void)[] = []
  #active = 0
  #closed = false
  #stats = { sent: 0, failed: 0, retried: 0 }
  #pending = 0

  constructor(options: NotificationDispatcherOptions = {}) {
    this.#concurrency = positiveInteger(options.concurrency, 8, 'concurrency')
    this.#maxAttempts = positiveInteger(options.maxAttempts, 5, 'maxAttempts')
    this.#baseDelayMs = nonNegative(options.baseDelayMs, 200)
    this.#maxDelayMs = Math.max(this.#baseDelayMs, nonNegative(options.maxDelayMs, 5_000))
    this.#sendTimeoutMs = positiveInteger(options.sendTimeoutMs, 30_000, 'sendTimeoutMs')
    this.#flushTimeoutMs = flushBound(options.flushTimeoutMs, DEFAULT_FLUSH_TIMEOUT_MS, 'flushTimeoutMs')
    this.#random = options.random ?? Math.random
  }

  /** `true` after {@link close}. */
  get closed(): boolean {
    return this.#closed
  }

  /**
   * Queues `notification` for delivery by `sender`, after the ones already queued for the same session.
   * Returns at once. After {@link close} the notification is not sent (logged and counted as failed;
   * in durable mode it stays stored for the relay).
   */
  enqueue(notification: Notification, sender: NotificationSender, options: EnqueueOptions = {}): void {
    const fields = logFields(notification)
    if (this.#closed) {
      this.#stats.failed += 1
      log.warn(fields, 'notification dispatcher is closed: notification not sent')
      return
    }
    this.#pending += 1
    let done!: () => void
    const finished = new Promise<void>((resolve) => (done = resolve))
    const job: Job = { notification, sender, outbox: options.outbox, outcome: undefined, finished, done }
    this.#inFlight.add(job)
    void finished.then(() => this.#inFlight.delete(job))
    let lane = this.#lanes.get(notification.sessionId)
    if (!lane) {
      lane = { jobs: [], running: false }
      this.#lanes.set(notification.sessionId, lane)
    }
    lane.jobs.push(job)
    log.debug(fields, 'notification queued')
    // Deliveries outlive the call that queued them: they must not inherit its deadline.
    if (!lane.running) void outsideDeadline(() => this.#runLane(notification.sessionId, lane))
  }

  /**
   * Resolves when every notification queued before this call is delivered or given up, or when
   * `timeoutMs` has passed, whichever comes first, with what became of them. Delivery does not make
   * it reject; a `timeoutMs` that is not a number ≥ 0 is a {@link ConfigurationError}.
   */
  async flush(options: FlushOptions = {}): Promise<FlushResult> {
    const timeoutMs = flushBound(options.timeoutMs, this.#flushTimeoutMs, 'timeoutMs')
    const jobs = [...this.#inFlight]
    let timer: NodeJS.Timeout | undefined
    const bound = new Promise<true>((resolve) => {
      // Beyond setTimeout's 32-bit range a timer would fire at once: treat such bounds as none.
      if (timeoutMs <= MAX_TIMER_MS) timer = setTimeout(() => resolve(true), timeoutMs)
    })
    const settled = Promise.all(jobs.map((job) => job.finished)).then(() => false as const)
    const timedOut = jobs.length > 0 && (await Promise.race([settled, bound]))
    clearTimeout(timer)
    const result: FlushResult = { delivered: 0, failed: 0, pending: 0, timedOut }
    for (const job of jobs) {
      if (job.outcome === 'delivered') result.delivered += 1
      else if (job.outcome === 'failed') result.failed += 1
      else result.pending += 1
    }
    if (timedOut) {
      log.warn(
        { pending: result.pending, timeout_ms: timeoutMs },
        'flush: notifications still pending at the bound; they keep being retried in the background',
      )
    }
    return result
  }

  /** Waits for every queued notification (no bound), then refuses new notifications. Idempotent. */
  async close(): Promise<void> {
    await this.flush({ timeoutMs: Infinity })
    this.#closed = true
  }

  /** Counters: sent, failed, retried, pending. */
  stats(): DispatcherStats {
    return { ...this.#stats, pending: this.#pending }
  }

  async #runLane(sessionId: string, lane: Lane): Promise<void> {
    lane.running = true
    try {
      for (let job = lane.jobs.shift(); job; job = lane.jobs.shift()) {
        try {
          await this.#deliver(job)
        } catch (error) {
          // #deliver handles its own errors; this is a last line of defence against a bug.
          job.outcome ??= 'failed'
          log.error(logFields(job.notification), `notification delivery crashed: ${describeError(error)}`)
        } finally {
          this.#pending -= 1
          job.done()
        }
      }
    } finally {
      lane.running = false
      if (lane.jobs.length === 0) this.#lanes.delete(sessionId)
      else void this.#runLane(sessionId, lane)
    }
  }

  async #deliver(job: Job): Promise<void> {
    const { notification } = job
    const fields = logFields(notification)
    for (let attempt = 1; ; attempt += 1) {
      notification.attempts = attempt
      const outcome = await this.#attempt(job)
      if (outcome.ok) {
        this.#stats.sent += 1
        job.outcome = 'delivered'
        log.debug({ ...fields, attempt }, `${notification.channel} delivery succeeded`)
        if (job.outbox) await this.#settle(job.outbox, fields, 'delivered')
        return
      }
      const { error, permanent } = outcome
      if (permanent || attempt >= this.#maxAttempts) {
        this.#stats.failed += 1
        job.outcome = 'failed'
        const why = permanent ? 'permanent error' : `${attempt} attempts`
        log.error(
          { ...fields, target: notification.target },
          `${notification.channel} delivery failed (${why}): ${describeError(error)}`,
        )
        if (job.outbox) {
          if (permanent) await this.#settle(job.outbox, fields, 'failed', describeError(error))
          else log.warn(fields, 'notification left in the outbox for the relay')
        }
        return
      }
      this.#stats.retried += 1
      const delay = this.#backoff(attempt)
      log.debug(
        { ...fields, attempt, delay_ms: delay },
        `${notification.channel} delivery failed, retrying: ${describeError(error)}`,
      )
      await sleep(delay)
    }
  }

  /** One send under the global concurrency bound and the send timeout. */
  async #attempt(job: Job): Promise<SendOutcome> {
    await this.#acquire()
    try {
      return await sendWithTimeout(job.sender, job.notification, this.#sendTimeoutMs)
    } finally {
      this.#release()
    }
  }

  async #settle(
    outbox: OutboxLocation,
    fields: Record<string, unknown>,
    outcome: 'delivered' | 'failed',
    reason = '',
  ): Promise<void> {
    const collection = outbox.collection as Collection<Document>
    try {
      if (outcome === 'delivered') await markDelivered(collection, outbox.documentId, outbox.entry)
      else await markFailed(collection, outbox.documentId, outbox.entry, reason)
    } catch (error) {
      // The notification itself went out (or was given up); the relay may re-send it, with the same event id.
      log.warn(fields, `could not mark the outbox entry ${outcome}: ${describeError(error)}`)
    }
  }

  #backoff(attempt: number): number {
    const ceiling = backoffCeiling(attempt, this.#baseDelayMs, this.#maxDelayMs)
    // "Full jitter" keeps retries of many sessions from synchronising; never below a tenth of the ceiling.
    return Math.round(ceiling * (0.1 + 0.9 * this.#random()))
  }

  #acquire(): Promise<void> {
    if (this.#active < this.#concurrency) {
      this.#active += 1
      return Promise.resolve()
    }
    return new Promise((resolve) => this.#waiters.push(resolve))
  }

  #release(): void {
    const next = this.#waiters.shift()
    if (next) next()
    else this.#active -= 1
  }
}

function logFields(notification: Notification): Record<string, unknown> {
  return { session_id: notification.sessionId, channel: notification.channel, event_id: notification.eventId }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

function positiveInteger(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback
  if (!Number.isInteger(value) || value < 1)
    throw new ConfigurationError(`${name} must be a positive integer, got ${value}`)
  return value
}

const MAX_TIMER_MS = 2 ** 31 - 1

/** A flush bound: a number ≥ 0 (`Infinity` allowed), or `fallback` when undefined. */
function flushBound(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || Number.isNaN(value) || value < 0) {
    throw new ConfigurationError(`${name} must be a number of milliseconds ≥ 0 (or Infinity), got ${String(value)}`)
  }
  return value
}

function nonNegative(value: number | undefined, fallback: number): number {
  return value === undefined || !Number.isFinite(value) || value < 0 ? fallback : value
}
