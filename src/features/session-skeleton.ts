/**
 * The fields a session document is created with, for `$setOnInsert` in the session-data upserts.
 *
 * Why upserts: `updateMetadata`, `deleteMetadata` and `addFeedback` on a session that does not
 * exist yet create it (no read-then-insert race, no silent no-op). MongoDB
 * refuses an update whose `$setOnInsert` and `$set`/`$inc`/`$push`/`$unset` touch the same path or a
 * parent of it, so the caller names the top-level fields its other operators touch and they are
 * left out here (they are created by those operators instead).
 */
import type { Document } from 'mongodb'
import { SCHEMA_VERSION } from '../storage/schema.js'

/** Top-level fields of a new session document. */
export function sessionSkeleton(
  sessionId: string,
  applicationName: string | null,
  now: Date,
  touched: readonly string[] = [],
  userId: string | null = null,
): Document {
  const skeleton: Document = {
    session_id: sessionId,
    schema_version: SCHEMA_VERSION,
    application_name: applicationName,
    user_id: userId,
    created_at: now,
    updated_at: now,
    metadata: {},
    agents: {},
  }
  const top = new Set(touched.map((path) => path.split('.')[0]))
  for (const key of Object.keys(skeleton)) if (top.has(key)) delete skeleton[key]
  return skeleton
}
