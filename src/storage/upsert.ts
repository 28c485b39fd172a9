/**
 * Upserts that race. Two first writers of a new document can both try to insert it: one wins,
 * the other gets a duplicate-key error although the document now exists, so running the same
 * upsert again applies it as an update.
 */

/** A duplicate-key error (E11000) from the server. */
export function isDuplicateKeyError(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 11000
}

/** Runs `upsert`, and once more if it lost an insert race (duplicate key). */
export async function upsertWithRaceRetry<T>(upsert: () => Promise<T>): Promise<T> {
  try {
    return await upsert()
  } catch (error) {
    if (!isDuplicateKeyError(error)) throw error
    return upsert()
  }
}
