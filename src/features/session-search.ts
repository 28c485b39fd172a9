/**
 * `searchSessions`: finds sessions whose title, preview or message text contains a phrase.
 *
 * The search is a bounded scan on every engine (no `$text` index is required, so it behaves the
 * same on MongoDB, DocumentDB and FerretDB, and keeps working when message content is stored in a
 * form the server cannot read):
 * - the {@link SEARCH_SESSION_WINDOW} most recently active live sessions (of `userId`, when given)
 *   are read with their catalogue fields, through the `msm_user_updated` / `msm_updated` index,
 *   and their titles and previews are matched here;
 * - the messages of the {@link SEARCH_MESSAGE_SESSIONS} most recent of them are read, at most
 *   {@link SEARCH_MESSAGE_LIMIT} documents, and their text is matched here.
 * Matching is a case-insensitive substring test. Sessions older than the window are not found.
 */
import { ValidationError } from '../errors.js'
import type { SessionCollections } from '../storage/collections.js'
import { mapDriverErrors } from '../storage/driver-errors.js'
import { decodeMessage } from '../storage/message-codec.js'
import { liveClause } from '../storage/retention.js'
import { shortenText } from '../storage/catalogue-text.js'
import { SUMMARY_PROJECTION, toSummary, type SessionSummary } from './catalogue.js'

/** Sessions whose titles and previews are searched (the most recently active). */
export const SEARCH_SESSION_WINDOW = 200
/** Of those, the sessions whose messages are searched. */
export const SEARCH_MESSAGE_SESSIONS = 20
/** Message documents read, at most, per search. */
export const SEARCH_MESSAGE_LIMIT = 2_000
/** Characters of a search phrase, at most. */
const MAX_TEXT = 200

export interface SearchSessionsQuery {
  /** The phrase to find (case-insensitive substring), 1–200 characters. */
  text: string
  /** Only this user's sessions. Without it, every user's sessions are searched. */
  userId?: string
  /** Hits returned, 1–50; default 10. */
  limit?: number
}

/** One session found, with where the phrase matched. */
export interface SessionSearchHit {
  session: SessionSummary
  /** The fields that contain the phrase. */
  matchedIn: ('title' | 'preview' | 'messages')[]
  /** A short excerpt of the first message that contains the phrase, if any. */
  snippet: string | null
}

export interface CatalogueSearchOptions {
  /** @internal The instant expired sessions are judged at (tests); default now. */
  now?: Date
}

function validQuery(query: SearchSessionsQuery): { needle: string; userId: string | undefined; limit: number } {
  if (query === null || typeof query !== 'object')
    throw new ValidationError('query must be an object', { field: 'query' })
  const text = typeof query.text === 'string' ? query.text.trim() : ''
  if (text.length === 0 || text.length > MAX_TEXT) {
    throw new ValidationError(`text must be a non-empty string of at most ${MAX_TEXT} characters`, { field: 'text' })
  }
  if (query.userId !== undefined && (typeof query.userId !== 'string' || query.userId.length === 0)) {
    throw new ValidationError('userId must be a non-empty string', { field: 'userId' })
  }
  const limit = query.limit ?? 10
  if (!Number.isInteger(limit) || limit < 1 || limit > 50) {
    throw new ValidationError('limit must be an integer from 1 to 50', { field: 'limit' })
  }
  return { needle: text.toLowerCase(), userId: query.userId, limit }
}

/** Sessions containing `text`, most recently active first (see the module comment for the bounds). */
export async function searchSessions(
  collections: SessionCollections,
  query: SearchSessionsQuery,
  options: CatalogueSearchOptions = {},
): Promise<SessionSearchHit[]> {
  const { needle, userId, limit } = validQuery(query)
  return mapDriverErrors('searchSessions', async () => {
    const filter = { ...(userId !== undefined && { user_id: userId }), ...liveClause(options.now ?? new Date()) }
    const docs = await collections.sessions
      .find(filter, { projection: SUMMARY_PROJECTION })
      .sort({ updated_at: -1, _id: -1 })
      .limit(SEARCH_SESSION_WINDOW)
      .toArray()
    const contains = (value: unknown) => typeof value === 'string' && value.toLowerCase().includes(needle)
    const hits = new Map<string, SessionSearchHit>()
    for (const doc of docs) {
      const matchedIn: SessionSearchHit['matchedIn'] = []
      if (contains(doc.title) || contains(doc.auto_title)) matchedIn.push('title')
      if (contains(doc.preview)) matchedIn.push('preview')
      hits.set(doc._id, { session: toSummary(doc), matchedIn, snippet: null })
    }
    const recent = docs.slice(0, SEARCH_MESSAGE_SESSIONS).map((d) => d._id)
    if (recent.length > 0) {
      const messages = await collections.messages
        .find(
          { session_id: { $in: recent } },
          { projection: { session_id: 1, role: 1, content: 1, tracking_id: 1, seq: 1 } },
        )
        .limit(SEARCH_MESSAGE_LIMIT)
        .toArray()
      for (const message of messages) {
        const hit = hits.get(message.session_id)
        if (!hit || hit.snippet !== null) continue
        const text = messageText(decodeMessage(message).content)
        const at = text.toLowerCase().indexOf(needle)
        if (at < 0) continue
        if (!hit.matchedIn.includes('messages')) hit.matchedIn.push('messages')
        hit.snippet = shortenText(text.slice(Math.max(0, at - 40)), 160)
      }
    }
    // `docs` is in activity order, and so is the map.
    return [...hits.values()].filter((hit) => hit.matchedIn.length > 0).slice(0, limit)
  })
}

function messageText(content: unknown): string {
  if (!Array.isArray(content)) return ''
  const parts: string[] = []
  for (const block of content) {
    if (block !== null && typeof block === 'object' && typeof (block as { text?: unknown }).text === 'string') {
      parts.push((block as { text: string }).text)
    }
  }
  return parts.join(' ')
}
