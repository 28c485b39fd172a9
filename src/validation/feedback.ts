/**
 * Validation of `addFeedback()` input. Ratings are exactly `'up'`, `'down'` or `null`: anything else
 * (including `undefined`, `'UP'`, `1`) is a {@link ValidationError} and nothing is stored, so that
 * per-rating counts and SNS routing can never see a value they do not know.
 */
import { ValidationError } from '../errors.js'
import { MAX_FEEDBACK_COMMENT_LENGTH, type FeedbackInput, type FeedbackRating } from '../model/types.js'
import { validateIdentifier } from './identifiers.js'
import { hasLoneSurrogate } from './text.js'

/** Longest `messageId` / `userId`, in characters. */
export const MAX_FEEDBACK_REFERENCE_LENGTH = 256

const KNOWN_KEYS = new Set(['rating', 'comment', 'messageId', 'agentId', 'userId'])

/** A validated feedback input, with every optional field resolved to a value or `null`. */
export interface ValidatedFeedback {
  rating: FeedbackRating
  comment: string | null
  messageId: string | null
  agentId: string | null
  userId: string | null
}

function optionalText(value: unknown, field: string, max: number): string | null {
  if (value === undefined || value === null) return null
  if (typeof value !== 'string') {
    throw new ValidationError(`feedback ${field} must be a string, got ${typeof value}`, { field })
  }
  if (value.length > max) {
    throw new ValidationError(`feedback ${field} is ${value.length} characters; at most ${max} are accepted`, {
      field,
    })
  }
  // The comment is sent verbatim as the SNS message text, where a NUL would end the text for many readers.
  if (value.includes('\u0000')) throw new ValidationError(`feedback ${field} contains a NUL character`, { field })
  // MongoDB stores UTF-8: a lone surrogate would be stored as U+FFFD, so the text would read back different.
  if (hasLoneSurrogate(value)) {
    throw new ValidationError(`feedback ${field} contains a lone surrogate (not valid Unicode)`, { field })
  }
  return value
}

/** Validates `addFeedback()` input; throws {@link ValidationError} naming the offending field. */
export function validateFeedbackInput(input: unknown): ValidatedFeedback {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw new ValidationError('feedback must be an object', { field: 'feedback' })
  }
  const record = input as Record<string, unknown>
  for (const key of Object.keys(record)) {
    if (!KNOWN_KEYS.has(key)) {
      throw new ValidationError(
        `unknown feedback field ${JSON.stringify(key)} (accepted: rating, comment, messageId, agentId, userId)`,
        { field: key },
      )
    }
  }
  if (!('rating' in record)) {
    throw new ValidationError("feedback rating is required: 'up', 'down' or null (neutral)", { field: 'rating' })
  }
  const rating = record.rating
  if (rating !== 'up' && rating !== 'down' && rating !== null) {
    // Never String(x) on an arbitrary object: its toString may be missing or throw.
    const shown =
      typeof rating === 'string'
        ? JSON.stringify(rating.slice(0, 40))
        : rating === undefined || typeof rating === 'number' || typeof rating === 'boolean'
          ? String(rating)
          : `a ${Array.isArray(rating) ? 'list' : typeof rating}`
    throw new ValidationError(`feedback rating must be 'up', 'down' or null, got ${shown}`, { field: 'rating' })
  }
  const comment = optionalText(record.comment, 'comment', MAX_FEEDBACK_COMMENT_LENGTH)
  const messageId = optionalText(record.messageId, 'messageId', MAX_FEEDBACK_REFERENCE_LENGTH)
  const userId = optionalText(record.userId, 'userId', MAX_FEEDBACK_REFERENCE_LENGTH)
  const agentId =
    record.agentId === undefined || record.agentId === null ? null : validateIdentifier(record.agentId, 'agentId')
  return { rating, comment, messageId, agentId, userId }
}

/** Converts a validated feedback back to the public input shape (what hooks receive). */
export function toFeedbackInput(feedback: ValidatedFeedback): FeedbackInput {
  return {
    rating: feedback.rating,
    ...(feedback.comment !== null && { comment: feedback.comment }),
    ...(feedback.messageId !== null && { messageId: feedback.messageId }),
    ...(feedback.agentId !== null && { agentId: feedback.agentId }),
    ...(feedback.userId !== null && { userId: feedback.userId }),
  }
}
