/**
 * Retries of idempotent storage steps after transient failures (network errors, primary
 * elections). Every step passed here must be safe to run twice: message inserts are upserts by
 * `_id`, and a session update recognises its own earlier success by its operation id.
 */
import { MongoError, MongoNetworkError, MongoServerSelectionError } from 'mongodb'
import { log } from '../logging.js'

export interface RetryOptions {
  attempts?: number
  baseDelayMs?: number
}

export function isTransientError(error: unknown): boolean {
  if (error instanceof MongoNetworkError || error instanceof MongoServerSelectionError) return true
  if (error instanceof MongoError) {
    // 'ResetPool' marks network failures, also when the driver wraps them (e.g. in MongoBulkWriteError).
    return (
      error.hasErrorLabel('RetryableWriteError') ||
      error.hasErrorLabel('TransientTransactionError') ||
      error.hasErrorLabel('ResetPool') ||
      (error.cause !== undefined && error.cause !== error && isTransientError(error.cause))
    )
  }
  return false
}

/**
 * Whether a step that failed with `error` is worth running again at once. Not after a server
 * selection timeout: the driver has already waited its full timeout for a server, and trying again
 * would only multiply the time the caller waits for an answer that the database is unavailable.
 */
function worthRetrying(error: unknown): boolean {
  return isTransientError(error) && !(error instanceof MongoServerSelectionError)
}

export async function withRetry<T>(what: string, run: () => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const attempts = options.attempts ?? 4
  const baseDelayMs = options.baseDelayMs ?? 50
  for (let attempt = 1; ; attempt++) {
    try {
      return await run()
    } catch (error) {
      if (attempt >= attempts || !worthRetrying(error)) throw error
      const delay = baseDelayMs * 2 ** (attempt - 1) * (0.5 + Math.random() / 2)
      log.debug({ step: what, attempt, delay_ms: Math.round(delay) }, 'transient MongoDB error, retrying')
      await new Promise((resolve) => setTimeout(resolve, delay))
    }
  }
}
