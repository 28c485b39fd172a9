/**
 * The `sns` channel: publishes a stored or fresh feedback notification with `Publish`.
 *
 * Payload: `{ subject, message, attributes }`; target: the topic ARN. FIFO topics get
 * `MessageGroupId` = session id and `MessageDeduplicationId` = event id.
 */
import { log } from '../logging.js'
import type { Notification, NotificationSender, NotificationSendOptions } from '../model/types.js'
import { ClientCache, isPermanentAwsError, type AwsClientLike } from './aws-client.js'
import { snsPackage } from './optional-packages.js'
import { attributesWithEventId, isInvalidNotification, payloadString, stringAttributes } from './payload.js'
import { parseTopicArn } from './targets.js'

/** The channel name of SNS notifications. */
export const SNS_CHANNEL = 'sns'

/** Options of {@link createSnsSender}. */
export interface SnsSenderOptions {
  /** An `SNSClient` (or anything with its `send`). Default: one client per region, created on first use. */
  client?: AwsClientLike
  /** Region of the default client. Default: the region in the topic ARN. */
  region?: string
}

const clients = new ClientCache()

/** A sender for the `sns` channel (used by `createFeedbackSnsHook` and by the outbox relay). */
export function createSnsSender(options: SnsSenderOptions = {}): NotificationSender {
  snsPackage.assertInstalled()
  const clientFor = async (region: string): Promise<AwsClientLike> => {
    if (options.client) return options.client
    return clients.get(region, async () => {
      const { SNSClient } = snsPackage.load()
      log.debug({ region }, 'creating SNS client')
      return new SNSClient({ region }) as AwsClientLike
    })
  }
  return {
    channel: SNS_CHANNEL,
    async send(notification: Notification, sendOptions?: NotificationSendOptions): Promise<void> {
      const subject = payloadString(notification, 'subject')
      const message = payloadString(notification, 'message')
      const attributes = attributesWithEventId(notification)
      const topic = parseTopicArn(notification.target, 'target')
      const { PublishCommand } = snsPackage.load()
      const client = await clientFor(options.region ?? topic.region)
      const input: Record<string, unknown> = {
        TopicArn: topic.arn,
        Subject: subject,
        Message: message,
        MessageAttributes: stringAttributes(attributes),
      }
      if (topic.fifo) {
        input.MessageGroupId = notification.sessionId
        input.MessageDeduplicationId = notification.eventId
      }
      log.debug(
        { session_id: notification.sessionId, channel: SNS_CHANNEL, event_id: notification.eventId, topic: topic.arn },
        'sns:Publish',
      )
      await client.send(new PublishCommand(input), { abortSignal: sendOptions?.signal })
    },
    isPermanentError: (error) => isInvalidNotification(error) || isPermanentAwsError(error),
  }
}
