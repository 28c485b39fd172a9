/**
 * Starts the servers the integration tests talk to, once per test run.
 *
 * MongoDB: `MONGODB_URI` when set (a real MongoDB or Atlas; tests create uniquely named databases and
 * drop them). Otherwise FerretDB 1.24 built from `tools/ferretdb` on a free loopback port.
 *
 * Both server-backed projects (integration, slow) list this file. Vitest loads it once per project,
 * so the server is kept on `globalThis` of the main process with a count of the projects using it:
 * the first setup starts it, the others reuse it, the last teardown stops it.
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

interface TestServer {
  uri: string
  engine: 'mongodb' | 'ferretdb'
  ferretdb?: RunningFerretDB
}

interface SharedServer {
  users: number
  server: Promise<TestServer>
}

const key = Symbol.for('mongodb-session-manager.test-server')
const shared = globalThis as typeof globalThis & { [key]?: SharedServer }

async function startServer(): Promise<TestServer> {
  const external = process.env.MONGODB_URI
  if (external) {
    // Whatever MONGODB_URI points at (MongoDB, Atlas, or a FerretDB of your own): ask the server.
    const client = await new MongoClient(external, { serverSelectionTimeoutMS: 10_000 }).connect()
    try {
      return { uri: external, engine: (await detectCapabilities(client)).engine }
    } finally {
      await client.close()
    }
  }
  const ferretdb = await startFerretDB({ log: (line) => console.log(`[test-setup] ${line}`) })
  return { uri: ferretdb.uri, engine: 'ferretdb', ferretdb }
}

export async function setup(project: TestProject): Promise<() => Promise<void>> {
  const entry = (shared[key] ??= { users: 0, server: startServer() })
  entry.users += 1
  const server = await entry.server
  project.provide('mongoUri', server.uri)
  project.provide('mongoEngine', server.engine)
  return async () => {
    entry.users -= 1
    if (entry.users > 0) return
    delete shared[key]
    await server.ferretdb?.stop()
  }
}
