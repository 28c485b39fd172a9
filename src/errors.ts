/**
 * Errors thrown by mongodb-session-manager.
 *
 * Every error extends {@link MongoSessionError} and carries a stable `code`, so callers can branch
 * on `err.code` (or `instanceof`) without parsing messages. Messages name the session, agent, key or
 * field concerned and never contain credentials.
 */

/** Stable error codes. Part of the public contract: never renamed, only added. */
export type MongoSessionErrorCode =
  | 'MSM_VALIDATION'
  | 'MSM_NOT_FOUND'
  | 'MSM_CONFLICT'
  | 'MSM_DOCUMENT_TOO_LARGE'
  | 'MSM_STORAGE'
  | 'MSM_CONFIGURATION'
  | 'MSM_CLOSED'
  | 'MSM_NOTIFICATION'
  | 'MSM_UNAVAILABLE'
  | 'MSM_DECRYPTION'

/**
 * Base class of every error this library throws.
 *
 * `retryable` says whether the same call may succeed if made again unchanged (the database was
 * unreachable, timed out, or failed over); when `false`, retrying without changing something
 * (the input, the configuration, the session) fails the same way.
 */
export class MongoSessionError extends Error {
  override readonly name: string = 'MongoSessionError'
  readonly code: MongoSessionErrorCode
  readonly retryable: boolean

  constructor(code: MongoSessionErrorCode, message: string, options?: { cause?: unknown; retryable?: boolean }) {
    super(message, options)
    this.code = code
    this.retryable = options?.retryable ?? false
  }
}

/** Bad input from the caller: nothing was written. `field` names the offending option, key or path. */
export class ValidationError extends MongoSessionError {
  override readonly name = 'ValidationError'
  readonly field: string | undefined

  constructor(message: string, options?: { field?: string; cause?: unknown }) {
    super('MSM_VALIDATION', message, options)
    this.field = options?.field
  }
}

/** The session, agent or snapshot addressed does not exist. */
export class NotFoundError extends MongoSessionError {
  override readonly name = 'NotFoundError'
  readonly resource: 'session' | 'agent' | 'snapshot' | 'feedback'
  readonly id: string

  constructor(resource: NotFoundError['resource'], id: string, message?: string) {
    super('MSM_NOT_FOUND', message ?? `${resource} '${id}' not found`)
    this.resource = resource
    this.id = id
  }
}

/**
 * Another writer changed the same session and agent since this manager last read or wrote it.
 * Nothing from the stale write was kept. Reload (a new manager, or `restoreSnapshot`) and retry.
 */
export class SessionConflictError extends MongoSessionError {
  override readonly name = 'SessionConflictError'
  readonly sessionId: string
  readonly agentId: string

  constructor(sessionId: string, agentId: string, detail: string) {
    super(
      'MSM_CONFLICT',
      `session '${sessionId}', agent '${agentId}': concurrent write detected (${detail}); ` +
        'reload the session before writing again',
    )
    this.sessionId = sessionId
    this.agentId = agentId
  }
}

/** A single document would exceed the server's maximum BSON size; nothing was written. */
export class DocumentTooLargeError extends MongoSessionError {
  override readonly name = 'DocumentTooLargeError'
  readonly size: number
  readonly limit: number

  constructor(what: string, size: number, limit: number) {
    super('MSM_DOCUMENT_TOO_LARGE', `${what} is ${size} bytes as BSON; the server accepts at most ${limit} bytes`)
    this.size = size
    this.limit = limit
  }
}

/** MongoDB rejected or failed an operation. `cause` holds the driver error. */
export class StorageOperationError extends MongoSessionError {
  override readonly name = 'StorageOperationError'

  constructor(message: string, options?: { cause?: unknown; retryable?: boolean }) {
    super('MSM_STORAGE', message, options)
  }
}

/**
 * The database could not be reached in time: no server answered (`'unreachable'`), the connection
 * broke mid-operation (`'network'`), or the operation ran past its deadline (`'timeout'`). Always
 * `retryable`. `cause` holds the driver error; the message never contains the connection string.
 */
export class DatabaseUnavailableError extends MongoSessionError {
  override readonly name = 'DatabaseUnavailableError'
  readonly reason: 'unreachable' | 'network' | 'timeout'

  constructor(reason: DatabaseUnavailableError['reason'], message: string, options?: { cause?: unknown }) {
    super('MSM_UNAVAILABLE', message, { ...options, retryable: true })
    this.reason = reason
  }
}

/** Invalid or incomplete configuration (options, ARNs, URLs, missing optional packages). */
export class ConfigurationError extends MongoSessionError {
  override readonly name = 'ConfigurationError'

  constructor(message: string, options?: { cause?: unknown }) {
    super('MSM_CONFIGURATION', message, options)
  }
}

/** The manager or factory was used after `close()`. */
export class ClosedError extends MongoSessionError {
  override readonly name = 'ClosedError'

  constructor(what: string) {
    super('MSM_CLOSED', `${what} is closed`)
  }
}

/**
 * Encrypted content could not be decrypted: it was tampered with or moved to another session or
 * field, the session's data key was destroyed (deleted session), or the master key is not the one
 * that wrapped it. Nothing is returned in its place.
 */
export class DecryptionError extends MongoSessionError {
  override readonly name = 'DecryptionError'

  constructor(message: string, options?: { cause?: unknown }) {
    super('MSM_DECRYPTION', message, options)
  }
}
