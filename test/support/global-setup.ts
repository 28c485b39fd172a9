/**
 * Starts the servers the integration tests talk to, once per test run.
 *
 * MongoDB: `MONGODB_URI` when set (a real MongoDB or Atlas; tests create uniquely named databases and
 * drop them). Otherwise FerretDB 1.24 built from `tools/ferretdb` on a free loopback port.
 */
import type { TestProject } from 'vitest/node'
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
    project.provide('mongoUri', external)
    project.provide('mongoEngine', 'mongodb')
    return
  }
  server = await startFerretDB({ log: (line) => console.log(`[test-setup] ${line}`) })
  project.provide('mongoUri', server.uri)
  project.provide('mongoEngine', 'ferretdb')
}

export async function teardown(): Promise<void> {
  await server?.stop()
}
