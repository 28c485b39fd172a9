/**
 * What a turn and a request cost in commands, with every default on (metrics, agent config
 * capture, guardrail audit, the SDK's default conversation manager): a steady-state turn is one
 * insert and one update; a request in the factory pattern (a new manager and Agent per request)
 * adds the two reads of the restore. Every hot-path query is an `_id` lookup, an equality on
 * indexed fields, or a range on the last field of an index after equalities; against a MongoDB
 * (MONGODB_URI) each read is also explained and must use an index.
 */
import { Agent, NullConversationManager } from '@strands-agents/sdk'
import type { CommandStartedEvent, Document, MongoClient } from 'mongodb'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { MongoDBSessionManager, MongoDBSessionManagerFactory } from '../../src/index.js'
import { ScriptedModel } from '../../src/testing/index.js'
import { echoResponder } from '../support/agents.js'
import { countCommands, type CommandLog } from '../support/command-counter.js'
import { openTestDatabase, type TestDatabase } from '../support/mongo.js'

let t: TestDatabase
let client: MongoClient
let log: CommandLog
beforeAll(async () => {
  t = await openTestDatabase('msm_commands')
  client = await t.newClient({ monitorCommands: true })
  log = countCommands(client)
})
afterAll(async () => {
  log.stop()
  await t.cleanup()
})

/** An agent as users create it: default conversation manager, default options. */
function defaultAgent(sessionManager: MongoDBSessionManager, systemPrompt = 'You are a support agent.'): Agent {
  return new Agent({ model: new ScriptedModel(echoResponder), sessionManager, systemPrompt, printer: false })
}

/** Checks a captured command only uses index-served access paths (see the file comment). */
function expectIndexServed(event: CommandStartedEvent) {
  const command = event.command as Document
  const name = event.commandName
  const filters: Document[] =
    name === 'find'
      ? [command.filter]
      : name === 'update'
        ? (command.updates as Document[]).map((u) => u.q as Document)
        : name === 'delete'
          ? (command.deletes as Document[]).map((d) => d.q as Document)
          : []
  for (const filter of filters) {
    const keys = Object.keys(filter)
    if (keys[0] === '_id') {
      expect(typeof filter._id, `${name} ${JSON.stringify(filter)}`).toBe('string')
      continue
    }
    // The message window: equalities on the index prefix, a range on its last field, sorted by it.
    expect(keys, `${name} ${JSON.stringify(filter)}`).toEqual(['session_id', 'agent_id', 'seq'])
    expect(typeof filter.session_id).toBe('string')
    expect(typeof filter.agent_id).toBe('string')
    expect(Object.keys(filter.seq as Document).sort()).toEqual(['$gte', '$lte'])
    const sort = command.sort instanceof Map ? Object.fromEntries(command.sort) : command.sort
    expect(sort).toEqual({ seq: 1 })
  }
}

async function expectExplainedWithIndex(events: CommandStartedEvent[]) {
  if (inject('mongoEngine') !== 'mongodb') return // FerretDB's explain does not say; see docs/engines.md
  for (const event of events.filter((e) => e.commandName === 'find')) {
    const { lsid: _lsid, $db: _db, $clusterTime: _ct, ...command } = event.command as Document
    const plan = await client.db(event.databaseName).command({ explain: command, verbosity: 'queryPlanner' })
    expect(JSON.stringify(plan.queryPlanner.winningPlan)).not.toContain('COLLSCAN')
  }
}

describe('a long-lived agent (one manager, one Agent)', () => {
  it('a steady-state turn is one insert and one update, at 2 and at 60 turns of history', async () => {
    const manager = new MongoDBSessionManager({ sessionId: 'turn-1', client, databaseName: t.databaseName })
    const agent = defaultAgent(manager)
    await agent.invoke('warm up')
    for (const turns of [2, 60]) {
      while ((await manager.getMetricsSummary()).session.invocations < turns) await agent.invoke('history')
      log.reset()
      await agent.invoke('a steady-state turn')
      expect(log.commands).toEqual(['insert', 'update'])
      for (const event of log.events) expectIndexServed(event)
    }
    // The default conversation manager trimmed the window; the metrics of the last turn are on its
    // final assistant message, and the totals count every turn.
    expect(agent.messages.length).toBeLessThanOrEqual(40)
    const finalMessage = await t.db
      .collection('messages')
      .findOne({ session_id: 'turn-1', tracking_id: agent.messages.at(-1)!.trackingId })
    expect(finalMessage?.invocation_metrics?.usage).toBeDefined()
    expect((await manager.getMetricsSummary()).session.invocations).toBe(61)
  })

  it('a save that changes nothing writes nothing', async () => {
    const manager = new MongoDBSessionManager({ sessionId: 'turn-2', client, databaseName: t.databaseName })
    const agent = defaultAgent(manager)
    await agent.invoke('hello')
    log.reset()
    await manager.saveSnapshot({ target: agent, isLatest: true })
    expect(log.commands).toEqual([])
  })

  it('a changed system prompt is captured in the same update', async () => {
    const manager = new MongoDBSessionManager({ sessionId: 'turn-3', client, databaseName: t.databaseName })
    const agent = defaultAgent(manager)
    await agent.invoke('hello')
    agent.systemPrompt = 'You are terse.'
    log.reset()
    await agent.invoke('again')
    expect(log.commands).toEqual(['insert', 'update'])
    expect((await manager.getAgentConfig(agent.id)).systemPrompt).toBe('You are terse.')
  })
})

