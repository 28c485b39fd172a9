/**
 * Durable delivery: outbox entries written with the change, removed on delivery, and delivered by the
 * relay after an AWS outage or a crash between the write and the publish. MongoDB (FerretDB or
 * MONGODB_URI) and fauxqs over real HTTP; no mocked clients.
 */
import { SNSClient } from '@aws-sdk/client-sns'
import { SQSClient } from '@aws-sdk/client-sqs'
import type { Message } from '@aws-sdk/client-sqs'
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest'
import { createFeedbackSnsHook, createMetadataSqsHook } from '../../src/aws/index.js'
import { NotificationDispatcher } from '../../src/notifications/dispatcher.js'
import { createNotification } from '../../src/notifications/outbox-notification.js'
import { relayPendingNotifications, startOutboxRelay } from '../../src/notifications/outbox-relay.js'
import {
  claimOutbox,
  fromOutboxEntry,
  markDelivered,
  releaseOutbox,
  toOutboxEntry,
  type OutboxEntryDocument,
} from '../../src/notifications/outbox.js'
import type { NotificationSender } from '../../src/model/types.js'
import { startFauxqs, type RunningFauxqs } from '../support/fauxqs.js'
import { openTestDatabase, type TestDatabase } from '../support/mongo.js'
import { createQueue, createTopicWithQueues, drain } from './support/aws.js'
import { HookHarness } from './support/harness.js'

let database: TestDatabase

beforeAll(async () => {
  database = await openTestDatabase('msm_aws_durable')
})

afterAll(async () => {
  await database?.cleanup()
})

/** Official clients bound to a fauxqs port, with the SDK's own retries off (our dispatcher retries). */
function clientsFor(port: number) {
  const config = {
    endpoint: `http://127.0.0.1:${port}`,
    region: 'eu-west-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
  }
  return { sns: new SNSClient(config), sqs: new SQSClient(config) }
}

async function outboxCount(harness: HookHarness): Promise<number> {
  let total = 0
  for (const collection of [harness.sessions, harness.feedback]) {
    for await (const doc of collection.find({}, { projection: { outbox: 1 } })) total += (doc.outbox ?? []).length
  }
  return total
}

async function storedEventIds(harness: HookHarness): Promise<string[]> {
  const ids: string[] = []
  for (const collection of [harness.sessions, harness.feedback]) {
    for await (const doc of collection.find({}, { projection: { outbox: 1 } })) {
      for (const entry of (doc.outbox ?? []) as OutboxEntryDocument[]) ids.push(entry.event_id)
    }
  }
  return ids
}

function eventIdOf(message: Message): string {
  return message.MessageAttributes!.event_id!.StringValue!
}

const future = () => new Date(Date.now() + 3_600_000)

describe('outbox helpers on the test engine', () => {
  it('documents why entries are removed by exact value: $pull by a sub-document condition', async () => {
    const collection = database.db.collection<{ _id: string; outbox: object[] }>('pull_probe')
    await collection.insertOne({
      _id: 'p',
      outbox: [
        { event_id: 'e1', n: 1 },
        { event_id: 'e2', n: 2 },
      ],
    })
    const byCondition = await collection.updateOne({ _id: 'p' }, { $pull: { outbox: { event_id: 'e1' } } } as never)
    // MongoDB applies it; FerretDB 1.24 silently matches nothing (hence $pullAll of the exact entry).
    expect(byCondition.modifiedCount).toBe(inject('mongoEngine') === 'ferretdb' ? 0 : 1)
    const byValue = await collection.updateOne({ _id: 'p' }, {
      $pullAll: { outbox: [{ event_id: 'e2', n: 2 }] },
    } as never)
    expect(byValue.modifiedCount).toBe(1)
  })

  it('toOutboxEntry / fromOutboxEntry round-trip (payload keys with "." and "$" included)', async () => {
    const n = createNotification('sess-rt', {
      channel: 'sqs',
      target: 'https://sqs.eu-west-1.amazonaws.com/1/q',
      payload: { body: '{"a":1}', attributes: { session_id: 'sess-rt' }, 'odd.key': { $x: [[1, 2]] } },
    })
    const entry = toOutboxEntry(n, { relayDelayMs: 1_000 })
    expect(Object.keys(entry)).toEqual([
      'event_id',
      'session_id',
      'channel',
      'target',
      'payload',
      'created_at',
      'due_at',
    ])
    expect(entry.due_at.getTime() - entry.created_at.getTime()).toBe(1_000)
    const collection = database.db.collection<{ _id: string; outbox: OutboxEntryDocument[] }>('roundtrip')
    await collection.insertOne({ _id: 'doc', outbox: [entry] })
    const stored = (await collection.findOne({ _id: 'doc' }))!.outbox[0]!
    expect(fromOutboxEntry(stored)).toEqual({ ...n, attempts: 0 })
    expect(() => fromOutboxEntry({ ...stored, channel: 7 })).toThrow(/'channel' is missing/)
  })

  it('markDelivered by entry and by event id; claimOutbox leases a document to one deliverer', async () => {
    const collection = database.db.collection<{ _id: string; outbox: OutboxEntryDocument[] }>('lease')
    const entries = [0, 1, 2].map((i) =>
      toOutboxEntry(createNotification('s', { channel: 'sqs', target: 't', payload: { i } }), { relayDelayMs: 0 }),
    )
    await collection.insertOne({ _id: 'doc', outbox: entries })
    expect(await markDelivered(collection, 'doc', entries[1]!)).toBe(true)
    expect(await markDelivered(collection, 'doc', entries[0]!.event_id)).toBe(true)
    expect(await markDelivered(collection, 'doc', entries[0]!.event_id)).toBe(false)
    expect((await collection.findOne({ _id: 'doc' }))!.outbox.map((e) => e.event_id)).toEqual([entries[2]!.event_id])

    const claim = await claimOutbox(collection, 'doc', { leaseMs: 60_000 })
    expect(claim?.entries.map((e) => e.event_id)).toEqual([entries[2]!.event_id])
    expect(await claimOutbox(collection, 'doc', { leaseMs: 60_000 })).toBeNull()
    await releaseOutbox(collection, claim!)
    expect(await claimOutbox(collection, 'doc', { leaseMs: 60_000 })).not.toBeNull()
  })
})

