/**
 * The `sqs` channel: sends a stored or fresh metadata event with `SendMessage`.
 *
 * Payload: `{ body, attributes }`; target: the queue URL. FIFO queues (`.fifo`) get
 * `MessageGroupId` = session id (per-session order) and `MessageDeduplicationId` = event id (a
 * re-delivery within SQS's 5-minute window is dropped by SQS itself).
 */
import { log } from '../logging.js'
import type { Notification, NotificationSender, NotificationSendOptions } from '../model/types.js'
import { ClientCache, isPermanentAwsError, regionFromEnvironment, type AwsClientLike } from './aws-client.js'
import { sqsPackage } from './optional-packages.js'
import { attributesWithEventId, isInvalidNotification, payloadString, stringAttributes } from './payload.js'
import { parseQueueUrl } from './targets.js'

/** The channel name of SQS notifications. */
export const SQS_CHANNEL = 'sqs'

/** Options of {@link createSqsSender}. */
export interface SqsSenderOptions {
  /** An `SQSClient` (or anything with its `send`). Default: one client per region, created on first use. */
  client?: AwsClientLike
  /** Region of the default client. Default: the region in the queue URL, else `AWS_REGION`. */
  region?: string
}

const clients = new ClientCache()

/** A sender for the `sqs` channel (used by `createMetadataSqsHook` and by the outbox relay). */
export function createSqsSender(options: SqsSenderOptions = {}): NotificationSender {
  sqsPackage.assertInstalled()
  const clientFor = async (region: string | undefined): Promise<AwsClientLike> => {
    if (options.client) return options.client
    return clients.get(region ?? '', async () => {
      const { SQSClient } = sqsPackage.load()
      log.debug({ region }, 'creating SQS client')
      return new SQSClient(region ? { region } : {}) as AwsClientLike
    })
  }
  return {
    channel: SQS_CHANNEL,
    async send(notification: Notification, sendOptions?: NotificationSendOptions): Promise<void> {
      const body = payloadString(notification, 'body')
      const attributes = attributesWithEventId(notification)
      const queue = parseQueueUrl(notification.target, 'target')
      const { SendMessageCommand } = sqsPackage.load()
      const client = await clientFor(options.region ?? queue.region ?? regionFromEnvironment())
      const input: Record<string, unknown> = {
        QueueUrl: queue.url,
        MessageBody: body,
        MessageAttributes: stringAttributes(attributes),
      }
      if (queue.fifo) {
        input.MessageGroupId = notification.sessionId
        input.MessageDeduplicationId = notification.eventId
      }
      log.debug(
        { session_id: notification.sessionId, channel: SQS_CHANNEL, event_id: notification.eventId, queue: queue.url },
        'sqs:SendMessage',
      )
      await client.send(new SendMessageCommand(input), { abortSignal: sendOptions?.signal })
    },
    isPermanentError: (error) => isInvalidNotification(error) || isPermanentAwsError(error),
  }
}
