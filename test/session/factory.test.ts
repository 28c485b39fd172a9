/**
 * `MongoDBSessionManagerFactory`: one shared client for many per-request managers, indexes once
 * per process, fail-fast connect, health stats without secrets, the opt-in global factory, and
 * disposal that closes only what the factory owns.
 */
import { createServer, type AddressInfo, type Socket } from 'node:net'
import type { CommandStartedEvent, MongoClient } from 'mongodb'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import {
  ClosedError,
  ConfigurationError,
  DatabaseUnavailableError,
  MongoDBSessionManager,
  MongoDBSessionManagerFactory,
  closeGlobalFactory,
  getGlobalFactory,
  initializeGlobalFactory,
} from '../../src/index.js'
import { INDEXES } from '../../src/storage/collections.js'
import { conversationOf, testAgent } from '../support/agents.js'
import { openTestDatabase, uniqueName, type TestDatabase } from '../support/mongo.js'

let t: TestDatabase
beforeAll(async () => {
  t = await openTestDatabase('msm_factory')
})
afterAll(async () => {
  await t.cleanup()
})
afterEach(async () => {
  await closeGlobalFactory()
})

async function unusedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  await new Promise<void>((resolve) => server.close(() => resolve()))
  if (!address || typeof address === 'string') throw new Error('no TCP port')
  return address.port
}

/** Records whether the client's topology has been closed (the driver emits `topologyClosed` on close()). */
function watchClose(client: MongoClient): { readonly closed: boolean } {
  const state = { closed: false }
  client.on('topologyClosed', () => {
    state.closed = true
  })
  return state
}

/** Databases created by this file besides `t.databaseName`, dropped at the end. */
const extraDatabases: string[] = []
afterAll(async () => {
  for (const name of extraDatabases)
    await t.client
      .db(name)
      .dropDatabase()
      .catch(() => undefined)
})
function freshDatabaseName(): string {
  const name = uniqueName('msm_fac')
  extraDatabases.push(name)
  return name
}

describe('MongoDBSessionManagerFactory: one shared client', () => {
  it('gives every manager the same client, and a manager close() leaves it open', async () => {
    const factory = new MongoDBSessionManagerFactory({ connectionString: t.uri, databaseName: t.databaseName })
    const closeState = watchClose(factory.client)
    try {
      await factory.connect()
      const a = factory.createSessionManager('shared-a')
      const b = factory.createSessionManager('shared-b', { applicationName: 'other-app' })
      expect(a.client).toBe(factory.client)
      expect(b.client).toBe(factory.client)
      expect(a.ownsClient).toBe(false)
      expect(b.ownsClient).toBe(false)

      await a.close()
      await b[Symbol.asyncDispose]()
      expect(closeState.closed).toBe(false)
      await expect(factory.client.db('admin').command({ ping: 1 })).resolves.toMatchObject({ ok: 1 })
      // A new manager after others were closed works on the same client.
      await factory.createSessionManager('shared-c').ensureSession()
      expect(await t.db.collection('sessions').countDocuments({ _id: 'shared-c' as never })).toBe(1)
      // The closed manager refuses further work.
      await expect(a.ensureSession()).rejects.toBeInstanceOf(ClosedError)
    } finally {
      await factory.close()
    }
    expect(closeState.closed).toBe(true)
  })

  it('creates indexes once per process, however many managers and factories use the client', async () => {
    const client = await t.newClient({ monitorCommands: true })
    const createIndexes: CommandStartedEvent[] = []
    client.on('commandStarted', (event) => {
      if (event.commandName === 'createIndexes') createIndexes.push(event)
    })
    const databaseName = freshDatabaseName()
    const collectionsWithIndexes = Object.values(INDEXES).filter((specs) => specs.length > 0).length

    const factory = new MongoDBSessionManagerFactory({ client, databaseName })
    await factory.connect()
    expect(createIndexes).toHaveLength(collectionsWithIndexes)
    expect(createIndexes.every((event) => event.databaseName === databaseName)).toBe(true)

    // Per-request managers doing real work, a second connect, and a second factory on the same client.
    for (const sessionId of ['idx-1', 'idx-2', 'idx-3']) {
      const agent = testAgent({ sessionManager: factory.createSessionManager(sessionId) })
      await agent.invoke(`hello from ${sessionId}`)
    }
    await factory.connect()
    const second = new MongoDBSessionManagerFactory({ client, databaseName })
    await second.connect()
    await testAgent({ sessionManager: second.createSessionManager('idx-4') }).invoke('hi')
    // A manager built directly on the client shares the per-process cache too.
    await new MongoDBSessionManager({ client, databaseName, sessionId: 'idx-5' }).ensureSession()
    expect(createIndexes).toHaveLength(collectionsWithIndexes)

    // ensureIndexes: false skips them entirely.
    const noIndexDb = freshDatabaseName()
    const noIndexes = new MongoDBSessionManagerFactory({ client, databaseName: noIndexDb, ensureIndexes: false })
    await noIndexes.connect()
    await testAgent({ sessionManager: noIndexes.createSessionManager('idx-6') }).invoke('hi')
    expect(createIndexes.filter((event) => event.databaseName === noIndexDb)).toHaveLength(0)

    const indexNames = (await t.client.db(databaseName).collection('messages').indexes()).map((index) => index.name)
    expect(indexNames).toContain('msm_session_agent_seq')
    await factory.close()
    await second.close()
  })
})

