/**
 * Composition of interceptor hooks (`feedbackHook`, `metadataHook`) and the per-call notification
 * context handed to them.
 *
 * Hooks run in the order given: the first hook's `original` calls the second hook, and so on down
 * to the storage operation. A hook may call `original` with changed arguments (or with none, to
 * pass its own arguments on), skip it, or veto by throwing; whatever the first hook returns is what
 * the public method returns.
 *
 * Notifications: a hook calls `context.notify(request, sender)`. Registered **before** the storage
 * operation runs, the notification is tied to that write — stored in the same single-document write
 * in durable mode, handed to the dispatcher only after the write succeeded, and dropped if it failed
 * or never ran. Registered **after** the storage operation, it is handed to the dispatcher at once.
 */
import type { Collection, Document } from 'mongodb'
import { ConfigurationError, ValidationError } from '../errors.js'
import { uuidv7 } from '../model/ids.js'
import { describeError, log } from '../logging.js'
import type { Notification, NotificationRequest, NotificationSender } from '../model/types.js'
import type { HookContext } from './types.js'

/**
 * Where a durable notification is stored: the document holding the `outbox` array and the exact
 * entry, so the dispatcher can remove it once delivered. Structurally the dispatcher's
 * `OutboxLocation` (src/notifications/dispatcher.ts), declared here so this module does not depend on it.
 */
export interface NotificationOutboxLocation {
  // `any`: Collection<T> is invariant, so Collection<SessionDocument> is not a Collection<Document>.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  collection: Collection<any>
  documentId: string
  entry: Document
}

/** What the session-data features need from a notification dispatcher (the dispatcher's `enqueue`). */
export interface NotificationDispatcherLike {
  /**
   * Deliver `notification` with `sender` in the background. `options.outbox` is set in durable
   * mode (the stored entry); absent when the notification exists only in memory. Must not throw
   * for delivery failures; it is never awaited by the storage call.
   */
  enqueue(
    notification: Notification,
    sender: NotificationSender,
    options?: { outbox?: NotificationOutboxLocation },
  ): unknown
}

/** Where the entries of one write were stored. */
export interface StoredIn {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  collection: Collection<any>
  documentId: string
}

/** A notification together with the sender that delivers it. */
export interface PendingNotification {
  notification: Notification
  sender: NotificationSender
  /** The stored outbox entry, in durable mode once the storage operation built it. */
  entry?: Document
}

/** Normalises the `feedbackHook` / `metadataHook` option to an array, rejecting anything but functions. */
export function toHookList<H>(hooks: H | readonly H[] | undefined, option: string): H[] {
  if (hooks === undefined || hooks === null) return []
  const list = (Array.isArray(hooks) ? [...(hooks as readonly H[])] : [hooks as H]) as unknown[]
  list.forEach((hook, i) => {
    if (typeof hook !== 'function') {
      throw new ConfigurationError(`${option}${Array.isArray(hooks) ? `[${i}]` : ''} must be a function`)
    }
  })
  return list as H[]
}

/** An interceptor in its generic form. */
export type Interceptor<Action extends string, Args, Result> = (
  original: (args: Args) => Promise<Result>,
  action: Action,
  sessionId: string,
  args: Args,
  context: HookContext,
) => Result | Promise<Result>

/**
 * Runs `hooks` in order around `base`. `original` may be called without arguments, in which case
 * the arguments the hook itself received are passed on.
 */
export function runInterceptors<Action extends string, Args, Result>(
  hooks: readonly Interceptor<Action, Args, Result>[],
  base: (args: Args) => Promise<Result>,
  action: Action,
  sessionId: string,
  args: Args,
  context: HookContext,
): Promise<Result> {
  const call = async (index: number, current: Args): Promise<Result> => {
    const hook = hooks[index]
    if (!hook) return base(current)
    const original = (next?: Args) => call(index + 1, next === undefined ? current : next)
    return hook(original as (args: Args) => Promise<Result>, action, sessionId, current, context)
  }
  return call(0, args)
}

