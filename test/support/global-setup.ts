/**
 * Starts the servers the integration tests talk to, once per test run.
 *
 * MongoDB: `MONGODB_URI` when set (a real MongoDB or Atlas; tests create uniquely named databases and
 * drop them). Otherwise FerretDB 1.24 built from `tools/ferretdb` on a free loopback port.
 */
import { MongoClient } from 'mongodb'
import type { TestProject } from 'vitest/node'
import { detectCapabilities } from '../../src/storage/capabilities.js'
import { startFerretDB, type RunningFerretDB } from '../../tools/ferretdb/launcher.js'

declare module 'vitest' {
  export interface ProvidedContext {
    mongoUri: string
    mongoEngine: 'mongodb' | 'ferretdb'
  }
}

let server: RunningFerretDB | undefined

export async function setup(project: TestProject): Promise<void> {
  const external = process.env.MONGODB_URI
  if (external) {
    // Whatever MONGODB_URI points at (MongoDB, Atlas, or a FerretDB of your own): ask the server.
    const client = await new MongoClient(external, { serverSelectionTimeoutMS: 10_000 }).connect()
    try {
      project.provide('mongoEngine', (await detectCapabilities(client)).engine)
    } finally {
      await client.close()
    }
    project.provide('mongoUri', external)
    return
  }
  server = await startFerretDB({ log: (line) => console.log(`[test-setup] ${line}`) })
  project.provide('mongoUri', server.uri)
  project.provide('mongoEngine', 'ferretdb')
}

export async function teardown(): Promise<void> {
  await server?.stop()
}
