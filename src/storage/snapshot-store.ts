/**
 * Whole snapshots: the immutable agent snapshot history and the multi-agent (Graph/Swarm)
 * orchestrator snapshots. Implements the SDK's `SnapshotStorage` so the inherited multi-agent
 * machinery of `SessionManager` persists through it unchanged.
 *
 * A snapshot document holds everything but the messages; messages go to `snapshot_chunks` in
 * consecutive chunks of at most {@link CHUNK_BYTES}, so no snapshot is limited by the 16 MiB
 * document cap. The header document is written last: a snapshot is visible only once complete.
 *
 * With encryption on, the header's data and each message are sealed under the session's data key.
 */
import type { Snapshot, SnapshotLocation, SnapshotManifest, SnapshotStorage } from '@strands-agents/sdk'
import { BSON, type Document } from 'mongodb'
import { DocumentTooLargeError, StorageOperationError, ValidationError } from '../errors.js'
import type { SessionCollections } from './collections.js'
import { decodeValue, encodeValue } from './encoding.js'
import type { SnapshotChunkDocument, SnapshotDocument } from './schema.js'
import { isSealed, open, seal } from './crypto/cipher.js'
import type { SessionCrypto } from './crypto/session-crypto.js'

/** Target size of one chunk of snapshot messages. */
export const CHUNK_BYTES = 4 * 1024 * 1024

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i

export function snapshotKey(location: SnapshotLocation, snapshotId: string): string {
  return `${location.sessionId}/${location.scope}/${location.scopeId}/${snapshotId}`
}

export function validateSnapshotId(snapshotId: string): void {
  if (!UUID_V7.test(snapshotId)) {
    throw new ValidationError(`snapshot id ${JSON.stringify(snapshotId)} is not a UUID v7`, { field: 'snapshotId' })
  }
}

export class MongoSnapshotStorage implements SnapshotStorage {
  readonly #collections: SessionCollections
  readonly #maxBsonObjectSize: () => Promise<number>
  #crypto: SessionCrypto | undefined

  constructor(collections: SessionCollections, maxBsonObjectSize: () => Promise<number>) {
    this.#collections = collections
    this.#maxBsonObjectSize = maxBsonObjectSize
  }

  /** Seals what this storage writes (and opens what it reads) under the session's data key. */
  encryptWith(crypto: SessionCrypto): void {
    this.#crypto = crypto
  }

