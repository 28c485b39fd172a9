/**
 * The naive baseline: the SDK's whole session snapshot as ONE MongoDB document per key
 * (`{ _id: key, data: Binary }`), i.e. what a byte `Storage` over MongoDB does when handed the
 * stock `SessionManager`'s snapshot. Deliberately tiny; no key normalisation beyond what the SDK
 * already does before calling it.
 */
import type { Storage } from '@strands-agents/sdk'
import { Binary, type Collection } from 'mongodb'

interface BlobDocument {
  _id: string
  data: Binary
}

export class OneDocumentStorage implements Storage {
  readonly #collection: Collection<BlobDocument>

  constructor(collection: Collection<BlobDocument>) {
    this.#collection = collection
  }

  async write(key: string, data: Uint8Array): Promise<void> {
    await this.#collection.replaceOne({ _id: key }, { data: new Binary(data) }, { upsert: true })
  }

  async read(key: string): Promise<Uint8Array | null> {
    const doc = await this.#collection.findOne({ _id: key })
    return doc ? new Uint8Array(doc.data.buffer) : null
  }

  async delete(key: string): Promise<void> {
    await this.#collection.deleteOne({ _id: key })
  }

  async list(prefix: string): Promise<string[]> {
    const docs = await this.#collection.find({}, { projection: { _id: 1 } }).toArray()
    return docs
      .map((doc) => doc._id)
      .filter((key) => key.startsWith(prefix))
      .sort()
  }
}

/**
 * Counts what passes through an inner storage (for LocalFileStorage: bytes written to and read
 * from disk), the file-system analogue of the bytes a MongoDB client sends and receives.
 */
export class CountingStorage implements Storage {
  readonly #inner: Storage
  writes = 0
  writtenBytes = 0
  reads = 0
  readBytes = 0

  constructor(inner: Storage) {
    this.#inner = inner
  }

  async write(key: string, data: Uint8Array): Promise<void> {
    this.writes++
    this.writtenBytes += data.byteLength
    await this.#inner.write(key, data)
  }

  async read(key: string): Promise<Uint8Array | null> {
    this.reads++
    const data = await this.#inner.read(key)
    this.readBytes += data?.byteLength ?? 0
    return data
  }

  delete(key: string): Promise<void> {
    return this.#inner.delete(key)
  }

  list(prefix: string): Promise<string[]> {
    return this.#inner.list(prefix)
  }
}
