/**
 * The whole system through the public API: a real Agent on MongoDBSessionManager, session data,
 * and the AWS hooks delivering to SNS/SQS over real HTTP (fauxqs), in background and durable mode.
 */
import { Agent, NullConversationManager } from '@strands-agents/sdk'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  MongoDBSessionManager,
  MongoDBSessionManagerFactory,
  NotificationDispatcher,
  relayPendingNotifications,
  ValidationError,
  type MongoDBSessionManagerOptions,
} from '../../src/index.js'
import { createFeedbackSnsHook, createMetadataSqsHook, createSnsSender, createSqsSender } from '../../src/aws/index.js'
import { ScriptedModel } from '../../src/testing/index.js'
import { createQueue, createTopicWithQueues, drain, sqsAttributes, type TopicWithQueues } from '../aws/support/aws.js'
import { testAgent } from '../support/agents.js'
import { startFauxqs, type RunningFauxqs } from '../support/fauxqs.js'
import { openTestDatabase, type TestDatabase } from '../support/mongo.js'

let t: TestDatabase
let aws: RunningFauxqs
let good: TopicWithQueues
let bad: TopicWithQueues
let neutral: TopicWithQueues
let metadataQueue: string

beforeAll(async () => {
  t = await openTestDatabase('msm_e2e')
  aws = await startFauxqs()
  good = await createTopicWithQueues(aws, 'e2e-good')
  bad = await createTopicWithQueues(aws, 'e2e-bad')
  neutral = await createTopicWithQueues(aws, 'e2e-neutral')
  metadataQueue = await createQueue(aws, 'e2e-metadata')
})
afterAll(async () => {
  await aws.stop()
  await t.cleanup()
})

function hooks() {
  return {
    feedbackHook: createFeedbackSnsHook({
      topicArnGood: good.topicArn,
      topicArnBad: bad.topicArn,
      topicArnNeutral: neutral.topicArn,
      client: aws.sns,
    }),
    metadataHook: createMetadataSqsHook({
      queueUrl: metadataQueue,
      metadataFields: ['status', 'priority'],
      client: aws.sqs,
    }),
  }
}

function manager(sessionId: string, extra: Partial<MongoDBSessionManagerOptions> = {}) {
  return new MongoDBSessionManager({ sessionId, client: t.client, databaseName: t.databaseName, ...hooks(), ...extra })
}

describe('feedback and metadata through the manager', () => {
  it('stores them, then delivers the exact SNS and SQS messages after flush()', async () => {
    const sm = manager('e2e-1', { applicationName: 'support-bot' })
    const agent = testAgent({ sessionManager: sm })
    await agent.invoke('where is my order?')

    const stored = await sm.addFeedback({ rating: 'down', comment: 'The response was incomplete' })
    expect(stored).toMatchObject({ sessionId: 'e2e-1', rating: 'down', comment: 'The response was incomplete' })
    await sm.addFeedback({ rating: 'up', comment: 'Great response!' })
    await sm.addFeedback({ rating: null, comment: 'Just saving for later' })
    expect(await sm.updateMetadata({ status: 'processing', priority: 'high', internal_field: 'value' })).toEqual({
      status: 'processing',
      priority: 'high',
      internal_field: 'value',
    })
    await sm.deleteMetadata(['priority', 'internal_field'])
    await sm.flush()

    const [negative] = await drain(aws, bad.rawQueueUrl, 1)
    expect(negative?.Body).toBe('Session: e2e-1\n\nThe response was incomplete')
    expect(sqsAttributes(negative!)).toMatchObject({ session_id: 'String:e2e-1', rating: 'String:negative' })
    const [envelope] = await drain(aws, good.envelopeQueueUrl, 1)
    expect(JSON.parse(envelope!.Body!)).toMatchObject({
      Subject: 'Virtual Agents Feedback positive on session e2e-1',
      Message: 'Session: e2e-1\n\nGreat response!',
    })
    expect(await drain(aws, neutral.rawQueueUrl, 1)).toHaveLength(1)

    const events = (await drain(aws, metadataQueue, 2)).map((m) => JSON.parse(m.Body!))
    expect(events.map(({ timestamp: _timestamp, ...rest }) => rest)).toEqual([
      {
        session_id: 'e2e-1',
        event: 'metadata_update',
        operation: 'update',
        metadata: { status: 'processing', priority: 'high' },
      },
      { session_id: 'e2e-1', event: 'metadata_update', operation: 'delete', metadata: { priority: null } },
    ])
    expect(events[0].timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)

    expect(await sm.getFeedbackCounts()).toEqual({ up: 1, down: 1, neutral: 1 })
    expect((await sm.getFeedbacks()).items.map((f) => f.rating)).toEqual(['down', 'up', null])
    expect(await sm.getMetadata()).toEqual({ status: 'processing' })
    expect(await sm.getApplicationName()).toBe('support-bot')
    expect(sm.notificationStats).toMatchObject({ sent: 5, failed: 0, pending: 0 })
    await sm.close()
  })

  it('rejects a bad rating with a typed error, storing and sending nothing', async () => {
    const sm = manager('e2e-2')
    await expect(sm.addFeedback({ rating: 'great' as never })).rejects.toBeInstanceOf(ValidationError)
    await sm.flush()
    expect(await t.db.collection('feedback').countDocuments({ session_id: 'e2e-2' })).toBe(0)
    expect(sm.notificationStats.sent).toBe(0)
  })
})

