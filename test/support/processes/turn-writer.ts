/**
 * A separate process that writes turns to one session, as one server of several would: for each
 * turn a new manager and agent (the factory pattern) restore the session, then invoke. A turn the
 * library confirms is printed as `saved <text>`; a SessionConflictError is printed as `conflict`
 * and the turn is retried with a fresh restore.
 *
 * argv: <mongo uri> <database> <session id> <writer name> <turns>
 * The first turn is driven by the parent, to force an interleaving: the writer prints `restored`
 * once its agent has restored the session, and invokes only after reading a line on stdin.
 */
import { createInterface } from 'node:readline'
import { MongoClient } from 'mongodb'
import { MongoDBSessionManager, SessionConflictError } from '../../../src/index.js'
import { testAgent } from '../agents.js'

const [uri, databaseName, sessionId, writer, turns] = process.argv.slice(2) as [string, string, string, string, string]
const client = await new MongoClient(uri).connect()
const stdin = createInterface({ input: process.stdin })[Symbol.asyncIterator]()

for (let turn = 0; turn < Number(turns); turn++) {
  const text = `${writer} turn ${turn}`
  for (let attempt = 0; ; attempt++) {
    const agent = testAgent({ sessionManager: new MongoDBSessionManager({ sessionId, client, databaseName }) })
    if (turn === 0 && attempt === 0) {
      await agent.initialize()
      console.log(`restored ${agent.messages.length}`)
      await stdin.next()
    }
    try {
      await agent.invoke(text)
      console.log(`saved ${text}`)
      break
    } catch (error) {
      if (!(error instanceof SessionConflictError)) throw error
      console.log('conflict')
    }
  }
}
await client.close()
process.exit(0)