describe('MongoDBSessionManagerFactory: connecting and health', () => {
  it('connect() fails with a clear error when nothing listens on the port', async () => {
    const port = await unusedPort()
    const factory = new MongoDBSessionManagerFactory({
      connectionString: `mongodb://127.0.0.1:${port}/`,
      clientOptions: { serverSelectionTimeoutMS: 500 },
    })
    const error = await factory.connect().then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(error).toBeInstanceOf(Error)
    expect((error as Error).message).toMatch(/ECONNREFUSED|Server selection timed out/)
    expect((error as Error).message).toContain(`127.0.0.1:${port}`)
    await factory.close()
  })

  it('connect() gives up after clientOptions.serverSelectionTimeoutMS when the server never answers', async () => {
    // Accepts connections and never replies: only the configured bound can end the wait, and the
    // driver's message names the bound it applied (the default would be 30000 ms).
    const sockets: Socket[] = []
    const silent = createServer((socket) => sockets.push(socket))
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
    const { port } = silent.address() as AddressInfo
    const factory = new MongoDBSessionManagerFactory({
      connectionString: `mongodb://127.0.0.1:${port}/`,
      clientOptions: { serverSelectionTimeoutMS: 500 },
    })
    try {
      const error = await factory.connect().then(
        () => undefined,
        (e: unknown) => e,
      )
      expect(error).toBeInstanceOf(DatabaseUnavailableError)
      expect((error as Error).message).toContain('Server selection timed out after 500 ms')
    } finally {
      await factory.close()
      for (const socket of sockets) socket.destroy()
      await new Promise<void>((resolve) => silent.close(() => resolve()))
    }
  })

  it('getConnectionStats() reports health and never includes the connection string or password', async () => {
    const port = await unusedPort()
    const uri = `mongodb://user:s3cret@127.0.0.1:${port}/`
    const factory = new MongoDBSessionManagerFactory({
      connectionString: uri,
      databaseName: 'health_db',
      clientOptions: { serverSelectionTimeoutMS: 300 },
    })
    const down = await factory.getConnectionStats()
    expect(down).toMatchObject({ status: 'error', ownsClient: true, databaseName: 'health_db' })
    expect(typeof down.error).toBe('string')
    const text = JSON.stringify(down)
    expect(text).not.toContain('s3cret')
    expect(text).not.toContain('user:')
    expect(text).not.toContain(uri)

    await factory.close()
    const closed = await factory.getConnectionStats()
    expect(closed).toEqual({ status: 'closed', ownsClient: true, databaseName: 'health_db' })

    // Connected: engine and version, still nothing about the connection.
    const up = new MongoDBSessionManagerFactory({ client: t.client, databaseName: t.databaseName })
    const stats = await up.getConnectionStats()
    expect(stats).toMatchObject({ status: 'connected', ownsClient: false, databaseName: t.databaseName })
    expect(['mongodb', 'ferretdb']).toContain(stats.server?.engine)
    expect(typeof stats.server?.version).toBe('string')
    expect(JSON.stringify(stats)).not.toContain(t.uri)
    await up.close()
  })

  it('rejects invalid options with a typed error that does not echo the password', () => {
    expect(() => new MongoDBSessionManagerFactory({})).toThrow(ConfigurationError)
    expect(() => new MongoDBSessionManagerFactory({ connectionString: 'http://user:s3cret@x/' })).toThrow(
      ConfigurationError,
    )
    try {
      new MongoDBSessionManagerFactory({ connectionString: 'mongodb://user:s3cret@127.0.0.1:1/?bogusOption=1' })
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigurationError)
      expect((error as Error).message).not.toContain('s3cret')
    }
  })
})

