/**
 * The AWS client surface the hooks depend on, declared structurally so that the public API never
 * names an `@aws-sdk/*` type (those packages are optional), plus a per-key client cache and the
 * classification of AWS errors into "retry" and "give up".
 */

/**
 * Anything with the AWS SDK v3 `send(command, options?)` method: `SNSClient`, `SQSClient`,
 * `ApiGatewayManagementApiClient`, or a wrapper of your own (e.g. one adding tracing).
 */
export interface AwsClientLike {
  // `any`: the SDK clients' overloaded, generic `send` must be assignable without naming SDK types.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  send(command: any, options?: any): Promise<unknown>
}

/** Structural view of an AWS SDK v3 service error (only the fields we read). */
interface AwsErrorShape {
  name?: unknown
  $fault?: unknown
  $retryable?: unknown
  $metadata?: { httpStatusCode?: unknown }
}

/**
 * Error names for which a retry cannot succeed: the target does not exist, the request is invalid,
 * or access is denied. Throttling, timeouts, 5xx and network errors are not listed: they are retried.
 */
const PERMANENT_ERROR_NAMES = new Set([
  'NotFound',
  'NotFoundException',
  'InvalidParameter',
  'InvalidParameterException',
  'InvalidParameterValue',
  'InvalidParameterValueException',
  'AuthorizationError',
  'AuthorizationErrorException',
  'AccessDenied',
  'AccessDeniedException',
  'ForbiddenException',
  'PayloadTooLargeException',
  'InvalidMessageContents',
  'MissingParameter',
  'QueueDoesNotExist',
  'AWS.SimpleQueueService.NonExistentQueue',
  'AWS.SimpleQueueService.MissingParameter',
  'AWS.SimpleQueueService.InvalidParameterValue',
  'UnsupportedOperation',
  'InvalidSecurity',
  'KMSAccessDeniedException',
  'KMSDisabledException',
  'KMSNotFoundException',
  'EndpointDisabledException',
  'TopicDisabledException',
])

/**
 * `true` when retrying `error` cannot help: a known permanent AWS error name, or a client fault (4xx)
 * that the SDK does not mark retryable and that is not throttling.
 */
export function isPermanentAwsError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false
  const e = error as AwsErrorShape
  const name = typeof e.name === 'string' ? e.name : ''
  if (PERMANENT_ERROR_NAMES.has(name)) return true
  if (e.$retryable) return false
  if (/throttl|toomany|limitexceeded|timeout|requestexpired|slowdown/i.test(name)) return false
  const status = typeof e.$metadata?.httpStatusCode === 'number' ? e.$metadata.httpStatusCode : undefined
  if (status === 408 || status === 429) return false
  return e.$fault === 'client' && status !== undefined && status >= 400 && status < 500
}

/** One lazily created client per key (region, or endpoint + region). */
export class ClientCache {
  readonly #clients = new Map<string, Promise<AwsClientLike>>()

  /** Returns the cached client for `key`, creating it with `create` on first use. */
  get(key: string, create: () => Promise<AwsClientLike>): Promise<AwsClientLike> {
    let client = this.#clients.get(key)
    if (!client) {
      client = create()
      this.#clients.set(key, client)
      client.catch(() => this.#clients.delete(key))
    }
    return client
  }
}

/** Region from the environment, as the AWS SDK reads it (undefined lets the SDK apply its own chain). */
export function regionFromEnvironment(): string | undefined {
  return process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION || undefined
}
