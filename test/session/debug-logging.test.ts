/** At debug level, every MongoDB write and its target are logged — never documents or credentials. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { configureLogger, MongoDBSessionManager } from '../../src/index.js'
import { testAgent } from '../support/agents.js'
import { openTestDatabase, type TestDatabase } from '../support/mongo.js'

let t: TestDatabase
beforeAll(async () => {
  t = await openTestDatabase('msm_debuglog')
})
afterAll(async () => {
  configureLogger({ level: 'warn', logger: console })
  await t.cleanup()
})

describe('debug logging', () => {
  it('shows each write of the save path without message content', async () => {
    const lines: string[] = []
    const sink = (line: string) => lines.push(line)
    configureLogger({ level: 'debug', logger: { debug: sink, info: sink, warn: sink, error: sink } })
    const sm = new MongoDBSessionManager({
      sessionId: 'debug-1',
      connectionString: t.uri,
      databaseName: t.databaseName,
    })
    await testAgent({ sessionManager: sm }).invoke('secret question about card PAN-QWERTY')
    await sm.close()
    configureLogger({ level: 'warn' })
    const text = lines.join('\n')
    expect(text).toMatch(/mongodb insert/)
    expect(text).toMatch(/collection=<messages>/)
    expect(text).not.toContain('PAN-QWERTY')
    expect(text).not.toContain(t.uri)
  })
})
