/**
 * Validation and parsing of the AWS targets the hooks are configured with: SNS topic ARNs, SQS queue
 * URLs and API Gateway WebSocket management endpoints. Malformed values fail at creation time with a
 * {@link ConfigurationError} that names the option and says what was expected.
 */
import { ConfigurationError } from '../errors.js'

/** A parsed SNS topic ARN. */
export interface TopicArn {
  arn: string
  partition: string
  region: string
  accountId: string
  topicName: string
  /** FIFO topics (name ends in `.fifo`) need a message group id and a deduplication id. */
  fifo: boolean
}

const TOPIC_ARN = /^arn:(aws[a-z-]*):sns:([a-z]{2}(?:-[a-z]+)+-\d+):(\d{1,12}):([A-Za-z0-9_-]{1,256}?(\.fifo)?)$/

/**
 * `true` when a topic option means "send nothing for this rating": `undefined`, `null`, the empty
 * string, or `"none"` (any case, surrounding spaces ignored), the value environment-variable
 * configurations use to switch a route off.
 */
export function isDisabledTarget(value: string | null | undefined): boolean {
  return value === undefined || value === null || value.trim() === '' || value.trim().toLowerCase() === 'none'
}

/** Parses `arn:<partition>:sns:<region>:<account>:<topic>`; throws a {@link ConfigurationError} naming `option`. */
export function parseTopicArn(value: string, option: string): TopicArn {
  const arn = value.trim()
  const match = TOPIC_ARN.exec(arn)
  if (!match) {
    throw new ConfigurationError(
      `${option}: '${value}' is not an SNS topic ARN (expected arn:aws:sns:<region>:<account-id>:<topic-name>, ` +
        `or "none" to send nothing)`,
    )
  }
  const [, partition, region, accountId, topicName, fifo] = match as unknown as [
    string,
    string,
    string,
    string,
    string,
    string?,
  ]
  return { arn, partition, region, accountId, topicName, fifo: fifo !== undefined }
}

/** A parsed SQS queue URL. */
export interface QueueUrl {
  url: string
  /** Region from the host (`sqs.<region>.amazonaws.com`, `<region>.queue.amazonaws.com`, `sqs.<region>.localhost`…). */
  region: string | undefined
  accountId: string
  queueName: string
  /** FIFO queues (name ends in `.fifo`) get `MessageGroupId` and `MessageDeduplicationId`. */
  fifo: boolean
}

const QUEUE_NAME = /^[A-Za-z0-9_-]{1,80}$/
const REGION_IN_HOST = /(?:^|\.)(?:sqs\.)?([a-z]{2}(?:-[a-z]+)+-\d+)\./

/** Parses `https://sqs.<region>.amazonaws.com/<account>/<queue>`; throws a {@link ConfigurationError} naming `option`. */
export function parseQueueUrl(value: string, option = 'queueUrl'): QueueUrl {
  const expected = 'expected https://sqs.<region>.amazonaws.com/<account-id>/<queue-name>'
  let url: URL
  try {
    url = new URL(value.trim())
  } catch (cause) {
    throw new ConfigurationError(`${option}: '${value}' is not a URL (${expected})`, { cause })
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new ConfigurationError(`${option}: '${value}' must use https (${expected})`)
  }
  const segments = url.pathname.split('/').filter((s) => s !== '')
  const [accountId, name] = segments
  if (segments.length !== 2 || !accountId || !name || !/^\d{1,12}$/.test(accountId)) {
    throw new ConfigurationError(`${option}: '${value}' has no <account-id>/<queue-name> path (${expected})`)
  }
  const fifo = name.endsWith('.fifo')
  const base = fifo ? name.slice(0, -'.fifo'.length) : name
  if (!QUEUE_NAME.test(base)) {
    throw new ConfigurationError(
      `${option}: queue name '${name}' is invalid (1-80 letters, digits, '-' or '_', optionally ending in .fifo)`,
    )
  }
  const region = REGION_IN_HOST.exec(url.hostname)?.[1]
  return { url: value.trim(), region, accountId, queueName: name, fifo }
}

/** A parsed API Gateway WebSocket management endpoint. */
export interface WebSocketEndpoint {
  /** The endpoint without a trailing slash, e.g. `https://abc123.execute-api.eu-west-1.amazonaws.com/prod`. */
  endpoint: string
  /** Region from the host (`<api-id>.execute-api.<region>.amazonaws.com`), if it is there. */
  region: string | undefined
}

/** Parses an API Gateway management endpoint; throws a {@link ConfigurationError} naming `option`. */
export function parseWebSocketEndpoint(value: string, option = 'endpoint'): WebSocketEndpoint {
  const expected = 'expected https://<api-id>.execute-api.<region>.amazonaws.com/<stage>'
  let url: URL
  try {
    url = new URL(value.trim())
  } catch (cause) {
    throw new ConfigurationError(`${option}: '${value}' is not a URL (${expected})`, { cause })
  }
  if (url.protocol === 'wss:' || url.protocol === 'ws:') {
    throw new ConfigurationError(
      `${option}: '${value}' is the WebSocket URL clients connect to; the management API needs its https form (${expected})`,
    )
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new ConfigurationError(`${option}: '${value}' must use https (${expected})`)
  }
  if (url.search || url.hash) {
    throw new ConfigurationError(`${option}: '${value}' must not have a query string or fragment (${expected})`)
  }
  const region = /\.execute-api\.([a-z]{2}(?:-[a-z]+)+-\d+)\.amazonaws\.com$/.exec(url.hostname)?.[1]
  return { endpoint: url.href.replace(/\/+$/, ''), region }
}
