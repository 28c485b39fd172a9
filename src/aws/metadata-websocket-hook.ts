/**
 * `createMetadataWebSocketHook`: a metadata hook that pushes each metadata change, as the same
 * `metadata_update` JSON the SQS hook sends, to every API Gateway WebSocket connection registered
 * for the session (see `websocket-connections.ts`). Gone connections are pruned.
 */
import type { MetadataAction, MetadataHookArgs, NotificationSender } from '../model/types.js'
import type { HookContext, MetadataHook } from '../hooks/types.js'
import { ConfigurationError } from '../errors.js'
import { log } from '../logging.js'
import { regionFromEnvironment, type AwsClientLike } from './aws-client.js'
import { checkMetadataFields, metadataEventText } from './metadata-changes.js'
import { checkTimestampFormat, type TimestampFormat } from './metadata-event.js'
import { checkOptionKeys } from './hook-options.js'
import { apiGatewayManagementPackage } from './optional-packages.js'
import { parseWebSocketEndpoint } from './targets.js'
import { registryFromManager, type WebSocketConnectionRegistry } from '../features/websocket-connections.js'
import { createWebSocketSender, WEBSOCKET_CHANNEL } from './websocket-sender.js'

/** Options of {@link createMetadataWebSocketHook}. */
export interface MetadataWebSocketHookOptions {
  /** The management endpoint: `https://<api-id>.execute-api.<region>.amazonaws.com/<stage>`. */
  endpoint: string
  /**
   * Top-level metadata fields to propagate. `undefined` or `null`: every field (a warning is logged
   * once). An empty list is a {@link ConfigurationError}.
   */
  metadataFields?: readonly string[] | null | undefined
  /** An `ApiGatewayManagementApiClient` for this endpoint. Default: one created on first use. */
  client?: AwsClientLike | undefined
  /** Region for signing. Default: the region in the endpoint host, else `AWS_REGION`, else `AWS_DEFAULT_REGION`. */
  region?: string | undefined
  /** How the event's `timestamp` is written. Default `'iso-utc'`; see {@link TimestampFormat}. */
  timestampFormat?: TimestampFormat | undefined
  /**
   * Where connections are registered. Default: the manager's `webSocketConnections` registry
   * (through `HookContext.manager`). Give it explicitly to have `senders` ready for a relay.
   */
  connections?: WebSocketConnectionRegistry | undefined
}

const OPTION_KEYS: Record<keyof MetadataWebSocketHookOptions, true> = {
  endpoint: true,
  metadataFields: true,
  client: true,
  region: true,
  timestampFormat: true,
  connections: true,
}

/** A metadata hook that also carries its sender(s), so a relay can deliver its stored notifications. */
export interface MetadataWebSocketHook extends MetadataHook {
  /** `[websocketSender]` when `connections` was given, else empty (build one with `createWebSocketSender`). */
  readonly senders: readonly NotificationSender[]
}

/**
 * Creates the WebSocket metadata hook. Throws a {@link ConfigurationError} at once when
 * `@aws-sdk/client-apigatewaymanagementapi` is not installed or the endpoint is malformed.
 */
export function createMetadataWebSocketHook(options: MetadataWebSocketHookOptions): MetadataWebSocketHook {
  apiGatewayManagementPackage.assertInstalled()
  checkOptionKeys(options, OPTION_KEYS, 'createMetadataWebSocketHook')
  if (typeof options.endpoint !== 'string') {
    throw new ConfigurationError('createMetadataWebSocketHook: endpoint is required')
  }
  const target = parseWebSocketEndpoint(options.endpoint, 'endpoint')
  const region = options.region ?? target.region ?? regionFromEnvironment()
  if (!options.client && !region) {
    throw new ConfigurationError(
      `endpoint: '${options.endpoint}' names no region: pass region (or client), or set AWS_REGION ` +
        '(or AWS_DEFAULT_REGION)',
    )
  }
  const fields = checkMetadataFields(options.metadataFields, 'createMetadataWebSocketHook')
  const timestampFormat = checkTimestampFormat(options.timestampFormat, 'createMetadataWebSocketHook')
  const senderOptions = {
    ...(options.client ? { client: options.client } : {}),
    ...(region ? { region } : {}),
  }
  const senders = new WeakMap<WebSocketConnectionRegistry, NotificationSender>()
  const senderFor = (connections: WebSocketConnectionRegistry): NotificationSender => {
    let sender = senders.get(connections)
    if (!sender) {
      sender = createWebSocketSender({ ...senderOptions, connections })
      senders.set(connections, sender)
    }
    return sender
  }
  let warnedNoRegistry = false

  const hook = async <A extends MetadataAction>(
    original: (args: MetadataHookArgs[A]) => Promise<unknown>,
    action: A,
    sessionId: string,
    args: MetadataHookArgs[A],
    context: HookContext,
  ) => {
    const data = metadataEventText(sessionId, action, args, fields, timestampFormat)
    if (data !== undefined) {
      const connections = options.connections ?? registryFromManager(context.manager)
      if (connections) {
        context.notify(
          { channel: WEBSOCKET_CHANNEL, target: target.endpoint, payload: { data } },
          senderFor(connections),
        )
      } else if (!warnedNoRegistry) {
        warnedNoRegistry = true
        log.warn(
          { session_id: sessionId },
          'createMetadataWebSocketHook: no connection registry (pass `connections`, or use a manager exposing ' +
            '`webSocketConnections`): metadata changes are not pushed',
        )
      }
    }
    return await original(args)
  }
  const ready = options.connections ? [senderFor(options.connections)] : []
  return Object.assign(hook as MetadataHook, { senders: ready })
}
