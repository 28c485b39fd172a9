/** The Lambda example, invoked as Lambda does: call the handler, and when it resolves the notifications are out. */
import { createServer } from 'node:net'
import { SQSClient } from '@aws-sdk/client-sqs'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { createHandler, handler, type HttpEvent } from '../../examples/lambda/handler.js'
import { startLocalAws, type ExampleAws } from '../../examples/shared/local-aws.js'
import { receiveMessages, snsNotificationOf } from '../../examples/shared/queues.js'
import { MongoDBSessionManagerFactory } from '../../src/index.js'
import { createFeedbackSnsHook, createMetadataSqsHook } from '../../src/aws/index.js'
import { openTestDatabase, type TestDatabase } from '../support/mongo.js'

let db: TestDatabase
let aws: ExampleAws
let factory: MongoDBSessionManagerFactory

function event(method: string, rawPath: string, body?: unknown): HttpEvent {
  return { rawPath, requestContext: { http: { method } }, body: body === undefined ? null : JSON.stringify(body) }
}

beforeAll(async () => {
  db = await openTestDatabase('msm_lambda')
  aws = await startLocalAws()
  factory = new MongoDBSessionManagerFactory({
    client: db.client,
    databaseName: db.databaseName,
    feedbackHook: createFeedbackSnsHook({
      topicArnGood: aws.topics.good,
      topicArnBad: aws.topics.bad,
      topicArnNeutral: aws.topics.neutral,
      client: aws.sns,
    }),
    metadataHook: createMetadataSqsHook({
      queueUrl: aws.metadataQueueUrl,
      metadataFields: ['status'],
      client: aws.sqs,
    }),
  })
})

afterAll(async () => {
  await factory.close()
  await aws.stop()
  await db.cleanup()
})

describe('Lambda handler example', () => {
  it('has delivered every notification by the time it returns', async () => {
    const handle = createHandler(factory)
    const chat = await handle(event('POST', '/sessions/lambda-1/messages', { message: 'Where is order A-1001?' }))
    expect(chat.statusCode).toBe(200)
    expect(JSON.parse(chat.body).reply).toContain('delayed')

    const feedback = await handle(event('POST', '/sessions/lambda-1/feedback', { rating: 'down', comment: 'late' }))
    expect(feedback.statusCode).toBe(201)
    // Nothing pending once the handler has resolved: Lambda may freeze the process right now.
    expect(factory.dispatcher.stats()).toMatchObject({ pending: 0, sent: 1, failed: 0 })
    const [notification] = await receiveMessages(aws.sqs, aws.feedbackQueues!.bad, 1, 2_000)
    expect(snsNotificationOf(notification!)).toMatchObject({
      subject: 'Virtual Agents Feedback negative on session lambda-1',
      message: 'Session: lambda-1\n\nlate',
    })

    const metadata = await handle(event('PATCH', '/sessions/lambda-1/metadata', { status: 'escalated' }))
    expect(metadata.statusCode).toBe(200)
    expect(factory.dispatcher.stats()).toMatchObject({ pending: 0, sent: 2 })
    const [update] = await receiveMessages(aws.sqs, aws.metadataQueueUrl, 1, 2_000)
    expect(JSON.parse(update!.Body!)).toMatchObject({ session_id: 'lambda-1', metadata: { status: 'escalated' } })
  })

  it('answers bad input with 400 and stores nothing', async () => {
    const handle = createHandler(factory)
    expect((await handle(event('POST', '/sessions/lambda-2/feedback', { rating: 'meh' }))).statusCode).toBe(400)
    expect((await handle({ ...event('PATCH', '/sessions/lambda-2/metadata'), body: '[1,2' })).statusCode).toBe(400)
    expect((await handle(event('PATCH', '/sessions/lambda-2/metadata', { 'a.$b': 1 }))).statusCode).toBe(400)
    expect((await handle(event('POST', '/sessions/NOT VALID/feedback', { rating: 'up' }))).statusCode).toBe(400)
    expect((await handle(event('GET', '/nowhere'))).statusCode).toBe(404)
    expect(await db.db.collection('feedback').countDocuments({ session_id: 'lambda-2' })).toBe(0)
    expect(await db.db.collection('sessions').countDocuments({ _id: 'lambda-2' as never })).toBe(0)
  })

  it('with AWS unreachable, returns within the flush budget the Lambda context allows, reporting the backlog', async () => {
    const server = createServer()
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const { port } = server.address() as { port: number }
    await new Promise<void>((resolve) => server.close(() => resolve()))
    const down = new SQSClient({
      endpoint: `http://127.0.0.1:${port}`,
      region: 'eu-west-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      maxAttempts: 1,
    })
    const outage = new MongoDBSessionManagerFactory({
      client: db.client,
      databaseName: db.databaseName,
      metadataHook: createMetadataSqsHook({
        queueUrl: `http://127.0.0.1:${port}/000000000000/down`,
        metadataFields: ['status'],
        client: down,
      }),
      // Retries that outlast any flush bound: 1 000 attempts, 1 s apart. (Not closed: close() waits for
      // them; the client is the test's own.)
      dispatcherOptions: { maxAttempts: 1_000, baseDelayMs: 1_000, maxDelayMs: 1_000 },
    })
    const warnings: string[] = []
    const spies = [
      vi.spyOn(console, 'warn').mockImplementation((m: string) => void warnings.push(m)),
      vi.spyOn(console, 'error').mockImplementation(() => {}),
    ]
    try {
      // 1.3 s left in the invocation, 1 s kept for the response: a 300 ms flush bound.
      const context = { getRemainingTimeInMillis: () => 1_300 }
      const result = await createHandler(outage)(
        event('PATCH', '/sessions/lambda-4/metadata', { status: 'x' }),
        context,
      )
      expect(result.statusCode).toBe(200)
      expect(outage.dispatcher.stats().pending).toBe(1)
      expect(warnings.some((w) => w.startsWith('1 notification(s) still pending after the flush bound'))).toBe(true)
    } finally {
      for (const spy of spies) spy.mockRestore()
      down.destroy()
    }
  })

  it('the environment-configured handler works the same (AWS_ENDPOINT_URL pointing at fauxqs)', async () => {
    const saved = { ...process.env }
    Object.assign(process.env, {
      MONGODB_URI: db.uri,
      MONGODB_DATABASE: db.databaseName,
      // The SQS client sends to the queue URL's host: use the emulator's address rather than `sqs.<region>.localhost`.
      SQS_METADATA_QUEUE_URL: aws.metadataQueueUrl.replace(/^http:\/\/[^/]+/, aws.endpoint!),
      METADATA_FIELDS: 'status',
      AWS_ENDPOINT_URL: aws.endpoint,
      AWS_REGION: aws.region,
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
    })
    try {
      const result = await handler(event('PATCH', '/sessions/lambda-3/metadata', { status: 'open' }))
      expect(result.statusCode).toBe(200)
      const [update] = await receiveMessages(aws.sqs, aws.metadataQueueUrl, 1, 2_000)
      expect(JSON.parse(update!.Body!)).toMatchObject({ session_id: 'lambda-3', metadata: { status: 'open' } })
    } finally {
      process.env = saved
    }
  })
})
