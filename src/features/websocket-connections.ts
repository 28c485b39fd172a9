/**
 * The WebSocket connection registry: API Gateway connection ids subscribed to a session's metadata
 * events, kept in the session document's `websocket_connections` array (`$addToSet` / `$pull` of a
 * plain string: atomic single-document updates on every supported engine).
 *
 * Register a connection in the `$connect` route (or when the client subscribes to a session),
 * remove it in `$disconnect`; the WebSocket sender also removes connections API Gateway reports gone.
 */
import type { Collection, Document, Filter, UpdateFilter } from 'mongodb'
import { NotFoundError, ValidationError } from '../errors.js'
import { log } from '../logging.js'
import { mapDriverErrors } from '../storage/driver-errors.js'

/** Where the WebSocket hook finds a session's connections, and how it prunes gone ones. */
export interface WebSocketConnectionRegistry {
  /** Connection ids registered for `sessionId` (empty when none, or when the session does not exist). */
  list(sessionId: string): Promise<string[]>
  /** Adds `connectionId` to the session (idempotent). Throws {@link NotFoundError} when the session does not exist. */
  register(sessionId: string, connectionId: string): Promise<void>
  /** Removes `connectionId` from the session (idempotent). */
  remove(sessionId: string, connectionId: string): Promise<void>
}

/** A collection of session documents (`_id` = session id). */
// `any`: Collection<T> is invariant, so Collection<SessionDocument> is not a Collection<Document>.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type SessionsCollection = Collection<Document> | Collection<any>

/** API Gateway connection ids are short printable ASCII (e.g. `L0SM9cOFvHcCIhw=`). */
function validateConnectionId(connectionId: string): void {
  if (typeof connectionId !== 'string' || !/^[\x21-\x7E]{1,128}$/.test(connectionId)) {
    throw new ValidationError('connectionId must be 1-128 printable ASCII characters without spaces', {
      field: 'connectionId',
    })
  }
}

/** Adds a connection to the session's `websocket_connections`. Throws {@link NotFoundError} for an unknown session. */
export async function registerWebSocketConnection(
  sessions: SessionsCollection,
  sessionId: string,
  connectionId: string,
): Promise<void> {
  validateConnectionId(connectionId)
  const coll = sessions as Collection<Document>
  const result = await coll.updateOne(
    { _id: sessionId } as unknown as Filter<Document>,
    { $addToSet: { websocket_connections: connectionId } } as unknown as UpdateFilter<Document>,
  )
  log.debug({ session_id: sessionId, connection_id: connectionId }, 'websocket connection registered')
  if (result.matchedCount === 0) throw new NotFoundError('session', sessionId)
}

/** Removes a connection from the session's `websocket_connections` (no error when absent). */
export async function removeWebSocketConnection(
  sessions: SessionsCollection,
  sessionId: string,
  connectionId: string,
): Promise<void> {
  const coll = sessions as Collection<Document>
  await coll.updateOne(
    { _id: sessionId } as unknown as Filter<Document>,
    { $pull: { websocket_connections: connectionId } } as unknown as UpdateFilter<Document>,
  )
  log.debug({ session_id: sessionId, connection_id: connectionId }, 'websocket connection removed')
}

/** The session's registered connection ids. */
export async function listWebSocketConnections(sessions: SessionsCollection, sessionId: string): Promise<string[]> {
  const coll = sessions as Collection<Document>
  const doc = await coll.findOne({ _id: sessionId } as unknown as Filter<Document>, {
    projection: { websocket_connections: 1 },
  })
  const ids: unknown = doc?.websocket_connections
  return Array.isArray(ids) ? ids.filter((id): id is string => typeof id === 'string') : []
}

/** A {@link WebSocketConnectionRegistry} over the `sessions` collection. */
export function createWebSocketConnectionRegistry(sessions: SessionsCollection): WebSocketConnectionRegistry {
  return {
    list: (sessionId) =>
      mapDriverErrors('list WebSocket connections', () => listWebSocketConnections(sessions, sessionId)),
    register: (sessionId, connectionId) =>
      mapDriverErrors('register WebSocket connection', () =>
        registerWebSocketConnection(sessions, sessionId, connectionId),
      ),
    remove: (sessionId, connectionId) =>
      mapDriverErrors('remove WebSocket connection', () =>
        removeWebSocketConnection(sessions, sessionId, connectionId),
      ),
  }
}

/**
 * The registry a manager exposes, if any: a `webSocketConnections` property implementing
 * {@link WebSocketConnectionRegistry} (how the WebSocket hook finds it through `HookContext.manager`).
 */
export function registryFromManager(manager: unknown): WebSocketConnectionRegistry | undefined {
  if (typeof manager !== 'object' || manager === null) return undefined
  const candidate = (manager as { webSocketConnections?: unknown }).webSocketConnections
  if (typeof candidate !== 'object' || candidate === null) return undefined
  const r = candidate as Partial<WebSocketConnectionRegistry>
  return typeof r.list === 'function' && typeof r.remove === 'function' && typeof r.register === 'function'
    ? (candidate as WebSocketConnectionRegistry)
    : undefined
}
