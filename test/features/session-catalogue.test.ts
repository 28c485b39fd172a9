/**
 * The catalogue fields of `listSessions` (title, preview, message count, last activity, tokens,
 * feedback counts, user), `setTitle()`, `userId` (immutable, filtered, keyset-paged) and
 * `searchSessions` / the `search_sessions` tool, against the test server.
 */
import { Agent } from '@strands-agents/sdk'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  configureLogger,
  deleteSessions,
  listSessions,
  type Logger,
  MongoDBSessionManager,
  MongoDBSessionManagerFactory,
  searchSessions,
  ValidationError,
} from '../../src/index.js'
import { ScriptedModel } from '../../src/testing/index.js'
import { echoResponder } from '../support/agents.js'
import { openTestDatabase, type TestDatabase } from '../support/mongo.js'

let t: TestDatabase
beforeAll(async () => {
  t = await openTestDatabase('msm_catalogue_fields')
})
afterAll(async () => {
  await t.cleanup()
})

function manager(sessionId: string, userId?: string) {
  return new MongoDBSessionManager({
    sessionId,
    client: t.client,
    databaseName: t.databaseName,
    ...(userId !== undefined && { userId }),
  })
}

function agentOf(sessionManager: MongoDBSessionManager): Agent {
  return new Agent({ model: new ScriptedModel(echoResponder), sessionManager, printer: false })
}

const collections = () => manager('unused').collections

async function summary(sessionId: string, userId: string) {
  const page = await listSessions(collections(), { userId, limit: 500 })
  const item = page.items.find((s) => s.sessionId === sessionId)
  expect(item, sessionId).toBeDefined()
  return item!
}

/** Tool results of an agent that calls `search_sessions` once with `query`. */
async function toolSearch(sessionManager: MongoDBSessionManager, query: string): Promise<unknown> {
  const model = new ScriptedModel([{ toolUse: { name: 'search_sessions', input: { query } } }, { text: 'done' }])
  const agent = new Agent({ model, tools: [sessionManager.getSessionSearchTool()], printer: false })
  await agent.invoke('what did we decide?')
  const results = agent.messages
    .flatMap((m) => m.content)
    .filter((b) => b.type === 'toolResultBlock')
    .map((b) => (b as unknown as { content: { json?: unknown }[] }).content[0]!.json)
  expect(results).toHaveLength(1)
  return results[0]
}

describe('catalogue fields', () => {
  it('are exact after turns, feedback and metadata changes', async () => {
    const m = manager('fields-1', 'alice')
    const agent = agentOf(m)
    await agent.invoke('  Hello there,\n I need help with invoice 42  ')
    await agent.invoke('second question')
    let item = await summary('fields-1', 'alice')
    const metrics = (await m.getMetricsSummary()).session
    expect(item).toMatchObject({
      sessionId: 'fields-1',
      userId: 'alice',
      title: 'Hello there, I need help with invoice 42',
      preview: 'echo: second question',
      messageCount: 4,
      feedbackCounts: { up: 0, down: 0, neutral: 0 },
      tokens: { input: metrics.inputTokens, output: metrics.outputTokens, total: metrics.totalTokens },
    })
    expect(metrics.totalTokens).toBeGreaterThan(0)
    const afterTurns = item.updatedAt!.getTime()

    await m.addFeedback({ rating: 'up' })
    await m.addFeedback({ rating: 'down' })
    await m.addFeedback({ rating: 'up' })
    await m.updateMetadata({ status: 'open' })
    item = await summary('fields-1', 'alice')
    expect(item.feedbackCounts).toEqual({ up: 2, down: 1, neutral: 0 })
    expect(item.metadata).toEqual({ status: 'open' })
    expect(item.updatedAt!.getTime()).toBeGreaterThanOrEqual(afterTurns)
    // Neither feedback nor metadata touches the conversation fields.
    expect(item).toMatchObject({ title: 'Hello there, I need help with invoice 42', messageCount: 4 })

    // A new request (new manager and agent) keeps the title of the first user message.
    const again = agentOf(manager('fields-1', 'alice'))
    await again.invoke('third')
    item = await summary('fields-1', 'alice')
    expect(item).toMatchObject({
      title: 'Hello there, I need help with invoice 42',
      preview: 'echo: third',
      messageCount: 6,
    })
  })

  it('shortens a long first message and a long last message', async () => {
    const long = 'word '.repeat(100)
    await agentOf(manager('fields-long', 'alice')).invoke(long)
    const item = await summary('fields-long', 'alice')
    expect(item.title!.length).toBeLessThanOrEqual(80)
    expect(item.title!.endsWith('…')).toBe(true)
    expect(item.preview!.length).toBeLessThanOrEqual(120)
    expect(item.preview!.startsWith('echo: word word')).toBe(true)
  })

  it('setTitle() overrides the automatic title, survives turns, and null restores it', async () => {
    const m = manager('titled', 'alice')
    const agent = agentOf(m)
    await agent.invoke('first message')
    await m.setTitle('Invoice dispute')
    await agent.invoke('more')
    expect((await summary('titled', 'alice')).title).toBe('Invoice dispute')
    await m.setTitle(null)
    expect((await summary('titled', 'alice')).title).toBe('first message')
    await expect(m.setTitle('   ')).rejects.toBeInstanceOf(ValidationError)
    // On a session that does not exist yet, setTitle creates it (with its user).
    await manager('titled-new', 'alice').setTitle('Planned')
    expect(await summary('titled-new', 'alice')).toMatchObject({ title: 'Planned', userId: 'alice', messageCount: 0 })
  })
})

