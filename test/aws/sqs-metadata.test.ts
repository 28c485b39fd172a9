/* eslint-disable @typescript-eslint/no-explicit-any -- received JSON bodies are inspected ad hoc */
/**
 * SQS metadata propagation end to end (hook → stand-in composition → MongoDB → dispatcher → official
 * SQSClient → fauxqs over HTTP), the seed's SQS examples, FIFO group/dedup ids, combined usage.
 */
import { PurgeQueueCommand } from '@aws-sdk/client-sqs'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import { createFeedbackSnsHook, createMetadataSqsHook } from '../../src/aws/index.js'
import { ConfigurationError } from '../../src/errors.js'
import { NotificationDispatcher } from '../../src/notifications/dispatcher.js'
import { configureLogger, type Logger } from '../../src/logging.js'
import { startFauxqs, type RunningFauxqs } from '../support/fauxqs.js'
import { openTestDatabase, type TestDatabase } from '../support/mongo.js'
import { createQueue, createTopicWithQueues, drain, queueDepth, sqsAttributes } from './support/aws.js'
import { HookHarness } from './support/harness.js'

let fauxqs: RunningFauxqs
let database: TestDatabase
let queueUrl: string
let fifoUrl: string
let dispatcher: NotificationDispatcher
let harness: HookHarness

const ISO_MS_Z = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/

beforeAll(async () => {
  fauxqs = await startFauxqs()
  database = await openTestDatabase('msm_aws_sqs')
  queueUrl = await createQueue(fauxqs, 'metadata-updates')
  fifoUrl = await createQueue(fauxqs, 'metadata-updates.fifo', { FifoQueue: 'true' })
})

afterAll(async () => {
  await fauxqs?.stop()
  await database?.cleanup()
})

beforeEach(async () => {
  await fauxqs.sqs.send(new PurgeQueueCommand({ QueueUrl: queueUrl }))
  dispatcher = new NotificationDispatcher({ baseDelayMs: 10, maxDelayMs: 50 })
  harness = new HookHarness({ db: database.db, dispatcher })
})

afterEach(async () => {
  await dispatcher.close()
  vi.unstubAllEnvs()
})

function parse(body: string | undefined): Record<string, any> {
  return JSON.parse(body!) as Record<string, any>
}

