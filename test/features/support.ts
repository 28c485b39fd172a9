/** Shared setup for the session-data tests: a fresh database, the collections, their indexes. */
import type { Document } from 'mongodb'
import { ensureIndexes, openCollections, type SessionCollections } from '../../src/storage/collections.js'
import { SCHEMA_VERSION } from '../../src/storage/schema.js'
import { openTestDatabase, type TestDatabase } from '../support/mongo.js'

export interface FeaturesTestContext {
  db: TestDatabase
  collections: SessionCollections
}

export async function openFeaturesDatabase(prefix: string): Promise<FeaturesTestContext> {
  const db = await openTestDatabase(prefix)
  const collections = openCollections(db.db)
  await ensureIndexes(db.client, collections)
  return { db, collections }
}

/** A session with one agent entry, as the core's first save leaves it (for tests that run without the core). */
export async function seedAgent(
  collections: SessionCollections,
  sessionId: string,
  agentId: string,
  extra: Document = {},
) {
  const now = new Date()
  await collections.sessions.updateOne(
    { _id: sessionId },
    {
      $setOnInsert: {
        session_id: sessionId,
        schema_version: SCHEMA_VERSION,
        application_name: null,
        created_at: now,
        metadata: {},
      },
      $set: {
        updated_at: now,
        [`agents.${agentId}.revision`]: 1,
        [`agents.${agentId}.last_op`]: 'seed',
        [`agents.${agentId}.ranges`]: [],
        [`agents.${agentId}.message_count`]: 0,
        [`agents.${agentId}.next_seq`]: 0,
        [`agents.${agentId}.created_at`]: now,
        [`agents.${agentId}.updated_at`]: now,
        ...extra,
      },
    },
    { upsert: true },
  )
}

/** Everything stored for a session (for "nothing was written" assertions). */
export async function snapshotSession(collections: SessionCollections, sessionId: string) {
  return {
    session: await collections.sessions.findOne({ _id: sessionId }),
    feedback: await collections.feedback.countDocuments({ session_id: sessionId }),
  }
}
