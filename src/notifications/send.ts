/**
 * One delivery attempt and the delay before the next: shared by the dispatcher (in-process
 * retries) and the outbox relay (retries across passes and processes), so both time out, classify
 * errors and back off the same way.
 */
import type { Notification, NotificationSender } from '../model/types.js'

/** Outcome of {@link sendWithTimeout}. */
export type SendOutcome = { ok: true } | { ok: false; error: unknown; permanent: boolean }

/**
 * Sends `notification` with `sender`, abandoning it after `timeoutMs` (the sender's signal is
 * aborted with a `TimeoutError`). Never throws: a failure comes back with whether the sender
 * considers it permanent (retrying cannot help).
 */
export async function sendWithTimeout(
  sender: NotificationSender,
  notification: Notification,
  timeoutMs: number,
): Promise<SendOutcome> {
  const controller = new AbortController()
  let timer: NodeJS.Timeout | undefined
  try {
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const error = new Error(`send timed out after ${timeoutMs} ms`)
        error.name = 'TimeoutError'
        controller.abort(error)
        reject(error)
      }, timeoutMs)
    })
    await Promise.race([sender.send(notification, { signal: controller.signal }), timeout])
    return { ok: true }
  } catch (caught) {
    const error = caught ?? new Error('send rejected without a reason')
    let permanent = false
    try {
      permanent = sender.isPermanentError?.(error) ?? false
    } catch {
      permanent = false
    }
    return { ok: false, error, permanent }
  } finally {
    clearTimeout(timer)
  }
}

/** Exponential backoff: `baseMs · 2^(failures−1)`, capped at `maxMs`. */
export function backoffCeiling(failures: number, baseMs: number, maxMs: number): number {
  return Math.min(maxMs, baseMs * 2 ** Math.min(Math.max(failures - 1, 0), 30))
}