describe('createMetadataSqsHook against fauxqs', () => {
  it('seed "Basic Usage": only the listed fields are sent, in the exact format and attributes', async () => {
    const hook = createMetadataSqsHook({
      queueUrl,
      metadataFields: ['status', 'agent_state', 'priority'],
      client: fauxqs.sqs,
    })
    await harness.createSession('user-session-123')
    const stored = await harness.updateMetadata('user-session-123', hook, {
      status: 'processing',
      agent_state: 'thinking',
      priority: 'high',
      internal_field: 'value',
    })
    expect(stored).toMatchObject({ internal_field: 'value' })
    await dispatcher.flush()
    const [message, ...rest] = await drain(fauxqs, queueUrl, 1)
    expect(rest).toHaveLength(0)
    const body = parse(message!.Body)
    expect(Object.keys(body)).toEqual(['session_id', 'event', 'operation', 'metadata', 'timestamp'])
    expect(body).toMatchObject({
      session_id: 'user-session-123',
      event: 'metadata_update',
      operation: 'update',
      metadata: { status: 'processing', agent_state: 'thinking', priority: 'high' },
    })
    expect(body.metadata).not.toHaveProperty('internal_field')
    expect(body.timestamp).toMatch(ISO_MS_Z)
    expect(sqsAttributes(message!)).toMatchObject({
      session_id: 'String:user-session-123',
      event: 'String:metadata_update',
    })
    expect(message!.MessageAttributes!.event_id!.StringValue).toMatch(/^[0-9a-f-]{36}$/)
  })

  it('seed "SSE Back-Propagation": updates in order; a delete carries the deleted listed keys as null', async () => {
    const hook = createMetadataSqsHook({
      queueUrl,
      metadataFields: ['status', 'progress', 'current_step'],
      client: fauxqs.sqs,
      eventIdAttribute: false,
    })
    await harness.createSession('workflow-123')
    await harness.updateMetadata('workflow-123', hook, {
      status: 'running',
      progress: 50,
      current_step: 'processing_data',
    })
    await harness.updateMetadata('workflow-123', hook, { internal: 'not sent' })
    await harness.updateMetadata('workflow-123', hook, { progress: 75, at: new Date('2024-01-26T10:30:45.123Z') })
    await harness.deleteMetadata('workflow-123', hook, ['current_step', 'internal'])
    await dispatcher.flush()
    expect(dispatcher.stats()).toMatchObject({ sent: 3, failed: 0 })
    const messages = await drain(fauxqs, queueUrl, 3)
    const bodies = messages.map((m) => parse(m.Body))
    expect(bodies.map((b) => [b.operation, b.metadata])).toEqual([
      ['update', { status: 'running', progress: 50, current_step: 'processing_data' }],
      ['update', { progress: 75 }],
      ['delete', { current_step: null }],
    ])
    expect(sqsAttributes(messages[0]!)).toEqual({ session_id: 'String:workflow-123', event: 'String:metadata_update' })
  })

  it('metadataFields unset: every field (Dates as ISO strings), and a warning logged once', async () => {
    const lines: string[] = []
    const sink: Logger = { debug: () => {}, info: () => {}, warn: (m) => lines.push(m), error: () => {} }
    configureLogger({ logger: sink, level: 'warn' })
    try {
      const first = createMetadataSqsHook({ queueUrl, client: fauxqs.sqs })
      createMetadataSqsHook({ queueUrl, client: fauxqs.sqs })
      expect(lines.filter((l) => l.includes('metadataFields is not set'))).toHaveLength(1)
      await harness.createSession('all-fields')
      await harness.updateMetadata('all-fields', first, { a: 1, due: new Date('2025-01-02T03:04:05.006Z') })
      await dispatcher.flush()
    } finally {
      configureLogger({ logger: console, level: 'warn' })
    }
    const [message] = await drain(fauxqs, queueUrl, 1)
    expect(parse(message!.Body).metadata).toEqual({ a: 1, due: '2025-01-02T03:04:05.006Z' })
  })

  it('metadataFields: null (Python None) sends every field, like undefined', async () => {
    const hook = createMetadataSqsHook({ queueUrl, metadataFields: null, client: fauxqs.sqs })
    await harness.createSession('null-fields')
    await harness.updateMetadata('null-fields', hook, { a: 1, b: 'two' })
    await dispatcher.flush()
    const [message] = await drain(fauxqs, queueUrl, 1)
    expect(parse(message!.Body).metadata).toEqual({ a: 1, b: 'two' })
  })

  it("timestampFormat: 'python' writes the timestamp as the Python version did (no zone, microseconds)", async () => {
    const hook = createMetadataSqsHook({
      queueUrl,
      metadataFields: ['status'],
      client: fauxqs.sqs,
      timestampFormat: 'python',
    })
    await harness.createSession('python-ts')
    await harness.updateMetadata('python-ts', hook, { status: 'processing' })
    await dispatcher.flush()
    const [message] = await drain(fauxqs, queueUrl, 1)
    const { timestamp } = parse(message!.Body) as { timestamp: string }
    expect(timestamp).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3}000)?$/)
  })

  it('seed "Production Example": queue URL from an environment variable', async () => {
    vi.stubEnv('SQS_METADATA_QUEUE_URL', queueUrl)
    const hook = createMetadataSqsHook({
      queueUrl: process.env.SQS_METADATA_QUEUE_URL!,
      metadataFields: ['status', 'progress', 'current_task', 'errors'],
      client: fauxqs.sqs,
    })
    await harness.createSession('workflow-456')
    await harness.updateMetadata('workflow-456', hook, {
      status: 'processing',
      progress: 75,
      current_task: 'generating_report',
    })
    await dispatcher.flush()
    const [message] = await drain(fauxqs, queueUrl, 1)
    expect(parse(message!.Body).metadata).toEqual({
      status: 'processing',
      progress: 75,
      current_task: 'generating_report',
    })
  })

  it('FIFO queue: MessageGroupId = session id, MessageDeduplicationId = event id', async () => {
    const hook = createMetadataSqsHook({ queueUrl: fifoUrl, metadataFields: ['step'], client: fauxqs.sqs })
    await harness.createSession('fifo-a')
    await harness.createSession('fifo-b')
    for (let i = 1; i <= 3; i += 1) {
      await harness.updateMetadata('fifo-a', hook, { step: i })
      await harness.updateMetadata('fifo-b', hook, { step: i * 10 })
    }
    await dispatcher.flush()
    expect(dispatcher.stats()).toMatchObject({ sent: 6, failed: 0 })
    const messages = await drain(fauxqs, fifoUrl, 6)
    expect(messages).toHaveLength(6)
    for (const m of messages) {
      const body = parse(m.Body)
      expect(m.Attributes!.MessageGroupId).toBe(body.session_id)
      expect(m.Attributes!.MessageDeduplicationId).toBe(m.MessageAttributes!.event_id!.StringValue)
    }
    const steps = (sid: string) =>
      messages
        .map((m) => parse(m.Body))
        .filter((b) => b.session_id === sid)
        .map((b) => b.metadata.step)
    expect(steps('fifo-a')).toEqual([1, 2, 3])
    expect(steps('fifo-b')).toEqual([10, 20, 30])
  })

  it('seed "Combined Usage": feedback → SNS, metadata → SQS', async () => {
    const bad = await createTopicWithQueues(fauxqs, 'combined-feedback-bad')
    vi.stubEnv('SNS_TOPIC_FEEDBACK_BAD', bad.topicArn)
    vi.stubEnv('SQS_METADATA_QUEUE_URL', queueUrl)
    const feedbackHook = createFeedbackSnsHook({
      topicArnGood: process.env.SNS_TOPIC_FEEDBACK_GOOD,
      topicArnBad: process.env.SNS_TOPIC_FEEDBACK_BAD,
      topicArnNeutral: process.env.SNS_TOPIC_FEEDBACK_NEUTRAL,
      client: fauxqs.sns,
    })
    const metadataHook = createMetadataSqsHook({
      queueUrl: process.env.SQS_METADATA_QUEUE_URL!,
      metadataFields: ['status', 'priority', 'assigned_to'],
      client: fauxqs.sqs,
    })
    await harness.createSession('customer-support-001')
    await harness.addFeedback('customer-support-001', feedbackHook, { rating: 'down', comment: 'Issue with billing' })
    await harness.updateMetadata('customer-support-001', metadataHook, {
      status: 'escalated',
      priority: 'high',
      assigned_to: 'supervisor-jane',
    })
    await dispatcher.flush()
    const [raw] = await drain(fauxqs, bad.rawQueueUrl, 1)
    expect(raw!.Body).toBe('Session: customer-support-001\n\nIssue with billing')
    const [envelope] = await drain(fauxqs, bad.envelopeQueueUrl, 1)
    expect(parse(envelope!.Body).Subject).toBe('Virtual Agents Feedback negative on session customer-support-001')
    const [metadata] = await drain(fauxqs, queueUrl, 1)
    expect(parse(metadata!.Body).metadata).toEqual({
      status: 'escalated',
      priority: 'high',
      assigned_to: 'supervisor-jane',
    })
  })

  it('a get or an update touching no listed field sends nothing', async () => {
    const hook = createMetadataSqsHook({ queueUrl, metadataFields: ['status'], client: fauxqs.sqs })
    await harness.createSession('quiet')
    await harness.updateMetadata('quiet', hook, { other: 1 })
    await harness.deleteMetadata('quiet', hook, ['other'])
    await dispatcher.flush()
    expect(dispatcher.stats().sent).toBe(0)
    expect(await queueDepth(fauxqs, queueUrl)).toBe(0)
  })

  it('malformed queue URLs fail at creation with a ConfigurationError', () => {
    expect(() => createMetadataSqsHook({ queueUrl: 'metadata-updates' })).toThrow(ConfigurationError)
    expect(() => createMetadataSqsHook({ queueUrl: 'https://sqs.eu-west-1.amazonaws.com/metadata-updates' })).toThrow(
      /queueUrl: .* has no <account-id>\/<queue-name> path/,
    )
    expect(() => createMetadataSqsHook({ queueUrl, metadataFields: ['ok', ''] })).toThrow(/metadataFields/)
    vi.stubEnv('AWS_REGION', '')
    vi.stubEnv('AWS_DEFAULT_REGION', '')
    expect(() => createMetadataSqsHook({ queueUrl: 'http://127.0.0.1:1/000000000000/q' })).toThrow(/names no region/)
  })
})
