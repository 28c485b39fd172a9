/**
 * `createMetadataSqsHook`: a metadata hook that sends each metadata change (update or delete) to an
 * SQS queue as a `metadata_update` JSON event, e.g. for Server-Sent Events back-propagation.
 *
 * The event is built and registered with `context.notify` before the change is stored (durable mode
 * stores it in the same update), and sent in the background only if the write succeeds.
 */
import type { MetadataHookArgs, MetadataAction, NotificationSender } from '../model/types.js'
import type { MetadataHook } from '../hooks/types.js'
import type { AwsClientLike } from './aws-client.js'
import { regionFromEnvironment } from './aws-client.js'
import { ConfigurationError } from '../errors.js'
import { checkTimestampFormat, METADATA_EVENT_NAME, type TimestampFormat } from './metadata-event.js'
import { checkMetadataFields, metadataEventText } from './metadata-changes.js'
import { checkOptionKeys } from './hook-options.js'
import { sqsPackage } from './optional-packages.js'
import { createSqsSender, SQS_CHANNEL } from './sqs-sender.js'
import { parseQueueUrl } from './targets.js'

/** Options of {@link createMetadataSqsHook}. */
export interface MetadataSqsHookOptions {
  /** `https://sqs.<region>.amazonaws.com/<account-id>/<queue-name>` (`.fifo` queues supported). */
  queueUrl: string
  /**
   * Top-level metadata fields to propagate. `undefined` or `null`: every field (a warning is logged
   * once). An empty list is a {@link ConfigurationError}.
   */
  metadataFields?: readonly string[] | null | undefined
  /** An `SQSClient` (or anything with its `send`). Default: one per region. */
  client?: AwsClientLike | undefined
  /**
   * Region of the default client. Default: the region in the queue URL, else `AWS_REGION`, else
   * `AWS_DEFAULT_REGION`.
   */
  region?: string | undefined
  /**
   * Add an `event_id` message attribute (the notification's UUIDv7), so consumers can drop a
   * re-delivery. Default `true`; `false` sends exactly the two attributes `session_id` and `event`.
   */
  eventIdAttribute?: boolean | undefined
  /** How the body's `timestamp` is written. Default `'iso-utc'`; see {@link TimestampFormat}. */
  timestampFormat?: TimestampFormat | undefined
}

const OPTION_KEYS: Record<keyof MetadataSqsHookOptions, true> = {
  queueUrl: true,
  metadataFields: true,
  client: true,
  region: true,
  eventIdAttribute: true,
  timestampFormat: true,
}

/** A metadata hook that also carries its sender, so a relay can deliver its stored notifications. */
export interface MetadataSqsHook extends MetadataHook {
  /** `[sqsSender]`: pass to `relayPendingNotifications({ senders })`. */
  readonly senders: readonly NotificationSender[]
}

/**
 * Creates the SQS metadata hook. Throws a {@link ConfigurationError} at once when `@aws-sdk/client-sqs`
 * is not installed or the queue URL is malformed.
 */
export function createMetadataSqsHook(options: MetadataSqsHookOptions): MetadataSqsHook {
  sqsPackage.assertInstalled()
  checkOptionKeys(options, OPTION_KEYS, 'createMetadataSqsHook')
  if (typeof options.queueUrl !== 'string') throw new ConfigurationError('createMetadataSqsHook: queueUrl is required')
  const queue = parseQueueUrl(options.queueUrl, 'queueUrl')
  const region = options.region ?? queue.region ?? regionFromEnvironment()
  if (!options.client && !region) {
    throw new ConfigurationError(
      `queueUrl: '${options.queueUrl}' names no region: pass region (or client), or set AWS_REGION ` +
        '(or AWS_DEFAULT_REGION)',
    )
  }
  const fields = checkMetadataFields(options.metadataFields, 'createMetadataSqsHook')
  const timestampFormat = checkTimestampFormat(options.timestampFormat, 'createMetadataSqsHook')
  const sender = createSqsSender({
    ...(options.client ? { client: options.client } : {}),
    ...(region ? { region } : {}),
  })
  const withEventId = options.eventIdAttribute !== false

  const hook = async <A extends MetadataAction>(
    original: (args: MetadataHookArgs[A]) => Promise<unknown>,
    action: A,
    sessionId: string,
    args: MetadataHookArgs[A],
    context: Parameters<MetadataHook>[4],
  ) => {
    const body = metadataEventText(sessionId, action, args, fields, timestampFormat)
    if (body !== undefined) {
      context.notify(
        {
          channel: SQS_CHANNEL,
          target: queue.url,
          payload: {
            body,
            attributes: { session_id: sessionId, event: METADATA_EVENT_NAME },
            event_id_attribute: withEventId,
          },
        },
        sender,
      )
    }
    return await original(args)
  }
  return Object.assign(hook as MetadataHook, { senders: [sender] as const })
}
