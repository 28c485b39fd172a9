/**
 * `searchSessions`: finds sessions whose title, preview or message text contains a phrase.
 *
 * Two ways, chosen per call (the hit's `mode` says which one answered):
 *
 * - `text`: where the engine has text indexes and both `msm_text` indexes exist (checked at run
 *   time, see storage/text-index.ts), one `$text` phrase query on `sessions` (titles, previews) and
 *   one aggregation on `messages` (the `text` of stored text blocks) find the phrase in every live
 *   session, old ones included. A phrase query is answered from the words of the index, then
 *   checked as a case-insensitive substring: the phrase must contain at least one whole word of
 *   the text it matches, so a fragment of a single word (`voic` for `invoice`) is not found.
 *   Bounds: with a `userId`, messages of that user's {@link SEARCH_TEXT_USER_SESSIONS} most
 *   recently active sessions; at most {@link SEARCH_TEXT_MESSAGE_LIMIT} matching messages read.
 * - `scan` (engines without text indexes, FerretDB 1.x; a missing index; a phrase holding `"` or no
 *   letter or digit; or `mode: 'scan'`): a bounded scan, matched here as a case-insensitive
 *   substring:
 *   - the {@link SEARCH_SESSION_WINDOW} most recently active live sessions (of `userId`, when
 *     given) are read with their catalogue fields, through the `msm_user_updated` / `msm_updated`
 *     index, and their titles and previews are matched;
 *   - the messages of the {@link SEARCH_MESSAGE_SESSIONS} most recent of them are read, at most
 *     {@link SEARCH_MESSAGE_LIMIT} documents, and their text is matched.
 *   Sessions older than the window are not found.
 *
 * Either way hits come most recently active first (text scores of two collections do not compare).
 * A `$text` query that fails because the index is gone falls back to the scan.
 */
import type { MongoClient } from 'mongodb'
import { ValidationError } from '../errors.js'
import { log } from '../logging.js'
import type { SessionCollections } from '../storage/collections.js'
import { mapDriverErrors } from '../storage/driver-errors.js'
import { decodeMessage } from '../storage/message-codec.js'
import { liveClause } from '../storage/retention.js'
import { shortenText } from '../storage/catalogue-text.js'
import type { SessionDocument } from '../storage/schema.js'
import { forgetTextSearch, isTextSearchUnavailable, textSearchAvailable } from '../storage/text-index.js'
import { SUMMARY_PROJECTION, summaryProjection, toSummaries, toSummary, type SessionSummary } from './catalogue.js'
import type { KeyProvider } from '../storage/crypto/key-provider.js'
import { hasSealedMetadata } from '../storage/crypto/sealed-metadata.js'

/** Sessions whose titles and previews are searched by the scan (the most recently active). */
export const SEARCH_SESSION_WINDOW = 200
/** Of those, the sessions whose messages the scan searches. */
export const SEARCH_MESSAGE_SESSIONS = 20
/** Message documents the scan reads, at most, per search. */
export const SEARCH_MESSAGE_LIMIT = 2_000
/** With the text index and a `userId`: that user's most recently active sessions whose messages are searched. */
export const SEARCH_TEXT_USER_SESSIONS = 1_000
/** With the text index: matching message documents read, at most, per search. */
export const SEARCH_TEXT_MESSAGE_LIMIT = 10_000
/** Characters of a search phrase, at most. */
const MAX_TEXT = 200

export interface SearchSessionsQuery {
  /** The phrase to find (case-insensitive; see {@link SessionSearchHit.mode}), 1–200 characters. */
  text: string
  /** Only this user's sessions. Without it, every user's sessions are searched. */
  userId?: string
  /** Hits returned, 1–50; default 10. */
  limit?: number
}

/** How a search was answered. */
export type SessionSearchMode = 'text' | 'scan'

/** One session found, with where the phrase matched. */
export interface SessionSearchHit {
  session: SessionSummary
  /** The fields that contain the phrase. */
  matchedIn: ('title' | 'preview' | 'messages')[]
  /** A short excerpt of a message that contains the phrase, if any. */
  snippet: string | null
  /**
   * `text`: found through the text indexes, in every live session; the phrase was matched with
   * whole words (a fragment of a single word is not found). `scan`: a case-insensitive substring
   * of the bounded scan's sessions and messages.
   */
  mode: SessionSearchMode
}

export interface CatalogueSearchOptions {
  /** `scan` always uses the bounded scan (substring semantics); `auto` (default) uses the text index when there is one. */
  mode?: 'auto' | 'scan'
  /** @internal The instant expired sessions are judged at (tests); default now. */
  now?: Date
  /** Opens the metadata values of encrypted sessions in the hits (see `listSessions`). */
  keyProvider?: KeyProvider | null
}

interface ValidQuery {
  /** The phrase as given, trimmed. */
  text: string
  /** The phrase lowercased, for the substring tests. */
  needle: string
  userId: string | undefined
  limit: number
}

