/** `feedback list`: feedback across sessions (or of one session), newest first, paged. */
import { validateIdentifier } from '../../validation/identifiers.js'
import { dateOption, intOption, stringOption, type Command, type OptionValues } from '../command.js'
import { UsageError } from '../errors.js'
import { formatDate, truncate } from '../output.js'
import { displayText } from '../sealed.js'
import { listFeedback, type FeedbackQuery, type RatingName } from '../queries/feedback.js'

/** The filters shared by `feedback list` and `feedback report`. */
export function feedbackQuery(values: OptionValues): FeedbackQuery {
  const query: FeedbackQuery = {}
  const session = stringOption(values, 'session')
  if (session !== undefined) query.sessionId = validateIdentifier(session, 'session id')
  const agent = stringOption(values, 'agent')
  if (agent !== undefined) query.agentId = validateIdentifier(agent, 'agent id')
  const rating = stringOption(values, 'rating')
  if (rating !== undefined) {
    if (!['up', 'down', 'neutral'].includes(rating))
      throw new UsageError(`--rating must be up, down or neutral, got ${JSON.stringify(rating)}`)
    query.rating = rating as RatingName
  }
  const since = dateOption(values, 'since')
  if (since) query.since = since
  const until = dateOption(values, 'until')
  if (until) query.until = until
  return query
}

export const FEEDBACK_FILTER_OPTIONS = {
  session: { type: 'string', value: '<id>', description: 'only this session' },
  agent: { type: 'string', value: '<agent-id>', description: 'only feedback recorded for this agent' },
  rating: { type: 'string', value: '<up|down|neutral>', description: 'only this rating' },
  since: { type: 'string', value: '<date>', description: 'created at or after (ISO date, or 30m/12h/7d ago)' },
  until: { type: 'string', value: '<date>', description: 'created before (ISO date, or 30m/12h/7d ago)' },
} as const

export const feedbackList: Command = {
  path: ['feedback', 'list'],
  summary: 'List feedback, newest first',
  options: {
    ...FEEDBACK_FILTER_OPTIONS,
    limit: { type: 'string', value: '<n>', description: 'page size, 1-500 (default 20)' },
    cursor: { type: 'string', value: '<cursor>', description: 'continue after a previous page (printed as "next")' },
  },
  examples: ['mongodb-session-manager feedback list --rating down --since 7d'],
  async run({ values, out, connect }) {
    const query = feedbackQuery(values)
    const limit = intOption(values, 'limit', 20, 1, 500)
    const cursor = stringOption(values, 'cursor')
    const { collections } = await connect()
    const page = await listFeedback(collections, query, { limit, cursor })
    const s = out.style
    out.page(page, {
      empty: 'no feedback matches',
      headers: ['CREATED', 'SESSION', 'RATING', 'AGENT', 'COMMENT'],
      row: (f) => [
        formatDate(f.createdAt),
        f.sessionId,
        f.rating === 'up' ? s.green('up') : f.rating === 'down' ? s.red('down') : 'neutral',
        f.agentId ?? s.dim('-'),
        f.comment ? truncate(displayText(f.comment) ?? '', 60) : s.dim('-'),
      ],
    })
  },
}
