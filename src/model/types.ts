/**
 * The data model shared by every layer: feedback, metadata, the metadata operations, and
 * notifications with the senders that deliver them.
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
