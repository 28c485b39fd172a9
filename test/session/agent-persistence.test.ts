import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MongoDBSessionManager } from '../../src/index.js'
import { conversationOf, testAgent } from '../support/agents.js'
import { openTestDatabase, type TestDatabase } from '../support/mongo.js'

let t: TestDatabase
beforeAll(async () => {
  t = await openTestDatabase('msm_persist')
})
afterAll(async () => {
  await t.cleanup()
})

function manager(sessionId: string, extra: Partial<ConstructorParameters<typeof MongoDBSessionManager>[0]> = {}) {
  return new MongoDBSessionManager({ sessionId, client: t.client, databaseName: t.databaseName, ...extra })
}

describe('MongoDBSessionManager with a real Agent', () => {
  it('restores the conversation, state and system prompt after a restart', async () => {
    const first = testAgent({ sessionManager: manager('restart-1'), systemPrompt: 'You are helpful.' })
    await first.invoke('hello there')
    first.appState.set('customer', { name: 'acme', tier: 2 })
    await first.invoke('where is my order?')
    const saved = conversationOf(first)
    expect(saved).toHaveLength(6)

    const second = testAgent({ sessionManager: manager('restart-1') })
    await second.initialize()
    expect(conversationOf(second)).toEqual(saved)
    expect(second.appState.get('customer')).toEqual({ name: 'acme', tier: 2 })
    expect(second.systemPrompt).toBe('You are helpful.')
  })

  it('writes one document per message and only the new ones on each turn', async () => {
    const agent = testAgent({ sessionManager: manager('writes-1') })
    await agent.invoke('one')
    await agent.invoke('two')
    await agent.invoke('three')
    const docs = await t.db.collection('messages').find({ session_id: 'writes-1' }).sort({ seq: 1 }).toArray()
    expect(docs.map((d) => d.seq)).toEqual([0, 1, 2, 3, 4, 5])
    expect(docs.map((d) => d.role)).toEqual(['user', 'assistant', 'user', 'assistant', 'user', 'assistant'])
    // Each turn's documents were written by a different save (op_id), earlier ones untouched.
    const ops = docs.map((d) => d.op_id)
    expect(new Set(ops).size).toBe(3)
    const session = await t.db.collection('sessions').findOne({ _id: 'writes-1' as never })
    expect(session?.agents?.default?.ranges ?? session?.agents?.[Object.keys(session.agents)[0]!]?.ranges).toEqual([
      { first: 0, last: 5 },
    ])
  })
})

describe('ownership of the client', () => {
  it('closes a client it created (await using), never a borrowed one', async () => {
    let owned: MongoDBSessionManager['client'] | undefined
    {
      await using sm = new MongoDBSessionManager({
        sessionId: 'owner-1',
        connectionString: t.uri,
        databaseName: t.databaseName,
      })
      owned = sm.client
      expect(sm.ownsClient).toBe(true)
      await sm.updateMetadata({ touched: true })
    }
    await expect(owned!.db('admin').command({ ping: 1 })).rejects.toThrow()

    {
      await using borrowed = manager('owner-2')
      expect(borrowed.ownsClient).toBe(false)
      await borrowed.updateMetadata({ touched: true })
    }
    expect(await t.client.db('admin').command({ ping: 1 })).toMatchObject({ ok: 1 })
  })

  it('refuses to be used after close()', async () => {
    const sm = manager('closed-1')
    await sm.close()
    await expect(sm.getMetadata()).rejects.toMatchObject({ code: 'MSM_CLOSED' })
  })
})
