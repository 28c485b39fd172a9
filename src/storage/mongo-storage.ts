/**
 * `MongoStorage`: the SDK's unified `Storage` (key → bytes) on a MongoDB collection, for what the
 * SDK stores besides sessions (context offloading, memory, stash).
 *
 * One document per key: `{ _id: key, data: Binary, updated_at }`. Keys are normalised like the
 * SDK's own backends (collapse `//`, strip leading/trailing `/`, reject `..` and `\`). `list` is an
 * anchored, escaped prefix regex on `_id` (which uses the `_id` index), sorted ascending.
 */
import { StorageError, type Storage } from '@strands-agents/sdk'
import { Binary, MongoClient, type Collection } from 'mongodb'
import { ConfigurationError } from '../errors.js'
import { describeError } from '../logging.js'
import { DEFAULT_DATABASE_NAME } from './collections.js'
import { openCollections } from './collections.js'
import type { StorageDocument } from './schema.js'

export interface MongoStorageOptions {
  /** Client to use (borrowed: never closed by `MongoStorage`). */
  client: MongoClient
  /** Default {@link DEFAULT_DATABASE_NAME}. */
  databaseName?: string
  /** Collection name prefix, as for the session manager. */
  collectionPrefix?: string
  /** A key prefix under which every key of this storage lives (see {@link MongoStorage.namespace}). */
  prefix?: string
}

/** The SDK's marker for storages that are already namespaced. */
const NAMESPACED = Symbol.for('strands.storage.namespaced')

function normaliseKey(key: string): string {
  if (typeof key !== 'string') throw new StorageError(`storage key must be a string, got ${typeof key}`)
  if (key.includes('\\') || key.split('/').includes('..')) {
    throw new StorageError(`invalid storage key ${JSON.stringify(key)}: '..' and '\\' are not allowed`)
  }
  return key.replace(/\/{2,}/g, '/').replace(/^\/+|\/+$/g, '')
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

export class MongoStorage implements Storage {
  readonly #options: MongoStorageOptions
  readonly #collection: Collection<StorageDocument>
  readonly #prefix: string

  constructor(options: MongoStorageOptions) {
    if (!(options?.client instanceof MongoClient)) {
      throw new ConfigurationError('MongoStorage needs `client`: a MongoClient from the `mongodb` package')
    }
    this.#options = options
    const db = options.client.db(options.databaseName ?? DEFAULT_DATABASE_NAME)
    this.#collection = openCollections(db, options.collectionPrefix ?? '').storage
    this.#prefix = options.prefix ? normaliseKey(options.prefix) : ''
    if (this.#prefix) Object.defineProperty(this, NAMESPACED, { value: true })
  }

  /** The stored id of a key for write/read/delete: never empty, like the SDK's backends. */
  #id(key: string): string {
    const id = this.#full(key)
    if (normaliseKey(key) === '') throw new StorageError(`storage key must not be empty (got ${JSON.stringify(key)})`)
    return id
  }

  #full(key: string): string {
    const normalised = normaliseKey(key)
    if (!this.#prefix) return normalised
    return normalised ? `${this.#prefix}/${normalised}` : this.#prefix
  }

  async write(key: string, data: Uint8Array): Promise<void> {
    const id = this.#id(key)
    await this.#run(`write '${id}'`, () =>
      this.#collection.replaceOne({ _id: id }, { data: new Binary(data), updated_at: new Date() }, { upsert: true }),
    )
  }

  async read(key: string): Promise<Uint8Array | null> {
    const id = this.#id(key)
    const doc = await this.#run(`read '${id}'`, () => this.#collection.findOne({ _id: id }))
    return doc ? new Uint8Array(doc.data.buffer) : null
  }

  async delete(key: string): Promise<void> {
    const id = this.#id(key)
    await this.#run(`delete '${id}'`, () => this.#collection.deleteOne({ _id: id }))
  }

  /** Keys starting with `prefix`, relative to this storage's namespace, sorted ascending. */
  async list(prefix: string): Promise<string[]> {
    const raw = normaliseKey(prefix)
    // A trailing slash is meaningful for a prefix: list('a/') must not match 'ab'.
    let wanted = this.#full(prefix)
    if (prefix.endsWith('/') && raw !== '') wanted += '/'
    else if (raw === '' && this.#prefix) wanted += '/'
    const filter = wanted ? { _id: { $regex: `^${escapeRegex(wanted)}` } } : {}
    const docs = await this.#run(`list '${wanted}'`, () =>
      this.#collection
        .find(filter, { projection: { _id: 1 } })
        .sort({ _id: 1 })
        .toArray(),
    )
    const strip = this.#prefix ? this.#prefix.length + 1 : 0
    // JavaScript string order, as the SDK's backends sort (the server compares UTF-8 bytes).
    return docs.map((doc) => doc._id.slice(strip)).sort()
  }

  /**
   * A view of this storage whose keys all live under `prefix/`. Like the SDK's own backends, the
   * view is marked as namespaced, so a `SessionManager` given it adds no `session/` level.
   */
  namespace(prefix: string): MongoStorage {
    if (normaliseKey(prefix) === '') return this
    return new MongoStorage({ ...this.#options, prefix: this.#full(prefix) })
  }

  async #run<T>(what: string, operation: () => Promise<T>): Promise<T> {
    try {
      return await operation()
    } catch (error) {
      throw new StorageError(`MongoStorage ${what} failed: ${describeError(error)}`, { cause: error })
    }
  }
}