function validateRequest(request: NotificationRequest, sender: NotificationSender): void {
  if (request === null || typeof request !== 'object') {
    throw new ValidationError('notification request must be an object', { field: 'notification' })
  }
  for (const field of ['channel', 'target'] as const) {
    if (typeof request[field] !== 'string' || request[field].length === 0) {
      throw new ValidationError(`notification ${field} must be a non-empty string`, { field })
    }
  }
  const payload = request.payload
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) {
    throw new ValidationError('notification payload must be an object', { field: 'payload' })
  }
  try {
    JSON.stringify(payload)
  } catch (error) {
    throw new ValidationError('notification payload must be JSON-serialisable', { field: 'payload', cause: error })
  }
  if (!sender || typeof sender.send !== 'function') {
    throw new ValidationError('notification sender must have a send() method', { field: 'sender' })
  }
}

/**
 * The context of one public call (`addFeedback`, `updateMetadata`…): it is the {@link HookContext}
 * given to every hook of the chain and tracks whether the storage operation has run yet.
 */
export class HookCall implements HookContext {
  readonly sessionId: string
  readonly manager: unknown
  readonly #dispatcher: NotificationDispatcherLike | undefined
  #pending: PendingNotification[] = []
  #storageStarted = false

  constructor(sessionId: string, manager: unknown, dispatcher: NotificationDispatcherLike | undefined) {
    this.sessionId = sessionId
    this.manager = manager
    this.#dispatcher = dispatcher
  }

  notify(request: NotificationRequest, sender: NotificationSender): void {
    validateRequest(request, sender)
    const notification: Notification = {
      eventId: uuidv7(),
      sessionId: this.sessionId,
      createdAt: new Date(),
      attempts: 0,
      channel: request.channel,
      target: request.target,
      // Detached copy: the hook may keep mutating its object after notify().
      payload: structuredClone(request.payload),
    }
    if (this.#storageStarted) {
      this.dispatch([{ notification, sender }], null)
    } else {
      this.#pending.push({ notification, sender })
    }
  }

  /**
   * Called by the storage operation right before it writes: returns the notifications registered
   * so far (to be stored with the change) and switches later `notify` calls to immediate dispatch.
   */
  takePending(): PendingNotification[] {
    this.#storageStarted = true
    const pending = this.#pending
    this.#pending = []
    return pending
  }

  /** Hands notifications to the dispatcher; never throws (a failed hand-over must not fail the caller). */
  dispatch(items: readonly PendingNotification[], storedIn: StoredIn | null): void {
    if (items.length === 0) return
    const dispatcher = this.#dispatcher
    if (!dispatcher) {
      if (storedIn === null) {
        log.warn(
          { session_id: this.sessionId, count: items.length },
          'no notification dispatcher configured | notifications dropped',
        )
      } else {
        log.debug(
          { session_id: this.sessionId, count: items.length },
          'no notification dispatcher configured | notifications stay in the outbox for a relay',
        )
      }
      return
    }
    for (const item of items) {
      try {
        const result =
          storedIn && item.entry
            ? dispatcher.enqueue(item.notification, item.sender, {
                outbox: { collection: storedIn.collection, documentId: storedIn.documentId, entry: item.entry },
              })
            : dispatcher.enqueue(item.notification, item.sender)
        if (result && typeof (result as Promise<unknown>).catch === 'function') {
          ;(result as Promise<unknown>).catch((error: unknown) => {
            log.error(
              { session_id: this.sessionId, event_id: item.notification.eventId, error: describeError(error) },
              'notification dispatcher rejected a notification',
            )
          })
        }
      } catch (error) {
        log.error(
          { session_id: this.sessionId, event_id: item.notification.eventId, error: describeError(error) },
          'notification dispatcher threw',
        )
      }
    }
  }

  /** Notifications registered before a hook chain that never reached storage are discarded. */
  finish(): void {
    if (this.#pending.length > 0) {
      log.debug(
        { session_id: this.sessionId, count: this.#pending.length },
        'storage operation did not run | notifications registered before it were discarded',
      )
      this.#pending = []
    }
  }
}