describe('global factory', () => {
  it('getGlobalFactory() before initialisation throws a typed ConfigurationError', () => {
    expect(() => getGlobalFactory()).toThrow(ConfigurationError)
    try {
      getGlobalFactory()
    } catch (error) {
      expect((error as ConfigurationError).code).toBe('MSM_CONFIGURATION')
      expect((error as Error).message).toMatch(/initializeGlobalFactory/)
    }
  })

  it('initialise, get, re-initialise (closes the previous one), close', async () => {
    const first = await initializeGlobalFactory({ connectionString: t.uri, databaseName: t.databaseName })
    const firstClosed = watchClose(first.client)
    expect(getGlobalFactory()).toBe(first)
    await testAgent({ sessionManager: getGlobalFactory().createSessionManager('global-1') }).invoke('hi')

    const second = await initializeGlobalFactory({ connectionString: t.uri, databaseName: t.databaseName })
    expect(second).not.toBe(first)
    expect(getGlobalFactory()).toBe(second)
    expect(firstClosed.closed).toBe(true)
    expect(() => first.createSessionManager('global-2')).toThrow(ClosedError)
    expect((await first.getConnectionStats()).status).toBe('closed')

    const restored = testAgent({ sessionManager: second.createSessionManager('global-1') })
    await restored.initialize()
    expect(restored.messages).toHaveLength(2)

    const secondClosed = watchClose(second.client)
    await closeGlobalFactory()
    expect(secondClosed.closed).toBe(true)
    expect(() => getGlobalFactory()).toThrow(ConfigurationError)
    await expect(closeGlobalFactory()).resolves.toBeUndefined()
  })

  it('a failed initialisation leaves no global factory behind', async () => {
    const port = await unusedPort()
    await expect(
      initializeGlobalFactory({
        connectionString: `mongodb://127.0.0.1:${port}/`,
        clientOptions: { serverSelectionTimeoutMS: 300 },
      }),
    ).rejects.toThrow(/ECONNREFUSED|Server selection timed out/)
    expect(() => getGlobalFactory()).toThrow(ConfigurationError)
  })
})

