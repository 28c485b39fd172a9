/* eslint-disable @typescript-eslint/no-explicit-any -- received JSON bodies are inspected ad hoc */
/**
 * SNS feedback notifications end to end: hook → (stand-in) composition → MongoDB → dispatcher →
 * official SNSClient → fauxqs over HTTP → SQS subscriptions (raw and envelope), asserting the exact
 * Subject, Message and attributes. Includes the seed's SNS examples.
 */
import { PurgeQueueCommand } from '@aws-sdk/client-sqs'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import { createFeedbackSnsHook } from '../../src/aws/index.js'
import { ConfigurationError } from '../../src/errors.js'
import { NotificationDispatcher } from '../../src/notifications/dispatcher.js'
import { startFauxqs, type RunningFauxqs } from '../support/fauxqs.js'
import { openTestDatabase, type TestDatabase } from '../support/mongo.js'
import { createTopicWithQueues, drain, queueDepth, sqsAttributes, type TopicWithQueues } from './support/aws.js'
import { HookHarness } from './support/harness.js'

let fauxqs: RunningFauxqs
let database: TestDatabase
let good: TopicWithQueues
let bad: TopicWithQueues
let neutral: TopicWithQueues
let dispatcher: NotificationDispatcher
let harness: HookHarness
let n = 0

beforeAll(async () => {
  fauxqs = await startFauxqs()
  database = await openTestDatabase('msm_aws_sns')
  good = await createTopicWithQueues(fauxqs, 'feedback-good')
  bad = await createTopicWithQueues(fauxqs, 'feedback-bad')
  neutral = await createTopicWithQueues(fauxqs, 'feedback-neutral')
})

afterAll(async () => {
  await fauxqs?.stop()
  await database?.cleanup()
})

beforeEach(async () => {
  // Each test starts from empty queues, so one failure does not cascade into the next.
  for (const t of [good, bad, neutral]) {
    await fauxqs.sqs.send(new PurgeQueueCommand({ QueueUrl: t.rawQueueUrl }))
    await fauxqs.sqs.send(new PurgeQueueCommand({ QueueUrl: t.envelopeQueueUrl }))
  }
  dispatcher = new NotificationDispatcher({ baseDelayMs: 10, maxDelayMs: 50 })
  harness = new HookHarness({ db: database.db, dispatcher })
})

afterEach(async () => {
  await dispatcher.close()
  vi.unstubAllEnvs()
})

function sessionId(): string {
  n += 1
  return `user-session-${n}`
}

