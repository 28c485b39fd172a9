import fc from 'fast-check'
import type { Document } from 'mongodb'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ConfigurationError, ValidationError } from '../../src/errors.js'
import type { NotificationDispatcherLike } from '../../src/hooks/compose.js'
import { fromOutboxEntry } from '../../src/notifications/outbox.js'
import type { Notification, NotificationSender } from '../../src/model/types.js'
import type { FeedbackHook, MetadataHook } from '../../src/hooks/types.js'
import { MAX_FEEDBACK_COMMENT_LENGTH } from '../../src/model/types.js'
import { SessionData } from '../../src/features/session-data.js'
import { recountFeedback } from '../../src/features/feedback.js'
import { openFeaturesDatabase, snapshotSession, type FeaturesTestContext } from './support.js'

let ctx: FeaturesTestContext
let n = 0
const sid = () => `fb-${++n}`

beforeAll(async () => {
  ctx = await openFeaturesDatabase('msm_feedback')
})
afterAll(async () => {
  await ctx.db.cleanup()
})

/** Records what the dispatcher received, and whether the change was already stored at that moment. */
function recordingDispatcher(check?: () => Promise<unknown>) {
  type Source = { collection: string; documentId: string; eventId: unknown } | null
  const received: { notification: Notification; source: Source; storedAtEnqueue?: unknown }[] = []
  const pending: Promise<void>[] = []
  const dispatcher: NotificationDispatcherLike = {
    enqueue(notification, _sender, options) {
      const outbox = options?.outbox
      const source: Source = outbox
        ? {
            collection: outbox.collection.collectionName,
            documentId: outbox.documentId,
            eventId: outbox.entry.event_id,
          }
        : null
      const entry: (typeof received)[number] = { notification, source }
      received.push(entry)
      if (check) pending.push(check().then((v) => void (entry.storedAtEnqueue = v)))
    },
  }
  return { dispatcher, received, settled: () => Promise.all(pending) }
}

const sender: NotificationSender = { channel: 'test', send: async () => undefined }

