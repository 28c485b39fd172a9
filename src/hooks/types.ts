/**
 * Hook contracts: interceptors around the session-data operations, as in the seed
 * (`feedbackHook`, `metadataHook`), plus the notification context the AWS hooks use.
 *
 * A hook is called as `hook(original, action, sessionId, args, context)`. It may call
 * `original(args)` (optionally with changed arguments), skip it, or veto by throwing. What it
 * returns is what the public method returns. Several hooks compose in order: the first hook's
 * `original` is the second hook, and so on down to the storage operation.
 */

/** `'up'` → positive, `'down'` → negative, `null` → neutral. */
export type FeedbackRating = 'up' | 'down' | null

/** What `addFeedback()` accepts. */
export interface FeedbackInput {
  rating: FeedbackRating
  /** Free text; at most {@link MAX_FEEDBACK_COMMENT_LENGTH} characters. */
  comment?: string
  /** `trackingId` of the message the feedback is about. */
  messageId?: string
  agentId?: string
  userId?: string
}

/** A stored feedback entry. */
export interface Feedback {
  id: string
  sessionId: string
  rating: FeedbackRating
  comment: string | null
  messageId: string | null
  agentId: string | null
  userId: string | null
  createdAt: Date
}

export const MAX_FEEDBACK_COMMENT_LENGTH = 10_000

/** JSON value accepted as metadata (Dates allowed). */
export type MetadataValue = string | number | boolean | null | Date | MetadataValue[] | { [key: string]: MetadataValue }

export type Metadata = Record<string, MetadataValue>

/** Arguments of each metadata action. */
export interface MetadataHookArgs {
  update: { metadata: Metadata }
  get: { keys?: string[] }
  delete: { keys: string[] }
}

/** Results of each metadata action (what `original` resolves to). */
export interface MetadataHookResults {
  /** The session's metadata after the update. */
  update: Metadata
  get: Metadata
  /** The session's metadata after the delete. */
  delete: Metadata
}

export type MetadataAction = keyof MetadataHookArgs

/**
 * A notification a hook wants delivered because of the operation in progress.
 *
 * Registered with {@link HookContext.notify} **before** calling `original`, it is stored in the same
 * single-document write as the change when the manager runs in durable delivery mode, and sent
 * only if that write succeeds. Registered after `original` resolves, it is sent right away.
 */
export interface NotificationRequest {
  /** Which sender delivers it: `'sns'`, `'sqs'`, `'websocket'` or a custom channel name. */
  channel: string
  /** Topic ARN, queue URL or API endpoint. */
  target: string
  /** Channel-specific, JSON-serialisable message (everything needed to send it after a restart). */
  payload: Record<string, unknown>
}

/** A notification with its identity, as queued, stored and delivered. */
export interface Notification extends NotificationRequest {
  /** UUIDv7; also the FIFO deduplication id, so a re-delivery is recognisable downstream. */
  eventId: string
  sessionId: string
  createdAt: Date
  attempts: number
}

/** Options the dispatcher passes to {@link NotificationSender.send}. */
export interface NotificationSendOptions {
  /** Aborted when the dispatcher gives up waiting (its send timeout); pass it on to the AWS client. */
  signal?: AbortSignal
}

/** Delivers notifications of one channel. Throw to signal failure; the dispatcher retries. */
export interface NotificationSender {
  readonly channel: string
  send(notification: Notification, options?: NotificationSendOptions): Promise<void>
  /** Errors for which retrying cannot help (bad ARN, access denied). Defaults to "retry everything". */
  isPermanentError?(error: unknown): boolean
}

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
