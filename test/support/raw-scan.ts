/**
 * Looks for bytes in what the database really stores: every document of every collection, as raw
 * BSON. The way to check that nothing written with encryption on holds a value in clear.
 */
import type { Db } from 'mongodb'

/** Whether any stored document of any collection of `db` contains `needle` (text as UTF-8). */
export async function storedAnywhere(db: Db, needle: string | Uint8Array): Promise<boolean> {
  const bytes = typeof needle === 'string' ? Buffer.from(needle, 'utf8') : Buffer.from(needle)
  for (const { name } of await db.listCollections({}, { nameOnly: true }).toArray()) {
    const docs = (await db.collection(name).find({}, { raw: true }).toArray()) as unknown as Uint8Array[]
    if (docs.some((doc) => Buffer.from(doc).includes(bytes))) return true
  }
  return false
}
