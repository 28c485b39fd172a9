/**
 * Session listings as the CLI and the viewer show them. The library's listing decodes metadata, and
 * its decoder turns a value encrypted at rest into plain bytes; the stored metadata of those
 * sessions is read again here so that encrypted values show as `{ $encrypted: true }` instead.
 */
import type { SessionSummary } from '../../features/catalogue.js'
import type { Metadata } from '../../model/types.js'
import type { SessionCollections } from '../../storage/collections.js'
import { decodeForDisplay } from '../sealed.js'

function holdsBytes(value: unknown): boolean {
  if (value instanceof Uint8Array) return true
  if (Array.isArray(value)) return value.some(holdsBytes)
  if (typeof value === 'object' && value !== null && !(value instanceof Date))
    return Object.values(value).some(holdsBytes)
  return false
}

/**
 * `summaries` with their metadata decoded for display. Only sessions whose decoded metadata holds
 * bytes (where a ciphertext may hide) are read again, with one query for all of them.
 */
export async function withDisplayMetadata<T extends { session: SessionSummary } | SessionSummary>(
  collections: SessionCollections,
  items: T[],
): Promise<T[]> {
  const summaryOf = (item: T): SessionSummary => ('session' in item ? item.session : item)
  const ids = items
    .map(summaryOf)
    .filter((s) => holdsBytes(s.metadata))
    .map((s) => s.sessionId)
  if (ids.length === 0) return items
  const docs = await collections.sessions.find({ _id: { $in: ids } }, { projection: { metadata: 1 } }).toArray()
  const stored = new Map(docs.map((doc) => [doc._id, decodeForDisplay(doc.metadata ?? {}) as Metadata]))
  return items.map((item) => {
    const summary = summaryOf(item)
    const metadata = stored.get(summary.sessionId)
    if (metadata === undefined) return item
    const next = { ...summary, metadata }
    return ('session' in item ? { ...item, session: next } : next) as T
  })
}
