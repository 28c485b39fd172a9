/** Reading SQS queues in the examples: receive (long poll), delete, and unwrap SNS envelopes. */
import { DeleteMessageCommand, ReceiveMessageCommand, type Message, type SQSClient } from '@aws-sdk/client-sqs'

/** Receives and deletes up to `count` messages, waiting at most `timeoutMs` in total. */
export async function receiveMessages(
  sqs: SQSClient,
  queueUrl: string,
  count: number,
  timeoutMs = 10_000,
): Promise<Message[]> {
  const received: Message[] = []
  const deadline = Date.now() + timeoutMs
  while (received.length < count && Date.now() < deadline) {
    const waitSeconds = Math.max(0, Math.min(1, Math.floor((deadline - Date.now()) / 1000)))
    const out = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: Math.min(10, count - received.length),
        WaitTimeSeconds: waitSeconds,
        MessageAttributeNames: ['All'],
      }),
    )
    for (const message of out.Messages ?? []) {
      received.push(message)
      await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle }))
    }
  }
  return received
}

/** What an SNS notification looks like to a subscriber. */
export interface SnsNotification {
  subject: string | undefined
  message: string
  attributes: Record<string, string>
}

/** Unwraps the SNS JSON envelope of a message received through an SQS subscription. */
export function snsNotificationOf(message: Message): SnsNotification {
  const envelope = JSON.parse(message.Body ?? '{}') as {
    Subject?: string
    Message?: string
    MessageAttributes?: Record<string, { Type?: string; Value?: string }>
  }
  const attributes: Record<string, string> = {}
  for (const [name, value] of Object.entries(envelope.MessageAttributes ?? {})) attributes[name] = value.Value ?? ''
  return { subject: envelope.Subject, message: envelope.Message ?? '', attributes }
}

/** String message attributes of an SQS message. */
export function attributesOf(message: Message): Record<string, string> {
  const attributes: Record<string, string> = {}
  for (const [name, value] of Object.entries(message.MessageAttributes ?? {}))
    attributes[name] = value.StringValue ?? ''
  return attributes
}
