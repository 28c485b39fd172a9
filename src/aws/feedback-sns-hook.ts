/**
 * `createFeedbackSnsHook`: a feedback hook that announces each new feedback on an SNS topic chosen by
 * its rating (`up` → good, `down` → bad, `null` → neutral).
 *
 * The notification is built and registered with `context.notify` before the feedback is stored, so
 * in durable mode it is written in the same update as the feedback; it is sent only if the write
 * succeeds, in the background (see `NotificationDispatcher`).
 */
import { ConfigurationError } from '../errors.js'
import { log } from '../logging.js'
import type { FeedbackInput, NotificationRequest, NotificationSender } from '../model/types.js'
import type { FeedbackHook } from '../hooks/types.js'
import type { AwsClientLike } from './aws-client.js'
import { buildFeedbackMessage, buildFeedbackSubject, classifyRating, type RatingRoute } from './feedback-format.js'
import { snsPackage } from './optional-packages.js'
import { createSnsSender, SNS_CHANNEL } from './sns-sender.js'
import { checkOptionKeys } from './hook-options.js'
import { isDisabledTarget, parseTopicArn, type TopicArn } from './targets.js'

/** Options of {@link createFeedbackSnsHook}. Topics given as `"none"`, `""` or left undefined send nothing. */
export interface FeedbackSnsHookOptions {
  /** Topic for `rating: 'up'`. */
  topicArnGood?: string | null | undefined
  /** Topic for `rating: 'down'`. */
  topicArnBad?: string | null | undefined
  /** Topic for `rating: null`. */
  topicArnNeutral?: string | null | undefined
  /** Put before the subject; may use `{session_id}`, `{rating}`, `{timestamp}`. */
  subjectPrefixGood?: string | undefined
  subjectPrefixBad?: string | undefined
  subjectPrefixNeutral?: string | undefined
  /** Put before the message body; may use `{session_id}`, `{rating}`, `{timestamp}`. */
  bodyPrefixGood?: string | undefined
  bodyPrefixBad?: string | undefined
  bodyPrefixNeutral?: string | undefined
  /** An `SNSClient` (or anything with its `send`), e.g. one with a custom endpoint. Default: one per region. */
  client?: AwsClientLike | undefined
  /** Region of the default client. Default: the region in each topic ARN. */
  region?: string | undefined
  /**
   * Add an `event_id` message attribute (the notification's UUIDv7), so consumers can drop a
   * re-delivery. Default `true`; `false` sends exactly the two attributes `session_id` and `rating`.
   */
  eventIdAttribute?: boolean | undefined
}

const OPTION_KEYS: Record<keyof FeedbackSnsHookOptions, true> = {
  topicArnGood: true,
  topicArnBad: true,
  topicArnNeutral: true,
  subjectPrefixGood: true,
  subjectPrefixBad: true,
  subjectPrefixNeutral: true,
  bodyPrefixGood: true,
  bodyPrefixBad: true,
  bodyPrefixNeutral: true,
  client: true,
  region: true,
  eventIdAttribute: true,
}

/** A feedback hook that also carries its sender, so a relay can deliver its stored notifications. */
export interface FeedbackSnsHook extends FeedbackHook {
  /** `[snsSender]`: pass to `relayPendingNotifications({ senders })`. */
  readonly senders: readonly NotificationSender[]
}

interface Route {
  topic: TopicArn | undefined
  subjectPrefix: string | undefined
  bodyPrefix: string | undefined
}

/** Validates one topic option: disabled, or a well-formed ARN. */
function topicOption(value: string | null | undefined, option: string): TopicArn | undefined {
  if (isDisabledTarget(value)) return undefined
  if (typeof value !== 'string') throw new ConfigurationError(`${option} must be a string`)
  return parseTopicArn(value, option)
}

/**
 * Creates the SNS feedback hook. Throws a {@link ConfigurationError} at once when
 * `@aws-sdk/client-sns` is not installed or a topic ARN is malformed.
 */
export function createFeedbackSnsHook(options: FeedbackSnsHookOptions): FeedbackSnsHook {
  snsPackage.assertInstalled()
  checkOptionKeys(options, OPTION_KEYS, 'createFeedbackSnsHook')
  const routes: Record<RatingRoute, Route> = {
    good: {
      topic: topicOption(options.topicArnGood, 'topicArnGood'),
      subjectPrefix: options.subjectPrefixGood,
      bodyPrefix: options.bodyPrefixGood,
    },
    bad: {
      topic: topicOption(options.topicArnBad, 'topicArnBad'),
      subjectPrefix: options.subjectPrefixBad,
      bodyPrefix: options.bodyPrefixBad,
    },
    neutral: {
      topic: topicOption(options.topicArnNeutral, 'topicArnNeutral'),
      subjectPrefix: options.subjectPrefixNeutral,
      bodyPrefix: options.bodyPrefixNeutral,
    },
  }
  const sender = createSnsSender({
    ...(options.client ? { client: options.client } : {}),
    ...(options.region ? { region: options.region } : {}),
  })
  const withEventId = options.eventIdAttribute !== false

  const hook: FeedbackHook = async (original, action, sessionId, args, context) => {
    if (action === 'add') {
      const request = buildRequest(routes, sessionId, args, withEventId)
      if (request) context.notify(request, sender)
    }
    return await original(args)
  }
  return Object.assign(hook, { senders: [sender] as const })
}

/** The notification for one feedback, or `undefined` when its rating's topic is disabled. */
function buildRequest(
  routes: Record<RatingRoute, Route>,
  sessionId: string,
  feedback: FeedbackInput,
  withEventId: boolean,
): NotificationRequest | undefined {
  const { route, label } = classifyRating(feedback.rating)
  const config = routes[route]
  if (!config.topic) {
    log.debug({ session_id: sessionId, rating: label }, 'no SNS topic for this rating: not notifying')
    return undefined
  }
  const variables = { session_id: sessionId, rating: label, timestamp: new Date().toISOString() }
  return {
    channel: SNS_CHANNEL,
    target: config.topic.arn,
    payload: {
      subject: buildFeedbackSubject(config.subjectPrefix, variables),
      message: buildFeedbackMessage(config.bodyPrefix, variables, feedback.comment),
      attributes: { session_id: sessionId, rating: label },
      event_id_attribute: withEventId,
    },
  }
}
