/**
 * The text indexes behind `searchSessions` on engines that have them, and the run-time check of
 * whether a database has them.
 *
 * - Creation ({@link ensureTextIndexes}) is best effort and never holds up the caller: an index
 *   build over a large `messages` collection can take minutes, and a collection may already carry
 *   a text index of the user's own (MongoDB allows one per collection). Failing, it logs a warning
 *   and the search keeps its bounded scan.
 * - Detection ({@link textSearchAvailable}) sends nothing on engines without text indexes
 *   (FerretDB 1.x) and two `listIndexes` on the others, once per client, database and prefix; an
 *   answer of "absent" is asked again after {@link TEXT_INDEX_RECHECK_MS}, so an index built later
 *   is picked up. It runs outside the caller's deadline (it is shared) but within its own.
 */
import type { Collection, Document, IndexDescription, MongoClient } from 'mongodb'
import { describeError, log } from '../logging.js'
import { detectCapabilities } from './capabilities.js'
import type { SessionCollections } from './collections.js'
import { currentDeadline, outsideDeadline, runWithDeadline, untilAborted } from './deadline.js'

/** What this module does with a collection (any document type). */
type IndexedCollection = Pick<Collection, 'listIndexes' | 'createIndexes'>

/** Name of the text index on `sessions` and of the one on `messages`. */
export const TEXT_INDEX_NAME = 'msm_text'

/**
 * A field the documents never have: MongoDB reads a document's `language` field as the language of
 * its text, and refuses to index a document whose `language` names an unsupported one.
 */
const LANGUAGE_OVERRIDE = 'msm_text_language'

/** The fields each text index covers: catalogue text, and the `text` of stored text blocks. */
export const TEXT_INDEX_FIELDS = {
  sessions: ['title', 'auto_title', 'preview'],
  messages: ['content.text'],
} as const

type Indexed = keyof typeof TEXT_INDEX_FIELDS

/**
 * The index specifications. Language `none`: no stemming and no stop words, so every word of any
 * language is indexed as written (case- and diacritic-insensitively); the search matches phrases,
 * for which stemming would not help.
 */
export function textIndexSpecs(): Record<Indexed, IndexDescription> {
  const spec = (fields: readonly string[]): IndexDescription => ({
    key: Object.fromEntries(fields.map((field) => [field, 'text'])),
    name: TEXT_INDEX_NAME,
    default_language: 'none',
    language_override: LANGUAGE_OVERRIDE,
  })
  return { sessions: spec(TEXT_INDEX_FIELDS.sessions), messages: spec(TEXT_INDEX_FIELDS.messages) }
}

/** Whether a `listIndexes` entry is a text index covering every one of `fields` (whatever its name). */
export function isTextIndexOver(index: Document, fields: readonly string[]): boolean {
  const key = index.key as Document | undefined
  const weights = index.weights as Document | undefined
  if (!key || key._fts !== 'text' || !weights || typeof weights !== 'object') return false
  return fields.every((field) => field in weights)
}

/** How long an answer of "no text index" is kept before the database is asked again. */
export const TEXT_INDEX_RECHECK_MS = 60_000
/** Time limit of the shared detection and of each creation step. */
const DETECTION_TIMEOUT_MS = 10_000

interface Detection {
  answer: Promise<boolean>
  /** When a `false` answer stops being trusted. */
  until: number
}

const detections = new WeakMap<MongoClient, Map<string, Detection>>()
const creations = new WeakMap<MongoClient, Map<string, Creation>>()

function keyOf(collections: SessionCollections): string {
  return `${collections.db.databaseName}\u0000${collections.sessions.collectionName}`
}

function perClient<V>(store: WeakMap<MongoClient, Map<string, V>>, client: MongoClient): Map<string, V> {
  let map = store.get(client)
  if (!map) {
    map = new Map()
    store.set(client, map)
  }
  return map
}

async function hasTextIndex(collection: IndexedCollection, fields: readonly string[]): Promise<boolean> {
  // A collection that does not exist yet has no indexes (MongoDB answers NamespaceNotFound).
  const indexes = await collection
    .listIndexes()
    .toArray()
    .catch(() => [])
  return indexes.some((index) => isTextIndexOver(index, fields))
}