describe('disposal and closing', () => {
  it('`await using` closes a client the factory created', async () => {
    let closeState: { readonly closed: boolean } | undefined
    {
      await using factory = new MongoDBSessionManagerFactory({ connectionString: t.uri, databaseName: t.databaseName })
      closeState = watchClose(factory.client)
      await factory.connect()
      await factory.createSessionManager('dispose-owned').ensureSession()
      expect(closeState.closed).toBe(false)
    }
    expect(closeState.closed).toBe(true)
  })

  it('`await using` leaves a borrowed client open', async () => {
    const client = await t.newClient()
    const closeState = watchClose(client)
    {
      await using factory = new MongoDBSessionManagerFactory({ client, databaseName: t.databaseName })
      await factory.createSessionManager('dispose-borrowed').ensureSession()
      {
        await using manager = factory.createSessionManager('dispose-borrowed-2')
        await manager.ensureSession()
      }
      expect(closeState.closed).toBe(false)
    }
    expect(closeState.closed).toBe(false)
    await expect(client.db('admin').command({ ping: 1 })).resolves.toMatchObject({ ok: 1 })
  })

  it('`await using` on a manager closes its own client but not a borrowed one', async () => {
    let owned: { readonly closed: boolean } | undefined
    {
      await using manager = new MongoDBSessionManager({
        connectionString: t.uri,
        databaseName: t.databaseName,
        sessionId: 'dispose-manager',
      })
      owned = watchClose(manager.client)
      await manager.ensureSession()
    }
    expect(owned.closed).toBe(true)

    const borrowedState = watchClose(t.client)
    {
      await using manager = new MongoDBSessionManager({
        client: t.client,
        databaseName: t.databaseName,
        sessionId: 'dispose-manager',
      })
      await manager.ensureSession()
    }
    expect(borrowedState.closed).toBe(false)
  })

  it('createSessionManager() and connect() after close() throw ClosedError; close() is idempotent', async () => {
    const factory = new MongoDBSessionManagerFactory({ client: t.client, databaseName: t.databaseName })
    await factory.close()
    expect(() => factory.createSessionManager('after-close')).toThrow(ClosedError)
    await expect(factory.connect()).rejects.toBeInstanceOf(ClosedError)
    await expect(factory.close()).resolves.toBeUndefined()
    try {
      factory.createSessionManager('after-close')
    } catch (error) {
      expect((error as ClosedError).code).toBe('MSM_CLOSED')
    }
  })
})

describe('per-request managers with a real Agent', () => {
  it('two sessions through one factory save and restore independently', async () => {
    const factory = new MongoDBSessionManagerFactory({ client: t.client, databaseName: t.databaseName })
    await factory.connect()

    const alice = testAgent({ sessionManager: factory.createSessionManager('req-alice'), systemPrompt: 'Alice bot' })
    const bob = testAgent({ sessionManager: factory.createSessionManager('req-bob'), systemPrompt: 'Bob bot' })
    await Promise.all([alice.invoke('hello, I am alice'), bob.invoke('where is my order?')])
    alice.appState.set('user', 'alice')
    await alice.invoke('second message from alice')
    const aliceSaved = conversationOf(alice)
    const bobSaved = conversationOf(bob)
    expect(aliceSaved).toHaveLength(4)
    expect(bobSaved).toHaveLength(4) // user, tool use, tool result, answer

    // Later requests: fresh managers from the same factory.
    const aliceAgain = testAgent({ sessionManager: factory.createSessionManager('req-alice') })
    const bobAgain = testAgent({ sessionManager: factory.createSessionManager('req-bob') })
    await Promise.all([aliceAgain.initialize(), bobAgain.initialize()])
    expect(conversationOf(aliceAgain)).toEqual(aliceSaved)
    expect(conversationOf(bobAgain)).toEqual(bobSaved)
    expect(aliceAgain.systemPrompt).toBe('Alice bot')
    expect(bobAgain.systemPrompt).toBe('Bob bot')
    expect(aliceAgain.appState.get('user')).toBe('alice')
    expect(bobAgain.appState.get('user')).toBeUndefined()

    // Deleting one session leaves the other intact.
    await factory.createSessionManager('req-bob').deleteSession()
    const bobGone = testAgent({ sessionManager: factory.createSessionManager('req-bob') })
    await bobGone.initialize()
    expect(bobGone.messages).toHaveLength(0)
    const aliceStill = testAgent({ sessionManager: factory.createSessionManager('req-alice') })
    await aliceStill.initialize()
    expect(conversationOf(aliceStill)).toEqual(aliceSaved)
    await factory.close()
  })
})