describe('agents on the manager', () => {
  it('records metrics, agent config and message counts, and lets the agent manage metadata with its tool', async () => {
    const sm = manager('e2e-agent')
    const model = new ScriptedModel([
      { toolUse: { name: 'manage_metadata', input: { action: 'set', metadata: { status: 'escalated' } } } },
      { text: 'I escalated your case.', usage: { inputTokens: 120, outputTokens: 30 } },
    ])
    const agent = new Agent({
      model,
      systemPrompt: 'You are a support agent.',
      tools: [sm.getMetadataTool()],
      sessionManager: sm,
      conversationManager: new NullConversationManager(),
      printer: false,
    })
    await agent.invoke('please escalate')
    await sm.flush()
    expect(await sm.getMetadata()).toEqual({ status: 'escalated' })
    const [event] = await drain(aws, metadataQueue, 1)
    expect(JSON.parse(event!.Body!).metadata).toEqual({ status: 'escalated' })

    const summary = await sm.getMetricsSummary()
    expect(summary.session.inputTokens).toBeGreaterThanOrEqual(120)
    expect(summary.session.outputTokens).toBeGreaterThanOrEqual(30)
    expect(await sm.getMessageCount(agent.id)).toBe(4)
    const config = await sm.getAgentConfig(agent.id)
    expect(config).toMatchObject({ model: 'scripted-model-v1', systemPrompt: 'You are a support agent.' })
    expect((await sm.listAgents()).map((a) => a.agentId)).toEqual([agent.id])
    await sm.close()
  })
})

describe('durable delivery through the manager', () => {
  it('delivers every notification once after an outage, via the relay', { timeout: 120_000 }, async () => {
    const port = aws.port
    const dispatcher = new NotificationDispatcher({ maxAttempts: 2, baseDelayMs: 10, maxDelayMs: 20 })
    const factory = new MongoDBSessionManagerFactory({
      client: t.client,
      databaseName: t.databaseName,
      delivery: 'durable',
      dispatcher,
      ...hooks(),
    })
    await aws.stop()
    const sessions = Array.from({ length: 10 }, (_, i) => factory.createSessionManager(`durable-${i}`))
    for (const [i, sm] of sessions.entries()) {
      for (let k = 0; k < 5; k++) {
        await sm.addFeedback({ rating: 'down', comment: `outage ${i}/${k}` })
        await sm.updateMetadata({ status: `step-${k}` })
      }
    }
    await factory.flush()
    expect(dispatcher.stats().sent).toBe(0)

    // Every notification waits in MongoDB, next to the change it announces.
    expect(
      await t.db.collection('feedback').countDocuments({ session_id: /^durable-/, 'outbox.0': { $exists: true } }),
    ).toBe(50)

    // AWS is back (fauxqs keeps no state across restarts: recreate the same topics and queue).
    aws = await startFauxqs({ port })
    bad = await createTopicWithQueues(aws, 'e2e-bad')
    metadataQueue = await createQueue(aws, 'e2e-metadata')
    const result = await relayPendingNotifications({
      collections: { sessions: sessions[0]!.collections.sessions, feedback: sessions[0]!.collections.feedback },
      senders: [createSnsSender({ client: aws.sns }), createSqsSender({ client: aws.sqs })],
      now: () => new Date(Date.now() + 3_600_000),
    })
    expect(result.delivered).toBe(100)
    const feedback = await drain(aws, bad.rawQueueUrl, 50, 20_000)
    const metadata = await drain(aws, metadataQueue, 50, 20_000)
    const eventIds = [...feedback, ...metadata].map((m) => sqsAttributes(m).event_id)
    expect(new Set(eventIds).size).toBe(100)
    // Per session, metadata events arrive in the order of the updates.
    const forFirst = metadata.map((m) => JSON.parse(m.Body!)).filter((e) => e.session_id === 'durable-0')
    expect(forFirst.map((e) => e.metadata.status)).toEqual(['step-0', 'step-1', 'step-2', 'step-3', 'step-4'])
    const again = await relayPendingNotifications({
      collections: { sessions: sessions[0]!.collections.sessions, feedback: sessions[0]!.collections.feedback },
      senders: [createSnsSender({ client: aws.sns }), createSqsSender({ client: aws.sqs })],
      now: () => new Date(Date.now() + 3_600_000),
    })
    expect(again.delivered).toBe(0)
    await factory.close()
    good = await createTopicWithQueues(aws, 'e2e-good')
    neutral = await createTopicWithQueues(aws, 'e2e-neutral')
  })
})
