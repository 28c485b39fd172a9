/**
 * NotificationDispatcher: per-session order, bounded concurrency, retries with backoff, permanent
 * errors, non-blocking enqueue, flush/close. Senders here are small in-test NotificationSender
 * implementations (the dispatcher's own contract), not mocked AWS clients; the AWS path is covered
 * against fauxqs in the other files and in the last test here.
 */
import { describe, expect, it, vi } from 'vitest'
import { createSqsSender } from '../../src/aws/index.js'
import { ConfigurationError } from '../../src/errors.js'
import { NotificationDispatcher } from '../../src/notifications/dispatcher.js'
import { createNotification, newEventId } from '../../src/notifications/outbox-notification.js'
import type { Notification, NotificationSender } from '../../src/model/types.js'
import { startFauxqs } from '../support/fauxqs.js'
import { createQueue, drain } from './support/aws.js'

function note(sessionId: string, seq: number): Notification {
  return createNotification(sessionId, { channel: 'test', target: 't', payload: { seq } })
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Records sends; optional per-call delay and failure script. */
function recordingSender(
  options: { delayMs?: (n: Notification) => number; fail?: (n: Notification, attempt: number) => unknown } = {},
) {
  const sent: { sessionId: string; seq: number; attempt: number }[] = []
  let inFlight = 0
  let maxInFlight = 0
  const sender: NotificationSender & { sent: typeof sent; maxInFlight: () => number } = {
    channel: 'test',
    sent,
    maxInFlight: () => maxInFlight,
    async send(n) {
      inFlight += 1
      maxInFlight = Math.max(maxInFlight, inFlight)
      try {
        await sleep(options.delayMs?.(n) ?? 0)
        const error = options.fail?.(n, n.attempts)
        if (error) throw error
        sent.push({ sessionId: n.sessionId, seq: n.payload.seq as number, attempt: n.attempts })
      } finally {
        inFlight -= 1
      }
    },
    isPermanentError: (e) => e instanceof Error && e.name === 'Permanent',
  }
  return sender
}

describe('NotificationDispatcher', () => {
  it('keeps strict per-session order while sessions proceed in parallel', async () => {
    // Random delays would reorder a naive parallel sender.
    const sender = recordingSender({ delayMs: () => Math.floor(Math.random() * 8) })
    const dispatcher = new NotificationDispatcher({ concurrency: 4 })
    for (let i = 0; i < 20; i += 1) for (const s of ['a', 'b', 'c', 'd', 'e']) dispatcher.enqueue(note(s, i), sender)
    await dispatcher.flush()
    for (const s of ['a', 'b', 'c', 'd', 'e']) {
      expect(sender.sent.filter((x) => x.sessionId === s).map((x) => x.seq)).toEqual([...Array(20).keys()])
    }
    expect(sender.maxInFlight()).toBeGreaterThan(1)
    expect(dispatcher.stats()).toEqual({ sent: 100, failed: 0, retried: 0, pending: 0 })
  })

  it('bounds global concurrency', async () => {
    const sender = recordingSender({ delayMs: () => 10 })
    const dispatcher = new NotificationDispatcher({ concurrency: 3 })
    for (let s = 0; s < 12; s += 1) dispatcher.enqueue(note(`s${s}`, 0), sender)
    await dispatcher.flush()
    expect(sender.sent).toHaveLength(12)
    expect(sender.maxInFlight()).toBe(3)
  })

  it('enqueue returns at once, even when the send hangs or fails', async () => {
    const hanging: NotificationSender = { channel: 'test', send: () => new Promise(() => {}) }
    const failing: NotificationSender = {
      channel: 'test',
      send: async () => {
        throw new Error('AWS is down')
      },
    }
    const throwing: NotificationSender = {
      channel: 'test',
      send: () => {
        throw new Error('not even a promise')
      },
    }
    const dispatcher = new NotificationDispatcher({ sendTimeoutMs: 50, maxAttempts: 2, baseDelayMs: 1 })
    const spy = vi.spyOn(console, 'error').mockImplementation(() => {})
    try {
      // Synchronous: it hands back nothing to wait on, and control returns while no send has
      // settled (one of them never will).
      const returned: unknown[] = [
        dispatcher.enqueue(note('h', 0), hanging),
        dispatcher.enqueue(note('f', 0), failing),
        dispatcher.enqueue(note('t', 0), throwing),
      ]
      expect(returned).toEqual([undefined, undefined, undefined])
      expect(dispatcher.stats()).toEqual({ sent: 0, failed: 0, retried: 0, pending: 3 })
      await dispatcher.flush()
    } finally {
      spy.mockRestore()
    }
    expect(dispatcher.stats()).toEqual({ sent: 0, failed: 3, retried: 3, pending: 0 })
  })

  it('retries transient errors with exponential backoff and jitter, then succeeds', async () => {
    const sender = recordingSender({ fail: (_n, attempt) => (attempt < 3 ? new Error('throttled') : undefined) })
    const dispatcher = new NotificationDispatcher({ baseDelayMs: 20, maxDelayMs: 1_000, random: () => 1 })
    const started = performance.now()
    dispatcher.enqueue(note('r', 0), sender)
    await dispatcher.flush()
    const elapsed = performance.now() - started
    expect(sender.sent).toEqual([{ sessionId: 'r', seq: 0, attempt: 3 }])
    expect(dispatcher.stats()).toEqual({ sent: 1, failed: 0, retried: 2, pending: 0 })
    // random() = 1 → full ceilings: 20 ms then 40 ms.
    expect(elapsed).toBeGreaterThanOrEqual(55)
  })

  it('does not retry permanent errors, logs them with session, channel and event id', async () => {
    const permanent = Object.assign(new Error('bad ARN'), { name: 'Permanent' })
    const sender = recordingSender({ fail: () => permanent })
    const dispatcher = new NotificationDispatcher({ baseDelayMs: 1 })
    const lines: string[] = []
    const spy = vi.spyOn(console, 'error').mockImplementation((m: string) => void lines.push(m))
    const n = note('perm', 0)
    try {
      dispatcher.enqueue(n, sender)
      await dispatcher.flush()
    } finally {
      spy.mockRestore()
    }
    expect(dispatcher.stats()).toEqual({ sent: 0, failed: 1, retried: 0, pending: 0 })
    expect(lines).toHaveLength(1)
    expect(lines[0]).toContain(`session_id=<perm>, channel=<test>, event_id=<${n.eventId}>`)
    expect(lines[0]).toMatch(/\| test delivery failed \(permanent error\): Permanent: bad ARN/)
  })

  it('a failed notification does not block the next one of the same session', async () => {
    const sender = recordingSender({ fail: (n) => (n.payload.seq === 0 ? new Error('nope') : undefined) })
    const dispatcher = new NotificationDispatcher({ maxAttempts: 2, baseDelayMs: 1 })
    const spy = vi.spyOn(console, 'error').mockImplementation(() => {})
    try {
      dispatcher.enqueue(note('x', 0), sender)
      dispatcher.enqueue(note('x', 1), sender)
      await dispatcher.flush()
    } finally {
      spy.mockRestore()
    }
    expect(sender.sent.map((s) => s.seq)).toEqual([1])
    expect(dispatcher.stats()).toMatchObject({ sent: 1, failed: 1, retried: 1 })
  })

  it('flush waits for what was queued before it; close flushes and then refuses', async () => {
    const sender = recordingSender({ delayMs: () => 30 })
    const dispatcher = new NotificationDispatcher()
    dispatcher.enqueue(note('f', 0), sender)
    dispatcher.enqueue(note('f', 1), sender)
    expect(sender.sent).toHaveLength(0)
    await dispatcher.flush()
    expect(sender.sent).toHaveLength(2)
    await dispatcher.flush() // nothing pending: resolves
    dispatcher.enqueue(note('f', 2), sender)
    await dispatcher.close()
    expect(sender.sent).toHaveLength(3)
    expect(dispatcher.closed).toBe(true)
    const spy = vi.spyOn(console, 'warn').mockImplementation(() => {})
    try {
      dispatcher.enqueue(note('f', 3), sender)
    } finally {
      spy.mockRestore()
    }
    await dispatcher.flush()
    expect(sender.sent).toHaveLength(3)
    expect(dispatcher.stats()).toMatchObject({ sent: 3, failed: 1, pending: 0 })
  })

  it('a sender that throws synchronously or whose isPermanentError throws never breaks the dispatcher', async () => {
    const nasty: NotificationSender = {
      channel: 'test',
      send: () => {
        throw new Error('sync throw')
      },
      isPermanentError: () => {
        throw new Error('classifier bug')
      },
    }
    const dispatcher = new NotificationDispatcher({ maxAttempts: 2, baseDelayMs: 1 })
    const spy = vi.spyOn(console, 'error').mockImplementation(() => {})
    try {
      dispatcher.enqueue(note('n', 0), nasty)
      await dispatcher.flush()
    } finally {
      spy.mockRestore()
    }
    expect(dispatcher.stats()).toEqual({ sent: 0, failed: 1, retried: 1, pending: 0 })
  })

  it('flush({ timeoutMs }) resolves at the bound, reporting what is still pending (fake clock)', async () => {
    vi.useFakeTimers()
    const spy = vi.spyOn(console, 'warn').mockImplementation(() => {})
    try {
      let attempts = 0
      const down: NotificationSender = {
        channel: 'test',
        send: async () => {
          attempts += 1
          throw new Error('AWS is down')
        },
      }
      // An outage with a long retry budget: unbounded, this flush would take 20 × 99 s.
      const dispatcher = new NotificationDispatcher({ maxAttempts: 100, baseDelayMs: 1_000, maxDelayMs: 1_000 })
      for (let i = 0; i < 20; i += 1) dispatcher.enqueue(note('outage', i), down)
      let result: unknown
      const flushing = dispatcher.flush({ timeoutMs: 5_000 }).then((r) => (result = r))
      await vi.advanceTimersByTimeAsync(4_999)
      expect(result).toBeUndefined()
      await vi.advanceTimersByTimeAsync(1)
      await flushing
      expect(result).toEqual({ delivered: 0, failed: 0, pending: 20, timedOut: true })
      expect(attempts).toBeGreaterThan(1) // it was retrying meanwhile
      expect(dispatcher.stats()).toMatchObject({ sent: 0, failed: 0, pending: 20 })
    } finally {
      spy.mockRestore()
      vi.useRealTimers()
    }
  })

  it('flush() without options is bounded by flushTimeoutMs; counts only what was queued before the call', async () => {
    vi.useFakeTimers()
    const spies = [vi.spyOn(console, 'warn'), vi.spyOn(console, 'error')].map((s) => s.mockImplementation(() => {}))
    try {
      const permanent = Object.assign(new Error('bad ARN'), { name: 'Permanent' })
      const sender = recordingSender({
        fail: (n) => (n.sessionId === 'perm' ? permanent : n.sessionId === 'down' ? new Error('timeout') : undefined),
      })
      const dispatcher = new NotificationDispatcher({ flushTimeoutMs: 2_000, maxAttempts: 1_000, baseDelayMs: 100 })
      dispatcher.enqueue(note('ok', 0), sender)
      dispatcher.enqueue(note('ok', 1), sender)
      dispatcher.enqueue(note('perm', 0), sender)
      dispatcher.enqueue(note('down', 0), sender)
      let result: unknown
      const flushing = dispatcher.flush().then((r) => (result = r))
      dispatcher.enqueue(note('ok', 2), sender) // after the call: not counted
      await vi.advanceTimersByTimeAsync(1_999)
      expect(result).toBeUndefined()
      await vi.advanceTimersByTimeAsync(1)
      await flushing
      expect(result).toEqual({ delivered: 2, failed: 1, pending: 1, timedOut: true })
      expect(sender.sent.map((s) => `${s.sessionId}:${s.seq}`)).toEqual(['ok:0', 'ok:1', 'ok:2'])
    } finally {
      for (const spy of spies) spy.mockRestore()
      vi.useRealTimers()
    }
  })

  it('flush resolves early with the counts when everything is settled; Infinity waits for all', async () => {
    const sender = recordingSender({
      fail: (n, attempt) => (n.payload.seq === 1 && attempt < 2 ? new Error('blip') : undefined),
    })
    const dispatcher = new NotificationDispatcher({ baseDelayMs: 1 })
    for (let i = 0; i < 3; i += 1) dispatcher.enqueue(note('e', i), sender)
    expect(await dispatcher.flush({ timeoutMs: Infinity })).toEqual({
      delivered: 3,
      failed: 0,
      pending: 0,
      timedOut: false,
    })
    expect(await dispatcher.flush()).toEqual({ delivered: 0, failed: 0, pending: 0, timedOut: false })
  })

  it('rejects a nonsensical flush bound', async () => {
    const dispatcher = new NotificationDispatcher()
    await expect(dispatcher.flush({ timeoutMs: -1 })).rejects.toThrow(ConfigurationError)
    await expect(dispatcher.flush({ timeoutMs: Number.NaN })).rejects.toThrow(ConfigurationError)
    expect(() => new NotificationDispatcher({ flushTimeoutMs: -5 })).toThrow(ConfigurationError)
  })

  it('rejects nonsensical options', () => {
    expect(() => new NotificationDispatcher({ concurrency: 0 })).toThrow(ConfigurationError)
    expect(() => new NotificationDispatcher({ maxAttempts: 1.5 })).toThrow(ConfigurationError)
  })

  it('event ids are UUIDv7, unique and time-ordered', () => {
    const ids = Array.from({ length: 5_000 }, () => newEventId())
    expect(new Set(ids).size).toBe(ids.length)
    expect([...ids].sort()).toEqual(ids)
    for (const id of ids.slice(0, 10))
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
  })

  it('with the real SQS sender against fauxqs: 5 sessions × 10 messages arrive, each session in order', async () => {
    const fauxqs = await startFauxqs()
    try {
      const queueUrl = await createQueue(fauxqs, 'dispatch-order')
      const sender = createSqsSender({ client: fauxqs.sqs })
      const dispatcher = new NotificationDispatcher({ concurrency: 3 })
      for (let i = 0; i < 10; i += 1) {
        for (const s of ['s1', 's2', 's3', 's4', 's5']) {
          dispatcher.enqueue(
            createNotification(s, {
              channel: 'sqs',
              target: queueUrl,
              payload: { body: JSON.stringify({ s, i }), attributes: { session_id: s } },
            }),
            sender,
          )
        }
      }
      await dispatcher.flush()
      expect(dispatcher.stats()).toMatchObject({ sent: 50, failed: 0 })
      const bodies = (await drain(fauxqs, queueUrl, 50)).map((m) => JSON.parse(m.Body!) as { s: string; i: number })
      expect(bodies).toHaveLength(50)
      // fauxqs hands out a standard queue in arrival order, so arrival order per session is observable here.
      for (const s of ['s1', 's2', 's3', 's4', 's5']) {
        expect(bodies.filter((b) => b.s === s).map((b) => b.i)).toEqual([...Array(10).keys()])
      }
    } finally {
      await fauxqs.stop()
    }
  })
})
