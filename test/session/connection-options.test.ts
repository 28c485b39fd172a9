/**
 * What the user sets wins: options in the connection string or in `clientOptions` are never
 * replaced by the library's defaults — for the manager, the factory and the CLI. A default applies
 * only where neither says anything.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEFAULT_CLIENT_OPTIONS, MongoDBSessionManager, MongoDBSessionManagerFactory } from '../../src/index.js'
import { openConnection } from '../../src/cli/connection.js'
import { effectiveClientOptions } from '../../src/session/connection.js'
import { testMongoUri } from '../support/mongo.js'

const USER_QUERY = 'retryWrites=false&maxPoolSize=7&appName=mine&maxIdleTimeMS=600000'
let uri: string
beforeAll(() => {
  const base = testMongoUri()
  uri = `${base}${base.includes('?') ? '&' : '?'}${USER_QUERY}`
})

function expectUserOptions(options: MongoDBSessionManager['client']['options']) {
  expect(options.retryWrites).toBe(false)
  expect(options.maxPoolSize).toBe(7)
  expect(options.appName).toBe('mine')
  expect(options.maxIdleTimeMS).toBe(600_000)
}

describe('options in the connection string', () => {
  const closers: (() => Promise<void>)[] = []
  afterAll(async () => {
    for (const close of closers) await close()
  })

  it('win over the defaults in the manager', async () => {
    const manager = new MongoDBSessionManager({ sessionId: 'opts', connectionString: uri })
    closers.push(() => manager.close())
    expectUserOptions(manager.client.options)
    // Defaults still fill what the user left unsaid.
    expect(manager.client.options.serverSelectionTimeoutMS).toBe(DEFAULT_CLIENT_OPTIONS.serverSelectionTimeoutMS)
    expect(await manager.getMetadata()).toEqual({})
  })

  it('win over the defaults in the factory', async () => {
    const factory = new MongoDBSessionManagerFactory({ connectionString: uri })
    closers.push(() => factory.close())
    expectUserOptions(factory.client.options)
    expectUserOptions(factory.createSessionManager('opts').client.options)
  })

  it('win over the defaults in the CLI', async () => {
    const connection = await openConnection({ uri, databaseName: 'msm_cli_opts', prefix: '', timeoutMs: 5_000 })
    closers.push(() => connection.close())
    expectUserOptions(connection.client.options)
  })

  it('match option names case-insensitively, as the driver does', () => {
    const options = effectiveClientOptions('mongodb://h/?RETRYWRITES=false&maxpoolsize=3')
    expect(options).not.toHaveProperty('retryWrites')
    expect(options).not.toHaveProperty('maxPoolSize')
    expect(options.appName).toBe(DEFAULT_CLIENT_OPTIONS.appName)
  })

  it('an "@" or "?" in an option value does not hide the query', () => {
    const options = effectiveClientOptions('mongodb://u:p%40ss@h1,h2/db?appName=a@b&retryWrites=false')
    expect(options).not.toHaveProperty('appName')
    expect(options).not.toHaveProperty('retryWrites')
  })
})

describe('clientOptions', () => {
  it('win over the defaults, and over nothing else', async () => {
    const manager = new MongoDBSessionManager({
      sessionId: 'opts',
      connectionString: testMongoUri(),
      clientOptions: { retryWrites: false, maxPoolSize: 7, appName: 'mine', maxIdleTimeMS: 600_000 },
    })
    expectUserOptions(manager.client.options)
    await manager.close()
  })

  it('the defaults apply when nothing is said', async () => {
    const manager = new MongoDBSessionManager({ sessionId: 'opts', connectionString: testMongoUri() })
    expect(manager.client.options.maxPoolSize).toBe(DEFAULT_CLIENT_OPTIONS.maxPoolSize)
    expect(manager.client.options.appName).toBe(DEFAULT_CLIENT_OPTIONS.appName)
    expect(manager.client.options.serverSelectionTimeoutMS).toBe(DEFAULT_CLIENT_OPTIONS.serverSelectionTimeoutMS)
    await manager.close()
  })
})
