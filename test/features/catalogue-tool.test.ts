import { Agent } from '@strands-agents/sdk'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ValidationError } from '../../src/errors.js'
import { deleteSessions, listSessions, metadataFieldIndexes } from '../../src/features/catalogue.js'
import { SessionData } from '../../src/features/session-data.js'
import type { MetadataHook } from '../../src/hooks/types.js'
import { ensureIndexes } from '../../src/storage/collections.js'
import { ScriptedModel } from '../../src/testing/scripted-model.js'
import { openFeaturesDatabase, type FeaturesTestContext } from './support.js'

let ctx: FeaturesTestContext

beforeAll(async () => {
  ctx = await openFeaturesDatabase('msm_catalogue')
  await ensureIndexes(ctx.db.client, ctx.collections, { sessions: metadataFieldIndexes(['status', 'customer.tier']) })
})
afterAll(async () => {
  await ctx.db.cleanup()
})

const metadataFields = ['status', 'customer.tier']

describe('session catalogue', () => {
  it('creates indexes for declared fields', async () => {
    const names = (await ctx.collections.sessions.indexes()).map((i) => i.name)
    expect(names).toEqual(
      expect.arrayContaining(['msm_meta_status', 'msm_meta_customer_tier', 'msm_app_updated', 'msm_updated']),
    )
  })

  it('lists with filters and keyset pagination, most recently updated first', async () => {
    for (let i = 0; i < 7; i++) {
      const data = new SessionData({
        collections: ctx.collections,
        sessionId: `list-${i}`,
        applicationName: i % 2 ? 'odd' : 'even',
      })
      await data.updateMetadata({ status: i < 4 ? 'open' : 'closed', customer: { tier: i === 2 ? 'gold' : 'basic' } })
      await new Promise((r) => setTimeout(r, 3))
    }
    const seen: string[] = []
    let cursor: string | null = null
    do {
      const page = await listSessions(ctx.collections, { limit: 3, cursor }, { metadataFields })
      seen.push(...page.items.map((s) => s.sessionId))
      cursor = page.nextCursor
    } while (cursor)
    expect(seen).toEqual(['list-6', 'list-5', 'list-4', 'list-3', 'list-2', 'list-1', 'list-0'])

    const open = await listSessions(
      ctx.collections,
      { metadata: { status: 'open' }, applicationName: 'even' },
      { metadataFields },
    )
    expect(open.items.map((s) => s.sessionId)).toEqual(['list-2', 'list-0'])
    expect(open.items[0]).toMatchObject({
      applicationName: 'even',
      metadata: { status: 'open', customer: { tier: 'gold' } },
    })
    const gold = await listSessions(ctx.collections, { metadata: { 'customer.tier': 'gold' } }, { metadataFields })
    expect(gold.items.map((s) => s.sessionId)).toEqual(['list-2'])

    const all = (await listSessions(ctx.collections, {}, { metadataFields })).items
    const middle = all[3]!.updatedAt!
    const before = await listSessions(ctx.collections, { updatedBefore: middle }, { metadataFields })
    expect(before.items.map((s) => s.sessionId)).toEqual(['list-2', 'list-1', 'list-0'])
    const after = await listSessions(ctx.collections, { updatedAfter: middle }, { metadataFields })
    expect(after.items.map((s) => s.sessionId)).toEqual(['list-6', 'list-5', 'list-4'])
  })

  it('filters on feedback rating', async () => {
    const rated = (sessionId: string) =>
      new SessionData({ collections: ctx.collections, sessionId, applicationName: 'rated' })
    await rated('rated-up').addFeedback({ rating: 'up' })
    await rated('rated-down').addFeedback({ rating: 'down' })
    await rated('rated-both').addFeedback({ rating: 'up' })
    await rated('rated-both').addFeedback({ rating: null })
    const ids = async (feedbackRating: 'up' | 'down' | 'neutral') =>
      (await listSessions(ctx.collections, { applicationName: 'rated', feedbackRating })).items
        .map((s) => s.sessionId)
        .sort()
    expect(await ids('up')).toEqual(['rated-both', 'rated-up'])
    expect(await ids('down')).toEqual(['rated-down'])
    expect(await ids('neutral')).toEqual(['rated-both'])
    await expect(listSessions(ctx.collections, { feedbackRating: '$gt' as never })).rejects.toBeInstanceOf(
      ValidationError,
    )
  })

  it('refuses filters on undeclared fields, operator-like values and foreign cursors', async () => {
    await expect(
      listSessions(ctx.collections, { metadata: { secret: 'x' } }, { metadataFields }),
    ).rejects.toBeInstanceOf(ValidationError)
    await expect(
      listSessions(ctx.collections, { metadata: { status: { $ne: 'x' } as never } }, { metadataFields }),
    ).rejects.toBeInstanceOf(ValidationError)
    await expect(listSessions(ctx.collections, { cursor: 'eyJrIjoiZmVlZGJhY2sifQ' })).rejects.toBeInstanceOf(
      ValidationError,
    )
  })

  it('deletes sessions across every collection and returns counts', async () => {
    const keep = new SessionData({ collections: ctx.collections, sessionId: 'keep-me' })
    await keep.addFeedback({ rating: 'up' })
    const ids = ['gdpr-1', 'gdpr-2']
    for (const id of ids) {
      const data = new SessionData({ collections: ctx.collections, sessionId: id, applicationName: 'gdpr-app' })
      await data.updateMetadata({ status: 'open' })
      await data.addFeedback({ rating: 'down' })
      await ctx.collections.messages.insertOne({
        _id: `${id}/agent/0`,
        session_id: id,
        agent_id: 'agent',
        seq: 0,
        role: 'user',
        content: [],
        tracking_id: null,
        op_id: 'x',
        created_at: new Date(),
      })
      await ctx.collections.guardrailEvents.insertOne({
        _id: `${id}-g`,
        session_id: id,
        agent_id: 'agent',
        message_tracking_id: null,
        message_seq: null,
        action: 'BLOCKED',
        stop_reason: null,
        policies_triggered: null,
        created_at: new Date(),
      })
      await ctx.collections.storage.insertMany([
        { _id: `session/${id}/a`, data: null as never, updated_at: new Date() },
        { _id: `session/${id}/b/c`, data: null as never, updated_at: new Date() },
      ])
    }
    // A key of another session sharing the prefix must survive.
    await ctx.collections.storage.insertOne({ _id: 'session/gdpr-10/a', data: null as never, updated_at: new Date() })

    await expect(deleteSessions(ctx.collections, {})).rejects.toBeInstanceOf(ValidationError)
    const counts = await deleteSessions(ctx.collections, { applicationName: 'gdpr-app' })
    expect(counts).toEqual({
      sessions: 2,
      messages: 2,
      snapshots: 0,
      snapshotChunks: 0,
      feedback: 2,
      guardrailEvents: 2,
      storage: 4,
    })
    expect(await ctx.collections.sessions.countDocuments({ _id: { $in: ids } })).toBe(0)
    expect(await ctx.collections.storage.countDocuments({ _id: 'session/gdpr-10/a' })).toBe(1)
    expect(await ctx.collections.feedback.countDocuments({ session_id: 'keep-me' })).toBe(1)
    // Explicit ids also remove leftovers whose session document is gone.
    expect(await deleteSessions(ctx.collections, { sessionIds: ['gdpr-10'] })).toMatchObject({
      sessions: 0,
      storage: 1,
    })
  })
})

