/** Test helpers over fauxqs: topics with subscribed queues, draining queues, fixed test credentials. */
import { SubscribeCommand, CreateTopicCommand } from '@aws-sdk/client-sns'
import {
  CreateQueueCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  type Message,
} from '@aws-sdk/client-sqs'
import type { RunningFauxqs } from '../../support/fauxqs.js'

export interface TopicWithQueues {
  topicArn: string
  /** Subscribed with RawMessageDelivery=true: the body is the message, SNS attributes become SQS attributes. */
  rawQueueUrl: string
  /** Subscribed with RawMessageDelivery=false: the body is the SNS JSON envelope. */
  envelopeQueueUrl: string
}

export async function createQueue(
  fauxqs: RunningFauxqs,
  name: string,
  attributes: Record<string, string> = {},
): Promise<string> {
  const out = await fauxqs.sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }))
  return out.QueueUrl!
}

async function subscribe(fauxqs: RunningFauxqs, topicArn: string, queueUrl: string, raw: boolean): Promise<void> {
  const attrs = await fauxqs.sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }),
  )
  await fauxqs.sns.send(
    new SubscribeCommand({
      TopicArn: topicArn,
      Protocol: 'sqs',
      Endpoint: attrs.Attributes!.QueueArn!,
      Attributes: { RawMessageDelivery: raw ? 'true' : 'false' },
    }),
  )
}

/** A topic with two SQS subscriptions: one raw, one non-raw (envelope). */
export async function createTopicWithQueues(fauxqs: RunningFauxqs, name: string): Promise<TopicWithQueues> {
  const topic = await fauxqs.sns.send(new CreateTopicCommand({ Name: name }))
  const rawQueueUrl = await createQueue(fauxqs, `${name}-raw`)
  const envelopeQueueUrl = await createQueue(fauxqs, `${name}-envelope`)
  await subscribe(fauxqs, topic.TopicArn!, rawQueueUrl, true)
  await subscribe(fauxqs, topic.TopicArn!, envelopeQueueUrl, false)
  return { topicArn: topic.TopicArn!, rawQueueUrl, envelopeQueueUrl }
}

/** Receives (and deletes) until `count` messages arrived or `timeoutMs` passed. */
export async function drain(
  fauxqs: RunningFauxqs,
  queueUrl: string,
  count: number,
  timeoutMs = 5_000,
): Promise<Message[]> {
  const messages: Message[] = []
  const deadline = Date.now() + timeoutMs
  while (messages.length < count && Date.now() < deadline) {
    const out = await fauxqs.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 0,
        MessageAttributeNames: ['All'],
        MessageSystemAttributeNames: ['All'],
      }),
    )
    for (const m of out.Messages ?? []) {
      messages.push(m)
      await fauxqs.sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: m.ReceiptHandle! }))
    }
    if ((out.Messages ?? []).length === 0) await new Promise((r) => setTimeout(r, 25))
  }
  return messages
}

/** Messages currently visible in a queue (to assert that nothing arrived). */
export async function queueDepth(fauxqs: RunningFauxqs, queueUrl: string): Promise<number> {
  const out = await fauxqs.sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  )
  return (
    Number(out.Attributes?.ApproximateNumberOfMessages ?? 0) +
    Number(out.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0)
  )
}

/** Plain attribute map of a received SQS message. */
export function sqsAttributes(message: Message): Record<string, string> {
  return Object.fromEntries(
    Object.entries(message.MessageAttributes ?? {}).map(([k, v]) => [k, `${v.DataType}:${v.StringValue}`]),
  )
}
