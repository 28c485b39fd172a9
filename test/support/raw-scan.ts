/**
 * Looks for bytes in what the database really stores: every document of every collection, as raw
 * BSON. The way to check that nothing written with encryption on holds a value in clear. Also the
 * managers those tests write with.
 */
import type { Db, MongoClient } from 'mongodb'
import { MongoDBSessionManager, type KeyProvider } from '../../src/index.js'

type ManagerOptions = Partial<ConstructorParameters<typeof MongoDBSessionManager>[0]>

/**
 * `manager(sessionId, { provider, extra })`: managers on one database, encrypted with `keyProvider`
 * unless `provider` says otherwise (`null`: without encryption), with `defaults` and `extra` applied.
 */
export function encryptedManagers(
  target: () => { client: MongoClient; databaseName: string },
  keyProvider: KeyProvider,
  defaults: ManagerOptions = {},
) {
  return (sessionId: string, options: { provider?: KeyProvider | null; extra?: ManagerOptions } = {}) => {
    const provider = options.provider === undefined ? keyProvider : options.provider
    return new MongoDBSessionManager({
      sessionId,
      ...target(),
      ...defaults,
      ...(provider && { encryption: { keyProvider: provider } }),
      ...options.extra,
    })
  }
}

/** Whether any stored document of any collection of `db` contains `needle` (text as UTF-8). */
export async function storedAnywhere(db: Db, needle: string | Uint8Array): Promise<boolean> {
  return (await collectionsHolding(db, needle)).length > 0
}

/** The collections of `db` with a stored document that contains `needle` (text as UTF-8). */
export async function collectionsHolding(db: Db, needle: string | Uint8Array): Promise<string[]> {
  const bytes = typeof needle === 'string' ? Buffer.from(needle, 'utf8') : Buffer.from(needle)
  const found: string[] = []
  for (const { name } of await db.listCollections({}, { nameOnly: true }).toArray()) {
    const docs = (await db.collection(name).find({}, { raw: true }).toArray()) as unknown as Uint8Array[]
    if (docs.some((doc) => Buffer.from(doc).includes(bytes))) found.push(name)
  }
  return found
}
