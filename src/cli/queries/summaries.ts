/**
 * Session listings as the CLI and the viewer show them: metadata values encrypted at rest (which the
 * library's listing returns as stored, having no key) become `{ $encrypted: true }`.
 */
import type { SessionSummary } from '../../features/catalogue.js'
import { redactSealed } from '../sealed.js'

/** `items` with the sealed metadata values of their sessions replaced by the marker. */
export function withDisplayMetadata<T extends { session: SessionSummary } | SessionSummary>(items: T[]): T[] {
  return items.map((item) => {
    const summary: SessionSummary = 'session' in item ? item.session : (item as SessionSummary)
    const metadata = redactSealed(summary.metadata)
    if (metadata === summary.metadata) return item
    const next = { ...summary, metadata }
    return ('session' in item ? { ...item, session: next } : next) as T
  })
}