describe('the factory pattern (a new manager and Agent per request)', () => {
  it('two reads and two writes also with 1,000 turns of history (the window comes back in one reply)', async () => {
    const factory = new MongoDBSessionManagerFactory({ client, databaseName: t.databaseName })
    const seed = new Agent({
      model: new ScriptedModel(echoResponder),
      sessionManager: factory.createSessionManager('request-long'),
      conversationManager: new NullConversationManager(),
      printer: false,
    })
    for (let turn = 0; turn < 1_000; turn++) await seed.invoke(`turn ${turn}`)
    log.reset()
    const agent = defaultAgent(factory.createSessionManager('request-long'))
    await agent.invoke('steady state')
    expect(log.commands).toEqual(['find', 'find', 'insert', 'update'])
  }, 300_000)

  it('a steady-state request is two reads and two writes, and writes the agent config only when it changed', async () => {
    const factory = new MongoDBSessionManagerFactory({ client, databaseName: t.databaseName })
    const request = async (text: string, systemPrompt?: string) => {
      const agent = defaultAgent(factory.createSessionManager('request-1'))
      // The restore brings back the stored system prompt (SDK semantics); a new one is set after it.
      await agent.initialize()
      if (systemPrompt) agent.systemPrompt = systemPrompt
      await agent.invoke(text)
      return agent
    }
    await request('first')
    await request('second')
    log.reset()
    await request('steady state')
    expect(log.commands).toEqual(['find', 'find', 'insert', 'update'])
    for (const event of log.events) expectIndexServed(event)
    await expectExplainedWithIndex(log.events)
    // The session document's update carries no config when it is unchanged…
    const commit = log.events.find((e) => e.commandName === 'update')!.command as Document
    expect(JSON.stringify(commit.updates)).not.toContain('config.system_prompt')
    // …and carries it, still in the same update, when it changed.
    log.reset()
    await request('new prompt', 'You are terse.')
    expect(log.commands).toEqual(['find', 'find', 'insert', 'update'])
    expect(JSON.stringify((log.events[3]!.command as Document).updates)).toContain('config.system_prompt')
    const manager = factory.createSessionManager('request-1')
    expect((await manager.getAgentConfig('agent')).systemPrompt).toBe('You are terse.')
  })
})

describe('with retention on', () => {
  it('a turn is still one insert and one update, and a request two reads and two writes; each commit moves expires_at', async () => {
    const retention = { expireAfter: '30d' }
    const manager = new MongoDBSessionManager({
      sessionId: 'retention-turn',
      client,
      databaseName: t.databaseName,
      retention,
    })
    const agent = defaultAgent(manager)
    await agent.invoke('warm up')
    log.reset()
    await agent.invoke('a steady-state turn')
    expect(log.commands).toEqual(['insert', 'update'])
    for (const event of log.events) expectIndexServed(event)
    const commit = log.events[1]!.command as Document
    expect(JSON.stringify(commit.updates)).toContain('expires_at')

    const factory = new MongoDBSessionManagerFactory({ client, databaseName: t.databaseName, retention })
    const request = async (text: string) => defaultAgent(factory.createSessionManager('retention-request')).invoke(text)
    await request('first')
    await request('second')
    log.reset()
    await request('steady state')
    expect(log.commands).toEqual(['find', 'find', 'insert', 'update'])
    for (const event of log.events) expectIndexServed(event)
  })
})

describe('with a userId (catalogue fields ride in the commit)', () => {
  it('a turn is one insert and one update, a request two reads and two writes; the commit carries preview and counts', async () => {
    const manager = new MongoDBSessionManager({
      sessionId: 'user-turn',
      client,
      databaseName: t.databaseName,
      userId: 'user-a',
    })
    const agent = defaultAgent(manager)
    await agent.invoke('warm up')
    log.reset()
    await agent.invoke('a steady-state turn')
    expect(log.commands).toEqual(['insert', 'update'])
    for (const event of log.events) expectIndexServed(event)
    const commit = JSON.stringify((log.events[1]!.command as Document).updates)
    expect(commit).toContain('"preview"')
    expect(commit).toContain('message_counts.agent')
    // The title was written by the first save and is not written again.
    expect(commit).not.toContain('auto_title')

    const factory = new MongoDBSessionManagerFactory({ client, databaseName: t.databaseName, userId: 'user-a' })
    const request = async (text: string) => defaultAgent(factory.createSessionManager('user-request')).invoke(text)
    await request('first')
    await request('second')
    log.reset()
    await request('steady state')
    expect(log.commands).toEqual(['find', 'find', 'insert', 'update'])
    for (const event of log.events) expectIndexServed(event)
    expect(JSON.stringify((log.events[3]!.command as Document).updates)).not.toContain('auto_title')
  })
})