describe('createFeedbackSnsHook against fauxqs', () => {
  it('seed "Basic Usage": down → bad, up → good, null → neutral, exact subject, message and attributes', async () => {
    const hook = createFeedbackSnsHook({
      topicArnGood: good.topicArn,
      topicArnBad: bad.topicArn,
      topicArnNeutral: neutral.topicArn,
      client: fauxqs.sns,
    })
    const sid = sessionId()
    await harness.addFeedback(sid, hook, { rating: 'down', comment: 'The response was incomplete' })
    await harness.addFeedback(sid, hook, { rating: 'up', comment: 'Great response!' })
    await harness.addFeedback(sid, hook, { rating: null, comment: 'Just saving for later' })
    await dispatcher.flush()
    expect(dispatcher.stats()).toMatchObject({ sent: 3, failed: 0, pending: 0 })

    const cases = [
      { topic: bad, label: 'negative', comment: 'The response was incomplete' },
      { topic: good, label: 'positive', comment: 'Great response!' },
      { topic: neutral, label: 'neutral', comment: 'Just saving for later' },
    ]
    for (const { topic, label, comment } of cases) {
      // Non-raw: the SNS envelope carries Subject, Message and the attributes.
      const [envelopeMessage, ...moreEnvelopes] = await drain(fauxqs, topic.envelopeQueueUrl, 1)
      expect(moreEnvelopes).toHaveLength(0)
      const envelope = JSON.parse(envelopeMessage!.Body!) as Record<string, any>
      expect(envelope.Type).toBe('Notification')
      expect(envelope.TopicArn).toBe(topic.topicArn)
      expect(envelope.Subject).toBe(`Virtual Agents Feedback ${label} on session ${sid}`)
      expect(envelope.Message).toBe(`Session: ${sid}\n\n${comment}`)
      expect(envelope.MessageAttributes.session_id).toEqual({ Type: 'String', Value: sid })
      expect(envelope.MessageAttributes.rating).toEqual({ Type: 'String', Value: label })
      expect(envelope.MessageAttributes.event_id.Value).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-/)

      // Raw: the body is the message, the SNS attributes become SQS message attributes.
      const [raw] = await drain(fauxqs, topic.rawQueueUrl, 1)
      expect(raw!.Body).toBe(`Session: ${sid}\n\n${comment}`)
      expect(sqsAttributes(raw!)).toMatchObject({ session_id: `String:${sid}`, rating: `String:${label}` })
      expect(sqsAttributes(raw!).event_id).toBe(`String:${envelope.MessageAttributes.event_id.Value}`)
    }
  })

  it('eventIdAttribute: false sends exactly the two seed attributes', async () => {
    const hook = createFeedbackSnsHook({ topicArnBad: bad.topicArn, client: fauxqs.sns, eventIdAttribute: false })
    const sid = sessionId()
    await harness.addFeedback(sid, hook, { rating: 'down', comment: 'x' })
    await dispatcher.flush()
    const [raw] = await drain(fauxqs, bad.rawQueueUrl, 1)
    expect(sqsAttributes(raw!)).toEqual({ session_id: `String:${sid}`, rating: 'String:negative' })
    await drain(fauxqs, bad.envelopeQueueUrl, 1)
  })

  it('seed "Selective Notifications": "none" sends nothing for that rating', async () => {
    const hook = createFeedbackSnsHook({
      topicArnGood: 'none',
      topicArnBad: bad.topicArn,
      topicArnNeutral: 'none',
      client: fauxqs.sns,
    })
    const sid = sessionId()
    await harness.addFeedback(sid, hook, { rating: 'down', comment: 'Issue with the code' })
    await harness.addFeedback(sid, hook, { rating: 'up', comment: 'Great!' })
    await harness.addFeedback(sid, hook, { rating: null, comment: 'meh' })
    await dispatcher.flush()
    expect(dispatcher.stats()).toMatchObject({ sent: 1, failed: 0 })
    const [message] = await drain(fauxqs, bad.rawQueueUrl, 1)
    expect(message!.Body).toBe(`Session: ${sid}\n\nIssue with the code`)
    await drain(fauxqs, bad.envelopeQueueUrl, 1)
    expect(await queueDepth(fauxqs, good.rawQueueUrl)).toBe(0)
    expect(await queueDepth(fauxqs, neutral.rawQueueUrl)).toBe(0)
    // All three feedbacks were stored regardless.
    expect(await harness.feedback.countDocuments({ session_id: sid })).toBe(3)
  })

  it('seed "Production Example": topics from environment variables, neutral disabled', async () => {
    vi.stubEnv('SNS_TOPIC_FEEDBACK_GOOD', good.topicArn)
    vi.stubEnv('SNS_TOPIC_FEEDBACK_BAD', bad.topicArn)
    const hook = createFeedbackSnsHook({
      topicArnGood: process.env.SNS_TOPIC_FEEDBACK_GOOD,
      topicArnBad: process.env.SNS_TOPIC_FEEDBACK_BAD,
      topicArnNeutral: 'none',
      client: fauxqs.sns,
    })
    const sid = 'customer-support-001'
    await harness.addFeedback(sid, hook, { rating: 'up', comment: 'Solved, thanks' })
    await harness.addFeedback(sid, hook, { rating: null, comment: 'ok' })
    await dispatcher.flush()
    const [envelope] = await drain(fauxqs, good.envelopeQueueUrl, 1)
    expect(JSON.parse(envelope!.Body!).Subject).toBe('Virtual Agents Feedback positive on session customer-support-001')
    await drain(fauxqs, good.rawQueueUrl, 1)
    expect(await queueDepth(fauxqs, neutral.rawQueueUrl)).toBe(0)
  })

  it('an unset environment variable (undefined topic) disables the route instead of failing later', async () => {
    vi.stubEnv('SNS_TOPIC_FEEDBACK_NEUTRAL', undefined as unknown as string)
    const hook = createFeedbackSnsHook({ topicArnNeutral: process.env.SNS_TOPIC_FEEDBACK_NEUTRAL, client: fauxqs.sns })
    await harness.addFeedback(sessionId(), hook, { rating: null, comment: 'x' })
    await dispatcher.flush()
    expect(dispatcher.stats()).toMatchObject({ sent: 0, failed: 0 })
    expect(await queueDepth(fauxqs, neutral.rawQueueUrl)).toBe(0)
  })

  it('prefixes (docs examples: emoji, [URGENT], multi-line body prefix with placeholders) and subject sanitising', async () => {
    const hook = createFeedbackSnsHook({
      topicArnBad: bad.topicArn,
      subjectPrefixBad: '🚨 [URGENT]\n{rating} ',
      bodyPrefixBad:
        '⚠️ Negative feedback for {session_id} ({rating})\nReceived: {timestamp}\n{unknown} {{literal}}\n\n',
      client: fauxqs.sns,
    })
    const sid = sessionId()
    await harness.addFeedback(sid, hook, { rating: 'down', comment: 'Línea 1\nLine 2' })
    await dispatcher.flush()
    const [envelope] = await drain(fauxqs, bad.envelopeQueueUrl, 1)
    const body = JSON.parse(envelope!.Body!) as { Subject: string; Message: string }
    expect(body.Subject).toBe(`[URGENT] negative Virtual Agents Feedback negative on session ${sid}`)
    expect(body.Message).toMatch(
      new RegExp(
        `^⚠️ Negative feedback for ${sid} \\(negative\\)\\nReceived: \\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{3}Z\\n` +
          `\\{unknown\\} \\{\\{literal\\}\\}\\n\\nSession: ${sid}\\n\\nLínea 1\\nLine 2$`,
      ),
    )
    await drain(fauxqs, bad.rawQueueUrl, 1)
  })

  it('a 300-character session id still gives a subject SNS accepts (≤ 99 chars)', async () => {
    const hook = createFeedbackSnsHook({ topicArnNeutral: neutral.topicArn, client: fauxqs.sns })
    const sid = `s-${'x'.repeat(298)}`
    await harness.addFeedback(sid, hook, { rating: null, comment: 'long' })
    await dispatcher.flush()
    expect(dispatcher.stats()).toMatchObject({ sent: 1, failed: 0 })
    const [envelope] = await drain(fauxqs, neutral.envelopeQueueUrl, 1)
    const subject = JSON.parse(envelope!.Body!).Subject as string
    expect(subject.length).toBeLessThanOrEqual(99)
    expect(subject.startsWith('Virtual Agents Feedback neutral on session s-xxx')).toBe(true)
    await drain(fauxqs, neutral.rawQueueUrl, 1)
  })

  it('an unknown rating is rejected before anything is stored or sent', async () => {
    const hook = createFeedbackSnsHook({ topicArnNeutral: neutral.topicArn, client: fauxqs.sns })
    const sid = sessionId()
    await expect(harness.addFeedback(sid, hook, { rating: 'UP' as never })).rejects.toThrow(/rating must be/)
    expect(await harness.feedback.countDocuments({ session_id: sid })).toBe(0)
    await dispatcher.flush()
    expect(dispatcher.stats().sent).toBe(0)
  })

  it('a missing topic (NotFound) is a permanent failure: logged, counted, not retried, caller unaffected', async () => {
    const hook = createFeedbackSnsHook({
      topicArnBad: 'arn:aws:sns:eu-west-1:000000000000:does-not-exist',
      client: fauxqs.sns,
    })
    const errors: string[] = []
    const spy = vi.spyOn(console, 'error').mockImplementation((m: string) => void errors.push(m))
    try {
      const feedback = await harness.addFeedback('sess-missing-topic', hook, { rating: 'down', comment: 'x' })
      expect(feedback.comment).toBe('x')
      await dispatcher.flush()
    } finally {
      spy.mockRestore()
    }
    expect(dispatcher.stats()).toMatchObject({ sent: 0, failed: 1, retried: 0, pending: 0 })
    expect(errors.join('\n')).toMatch(
      /session_id=<sess-missing-topic>, channel=<sns>, event_id=<[0-9a-f-]{36}>, target=<.*> \| sns delivery failed \(permanent error\)/,
    )
  })

  it('malformed topic ARNs fail at creation with a ConfigurationError naming the option', () => {
    expect(() => createFeedbackSnsHook({ topicArnGood: 'feedback-good' })).toThrow(ConfigurationError)
    expect(() => createFeedbackSnsHook({ topicArnGood: 'none', topicArnBad: 'arn:aws:sns:eu-west-1:123:' })).toThrow(
      /topicArnBad: 'arn:aws:sns:eu-west-1:123:' is not an SNS topic ARN/,
    )
  })
})