describe('userId', () => {
  it('is recorded at creation and immutable afterwards (a different value is ignored with a warning)', async () => {
    await manager('owned', 'alice').updateMetadata({ a: 1 })
    const intruder = manager('owned', 'bob')
    const warnings: string[] = []
    const sink: Logger = { debug() {}, info() {}, warn: (m) => warnings.push(m), error() {} }
    configureLogger({ logger: sink, level: 'warn' })
    try {
      await intruder.updateMetadata({ b: 2 })
      await intruder.addFeedback({ rating: 'up' })
      await agentOf(intruder).invoke('hello from bob')
    } finally {
      configureLogger({ logger: console, level: 'warn' })
    }
    expect(warnings.filter((w) => w.includes('user id is immutable'))).toHaveLength(1)
    expect(await intruder.getUserId()).toBe('alice')
    const bobs = await listSessions(collections(), { userId: 'bob' })
    expect(bobs.items.map((s) => s.sessionId)).not.toContain('owned')
    expect((await summary('owned', 'alice')).userId).toBe('alice')
  })

  it('comes from the factory, and a createSessionManager override wins', async () => {
    const factory = new MongoDBSessionManagerFactory({
      client: t.client,
      databaseName: t.databaseName,
      userId: 'grace',
    })
    await factory.createSessionManager('factory-default').ensureSession()
    await factory.createSessionManager('factory-override', { userId: 'heidi' }).ensureSession()
    expect(await manager('factory-default').getUserId()).toBe('grace')
    expect(await manager('factory-override').getUserId()).toBe('heidi')
  })

  it('deleteSessions takes userId as its criterion (a data-subject delete)', async () => {
    await agentOf(manager('ivan-1', 'ivan')).invoke('delete me')
    await manager('ivan-2', 'ivan').updateMetadata({ x: 1 })
    await manager('judy-1', 'judy').updateMetadata({ x: 1 })
    const counts = await deleteSessions(collections(), { userId: 'ivan' })
    expect(counts).toMatchObject({ sessions: 2, messages: 2 })
    expect((await listSessions(collections(), { userId: 'ivan' })).items).toEqual([])
    expect((await listSessions(collections(), { userId: 'judy' })).items).toHaveLength(1)
  })

  it('rejects an invalid userId', () => {
    expect(() => manager('bad-user', '')).toThrow(/userId/)
  })

  it('lists one user’s sessions, newest activity first, keyset-paged', async () => {
    const ids: string[] = []
    for (let i = 0; i < 5; i++) {
      await manager(`carol-${i}`, 'carol').updateMetadata({ i })
      await manager(`dave-${i}`, 'dave').updateMetadata({ i })
      ids.unshift(`carol-${i}`)
      await new Promise((r) => setTimeout(r, 3))
    }
    const seen: string[] = []
    let cursor: string | null = null
    do {
      const page = await listSessions(collections(), { userId: 'carol', limit: 2, cursor })
      expect(page.items.every((s) => s.userId === 'carol')).toBe(true)
      seen.push(...page.items.map((s) => s.sessionId))
      cursor = page.nextCursor
    } while (cursor)
    expect(seen).toEqual(ids)
    const names = (await collections().sessions.indexes()).map((i) => i.name)
    expect(names).toContain('msm_user_updated')
  })
})

describe('searchSessions and the search_sessions tool', () => {
  beforeAll(async () => {
    const erin = agentOf(manager('erin-1', 'erin'))
    await erin.invoke('Let us pick the Zephyr plan for the migration')
    await erin.invoke('unrelated follow-up')
    await erin.invoke('another one')
    await agentOf(manager('erin-2', 'erin')).invoke('weather talk')
    await agentOf(manager('frank-1', 'frank')).invoke('Frank also mentions zephyr here')
  })

  it('finds by title, preview and message text, only in the given user’s sessions', async () => {
    const hits = await searchSessions(collections(), { text: 'ZEPHYR', userId: 'erin' })
    expect(hits.map((h) => h.session.sessionId)).toEqual(['erin-1'])
    expect(hits[0]!.matchedIn).toEqual(['title', 'messages'])
    expect(hits[0]!.snippet).toContain('Zephyr plan')
    const frank = await searchSessions(collections(), { text: 'zephyr', userId: 'frank' })
    expect(frank.map((h) => h.session.sessionId)).toEqual(['frank-1'])
    // A middle message only (neither title nor preview).
    const middle = await searchSessions(collections(), { text: 'UNRELATED follow', userId: 'erin' })
    expect(middle.map((h) => [h.session.sessionId, h.matchedIn])).toEqual([['erin-1', ['messages']]])
    expect(await searchSessions(collections(), { text: 'weather', userId: 'frank' })).toEqual([])
    await expect(searchSessions(collections(), { text: '  ' })).rejects.toBeInstanceOf(ValidationError)
  })

  it('the tool is scoped to the session’s own user, and refuses without one', async () => {
    const erinResult = (await toolSearch(manager('erin-3', 'erin'), 'zephyr')) as {
      ok: boolean
      results: { sessionId: string }[]
    }
    expect(erinResult.ok).toBe(true)
    expect(erinResult.results.map((r) => r.sessionId)).toEqual(['erin-1'])
    const frankResult = (await toolSearch(manager('frank-2', 'frank'), 'zephyr')) as {
      results: { sessionId: string }[]
    }
    expect(frankResult.results.map((r) => r.sessionId)).toEqual(['frank-1'])
    expect(await toolSearch(manager('anonymous'), 'zephyr')).toEqual({
      ok: false,
      error: expect.stringMatching(/no user/),
    })
  })
})