describe('feedback', () => {
  it('stores feedback with a UUIDv7 id and timestamp, counts per rating, pages in order', async () => {
    const data = new SessionData({ collections: ctx.collections, sessionId: sid(), applicationName: 'app' })
    const added = []
    for (const rating of ['up', 'down', null, 'down', 'up', 'up'] as const) {
      added.push(
        await data.addFeedback({
          rating,
          comment: `c-${added.length}`,
          messageId: 'm1',
          agentId: 'agent-1',
          userId: 'u',
        }),
      )
    }
    expect(added[0]!.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
    expect(added[0]!.createdAt).toBeInstanceOf(Date)
    expect(await data.getFeedbackCounts()).toEqual({ up: 3, down: 2, neutral: 1 })
    const first = await data.getFeedbacks({ limit: 4 })
    expect(first.items.map((f) => f.comment)).toEqual(['c-0', 'c-1', 'c-2', 'c-3'])
    expect(first.nextCursor).not.toBeNull()
    const second = await data.getFeedbacks({ limit: 4, cursor: first.nextCursor })
    expect(second.items.map((f) => f.comment)).toEqual(['c-4', 'c-5'])
    expect(second.nextCursor).toBeNull()
    expect(second.items[1]).toEqual(added[5])
    // The session was created by the first feedback, with its application name.
    expect(await data.getApplicationName()).toBe('app')
    // Counts can be rebuilt from the collection.
    await ctx.collections.sessions.updateOne({ _id: data.sessionId }, { $set: { feedback_counts: { up: 99 } } })
    expect(await recountFeedback(ctx.collections, data.sessionId)).toEqual({ up: 3, down: 2, neutral: 1 })
    expect(await data.getFeedbackCounts()).toEqual({ up: 3, down: 2, neutral: 1 })
  })

  it('rejects cursors of other listings and bad limits', async () => {
    const data = new SessionData({ collections: ctx.collections, sessionId: sid() })
    await expect(data.getFeedbacks({ cursor: 'garbage' })).rejects.toBeInstanceOf(ValidationError)
    await expect(data.getFeedbacks({ limit: 0 })).rejects.toBeInstanceOf(ValidationError)
    await expect(data.getFeedbacks({ limit: 501 })).rejects.toBeInstanceOf(ValidationError)
  })

  it('property: any rating other than up/down/null, or a bad comment, is a ValidationError and nothing is stored', async () => {
    const data = new SessionData({ collections: ctx.collections, sessionId: sid() })
    await data.addFeedback({ rating: 'up' })
    const before = await snapshotSession(ctx.collections, data.sessionId)
    const badRating = fc.oneof(
      fc.string().filter((s) => s !== 'up' && s !== 'down'),
      fc.constantFrom('UP', 'Down', ' up', 'positive', 'neutral', ''),
      fc.integer(),
      fc.boolean(),
      fc.constant(undefined),
      fc.object(),
      fc.array(fc.constant('up')),
    )
    await fc.assert(
      fc.asyncProperty(badRating, async (rating) => {
        await expect(data.addFeedback({ rating, comment: 'x' } as never)).rejects.toBeInstanceOf(ValidationError)
      }),
      { numRuns: 80 },
    )
    const badComment = fc.oneof(
      fc.string({ minLength: MAX_FEEDBACK_COMMENT_LENGTH + 1, maxLength: MAX_FEEDBACK_COMMENT_LENGTH + 50 }),
      fc.integer(),
      fc.object(),
      fc.string().map((s) => `${s}\u0000`),
    )
    await fc.assert(
      fc.asyncProperty(badComment, fc.constantFrom('up', 'down', null), async (comment, rating) => {
        const error = await data.addFeedback({ rating, comment } as never).catch((e: unknown) => e)
        expect(error).toBeInstanceOf(ValidationError)
        expect((error as ValidationError).field).toBe('comment')
      }),
      { numRuns: 40 },
    )
    await expect(data.addFeedback({ rating: 'up', agentId: 'Bad.Id' })).rejects.toBeInstanceOf(ValidationError)
    await expect(data.addFeedback({ rating: 'up', extra: 1 } as never)).rejects.toThrow(/unknown feedback field/)
    await expect(data.addFeedback({} as never)).rejects.toThrow(/rating is required/)
    expect(await snapshotSession(ctx.collections, data.sessionId)).toEqual(before)
  })

  it('accepts a comment of exactly the maximum length', async () => {
    const data = new SessionData({ collections: ctx.collections, sessionId: sid() })
    const f = await data.addFeedback({ rating: null, comment: 'é'.repeat(MAX_FEEDBACK_COMMENT_LENGTH) })
    expect(f.comment).toHaveLength(MAX_FEEDBACK_COMMENT_LENGTH)
  })
})

describe('hooks', () => {
  it('compose in order, may change arguments, and their return value is the result', async () => {
    const calls: string[] = []
    const first: MetadataHook = async (original, action, sessionId, args) => {
      calls.push(`first:${action}:${sessionId}`)
      if (action === 'update') {
        const result = await original({
          metadata: { ...(args as { metadata: object }).metadata, stamped: 'by-first' },
        } as never)
        return { ...result, decorated: true } as never
      }
      return original(args)
    }
    const second: MetadataHook = async (original, action, _sid, args) => {
      calls.push(`second:${action}`)
      return original(args)
    }
    const data = new SessionData({ collections: ctx.collections, sessionId: sid(), metadataHook: [first, second] })
    const result = await data.updateMetadata({ status: 'x' })
    expect(result).toEqual({ status: 'x', stamped: 'by-first', decorated: true })
    expect(await data.getMetadata()).toEqual({ status: 'x', stamped: 'by-first' })
    expect(calls).toEqual([
      `first:update:${data.sessionId}`,
      'second:update',
      `first:get:${data.sessionId}`,
      'second:get',
    ])
    await data.deleteMetadata(['status'])
    expect(calls.slice(-2)).toEqual([`first:delete:${data.sessionId}`, 'second:delete'])
  })

  it('a hook may call original without arguments (its own arguments are passed on)', async () => {
    const hook: FeedbackHook = (original) => (original as () => ReturnType<typeof original>)()
    const data = new SessionData({ collections: ctx.collections, sessionId: sid(), feedbackHook: hook })
    expect((await data.addFeedback({ rating: 'up', comment: 'fine' })).comment).toBe('fine')
  })

  it('veto by throwing: nothing is written, the error reaches the caller', async () => {
    const veto: MetadataHook = async (original, action, _s, args) => {
      if (action === 'update' && 'forbidden' in (args as { metadata: object }).metadata) throw new Error('vetoed')
      return original(args)
    }
    const feedbackVeto: FeedbackHook = async (original, _a, _s, args) => {
      if (args.rating === 'down' && !args.comment)
        throw new ValidationError('a comment is required for negative feedback')
      return original(args)
    }
    const data = new SessionData({
      collections: ctx.collections,
      sessionId: sid(),
      metadataHook: veto,
      feedbackHook: feedbackVeto,
    })
    await expect(data.updateMetadata({ forbidden: 1 })).rejects.toThrow('vetoed')
    await expect(data.addFeedback({ rating: 'down' })).rejects.toThrow(/comment is required/)
    expect(await snapshotSession(ctx.collections, data.sessionId)).toEqual({ session: null, feedback: 0 })
  })

  it('arguments changed by a hook are validated again: invalid → ValidationError, nothing written', async () => {
    const sneaky: MetadataHook = (original, action, _s, args) =>
      action === 'update' ? original({ metadata: { $where: 'x' } } as never) : original(args)
    const data = new SessionData({ collections: ctx.collections, sessionId: sid(), metadataHook: sneaky })
    await expect(data.updateMetadata({ ok: 1 })).rejects.toBeInstanceOf(ValidationError)
    expect(await snapshotSession(ctx.collections, data.sessionId)).toEqual({ session: null, feedback: 0 })
  })

  it('rejects hooks that are not functions', () => {
    expect(
      () => new SessionData({ collections: ctx.collections, sessionId: sid(), metadataHook: [1 as never] }),
    ).toThrow(ConfigurationError)
  })

  it('durable metadata: notifications registered before original are in the same write, dispatched after it', async () => {
    const id = sid()
    const rec = recordingDispatcher(async () => (await ctx.collections.sessions.findOne({ _id: id }))?.metadata)
    const hook: MetadataHook = async (original, action, sessionId, args, context) => {
      context.notify(
        { channel: 'sqs', target: 'queue-url', payload: { before: true, keys: { 'a.b': 1, $x: 2 } } },
        sender,
      )
      const result = await original(args)
      context.notify({ channel: 'sqs', target: 'queue-url', payload: { after: true, sessionId } }, sender)
      return result
    }
    const data = new SessionData({
      collections: ctx.collections,
      sessionId: id,
      metadataHook: hook,
      durable: true,
      dispatcher: rec.dispatcher,
    })
    await data.updateMetadata({ status: 'done' })
    await rec.settled()
    expect(rec.received.map((r) => r.notification.payload)).toEqual([
      { before: true, keys: { 'a.b': 1, $x: 2 } },
      { after: true, sessionId: id },
    ])
    expect(rec.received[0]!.source).toEqual({
      collection: 'sessions',
      documentId: id,
      eventId: rec.received[0]!.notification.eventId,
    })
    expect(rec.received[1]!.source).toBeNull()
    // Handed over only after the change was stored.
    expect(rec.received[0]!.storedAtEnqueue).toEqual({ status: 'done' })
    const doc = await ctx.collections.sessions.findOne({ _id: id })
    const outbox = doc!.outbox as Document[]
    expect(outbox).toHaveLength(1)
    expect(Object.keys(outbox[0]!).sort()).toEqual([
      'channel',
      'created_at',
      'due_at',
      'event_id',
      'payload',
      'session_id',
      'target',
    ])
    expect(outbox[0]!.event_id).toBe(rec.received[0]!.notification.eventId)
    // The payload's user keys are stored escaped and decode back exactly.
    expect(outbox[0]!.payload).toEqual({ before: true, keys: { 'a%2Eb': 1, '%24x': 2 } })
    expect(fromOutboxEntry(outbox[0]!).payload).toEqual({ before: true, keys: { 'a.b': 1, $x: 2 } })
  })

  it('durable feedback: the outbox entry is inside the inserted feedback document', async () => {
    const rec = recordingDispatcher()
    const hook: FeedbackHook = async (original, _a, _s, args, context) => {
      context.notify(
        { channel: 'sns', target: 'arn:aws:sns:eu-west-1:1:bad', payload: { rating: args.rating } },
        sender,
      )
      return original(args)
    }
    const data = new SessionData({
      collections: ctx.collections,
      sessionId: sid(),
      feedbackHook: hook,
      durable: true,
      dispatcher: rec.dispatcher,
    })
    const stored = await data.addFeedback({ rating: 'down', comment: 'bad' })
    const doc = await ctx.collections.feedback.findOne({ _id: stored.id })
    expect(doc!.outbox).toHaveLength(1)
    expect((doc!.outbox![0] as Document).event_id).toBe(rec.received[0]!.notification.eventId)
    expect(rec.received[0]!.source).toEqual({
      collection: 'feedback',
      documentId: stored.id,
      eventId: rec.received[0]!.notification.eventId,
    })
    // The public listing never shows outbox internals.
    expect((await data.getFeedbacks()).items[0]).toEqual(stored)
  })

  it('non-durable: nothing stored in an outbox, still dispatched after the write', async () => {
    const rec = recordingDispatcher()
    const hook: MetadataHook = async (original, _a, _s, args, context) => {
      context.notify({ channel: 'ws', target: 'endpoint', payload: { x: 1 } }, sender)
      return original(args)
    }
    const data = new SessionData({
      collections: ctx.collections,
      sessionId: sid(),
      metadataHook: hook,
      dispatcher: rec.dispatcher,
    })
    await data.updateMetadata({ a: 1 })
    expect(rec.received).toHaveLength(1)
    expect(rec.received[0]!.source).toBeNull()
    expect((await ctx.collections.sessions.findOne({ _id: data.sessionId }))!.outbox).toBeUndefined()
  })

  it('if original throws (or never runs), nothing is dispatched or stored', async () => {
    const rec = recordingDispatcher()
    const hook: MetadataHook = async (original, _a, _s, args, context) => {
      context.notify({ channel: 'sqs', target: 'q', payload: { x: 1 } }, sender)
      return original(args)
    }
    const data = new SessionData({
      collections: ctx.collections,
      sessionId: sid(),
      metadataHook: hook,
      durable: true,
      dispatcher: rec.dispatcher,
    })
    await data.updateMetadata({ a: 'text' })
    rec.received.length = 0
    // Fails inside original (a.b below a string): nothing dispatched, no outbox entry added.
    await expect(data.updateMetadata({ 'a.b': 1 })).rejects.toBeInstanceOf(ValidationError)
    expect(rec.received).toHaveLength(0)
    expect((await ctx.collections.sessions.findOne({ _id: data.sessionId }))!.outbox).toHaveLength(1)

    const skipper: FeedbackHook = async (_original, _a, sessionId, args, context) => {
      context.notify({ channel: 'sns', target: 't', payload: {} }, sender)
      return {
        id: 'fake',
        sessionId,
        rating: args.rating,
        comment: null,
        messageId: null,
        agentId: null,
        userId: null,
        createdAt: new Date(0),
      }
    }
    const other = new SessionData({
      collections: ctx.collections,
      sessionId: sid(),
      feedbackHook: skipper,
      dispatcher: rec.dispatcher,
    })
    expect((await other.addFeedback({ rating: 'up' })).id).toBe('fake')
    expect(rec.received).toHaveLength(0)
    expect(await snapshotSession(ctx.collections, other.sessionId)).toEqual({ session: null, feedback: 0 })
  })

  it('a failing dispatcher never fails the storage call', async () => {
    const hook: MetadataHook = async (original, _a, _s, args, context) => {
      context.notify({ channel: 'sqs', target: 'q', payload: {} }, sender)
      return original(args)
    }
    const data = new SessionData({
      collections: ctx.collections,
      sessionId: sid(),
      metadataHook: hook,
      dispatcher: {
        enqueue: () => {
          throw new Error('boom')
        },
      },
    })
    expect(await data.updateMetadata({ a: 1 })).toEqual({ a: 1 })
  })
})
