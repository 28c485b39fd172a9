/**
 * Hook contracts: interceptors around the session-data operations, as in the Python version
 * (`feedbackHook`, `metadataHook`), plus the notification context the AWS hooks use.
 *
 * A hook is called as `hook(original, action, sessionId, args, context)`. It may call
 * `original(args)` (optionally with changed arguments), skip it, or veto by throwing. What it
 * returns is what the public method returns. Several hooks compose in order: the first hook's
 * `original` is the second hook, and so on down to the storage operation.
 */

import type {
  Feedback,
  FeedbackInput,
  MetadataAction,
  MetadataHookArgs,
  MetadataHookResults,
  NotificationRequest,
  NotificationSender,
} from '../model/types.js'

/** Passed to every hook as its fifth argument. */
export interface HookContext {
  readonly sessionId: string
  /** The manager the operation runs on (typed loosely to avoid an import cycle). */
  readonly manager: unknown
  /** Queue a notification; `sender` delivers it (and is remembered for retries). */
  notify(request: NotificationRequest, sender: NotificationSender): void
}

export type FeedbackOriginal = (feedback: FeedbackInput) => Promise<Feedback>

export type FeedbackHook = (
  original: FeedbackOriginal,
  action: 'add',
  sessionId: string,
  args: FeedbackInput,
  context: HookContext,
) => Feedback | Promise<Feedback>

export type MetadataOriginal<A extends MetadataAction = MetadataAction> = (
  args: MetadataHookArgs[A],
) => Promise<MetadataHookResults[A]>

export type MetadataHook = <A extends MetadataAction>(
  original: MetadataOriginal<A>,
  action: A,
  sessionId: string,
  args: MetadataHookArgs[A],
  context: HookContext,
) => MetadataHookResults[A] | Promise<MetadataHookResults[A]>
