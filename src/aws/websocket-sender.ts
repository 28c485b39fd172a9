/**
 * The `websocket` channel: posts a metadata event to every connection registered for the session
 * with the API Gateway Management API (`PostToConnection`). A connection API Gateway reports gone
 * (`GoneException`, HTTP 410) is removed from the registry and is not an error.
 *
 * Payload: `{ data }` (the JSON text); target: the management endpoint. When some connections fail,
 * the ones already reached are remembered, so a retry does not post to them twice.
 */
import { describeError, log } from '../logging.js'
import type { Notification, NotificationSender, NotificationSendOptions } from '../model/types.js'
import { ClientCache, isPermanentAwsError, regionFromEnvironment, type AwsClientLike } from './aws-client.js'
import { apiGatewayManagementPackage } from './optional-packages.js'
import { isInvalidNotification, payloadString } from './payload.js'
import { parseWebSocketEndpoint } from './targets.js'
import type { WebSocketConnectionRegistry } from '../features/websocket-connections.js'

/** The channel name of WebSocket notifications. */
export const WEBSOCKET_CHANNEL = 'websocket'

/** Options of {@link createWebSocketSender}. */
export interface WebSocketSenderOptions {
  /** Where the session's connection ids are kept (see `createWebSocketConnectionRegistry`). */
  connections: WebSocketConnectionRegistry
  /** An `ApiGatewayManagementApiClient` bound to the endpoint. Default: one per endpoint, created on first use. */
  client?: AwsClientLike
  /** Region for signing. Default: the region in the endpoint host, else `AWS_REGION`. */
  region?: string
}

const clients = new ClientCache()
const MAX_REMEMBERED_EVENTS = 1_000

/** `true` when API Gateway says the connection no longer exists. */
export function isGoneError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false
  const e = error as { name?: unknown; $metadata?: { httpStatusCode?: unknown } }
  return e.name === 'GoneException' || e.$metadata?.httpStatusCode === 410
}

/** A sender for the `websocket` channel (used by `createMetadataWebSocketHook` and by the outbox relay). */
export function createWebSocketSender(options: WebSocketSenderOptions): NotificationSender {
  apiGatewayManagementPackage.assertInstalled()
  const reached = new Map<string, Set<string>>()
  const clientFor = async (endpoint: string, region: string | undefined): Promise<AwsClientLike> => {
    if (options.client) return options.client
    return clients.get(`${endpoint}\u0000${region ?? ''}`, async () => {
      const { ApiGatewayManagementApiClient } = apiGatewayManagementPackage.load()
      log.debug({ endpoint, region }, 'creating API Gateway Management API client')
      return new ApiGatewayManagementApiClient(region ? { endpoint, region } : { endpoint }) as AwsClientLike
    })
  }
  return {
    channel: WEBSOCKET_CHANNEL,
    async send(notification: Notification, sendOptions?: NotificationSendOptions): Promise<void> {
      const data = payloadString(notification, 'data')
      const target = parseWebSocketEndpoint(notification.target, 'target')
      const { PostToConnectionCommand } = apiGatewayManagementPackage.load()
      const client = await clientFor(target.endpoint, options.region ?? target.region ?? regionFromEnvironment())
      const connections = await options.connections.list(notification.sessionId)
      const done = reached.get(notification.eventId) ?? new Set<string>()
      const bytes = new TextEncoder().encode(data)
      let firstError: unknown
      for (const connectionId of connections) {
        if (done.has(connectionId)) continue
        const fields = {
          session_id: notification.sessionId,
          channel: WEBSOCKET_CHANNEL,
          event_id: notification.eventId,
          connection_id: connectionId,
        }
        try {
          log.debug(fields, 'execute-api:PostToConnection')
          await client.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: bytes }), {
            abortSignal: sendOptions?.signal,
          })
          done.add(connectionId)
        } catch (error) {
          if (isGoneError(error)) {
            log.info(fields, 'websocket connection is gone: removing it')
            await options.connections.remove(notification.sessionId, connectionId)
            done.add(connectionId)
          } else {
            log.warn(fields, `PostToConnection failed: ${describeError(error)}`)
            firstError ??= error
          }
        }
      }
      if (firstError !== undefined) {
        reached.set(notification.eventId, done)
        // Bounded memory: forget the oldest partially delivered events (worst case, a duplicate post).
        if (reached.size > MAX_REMEMBERED_EVENTS) reached.delete(reached.keys().next().value as string)
        throw firstError
      }
      reached.delete(notification.eventId)
    },
    isPermanentError: (error) => isInvalidNotification(error) || isPermanentAwsError(error),
  }
}
