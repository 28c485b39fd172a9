/**
 * `flush()` is bounded: during an SNS/SQS outage it resolves at `timeoutMs` and reports what is still
 * pending, instead of lasting as long as every queued notification's retries. The AWS endpoint here
 * is a closed loopback port (connection refused), reached through the real SQS client.
 */
import { createServer } from 'node:net'
import { SQSClient } from '@aws-sdk/client-sqs'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { MongoDBSessionManager, MongoDBSessionManagerFactory, NotificationDispatcher } from '../../src/index.js'
import { createMetadataSqsHook } from '../../src/aws/index.js'
import { openTestDatabase, type TestDatabase } from '../support/mongo.js'

let t: TestDatabase
let sqs: SQSClient
let queueUrl: string

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

beforeAll(async () => {
  t = await openTestDatabase('msm_flush_bound')
  const port = await closedPort()
  // One SDK attempt per send, so the dispatcher's own retries are what the bound has to cut short.
  sqs = new SQSClient({
    endpoint: `http://127.0.0.1:${port}`,
    region: 'eu-west-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
  })
  queueUrl = `http://127.0.0.1:${port}/000000000000/metadata-down`
})

afterAll(async () => {
  sqs.destroy()
  await t.cleanup()
})

/** Retries that take ≥ 150 ms per notification (3 backoffs pinned at 50 ms): 20 of them take ≥ 3 s. */
const retrying = { maxAttempts: 4, baseDelayMs: 50, maxDelayMs: 50, random: () => 1 }

function metadataHook() {
  return createMetadataSqsHook({ queueUrl, metadataFields: ['status'], client: sqs })
}

describe('flush during an AWS outage', () => {
  it('manager, durable: resolves at the bound with the backlog pending; the outbox keeps every entry', async () => {
    const logs = [vi.spyOn(console, 'warn'), vi.spyOn(console, 'error')].map((s) => s.mockImplementation(() => {}))
    const dispatcher = new NotificationDispatcher(retrying)
    const sm = new MongoDBSessionManager({
      sessionId: 'flush-durable',
      client: t.client,
      databaseName: t.databaseName,
      metadataHook: metadataHook(),
      delivery: 'durable',
      dispatcher,
    })
    try {
      for (let i = 0; i < 20; i += 1) await sm.updateMetadata({ status: `step-${i}` })

      const unsettled = sm.notificationStats.pending // the first ones may already be given up
      const result = await sm.flush({ timeoutMs: 500 })
      expect(result.timedOut).toBe(true)
      expect(result.delivered).toBe(0)
      expect(result.pending).toBeGreaterThan(0)
      expect(result.delivered + result.failed + result.pending).toBe(unsettled)
      expect(sm.notificationStats.pending).toBe(result.pending)

      // Unbounded, the rest finish their retries and are given up, still stored for the relay.
      expect(await dispatcher.flush({ timeoutMs: Infinity })).toMatchObject({ pending: 0, timedOut: false })
      expect(dispatcher.stats()).toMatchObject({ sent: 0, failed: 20, pending: 0 })
      const doc = await t.db.collection('sessions').findOne({ _id: 'flush-durable' as never })
      expect(doc?.outbox).toHaveLength(20)
    } finally {
      await sm.close()
      for (const spy of logs) spy.mockRestore()
    }
  })

  it('factory, background: flush() is bounded by the configured default and reports the backlog', async () => {
    const logs = [vi.spyOn(console, 'warn'), vi.spyOn(console, 'error')].map((s) => s.mockImplementation(() => {}))
    const factory = new MongoDBSessionManagerFactory({
      client: t.client,
      databaseName: t.databaseName,
      metadataHook: metadataHook(),
      dispatcherOptions: { ...retrying, flushTimeoutMs: 500 },
    })
    try {
      const sm = factory.createSessionManager('flush-background')
      for (let i = 0; i < 20; i += 1) await sm.updateMetadata({ status: `step-${i}` })

      const result = await factory.flush()
      expect(result).toMatchObject({ delivered: 0, timedOut: true })
      expect(result.pending).toBeGreaterThan(0)
      expect(factory.dispatcher.stats().pending).toBe(result.pending)
    } finally {
      await factory.close() // waits for the remaining retries
      for (const spy of logs) spy.mockRestore()
    }
    expect(factory.dispatcher.stats()).toMatchObject({ sent: 0, failed: 20, pending: 0 })
  })
})