async function detect(client: MongoClient, collections: SessionCollections): Promise<boolean> {
  if (!(await detectCapabilities(client)).textIndexes) return false
  const [sessions, messages] = await Promise.all([
    hasTextIndex(collections.sessions, TEXT_INDEX_FIELDS.sessions),
    hasTextIndex(collections.messages, TEXT_INDEX_FIELDS.messages),
  ])
  // Both or neither: a search that matched titles through the index and messages by a scan would
  // mix two meanings of "contains".
  return sessions && messages
}

/**
 * Whether `searchSessions` can use `$text` on these collections: the engine has text indexes and
 * both collections carry one over the searched fields. Cached (see the module comment); the wait
 * is bounded by the caller's deadline.
 */
export function textSearchAvailable(client: MongoClient, collections: SessionCollections): Promise<boolean> {
  const map = perClient(detections, client)
  const key = keyOf(collections)
  const cached = map.get(key)
  if (cached && Date.now() < cached.until) return untilAborted(cached.answer, currentDeadline())
  const answer = outsideDeadline(() =>
    runWithDeadline(DETECTION_TIMEOUT_MS, () => detect(client, collections)).catch(() => false),
  )
  const detection: Detection = { answer, until: Number.POSITIVE_INFINITY }
  map.set(key, detection)
  void answer.then((present) => {
    if (!present) detection.until = Date.now() + TEXT_INDEX_RECHECK_MS
  })
  return untilAborted(answer, currentDeadline())
}

/** Forgets what {@link textSearchAvailable} found (after a `$text` query said the index is gone). */
export function forgetTextSearch(client: MongoClient, collections: SessionCollections): void {
  detections.get(client)?.delete(keyOf(collections))
}

/** How long a failed creation is remembered before the next manager tries again. */
export const TEXT_INDEX_RETRY_MS = 10 * 60_000

interface Creation {
  run: Promise<boolean>
  /** When a failed creation may be tried again. */
  retryAfter: number
}

/**
 * Creates the text indexes where the engine has text indexes and they are missing; once per client,
 * database and prefix (a failure is tried again after {@link TEXT_INDEX_RETRY_MS}, not on every
 * request). Never rejects: resolves `true` when both are in place, `false` otherwise (engine
 * without text indexes, or creation refused — logged as a warning).
 */
export function ensureTextIndexes(client: MongoClient, collections: SessionCollections): Promise<boolean> {
  const map = perClient(creations, client)
  const key = keyOf(collections)
  const existing = map.get(key)
  if (existing && Date.now() < existing.retryAfter) return existing.run
  const creation: Creation = { run: Promise.resolve(false), retryAfter: Number.POSITIVE_INFINITY }
  creation.run = outsideDeadline(async () => {
    try {
      if (!(await detectCapabilities(client)).textIndexes) return false
      const specs = textIndexSpecs()
      for (const name of ['sessions', 'messages'] as const) {
        const collection: IndexedCollection = collections[name]
        const present = () =>
          runWithDeadline(DETECTION_TIMEOUT_MS, () => hasTextIndex(collection, TEXT_INDEX_FIELDS[name]))
        if (await present()) continue
        // No deadline on the build itself: it takes as long as the collection is large.
        await collection.createIndexes([specs[name]])
      }
      forgetTextSearch(client, collections)
      return true
    } catch (error) {
      creation.retryAfter = Date.now() + TEXT_INDEX_RETRY_MS
      log.warn(
        { database: collections.db.databaseName, error: describeError(error) },
        'text indexes not created; searchSessions uses its bounded scan',
      )
      return false
    }
  })
  map.set(key, creation)
  return creation.run
}

/** Whether `error` says that a `$text` query cannot run here (no text index, or no `$text` at all). */
export function isTextSearchUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false
  const code = (error as { code?: unknown }).code
  // 27 IndexNotFound ("text index required for $text query"); 115 CommandNotSupported.
  if (code === 27 || code === 115) return true
  return /text index|\$text\b.*not (supported|implemented|allowed)/i.test(error.message)
}