  async saveSnapshot(params: {
    location: SnapshotLocation
    snapshotId: string
    isLatest: boolean
    snapshot: Snapshot
  }): Promise<void> {
    const { location, snapshot } = params
    const snapshotId = params.isLatest ? 'latest' : params.snapshotId
    const key = snapshotKey(location, snapshotId)
    const { messages, ...rest } = snapshot.data as { messages?: unknown[] } & Record<string, unknown>
    const dataKey = this.#crypto ? await this.#crypto.writeKey() : null
    const sealed = (value: unknown, place: string): Document =>
      (dataKey
        ? seal(dataKey, value, { sessionId: location.sessionId, place: `snapshots/${key}/${place}` })
        : value) as Document
    const encodedMessages = (messages ?? []).map((m, i) => sealed(encodeValue(m), `messages/${i}`))
    const limit = await this.#maxBsonObjectSize()

    const chunks: Document[][] = []
    let current: Document[] = []
    let currentSize = 0
    for (const [i, message] of encodedMessages.entries()) {
      const size = BSON.calculateObjectSize(message)
      if (size > limit - 16 * 1024) throw new DocumentTooLargeError(`snapshot message ${i}`, size, limit)
      if (current.length > 0 && currentSize + size > CHUNK_BYTES) {
        chunks.push(current)
        current = []
        currentSize = 0
      }
      current.push(message)
      currentSize += size
    }
    if (current.length > 0) chunks.push(current)

    const header: SnapshotDocument = {
      _id: key,
      session_id: location.sessionId,
      scope: location.scope,
      scope_id: location.scopeId,
      snapshot_id: snapshotId,
      schema_version: snapshot.schemaVersion,
      created_at_iso: snapshot.createdAt,
      data: sealed(encodeValue(rest), 'data'),
      app_data: sealed(encodeValue(snapshot.appData ?? {}), 'app_data'),
      message_count: encodedMessages.length,
      chunk_count: chunks.length,
      has_messages: messages !== undefined,
      created_at: new Date(),
    }
    const headerSize = BSON.calculateObjectSize(header)
    if (headerSize > limit) throw new DocumentTooLargeError(`snapshot ${key} (without messages)`, headerSize, limit)

    // Chunks first (replacing any of a previous 'latest'), header last as the commit point.
    const chunkDocs: SnapshotChunkDocument[] = chunks.map((messagesOfChunk, index) => ({
      _id: `${key}#${index}`,
      snapshot_key: key,
      session_id: location.sessionId,
      index,
      messages: messagesOfChunk,
    }))
    if (chunkDocs.length > 0) {
      await this.#collections.snapshotChunks.bulkWrite(
        chunkDocs.map((doc) => ({ replaceOne: { filter: { _id: doc._id }, replacement: doc, upsert: true } })),
        { ordered: false },
      )
    }
    await this.#collections.snapshots.replaceOne({ _id: key }, header, { upsert: true })
    // A shorter 'latest' leaves stale chunks beyond its count: remove them.
    await this.#collections.snapshotChunks.deleteMany({ snapshot_key: key, index: { $gte: chunkDocs.length } })
  }

  async loadSnapshot(params: { location: SnapshotLocation; snapshotId?: string }): Promise<Snapshot | null> {
    const snapshotId = params.snapshotId ?? 'latest'
    const key = snapshotKey(params.location, snapshotId)
    const header = await this.#collections.snapshots.findOne({ _id: key, session_id: params.location.sessionId })
    if (!header) return null
    const sessionId = params.location.sessionId
    const sealed = isSealed(header.data) || isSealed(header.app_data)
    const read = (dataKey: Buffer | null) => this.#read(header, key, sessionId, dataKey)
    if (!sealed) return read(null)
    return this.#crypto ? this.#crypto.withReadKey(read) : read(null)
  }

  /** The snapshot of `header`, its sealed parts opened with `dataKey`. */
  async #read(header: SnapshotDocument, key: string, sessionId: string, dataKey: Buffer | null): Promise<Snapshot> {
    const opened = (value: unknown, place: string): unknown =>
      decodeValue(open(dataKey, value, { sessionId, place: `snapshots/${key}/${place}` }))
    const data = opened(header.data, 'data') as Record<string, unknown>
    if (header.has_messages !== false) {
      const messages: unknown[] = []
      const cursor = this.#collections.snapshotChunks
        .find({ snapshot_key: key, index: { $lt: header.chunk_count } })
        .sort({ index: 1 })
        .batchSize(4)
      for await (const chunk of cursor) {
        for (const m of chunk.messages) messages.push(opened(m, `messages/${messages.length}`))
      }
      if (messages.length !== header.message_count) {
        throw new StorageOperationError(
          `snapshot ${key} is incomplete: ${messages.length} of ${header.message_count} messages found`,
        )
      }
      data.messages = messages
    }
    return {
      scope: header.scope,
      schemaVersion: header.schema_version,
      createdAt: header.created_at_iso,
      data,
      appData: opened(header.app_data, 'app_data') as Record<string, never>,
    } as Snapshot
  }

  async listSnapshotIds(params: {
    location: SnapshotLocation
    limit?: number
    startAfter?: string
  }): Promise<string[]> {
    if (params.startAfter !== undefined) validateSnapshotId(params.startAfter)
    if (params.limit !== undefined && (!Number.isInteger(params.limit) || params.limit < 0)) {
      throw new ValidationError(`limit must be a non-negative integer, got ${params.limit}`, { field: 'limit' })
    }
    const { location } = params
    const idFilter: Document = { $ne: 'latest' }
    if (params.startAfter !== undefined) idFilter.$gt = params.startAfter
    const cursor = this.#collections.snapshots
      .find(
        { session_id: location.sessionId, scope: location.scope, scope_id: location.scopeId, snapshot_id: idFilter },
        { projection: { snapshot_id: 1 } },
      )
      .sort({ snapshot_id: 1 })
    if (params.limit !== undefined) cursor.limit(params.limit)
    if (params.limit === 0) return []
    return (await cursor.toArray()).map((doc) => doc.snapshot_id)
  }

  async deleteSession(params: { sessionId: string }): Promise<void> {
    await this.#collections.snapshotChunks.deleteMany({ session_id: params.sessionId })
    await this.#collections.snapshots.deleteMany({ session_id: params.sessionId })
  }

  // The SDK's SessionManager never calls these; kept trivially correct for the interface.
  async loadManifest(): Promise<SnapshotManifest> {
    return { schemaVersion: '1.0', updatedAt: new Date().toISOString() } as SnapshotManifest
  }

  async saveManifest(): Promise<void> {}
}
