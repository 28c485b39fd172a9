/**
 * The SNS feedback notification, as a pure function of the feedback and the hook's configuration.
 *
 * Wire format (exact):
 * - Subject: `<prefix>Virtual Agents Feedback <positive|negative|neutral> on session <session_id>`,
 *   made to satisfy SNS (printable ASCII, no line breaks, fewer than 100 characters);
 * - Message: `<body prefix>Session: <session_id>` + blank line + the comment;
 * - MessageAttributes: `session_id`, `rating` (String).
 */
import { ValidationError } from '../errors.js'
import type { FeedbackRating } from '../model/types.js'
import { renderTemplate, type TemplateVariables } from './template.js'

/** The rating as it appears in the subject and the `rating` attribute. */
export type RatingLabel = 'positive' | 'negative' | 'neutral'

/** Which configured topic a rating routes to. */
export type RatingRoute = 'good' | 'bad' | 'neutral'

/**
 * SNS accepts subjects "less than 100 characters long" (AWS Publish API reference); we keep to 99 so a
 * subject is never rejected.
 */
export const SNS_SUBJECT_MAX_LENGTH = 99

/** SNS message limit (256 KiB, UTF-8 bytes), less room for the attributes, which count towards it. */
export const SNS_MESSAGE_MAX_BYTES = 256 * 1024 - 4 * 1024

const TRUNCATION_MARK = '...'

/** Maps `'up'`/`'down'`/`null` (or missing) to route and label; anything else is a {@link ValidationError}. */
export function classifyRating(rating: FeedbackRating | undefined): { route: RatingRoute; label: RatingLabel } {
  if (rating === 'up') return { route: 'good', label: 'positive' }
  if (rating === 'down') return { route: 'bad', label: 'negative' }
  if (rating === null || rating === undefined) return { route: 'neutral', label: 'neutral' }
  throw new ValidationError(`feedback rating must be 'up', 'down' or null, got ${JSON.stringify(rating)}`, {
    field: 'rating',
  })
}

/**
 * Makes any text a valid SNS subject: accents are folded (`é` → `e`), line breaks and tabs become
 * spaces, other characters outside printable ASCII are dropped, runs of spaces collapse, and the
 * result is trimmed and truncated (ending in `...`) to {@link SNS_SUBJECT_MAX_LENGTH} characters.
 */
export function sanitizeSnsSubject(text: string): string {
  let subject = text
    .normalize('NFKD')
    .replace(/[\r\n\t\v\f\u0085\u2028\u2029]+/g, ' ')
    .replace(/[^\x20-\x7E]/g, '')
    .replace(/ {2,}/g, ' ')
    .trim()
  if (subject.length > SNS_SUBJECT_MAX_LENGTH) {
    subject = subject.slice(0, SNS_SUBJECT_MAX_LENGTH - TRUNCATION_MARK.length).trimEnd() + TRUNCATION_MARK
  }
  return subject
}

/** The subject: rendered prefix + `Virtual Agents Feedback <label> on session <id>`, sanitised. */
export function buildFeedbackSubject(prefix: string | undefined, variables: TemplateVariables): string {
  const text = `${renderTemplate(prefix, variables)}Virtual Agents Feedback ${variables.rating} on session ${variables.session_id}`
  return sanitizeSnsSubject(text)
}

/** Cuts `text` so its UTF-8 encoding fits in `maxBytes`, never splitting a character. */
export function truncateUtf8(text: string, maxBytes: number): string {
  if (Buffer.byteLength(text, 'utf8') <= maxBytes) return text
  const mark = `\n${TRUNCATION_MARK}`
  const budget = maxBytes - Buffer.byteLength(mark, 'utf8')
  let bytes = 0
  let end = 0
  for (const char of text) {
    const size = Buffer.byteLength(char, 'utf8')
    if (bytes + size > budget) break
    bytes += size
    end += char.length
  }
  return text.slice(0, end) + mark
}

/** The message: rendered body prefix + `Session: <id>` + blank line + comment (empty when none). */
export function buildFeedbackMessage(
  prefix: string | undefined,
  variables: TemplateVariables,
  comment: string | null | undefined,
): string {
  const text = `${renderTemplate(prefix, variables)}Session: ${variables.session_id}\n\n${comment ?? ''}`
  return truncateUtf8(text, SNS_MESSAGE_MAX_BYTES)
}