describe('metadata tool', () => {
  it('lets an agent get, set and delete metadata through the hook chain, with JSON-string arguments', async () => {
    const actions: string[] = []
    const hook: MetadataHook = (original, action, _s, args) => {
      actions.push(action)
      return original(args)
    }
    const data = new SessionData({ collections: ctx.collections, sessionId: 'tool-1', metadataHook: hook })
    await data.updateMetadata({ connection_id: 'abc', status: 'new' })
    actions.length = 0
    const metadataTool = data.getMetadataTool({ protectedKeys: ['connection_id'] })
    const model = new ScriptedModel([
      {
        toolUse: {
          name: 'manage_metadata',
          input: { action: 'SET', metadata: '{"status":"escalated","priority":"high"}' },
        },
      },
      { toolUse: { name: 'manage_metadata', input: { action: 'delete', keys: '["priority"]' } } },
      { toolUse: { name: 'manage_metadata', input: { action: 'set', metadata: { connection_id: 'evil' } } } },
      { toolUse: { name: 'manage_metadata', input: { action: 'get', keys: ['status', 'missing'] } } },
      { text: 'done' },
    ])
    const agent = new Agent({ model, tools: [metadataTool], printer: false } as never)
    await agent.invoke('update the ticket')
    expect(await data.getMetadata()).toEqual({ connection_id: 'abc', status: 'escalated' })
    expect(actions).toEqual(['update', 'delete', 'get', 'get'])
    const results = agent.messages
      .flatMap((m) => m.content)
      .filter((b) => b.type === 'toolResultBlock')
      .map((b) => (b as unknown as { content: { json?: unknown }[] }).content[0]!.json)
    expect(results).toEqual([
      { ok: true, action: 'set', updatedKeys: ['status', 'priority'] },
      { ok: true, action: 'delete', deletedKeys: ['priority'] },
      { ok: false, action: 'set', error: expect.stringMatching(/protected/), field: 'connection_id' },
      { ok: true, action: 'get', metadata: { status: 'escalated' }, missingKeys: ['missing'] },
    ])
  })

  it('allowedKeys hides and protects everything else; the name is configurable', async () => {
    const data = new SessionData({ collections: ctx.collections, sessionId: 'tool-2' })
    await data.updateMetadata({ internal: 1, customer: { tier: 'gold', name: 'Ada' } })
    const t = data.getMetadataTool({ name: 'session_notes', allowedKeys: ['customer.tier', 'notes'] })
    expect(t.name).toBe('session_notes')
    expect(await t.invoke({ action: 'get' })).toEqual({
      ok: true,
      action: 'get',
      metadata: { 'customer.tier': 'gold' },
    })
    expect(await t.invoke({ action: 'set', metadata: { internal: 2 } })).toMatchObject({ ok: false, field: 'internal' })
    expect(await t.invoke({ action: 'set', metadata: { notes: 'vip' } })).toMatchObject({ ok: true })
    expect(await t.invoke({ action: 'explode' })).toMatchObject({ ok: false })
    expect(await t.invoke({ action: 'set', metadata: '{not json' })).toMatchObject({ ok: false, field: 'metadata' })
    expect(await data.getMetadata()).toEqual({ internal: 1, customer: { tier: 'gold', name: 'Ada' }, notes: 'vip' })
    expect(() => data.getMetadataTool({ name: 'bad name' })).toThrow(ValidationError)
  })
})
