/**
 * Operation deadlines. The driver's own `timeoutMS` has no effect in the driver versions this
 * library supports, so a deadline is an `AbortSignal` handed to every driver call made within it:
 * the driver abandons the operation (closing its socket when it is mid-flight) once the signal
 * fires. The signal travels in an `AsyncLocalStorage`, so storage code deep in a call does not
 * thread it by hand, and collections opened through {@link withDeadlines} add it to each call.
 */
import { AsyncLocalStorage } from 'node:async_hooks'
import type { Collection, Document } from 'mongodb'

const current = new AsyncLocalStorage<AbortSignal>()

/** Runs `operation` with every driver call in it bounded by `timeoutMs` in all (`0`: no deadline). */
export function runWithDeadline<T>(timeoutMs: number, operation: (signal?: AbortSignal) => Promise<T>): Promise<T> {
  if (timeoutMs === 0) return operation()
  const outer = current.getStore()
  const own = AbortSignal.timeout(timeoutMs)
  // A nested deadline never outlives the one around it.
  const signal = outer ? AbortSignal.any([outer, own]) : own
  return current.run(signal, () => operation(signal))
}

/** `promise`, or a rejection with the signal's reason once `signal` fires, whichever comes first. */
export function untilAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise
  if (signal.aborted) return Promise.reject(signal.reason as Error)
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason as Error)
    signal.addEventListener('abort', onAbort, { once: true })
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort)
        resolve(value)
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort)
        reject(error as Error)
      },
    )
  })
}

/** Runs `work` free of any deadline in force (for background work that outlives the call). */
export function outsideDeadline<T>(work: () => T): T {
  return current.exit(work)
}

/** The deadline in force for the current call, if any. */
export function currentDeadline(): AbortSignal | undefined {
  return current.getStore()
}

/** Where each collection method takes its options argument. */
const OPTIONS_ARGUMENT: Record<string, number> = {
  find: 1,
  findOne: 1,
  countDocuments: 1,
  estimatedDocumentCount: 0,
  distinct: 2,
  aggregate: 1,
  insertOne: 1,
  insertMany: 1,
  updateOne: 2,
  updateMany: 2,
  replaceOne: 2,
  deleteOne: 1,
  deleteMany: 1,
  bulkWrite: 1,
  findOneAndUpdate: 2,
  findOneAndReplace: 2,
  findOneAndDelete: 1,
  createIndexes: 1,
  listIndexes: 0,
}

/** `collection`, with the current deadline (when there is one) added to the options of each call. */
export function withDeadlines<T extends Document>(collection: Collection<T>): Collection<T> {
  return new Proxy(collection, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver)
      if (typeof property !== 'string' || typeof value !== 'function') return value
      const position = OPTIONS_ARGUMENT[property]
      if (position === undefined) return value
      return (...args: unknown[]) => {
        const signal = current.getStore()
        if (signal) {
          const given = args[position]
          args[position] = { ...(typeof given === 'object' && given !== null ? given : {}), signal }
        }
        return (value as (...a: unknown[]) => unknown).apply(target, args)
      }
    },
  })
}
