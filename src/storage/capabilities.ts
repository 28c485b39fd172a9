/**
 * What the connected server is and can do, detected at run time (once per client).
 *
 * The library only relies on the subset every supported engine implements. Anything beyond it is
 * looked up here and has a fallback.
 */
import type { MongoClient } from 'mongodb'
import { mapDriverErrors } from './driver-errors.js'
import { outsideDeadline } from './deadline.js'

export interface ServerCapabilities {
  engine: 'mongodb' | 'ferretdb'
  /** The engine's own version (FerretDB's, for FerretDB; `unknown` when an embedded build does not know it). */
  version: string
  /** The MongoDB version the server reports for compatibility (`buildInfo.version`). */
  mongodbCompatibility: string
  /** Largest BSON document the server accepts. */
  maxBsonObjectSize: number
  /** Largest wire message; bulk writes are split below it by the driver. */
  maxMessageSizeBytes: number
  /** Multi-document transactions (replica set or sharded cluster on MongoDB). */
  transactions: boolean
  /** TTL indexes (`expireAfterSeconds`); FerretDB 1.x lacks them. */
  ttlIndexes: boolean
  /** Change streams (`watch`). */
  changeStreams: boolean
  /** Text indexes and `$text` queries (`searchSessions` uses them when present); FerretDB 1.x lacks them. */
  textIndexes: boolean
}

const cache = new WeakMap<MongoClient, Promise<ServerCapabilities>>()

export function detectCapabilities(client: MongoClient): Promise<ServerCapabilities> {
  let pending = cache.get(client)
  if (!pending) {
    // Shared by every later caller: it must not inherit the deadline of the call that started it.
    pending = outsideDeadline(() => mapDriverErrors('detect server capabilities', () => probe(client)))
    cache.set(client, pending)
    pending.catch(() => cache.delete(client))
  }
  return pending
}

async function probe(client: MongoClient): Promise<ServerCapabilities> {
  const admin = client.db('admin')
  const [hello, buildInfo] = await Promise.all([admin.command({ hello: 1 }), admin.command({ buildInfo: 1 })])
  // FerretDB 1.x adds `ferretdbVersion`/`ferretdbFeatures` to buildInfo (later versions a `ferretdb`
  // section); everything else is treated as MongoDB.
  const engine: ServerCapabilities['engine'] =
    'ferretdbVersion' in buildInfo || 'ferretdb' in buildInfo ? 'ferretdb' : 'mongodb'
  const replicated = typeof hello.setName === 'string' || hello.msg === 'isdbgrid'
  const isFerret = engine === 'ferretdb'
  return {
    engine,
    version: String((isFerretVersion(buildInfo) ? buildInfo.ferretdbVersion : buildInfo.version) ?? 'unknown'),
    mongodbCompatibility: String(buildInfo.version ?? 'unknown'),
    maxBsonObjectSize: Number(hello.maxBsonObjectSize ?? 16 * 1024 * 1024),
    maxMessageSizeBytes: Number(hello.maxMessageSizeBytes ?? 48_000_000),
    transactions: !isFerret && replicated,
    ttlIndexes: !isFerret,
    changeStreams: !isFerret && replicated,
    textIndexes: !isFerret,
  }
}

function isFerretVersion(buildInfo: Record<string, unknown>): buildInfo is { ferretdbVersion: string } {
  return typeof buildInfo.ferretdbVersion === 'string'
}
