/**
 * Per-test-file access to the test server started by the global setup.
 *
 * Each call gets its own uniquely named database, dropped by `cleanup()`, so test files never see
 * each other's data and a real MongoDB given through MONGODB_URI is left as it was found.
 */
import { randomBytes } from 'node:crypto'
import { MongoClient, type Db, type MongoClientOptions } from 'mongodb'
import { inject } from 'vitest'

export interface TestDatabase {
  uri: string
  client: MongoClient
  db: Db
  databaseName: string
  /** A second, independent client (separate connection pool), e.g. to play another process. */
  newClient(options?: MongoClientOptions): Promise<MongoClient>
  cleanup(): Promise<void>
}

export function testMongoUri(): string {
  return inject('mongoUri')
}

export function uniqueName(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`
}

export async function openTestDatabase(prefix = 'msm_test'): Promise<TestDatabase> {
  const uri = testMongoUri()
  const extraClients: MongoClient[] = []
  const client = await new MongoClient(uri).connect()
  const databaseName = uniqueName(prefix)
  const db = client.db(databaseName)
  return {
    uri,
    client,
    db,
    databaseName,
    async newClient(options) {
      const other = await new MongoClient(uri, options).connect()
      extraClients.push(other)
      return other
    },
    async cleanup() {
      await db.dropDatabase().catch(() => undefined)
      await Promise.all(extraClients.map((c) => c.close()))
      await client.close()
    },
  }
}