function validQuery(query: SearchSessionsQuery): ValidQuery {
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
  return { text, needle: text.toLowerCase(), userId: query.userId, limit }
}

/** Sessions containing `text`, most recently active first (see the module comment for the two modes). */
export async function searchSessions(
  collections: SessionCollections,
  query: SearchSessionsQuery,
  options: CatalogueSearchOptions = {},
): Promise<SessionSearchHit[]> {
  const valid = validQuery(query)
  if (options.mode !== undefined && options.mode !== 'auto' && options.mode !== 'scan') {
    throw new ValidationError("mode must be 'auto' or 'scan'", { field: 'mode' })
  }
  return mapDriverErrors('searchSessions', async () => {
    const hits = await findSessions(collections, valid, options)
    return options.keyProvider ? withOpenedMetadata(collections, hits, options.keyProvider) : hits
  })
}

async function findSessions(
  collections: SessionCollections,
  valid: ValidQuery,
  options: CatalogueSearchOptions,
): Promise<SessionSearchHit[]> {
  const now = options.now ?? new Date()
  const search = textSearchFor(valid.text)
  const client: MongoClient = collections.db.client
  if (options.mode !== 'scan' && search !== null && (await textSearchAvailable(client, collections))) {
    try {
      return await indexedSearch(collections, valid, search, now)
    } catch (error) {
      if (!isTextSearchUnavailable(error)) throw error
      // The index went away (or the engine refuses `$text` after all): ask again later, scan now.
      forgetTextSearch(client, collections)
      log.debug({ database: collections.db.databaseName }, 'text search unavailable, searching by scan')
    }
  }
  return scanSearch(collections, valid, now)
}

/** Hits with the sealed metadata values of encrypted sessions opened (one read for all of them). */
async function withOpenedMetadata(
  collections: SessionCollections,
  hits: SessionSearchHit[],
  keyProvider: KeyProvider,
): Promise<SessionSearchHit[]> {
  const sealed = hits.filter((hit) => hasSealedMetadata(hit.session.metadata)).map((hit) => hit.session.sessionId)
  if (sealed.length === 0) return hits
  const docs = await collections.sessions
    .find({ _id: { $in: sealed } }, { projection: summaryProjection(keyProvider) })
    .toArray()
  const opened = new Map((await toSummaries(collections, docs, keyProvider)).map((s) => [s.sessionId, s.metadata]))
  return hits.map((hit) => {
    const metadata = opened.get(hit.session.sessionId)
    return metadata === undefined ? hit : { ...hit, session: { ...hit.session, metadata } }
  })
}

/**
 * The `$search` string for a phrase query on `text`, or `null` when the text index cannot answer
 * it as the substring test would: a `"` cannot be put inside a phrase, and text without a letter
 * or digit has no word to look up.
 */
export function textSearchFor(text: string): string | null {
  if (text.includes('"') || !/[\p{L}\p{N}]/u.test(text)) return null
  return `"${text}"`
}

type SummaryDocument = Partial<SessionDocument> & { _id: string }

/** Where `needle` (lowercased) occurs in a session document's title and preview. */
export function catalogueMatches(doc: SummaryDocument, needle: string): SessionSearchHit['matchedIn'] {
  const contains = (value: unknown) => typeof value === 'string' && value.toLowerCase().includes(needle)
  const matchedIn: SessionSearchHit['matchedIn'] = []
  if (contains(doc.title) || contains(doc.auto_title)) matchedIn.push('title')
  if (contains(doc.preview)) matchedIn.push('preview')
  return matchedIn
}

/** An excerpt of `text` around the first occurrence of `needle` (lowercased), or from its start. */
export function snippetAround(text: string, needle: string): string {
  const at = text.toLowerCase().indexOf(needle)
  return shortenText(text.slice(Math.max(0, at - 40)), 160)
}

/** Newest activity first, then `_id` descending: the catalogue's order. */
function byActivity(a: SummaryDocument, b: SummaryDocument): number {
  const dt = (b.updated_at?.getTime() ?? 0) - (a.updated_at?.getTime() ?? 0)
  if (dt !== 0) return dt
  return a._id < b._id ? 1 : a._id > b._id ? -1 : 0
}

/**
 * The hits of an indexed search: sessions whose catalogue text matched, and sessions with a
 * matching message (with that message's text), merged per session, most recently active first.
 */
