/**
 * The storage boundary's error mapping: every error the MongoDB driver throws becomes one of the
 * library's typed errors, with the driver error as `cause` and a message that never quotes a
 * connection string.
 */
import {
  MongoError,
  MongoNetworkError,
  MongoNetworkTimeoutError,
  MongoOperationTimeoutError,
  MongoServerSelectionError,
  MongoTopologyClosedError,
} from 'mongodb'
import { DatabaseUnavailableError, MongoSessionError, StorageOperationError } from '../errors.js'
import { describeError } from '../logging.js'
import { isTransientError } from './retry.js'

/** Server error codes that mean "ran past its time limit" (MaxTimeMSExpired, ExceededTimeLimit). */
const TIME_LIMIT_CODES = new Set([50, 262])

function unavailableReason(error: unknown): DatabaseUnavailableError['reason'] | undefined {
  if (error instanceof MongoOperationTimeoutError || error instanceof MongoNetworkTimeoutError) return 'timeout'
  if (error instanceof MongoError && typeof error.code === 'number' && TIME_LIMIT_CODES.has(error.code)) {
    return 'timeout'
  }
  if (error instanceof MongoServerSelectionError || error instanceof MongoTopologyClosedError) return 'unreachable'
  if (error instanceof MongoNetworkError) return 'network'
  if (error instanceof MongoError && error.hasErrorLabel('ResetPool')) return 'network'
  if (error instanceof Error && 'cause' in error && error.cause !== error && error.cause !== undefined) {
    return unavailableReason(error.cause)
  }
  // A socket that broke under a write can surface as a plain Error (EPIPE, ECONNRESET).
  const code = (error as { code?: unknown } | null)?.code
  if (typeof code === 'string' && ['EPIPE', 'ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT'].includes(code)) return 'network'
  return undefined
}

const REASON_TEXT: Record<DatabaseUnavailableError['reason'], string> = {
  unreachable: 'no MongoDB server could be reached',
  network: 'the connection to MongoDB broke',
  timeout: 'the MongoDB operation ran past its deadline',
}

/** Whether `error` comes from the driver or the connection under it (and not, say, a user's hook). */
export function isDriverError(error: unknown): boolean {
  return error instanceof MongoError || unavailableReason(error) !== undefined
}

/**
 * The library's error for a driver error thrown while doing `what` (e.g. "save session 'abc'").
 * Anything else — the library's own errors, errors thrown by a user's hook — is returned unchanged.
 */
export function wrapDriverError(error: unknown, what: string, deadlineMs?: number): unknown {
  // Storage code may already have wrapped the driver error: classify the driver error itself.
  const original = error instanceof StorageOperationError && isDriverError(error.cause) ? error.cause : error
  if (deadlineMs !== undefined && !(original instanceof MongoSessionError)) {
    // The deadline fired: whatever the driver made of the abort, the cause is the deadline.
    return new DatabaseUnavailableError('timeout', `${what}: no answer from MongoDB within ${deadlineMs} ms`, {
      cause: original,
    })
  }
  if (original !== error && unavailableReason(original) === undefined) return error
  return isDriverError(original) ? toLibraryError(original, what) : error
}

/**
 * The library's error for `error` thrown while doing `what`. Errors that are already the
 * library's own pass through unchanged; anything else becomes a `StorageOperationError`.
 */
export function toLibraryError(error: unknown, what: string): MongoSessionError {
  if (error instanceof MongoSessionError) return error
  const reason = unavailableReason(error)
  if (reason) {
    return new DatabaseUnavailableError(reason, `${what}: ${REASON_TEXT[reason]} (${describeError(error)})`, {
      cause: error,
    })
  }
  return new StorageOperationError(`${what} failed: ${describeError(error)}`, {
    cause: error,
    retryable: isTransientError(error),
  })
}

/** Runs `operation`, rethrowing a driver failure as the library's typed error. */
export async function mapDriverErrors<T>(what: string, operation: () => Promise<T>): Promise<T> {
  try {
    return await operation()
  } catch (error) {
    throw wrapDriverError(error, what)
  }
}
