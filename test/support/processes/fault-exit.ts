/**
 * A process that meets a database fault, then calls `close()` and must exit by itself: no timer,
 * socket or pending operation of the library may keep it alive. It never calls process.exit.
 *
 * argv: <test server uri> <database> <scenario: down-first | killed-mid-turn | frozen>
 * Prints one JSON line: what the failing call threw.
 */
import { MongoDBSessionManager } from '../../../src/index.js'
import { testAgent } from '../agents.js'
import { startFaultProxy } from '../fault-proxy.js'
import { warmUp } from '../warm-up.js'

const [uri, databaseName, scenario] = process.argv.slice(2) as [string, string, string]
const proxy = await startFaultProxy(uri, scenario === 'down-first' ? 'down' : 'up')
const manager = new MongoDBSessionManager({
  sessionId: `exit-${scenario}`,
  connectionString: proxy.uri,
  clientOptions: { serverSelectionTimeoutMS: 1_000 },
  databaseName,
  operationTimeoutMs: 2_000,
})
const agent = testAgent({ sessionManager: manager })
let failure: unknown
try {
  if (scenario === 'killed-mid-turn') {
    await agent.invoke('first')
    proxy.switchOn('update', 'down')
  }
  if (scenario === 'frozen') {
    await warmUp(() => agent.invoke('first'))
    await proxy.setMode('frozen')
  }
  await agent.invoke('this call fails')
} catch (error) {
  failure = error
}
const e = failure as { name?: string; code?: string; reason?: string } | undefined
// The database is still down or frozen while the manager closes.
await manager.close()
console.log(JSON.stringify({ name: e?.name, code: e?.code, reason: e?.reason }))
await proxy.close()