describe('durable delivery with fauxqs', () => {
  it('in-process: delivered entries are removed from the outbox; a permanent error moves one to outbox_failed', async () => {
    const fauxqs = await startFauxqs()
    try {
      const db = database.db
      const prefix = `inproc_${Date.now()}`
      const queueUrl = await createQueue(fauxqs, `${prefix}-meta`)
      const topic = await createTopicWithQueues(fauxqs, `${prefix}-bad`)
      const dispatcher = new NotificationDispatcher({ baseDelayMs: 5 })
      const harness = new HookHarness({ db: db, dispatcher, durable: true })
      await harness.sessions.deleteMany({})
      await harness.feedback.deleteMany({})
      const metadataHook = createMetadataSqsHook({ queueUrl, metadataFields: ['status'], client: fauxqs.sqs })
      const feedbackHook = createFeedbackSnsHook({ topicArnBad: topic.topicArn, client: fauxqs.sns })
      const brokenHook = createFeedbackSnsHook({
        topicArnGood: 'arn:aws:sns:eu-west-1:000000000000:missing-topic',
        client: fauxqs.sns,
      })
      await harness.createSession('durable-1')
      await harness.updateMetadata('durable-1', metadataHook, { status: 'a' })
      await harness.addFeedback('durable-1', feedbackHook, { rating: 'down', comment: 'x' })
      const errors = vi.spyOn(console, 'error').mockImplementation(() => {})
      try {
        await harness.addFeedback('durable-1', brokenHook, { rating: 'up', comment: 'y' })
        await dispatcher.close()
      } finally {
        errors.mockRestore()
      }
      expect(dispatcher.stats()).toMatchObject({ sent: 2, failed: 1, retried: 0 })
      expect(await outboxCount(harness)).toBe(0)
      const failed = await harness.feedback.findOne({ 'outbox_failed.0': { $exists: true } })
      expect(failed?.outbox_failed).toHaveLength(1)
      expect(failed!.outbox_failed[0]).toMatchObject({ channel: 'sns', error: expect.stringMatching(/NotFound/) })
      expect(await drain(fauxqs, queueUrl, 1)).toHaveLength(1)
      expect(await drain(fauxqs, topic.rawQueueUrl, 1)).toHaveLength(1)
    } finally {
      await fauxqs.stop()
    }
  })

  it('AWS outage: 100 feedbacks + 100 metadata updates stored while fauxqs is down; after a restart on the same port the relay delivers every one, none twice', async () => {
    const db = database.db.client.db(`${database.databaseName}_outage`)
    let fauxqs = await startFauxqs()
    const port = fauxqs.port
    const setup = async (f: RunningFauxqs) => ({
      topic: await createTopicWithQueues(f, 'outage-feedback'),
      queueUrl: await createQueue(f, 'outage-metadata'),
    })
    let resources = await setup(fauxqs)
    const clients = clientsFor(port)
    const feedbackHook = createFeedbackSnsHook({
      topicArnGood: resources.topic.topicArn,
      topicArnBad: resources.topic.topicArn,
      topicArnNeutral: resources.topic.topicArn,
      client: clients.sns,
    })
    const metadataHook = createMetadataSqsHook({
      queueUrl: resources.queueUrl,
      metadataFields: ['step'],
      client: clients.sqs,
    })
    await fauxqs.stop() // the outage starts

    const dispatcher = new NotificationDispatcher({ maxAttempts: 2, baseDelayMs: 5, maxDelayMs: 10 })
    const harness = new HookHarness({ db, dispatcher, durable: true, relayDelayMs: 60_000 })
    const sessions = Array.from({ length: 10 }, (_, i) => `outage-${i}`)
    for (const s of sessions) await harness.createSession(s)
    const ratings = ['up', 'down', null] as const
    const logs = [vi.spyOn(console, 'error'), vi.spyOn(console, 'warn')].map((s) => s.mockImplementation(() => {}))
    try {
      for (let i = 0; i < 100; i += 1) {
        const s = sessions[i % 10]!
        // Storage calls succeed although every AWS call fails.
        await harness.addFeedback(s, feedbackHook, { rating: ratings[i % 3]!, comment: `feedback ${i}` })
        await harness.updateMetadata(s, metadataHook, { step: Math.floor(i / 10) })
      }
      await dispatcher.close()
    } finally {
      logs.forEach((s) => s.mockRestore())
    }
    expect(dispatcher.stats()).toMatchObject({ sent: 0, failed: 200, pending: 0 })
    const expected = await storedEventIds(harness)
    expect(expected).toHaveLength(200)
    expect(new Set(expected).size).toBe(200)

    // Relay while still down: nothing delivered, nothing lost, documents backed off.
    const quiet = vi.spyOn(console, 'warn').mockImplementation(() => {})
    const down = await relayPendingNotifications({
      collections: { sessions: harness.sessions, feedback: harness.feedback },
      senders: [...feedbackHook.senders, ...metadataHook.senders],
      now: future,
      sendTimeoutMs: 2_000,
    }).finally(() => quiet.mockRestore())
    expect(down.delivered).toBe(0)
    expect(down.deferred).toBeGreaterThan(0)
    expect(await outboxCount(harness)).toBe(200)
    // Clear the backoff the failed pass set, as if its time had passed.
    for (const c of [harness.sessions, harness.feedback]) await c.updateMany({}, { $unset: { outbox_lease_until: '' } })

    fauxqs = await startFauxqs({ port }) // the outage ends: same port, fresh emulator
    try {
      resources = await setup(fauxqs)
      const relayed = await relayPendingNotifications({
        collections: [harness.sessions, harness.feedback],
        senders: [...feedbackHook.senders, ...metadataHook.senders],
        now: future,
      })
      expect(relayed).toMatchObject({ delivered: 200, failed: 0, deferred: 0 })
      expect(await outboxCount(harness)).toBe(0)
      const again = await relayPendingNotifications({
        collections: [harness.sessions, harness.feedback],
        senders: [...feedbackHook.senders, ...metadataHook.senders],
        now: future,
      })
      expect(again.delivered).toBe(0)

      const feedbackMessages = await drain(fauxqs, resources.topic.rawQueueUrl, 101, 3_000)
      const metadataMessages = await drain(fauxqs, resources.queueUrl, 101, 3_000)
      expect(feedbackMessages).toHaveLength(100)
      expect(metadataMessages).toHaveLength(100)
      const received = [...feedbackMessages, ...metadataMessages].map(eventIdOf)
      expect(new Set(received).size).toBe(200)
      expect([...received].sort()).toEqual([...expected].sort())
      // Per session, metadata events arrive in write order.
      for (const s of sessions) {
        const steps = metadataMessages
          .map((m) => JSON.parse(m.Body!))
          .filter((b) => b.session_id === s)
          .map((b) => b.metadata.step)
        expect(steps).toEqual([...Array(10).keys()])
      }
    } finally {
      clients.sns.destroy()
      clients.sqs.destroy()
      await fauxqs.stop()
      await db.dropDatabase()
    }
  }, 120_000)

  it('crash between the write and the publish: entries left in MongoDB are delivered by the relay once due', async () => {
    const fauxqs = await startFauxqs()
    const db = database.db.client.db(`${database.databaseName}_crash`)
    try {
      const queueUrl = await createQueue(fauxqs, 'crash-metadata')
      const topic = await createTopicWithQueues(fauxqs, 'crash-feedback')
      const dispatcher = new NotificationDispatcher()
      const crashed = new HookHarness({ db, dispatcher, durable: true, crashAfterWrite: true, relayDelayMs: 60_000 })
      const metadataHook = createMetadataSqsHook({ queueUrl, metadataFields: ['status'], client: fauxqs.sqs })
      const feedbackHook = createFeedbackSnsHook({ topicArnBad: topic.topicArn, client: fauxqs.sns })
      await crashed.createSession('crash-1')
      await crashed.updateMetadata('crash-1', metadataHook, { status: 'written-then-crashed' })
      await crashed.addFeedback('crash-1', feedbackHook, { rating: 'down', comment: 'lost?' })
      await dispatcher.flush()
      expect(dispatcher.stats().sent).toBe(0)
      expect(await outboxCount(crashed)).toBe(2)

      const senders: NotificationSender[] = [...metadataHook.senders, ...feedbackHook.senders]
      const collections = [crashed.sessions, crashed.feedback]
      // Not due yet: the entries still belong to their writer's retries.
      expect((await relayPendingNotifications({ collections, senders })).delivered).toBe(0)
      // A new process, later: the relay delivers them.
      expect(await relayPendingNotifications({ collections, senders, now: future })).toMatchObject({ delivered: 2 })
      const [metadata] = await drain(fauxqs, queueUrl, 1)
      expect(JSON.parse(metadata!.Body!).metadata).toEqual({ status: 'written-then-crashed' })
      const [feedback] = await drain(fauxqs, topic.rawQueueUrl, 1)
      expect(feedback!.Body).toBe('Session: crash-1\n\nlost?')
      expect(await outboxCount(crashed)).toBe(0)
    } finally {
      await fauxqs.stop()
      await db.dropDatabase()
    }
  })

  it('two relays racing over the same outbox deliver each entry once (document lease)', async () => {
    const fauxqs = await startFauxqs()
    const db = database.db.client.db(`${database.databaseName}_race`)
    try {
      const queueUrl = await createQueue(fauxqs, 'race-metadata')
      const dispatcher = new NotificationDispatcher()
      const crashed = new HookHarness({ db, dispatcher, durable: true, crashAfterWrite: true, relayDelayMs: 0 })
      const hook = createMetadataSqsHook({ queueUrl, metadataFields: ['i'], client: fauxqs.sqs })
      for (const s of ['race-a', 'race-b', 'race-c']) {
        await crashed.createSession(s)
        for (let i = 0; i < 10; i += 1) await crashed.updateMetadata(s, hook, { i })
      }
      const options = { collections: [crashed.sessions], senders: hook.senders, concurrency: 2 }
      const [r1, r2] = await Promise.all([relayPendingNotifications(options), relayPendingNotifications(options)])
      expect(r1.delivered + r2.delivered).toBe(30)
      const messages = await drain(fauxqs, queueUrl, 31, 2_000)
      expect(messages).toHaveLength(30)
      expect(new Set(messages.map(eventIdOf)).size).toBe(30)
    } finally {
      await fauxqs.stop()
      await db.dropDatabase()
    }
  })

  it('startOutboxRelay: a background worker picks up abandoned entries and stops cleanly', async () => {
    const fauxqs = await startFauxqs()
    const db = database.db.client.db(`${database.databaseName}_worker`)
    try {
      const queueUrl = await createQueue(fauxqs, 'worker-metadata')
      const crashed = new HookHarness({
        db,
        dispatcher: new NotificationDispatcher(),
        durable: true,
        crashAfterWrite: true,
        relayDelayMs: 0,
      })
      const hook = createMetadataSqsHook({ queueUrl, metadataFields: ['n'], client: fauxqs.sqs })
      await crashed.createSession('worker-1')
      const worker = startOutboxRelay({
        intervalMs: 20,
        collections: [crashed.sessions, crashed.feedback],
        senders: hook.senders,
      })
      try {
        for (let n = 0; n < 5; n += 1) await crashed.updateMetadata('worker-1', hook, { n })
        const messages = await drain(fauxqs, queueUrl, 5, 5_000)
        expect(messages.map((m) => JSON.parse(m.Body!).metadata.n)).toEqual([0, 1, 2, 3, 4])
      } finally {
        await worker.stop()
      }
      expect(worker.totals.delivered).toBe(5)
      expect(await outboxCount(crashed)).toBe(0)
    } finally {
      await fauxqs.stop()
      await db.dropDatabase()
    }
  })
})