export function mergeTextHits(
  catalogueDocs: SummaryDocument[],
  messageDocs: { doc: SummaryDocument; text: string }[],
  needle: string,
  limit: number,
): SessionSearchHit[] {
  const found = new Map<
    string,
    { doc: SummaryDocument; matchedIn: SessionSearchHit['matchedIn']; snippet: string | null }
  >()
  for (const doc of catalogueDocs) {
    const matchedIn = catalogueMatches(doc, needle)
    // The server matched the phrase in one of these fields; a difference between its case folding
    // and JavaScript's can hide which one here.
    if (matchedIn.length === 0) matchedIn.push(doc.title || doc.auto_title ? 'title' : 'preview')
    found.set(doc._id, { doc, matchedIn, snippet: null })
  }
  for (const { doc, text } of messageDocs) {
    const entry = found.get(doc._id) ?? { doc, matchedIn: catalogueMatches(doc, needle), snippet: null }
    if (!entry.matchedIn.includes('messages')) entry.matchedIn.push('messages')
    entry.snippet ??= snippetAround(text, needle)
    found.set(doc._id, entry)
  }
  return [...found.values()]
    .sort((a, b) => byActivity(a.doc, b.doc))
    .slice(0, limit)
    .map(({ doc, matchedIn, snippet }) => ({ session: toSummary(doc), matchedIn, snippet, mode: 'text' as const }))
}

/** Newest activity first: served by `msm_user_updated` / `msm_updated` after the filter. */
const RECENT_FIRST = { updated_at: -1, _id: -1 } as const

async function indexedSearch(
  collections: SessionCollections,
  { needle, userId, limit }: ValidQuery,
  search: string,
  now: Date,
): Promise<SessionSearchHit[]> {
  const text = { $text: { $search: search } }
  const scope = { ...(userId !== undefined && { user_id: userId }), ...liveClause(now) }
  const [catalogueDocs, userSessions] = await Promise.all([
    // Each source needs only its own `limit` most recent: the merged top `limit` is among them.
    collections.sessions
      .find({ ...text, ...scope }, { projection: SUMMARY_PROJECTION })
      .sort(RECENT_FIRST)
      .limit(limit)
      .toArray(),
    // Messages carry no user: with a userId, only that user's sessions are looked in.
    userId === undefined
      ? undefined
      : collections.sessions
          .find(scope, { projection: { _id: 1 } })
          .sort(RECENT_FIRST)
          .limit(SEARCH_TEXT_USER_SESSIONS)
          .toArray()
          .then((docs) => docs.map((d) => d._id)),
  ])
  let messageDocs: { doc: SummaryDocument; text: string }[] = []
  if (userSessions === undefined || userSessions.length > 0) {
    const perSession = await collections.messages
      .aggregate<{ _id: string; role: string; content: unknown }>([
        { $match: { ...text, ...(userSessions !== undefined && { session_id: { $in: userSessions } }) } },
        { $limit: SEARCH_TEXT_MESSAGE_LIMIT },
        { $group: { _id: '$session_id', role: { $first: '$role' }, content: { $first: '$content' } } },
      ])
      .toArray()
    if (perSession.length > 0) {
      const texts = new Map(
        perSession.map((m) => [
          m._id,
          messageText(
            decodeMessage({ role: m.role as 'user', content: m.content as never, tracking_id: null }).content,
          ),
        ]),
      )
      const docs = await collections.sessions
        .find({ _id: { $in: [...texts.keys()] }, ...scope }, { projection: SUMMARY_PROJECTION })
        .sort(RECENT_FIRST)
        .limit(limit)
        .toArray()
      messageDocs = docs.map((doc) => ({ doc, text: texts.get(doc._id) ?? '' }))
    }
  }
  return mergeTextHits(catalogueDocs, messageDocs, needle, limit)
}

async function scanSearch(
  collections: SessionCollections,
  { needle, userId, limit }: ValidQuery,
  now: Date,
): Promise<SessionSearchHit[]> {
  const filter = { ...(userId !== undefined && { user_id: userId }), ...liveClause(now) }
  const docs = await collections.sessions
    .find(filter, { projection: SUMMARY_PROJECTION })
    .sort(RECENT_FIRST)
    .limit(SEARCH_SESSION_WINDOW)
    .toArray()
  const hits = new Map<string, SessionSearchHit>()
  for (const doc of docs) {
    hits.set(doc._id, {
      session: toSummary(doc),
      matchedIn: catalogueMatches(doc, needle),
      snippet: null,
      mode: 'scan',
    })
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
      if (!text.toLowerCase().includes(needle)) continue
      if (!hit.matchedIn.includes('messages')) hit.matchedIn.push('messages')
      hit.snippet = snippetAround(text, needle)
    }
  }
  // `docs` is in activity order, and so is the map.
  return [...hits.values()].filter((hit) => hit.matchedIn.length > 0).slice(0, limit)
}

/** The text of a message's text blocks, joined (other blocks have none to search). */
export function messageText(content: unknown): string {
  if (!Array.isArray(content)) return ''
  const parts: string[] = []
  for (const block of content) {
    if (block !== null && typeof block === 'object' && typeof (block as { text?: unknown }).text === 'string') {
      parts.push((block as { text: string }).text)
    }
  }
  return parts.join(' ')
}
