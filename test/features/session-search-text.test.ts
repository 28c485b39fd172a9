/**
 * How `searchSessions` picks its way at run time: on FerretDB 1.24 (no text indexes) it must detect
 * that without creating anything and answer with the bounded scan, never sending `$text`; on a
 * MongoDB (`MONGODB_URI`) it creates the `msm_text` indexes and answers phrase queries from them,
 * in every live session of the user, and falls back to the scan when an index disappears.
 */
import { randomBytes } from 'node:crypto'
import { Agent } from '@strands-agents/sdk'
import type { Document, MongoClient } from 'mongodb'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import {
  createLocalKeyProvider,
  detectCapabilities,
  MongoDBSessionManager,
  SEARCH_SESSION_WINDOW,
  searchSessions,
} from '../../src/index.js'
import { openCollections, type SessionCollections } from '../../src/storage/collections.js'
import { ensureTextIndexes, textSearchAvailable, TEXT_INDEX_NAME } from '../../src/storage/text-index.js'
import { ScriptedModel } from '../../src/testing/index.js'
import { echoResponder } from '../support/agents.js'
import { countCommands, type CommandLog } from '../support/command-counter.js'
import { openTestDatabase, type TestDatabase } from '../support/mongo.js'

let t: TestDatabase
let client: MongoClient
let log: CommandLog
let collections: SessionCollections
beforeAll(async () => {
  t = await openTestDatabase('msm_search_text')
  client = await t.newClient({ monitorCommands: true })
  log = countCommands(client)
  collections = openCollections(client.db(t.databaseName))
})
afterAll(async () => {
  log.stop()
  await t.cleanup()
})

function manager(
  sessionId: string,
  userId: string,
  extra: Partial<ConstructorParameters<typeof MongoDBSessionManager>[0]> = {},
) {
  return new MongoDBSessionManager({ sessionId, client, databaseName: t.databaseName, userId, ...extra })
}

async function converse(sessionManager: MongoDBSessionManager, ...texts: string[]): Promise<void> {
  const agent = new Agent({ model: new ScriptedModel(echoResponder), sessionManager, printer: false })
  for (const text of texts) await agent.invoke(text)
}

/** Whether any command sent since the last reset carried a `$text` query. */
function sentText(): boolean {
  return log.events.some((event) => JSON.stringify(event.command as Document).includes('"$text"'))
}

async function textIndexNames(): Promise<string[]> {
  const names: string[] = []
  for (const collection of [collections.sessions, collections.messages]) {
    const indexes = await collection.listIndexes().toArray()
    for (const index of indexes) if ((index.key as Document)._fts === 'text') names.push(String(index.name))
  }
  return names
}

describe.runIf(inject('mongoEngine') === 'ferretdb')('on FerretDB 1.24 (no text indexes)', () => {
  beforeAll(async () => {
    await converse(manager('ferret-1', 'erin'), 'Let us pick the Zephyr plan for the migration', 'unrelated follow-up')
    await converse(manager('ferret-2', 'frank'), 'Frank also mentions the zephyr plan')
  })

  it('detects that there is no text index, creates none, and says so without a command', async () => {
    expect((await detectCapabilities(client)).textIndexes).toBe(false)
    log.reset()
    expect(await ensureTextIndexes(client, collections)).toBe(false)
    expect(await textSearchAvailable(client, collections)).toBe(false)
    expect(log.commands).toEqual([])
    expect(await textIndexNames()).toEqual([])
  })

  it('answers with the bounded scan: two finds, no $text, every hit marked scan', async () => {
    for (let round = 0; round < 2; round++) {
      log.reset()
      const hits = await searchSessions(collections, { text: 'zephyr PLAN', userId: 'erin' })
      expect(hits.map((h) => [h.session.sessionId, h.matchedIn, h.mode])).toEqual([
        ['ferret-1', ['title', 'messages'], 'scan'],
      ])
      expect(log.commands).toEqual(['find', 'find'])
      expect(sentText()).toBe(false)
    }
    // A fragment of a word is found: substring semantics.
    const fragment = await searchSessions(collections, { text: 'ephy' })
    expect(fragment.map((h) => h.session.sessionId).sort()).toEqual(['ferret-1', 'ferret-2'])
    expect(fragment.every((h) => h.mode === 'scan')).toBe(true)
  })

  it('the agent tool, through a manager, sends no $text either', async () => {
    const searcher = manager('ferret-3', 'erin')
    const model = new ScriptedModel([
      { toolUse: { name: 'search_sessions', input: { query: 'zephyr' } } },
      { text: 'ok' },
    ])
    const agent = new Agent({ model, tools: [searcher.getSessionSearchTool()], printer: false })
    log.reset()
    await agent.invoke('what did we decide?')
    expect(sentText()).toBe(false)
    expect(log.commands).not.toContain('createIndexes')
  })
})

