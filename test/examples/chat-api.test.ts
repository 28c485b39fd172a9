/** The chat HTTP API example over real HTTP: chat, restore, feedback (→ SNS), metadata (→ SQS), bad input. */
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildChatApp } from '../../examples/chat-api/app.js'
import { startLocalAws, type ExampleAws } from '../../examples/shared/local-aws.js'
import { receiveMessages, snsNotificationOf } from '../../examples/shared/queues.js'
import { createModel } from '../../examples/shared/support-agent.js'
import { MongoDBSessionManagerFactory } from '../../src/index.js'
import { createFeedbackSnsHook, createMetadataSqsHook } from '../../src/aws/index.js'
import { openTestDatabase, type TestDatabase } from '../support/mongo.js'

let db: TestDatabase
let aws: ExampleAws
let factory: MongoDBSessionManagerFactory
let app: FastifyInstance
let base: string

// Response bodies are asserted field by field, so they are left untyped here.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function call(method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const response = await fetch(`${base}${path}`, {
    method,
    ...(body !== undefined && { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  })
  return { status: response.status, json: await response.json() }
}

beforeAll(async () => {
  db = await openTestDatabase('msm_chat')
  aws = await startLocalAws()
  factory = new MongoDBSessionManagerFactory({
    client: db.client,
    databaseName: db.databaseName,
    applicationName: 'chat-api',
    feedbackHook: createFeedbackSnsHook({
      topicArnGood: aws.topics.good,
      topicArnBad: aws.topics.bad,
      topicArnNeutral: 'none',
      client: aws.sns,
    }),
    metadataHook: createMetadataSqsHook({
      queueUrl: aws.metadataQueueUrl,
      metadataFields: ['status'],
      client: aws.sqs,
    }),
  })
  app = buildChatApp({ factory, createModel: () => createModel('scripted') })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const address = app.server.address()
  base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`
})

afterAll(async () => {
  await app.close()
  await factory.close()
  await aws.stop()
  await db.cleanup()
})

describe('chat API example', () => {
  it('chats with a tool call, one manager per request, and restores the conversation', async () => {
    const first = await call('POST', '/sessions/web-1/messages', { message: 'Where is my order A-1001?' })
    expect(first.status).toBe(200)
    expect(first.json.reply).toContain('delayed at the Lyon hub')
    expect(first.json.messageCount).toBe(4)
    const second = await call('POST', '/sessions/web-1/messages', { message: 'Please escalate.' })
    expect(second.json.reply).toContain('escalated')
    expect(second.json.messageCount).toBe(6)
    const history = await call('GET', '/sessions/web-1/messages')
    expect(history.json.messages.map((m: { role: string }) => m.role)).toEqual([
      'user',
      'assistant',
      'user',
      'assistant',
      'user',
      'assistant',
    ])
    expect(history.json.messages[1].content[0].toolUse.name).toBe('lookup_order')
  })

  it('stores feedback and publishes it to SNS (neutral disabled with "none")', async () => {
    const down = await call('POST', '/sessions/web-1/feedback', { rating: 'down', comment: 'too slow' })
    expect(down.status).toBe(201)
    expect(down.json).toMatchObject({ sessionId: 'web-1', rating: 'down', comment: 'too slow' })
    expect((await call('POST', '/sessions/web-1/feedback', { rating: null })).status).toBe(201)
    await factory.flush()
    const [message] = await receiveMessages(aws.sqs, aws.feedbackQueues!.bad, 1)
    expect(snsNotificationOf(message!).subject).toBe('Virtual Agents Feedback negative on session web-1')
    expect(await receiveMessages(aws.sqs, aws.feedbackQueues!.neutral, 1, 1_000)).toEqual([])
    const list = await call('GET', '/sessions/web-1/feedback')
    expect(list.json.items.map((f: { rating: string | null }) => f.rating)).toEqual(['down', null])
  })

  it('merges, reads and deletes metadata, and propagates listed fields to SQS', async () => {
    const merged = await call('PATCH', '/sessions/web-1/metadata', { status: 'escalated', internal: 'x' })
    expect(merged.json).toEqual({ status: 'escalated', internal: 'x' })
    expect((await call('GET', '/sessions/web-1/metadata')).json).toEqual({ status: 'escalated', internal: 'x' })
    expect((await call('DELETE', '/sessions/web-1/metadata?keys=internal')).json).toEqual({ status: 'escalated' })
    await factory.flush()
    const [event] = await receiveMessages(aws.sqs, aws.metadataQueueUrl, 1)
    expect(JSON.parse(event!.Body!)).toMatchObject({
      session_id: 'web-1',
      operation: 'update',
      metadata: { status: 'escalated' },
    })
  })

  it('answers bad input with 400 and writes nothing', async () => {
    expect((await call('POST', '/sessions/web-2/feedback', { rating: 'great' })).status).toBe(400)
    const operator = await call('PATCH', '/sessions/web-2/metadata', { $where: 'evil' })
    expect(operator.status).toBe(400)
    expect(operator.json.code).toBe('MSM_VALIDATION')
    const badId = await call('POST', '/sessions/Bad%20Id/messages', { message: 'hi' })
    expect(badId.status).toBe(400)
    expect((await call('POST', '/sessions/web-2/messages', {})).status).toBe(400)
    expect(await db.db.collection('sessions').countDocuments({ _id: 'web-2' as never })).toBe(0)
    expect(await db.db.collection('feedback').countDocuments({ session_id: 'web-2' })).toBe(0)
  })

  it('reports health without secrets', async () => {
    const health = await call('GET', '/health')
    expect(health.json).toMatchObject({ status: 'connected', databaseName: db.databaseName })
  })
})