// Needs a real MongoDB (MONGODB_URI); FerretDB 1.24 has no text indexes.
describe.runIf(inject('mongoEngine') === 'mongodb')('on MongoDB (text indexes)', () => {
  const longAgo = (days: number) => new Date(Date.now() - days * 86_400_000)

  beforeAll(async () => {
    // Recent sessions, within the scan window.
    await converse(manager('recent-1', 'erin'), 'The invoice dispute is settled', 'thanks')
    await converse(manager('frank-1', 'frank'), 'Frank has an invoice dispute too')
    // An old one, pushed out of the scan window by newer sessions.
    await converse(manager('old-1', 'erin'), 'Please book the Kilimanjaro expedition', 'and one more thing')
    await collections.sessions.updateOne({ _id: 'old-1' }, { $set: { updated_at: longAgo(30) } })
    await collections.sessions.insertMany(
      Array.from({ length: SEARCH_SESSION_WINDOW }, (_, i) => ({
        _id: `filler-${i}`,
        session_id: `filler-${i}`,
        user_id: 'erin',
        updated_at: longAgo(1),
        title: `filler ${i}`,
      })) as never,
    )
    // An encrypted session: its message content is sealed, so only a title set in clear can match.
    const sealed = manager('sealed-1', 'erin', { encryption: { keyProvider: createLocalKeyProvider(randomBytes(32)) } })
    await converse(sealed, 'The Kilimanjaro permit number is 42')
    await sealed.setTitle('Kilimanjaro paperwork')
    // An expired one: never found.
    await converse(manager('expired-1', 'erin'), 'Kilimanjaro in the past')
    await collections.sessions.updateOne({ _id: 'expired-1' }, { $set: { expires_at: longAgo(1) } })
    expect(await ensureTextIndexes(client, collections)).toBe(true)
  })

  it('detects the text indexes it created', async () => {
    expect((await detectCapabilities(client)).textIndexes).toBe(true)
    expect((await textIndexNames()).sort()).toEqual([TEXT_INDEX_NAME, TEXT_INDEX_NAME])
    expect(await textSearchAvailable(client, collections)).toBe(true)
  })

  it('finds a phrase in every live session of the user, beyond the scan window, with $text', async () => {
    log.reset()
    const hits = await searchSessions(collections, { text: 'kilimanjaro EXPEDITION', userId: 'erin' })
    expect(sentText()).toBe(true)
    expect(hits.map((h) => [h.session.sessionId, h.matchedIn, h.mode])).toEqual([
      ['old-1', ['title', 'messages'], 'text'],
    ])
    expect(hits[0]!.snippet).toContain('Kilimanjaro expedition')
    // The scan does not reach it.
    expect(
      await searchSessions(collections, { text: 'kilimanjaro expedition', userId: 'erin' }, { mode: 'scan' }),
    ).toEqual([])
    // Sealed message text is not indexed; the clear title is. The expired session is never found.
    const any = await searchSessions(collections, { text: 'kilimanjaro', userId: 'erin' })
    expect(any.map((h) => [h.session.sessionId, h.matchedIn])).toEqual([
      ['sealed-1', ['title']],
      ['old-1', ['title', 'messages']],
    ])
  })

  it('keeps to the user, and searches everyone without one', async () => {
    const erin = await searchSessions(collections, { text: 'invoice dispute', userId: 'erin' })
    expect(erin.map((h) => h.session.sessionId)).toEqual(['recent-1'])
    const everyone = await searchSessions(collections, { text: 'invoice dispute' })
    expect(everyone.map((h) => h.session.sessionId).sort()).toEqual(['frank-1', 'recent-1'])
    expect(everyone.every((h) => h.mode === 'text')).toBe(true)
  })

  it('matches whole words: a fragment of one word is found only by the scan', async () => {
    expect(await searchSessions(collections, { text: 'nvoic', userId: 'erin' })).toEqual([])
    const scanned = await searchSessions(collections, { text: 'nvoic', userId: 'erin' }, { mode: 'scan' })
    expect(scanned.map((h) => [h.session.sessionId, h.mode])).toEqual([['recent-1', 'scan']])
    // A phrase with a quote cannot be a phrase query: the scan answers it.
    log.reset()
    const quoted = await searchSessions(collections, { text: 'invoice "dispute', userId: 'erin' })
    expect(quoted).toEqual([])
    expect(sentText()).toBe(false)
  })

  it('falls back to the scan, without an error, when a text index disappears', async () => {
    await collections.messages.dropIndex(TEXT_INDEX_NAME)
    // The detection still remembers the index: the $text query fails, and the scan answers.
    const hits = await searchSessions(collections, { text: 'invoice dispute', userId: 'erin' })
    expect(hits.map((h) => [h.session.sessionId, h.mode])).toEqual([['recent-1', 'scan']])
    expect(await textSearchAvailable(client, collections)).toBe(false)
    log.reset()
    await searchSessions(collections, { text: 'invoice dispute', userId: 'erin' })
    expect(sentText()).toBe(false)
  })
})
