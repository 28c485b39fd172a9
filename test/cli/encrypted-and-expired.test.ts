/**
 * What the CLI and the viewer's JSON API show of sessions they cannot fully read, against the test
 * server: an expired session is absent (as for the library) until it is pruned, and a value
 * encrypted at rest shows as a placeholder, never as its ciphertext, whether it comes from a real
 * encrypted session (message content) or is planted in a stored document (metadata leaves at any
 * depth, a feedback comment, guardrail policies).
 */
import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { Binary } from 'mongodb'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { EXIT } from '../../src/cli/errors.js'
import { startViewer, type RunningViewer } from '../../src/cli/viewer/server.js'
import { createLocalKeyProvider, MongoDBSessionManager } from '../../src/index.js'
import { openCollections } from '../../src/storage/collections.js'
import { SEALED_SUBTYPE } from '../../src/storage/crypto/cipher.js'
import { testAgent } from '../support/agents.js'
import { openTestDatabase, type TestDatabase } from '../support/mongo.js'
import { cli, dbArgs, seedSession } from './support.js'

const SECRET_PROMPT = 'hello SECRET-PROMPT-7781'
/** Bytes of the planted ciphertexts: none of their forms may appear in any output. */
const PLANTED = Buffer.from('PLANTED-CIPHERTEXT-0xDEADBEEF-9f3a')
const FORBIDDEN = ['PLANTED-CIPHERTEXT', PLANTED.toString('base64'), PLANTED.toString('hex'), SECRET_PROMPT]
const MARKER = { $encrypted: true }

let db: TestDatabase
let dir: string
let viewer: RunningViewer

function sealed(): Binary {
  return new Binary(PLANTED, SEALED_SUBTYPE)
}

function expectNoCiphertext(text: string): void {
  for (const forbidden of FORBIDDEN) expect(text).not.toContain(forbidden)
  // A Uint8Array serialised by JSON.stringify: {"0":80,"1":76,…}
  expect(text).not.toMatch(/"0":\s*80,\s*"1":\s*76/)
}

async function api(pathname: string): Promise<{ status: number; body: string }> {
  const response = await fetch(new URL(pathname, viewer.url))
  return { status: response.status, body: await response.text() }
}

beforeAll(async () => {
  db = await openTestDatabase('msm_cli_sealed')
  dir = await mkdtemp(path.join(tmpdir(), 'msm-cli-sealed-'))

  // Expired through the library: written with a clock two days back and a one-day retention.
  const backdated = new MongoDBSessionManager({
    sessionId: 'expired-retention',
    client: db.client,
    databaseName: db.databaseName,
    retention: { expireAfter: '1d', now: () => new Date(Date.now() - 2 * 86_400_000) },
  })
  await testAgent({ sessionManager: backdated, id: 'support' }).invoke('hi')
  await backdated.updateMetadata({ status: 'old' })
  await backdated.close()
  // Expired by its stored expiry time; and a live one whose expiry is still ahead.
  await seedSession(db, 'expired-field', { metadata: { status: 'old' }, feedback: ['up'] })
  await seedSession(db, 'live-future', { metadata: { status: 'new' } })
  await db.db
    .collection('sessions')
    .updateOne({ _id: 'expired-field' as never }, { $set: { expires_at: new Date(Date.now() - 60_000) } })
  await db.db
    .collection('sessions')
    .updateOne({ _id: 'live-future' as never }, { $set: { expires_at: new Date(Date.now() + 86_400_000) } })

  // A real encrypted session (message content sealed by the library), with metadata and feedback.
  const manager = new MongoDBSessionManager({
    sessionId: 'secret-1',
    client: db.client,
    databaseName: db.databaseName,
    metadataFields: ['status'],
    encryption: { keyProvider: createLocalKeyProvider(randomBytes(32)) },
  })
  await testAgent({ sessionManager: manager, id: 'support' }).invoke(SECRET_PROMPT)
  await manager.updateMetadata({
    status: 'open',
    note: 'to be sealed',
    deep: { inner: 'to be sealed', kept: 'visible' },
  })
  await manager.addFeedback({ rating: 'down', comment: 'to be sealed', agentId: 'support' })
  await manager.close()
  // Sealed values planted with known bytes (so no form of them may appear in any output): metadata
  // leaves at any depth, the feedback comment, guardrail policies.
  await db.db.collection('sessions').updateOne(
    { _id: 'secret-1' as never },
    {
      $set: {
        'metadata.note': sealed(),
        'metadata.deep.inner': sealed(),
        // A value stored in clear (written before encryption was turned on) stays readable.
        'metadata.deep.kept': 'visible',
        'metadata.list': [1, sealed()],
      },
    },
  )
  await db.db.collection('feedback').updateOne({ session_id: 'secret-1' }, { $set: { comment: sealed() } })
  await db.db.collection('guardrail_events').insertOne({
    _id: 'guard-1' as never,
    session_id: 'secret-1',
    agent_id: 'support',
    message_tracking_id: null,
    message_seq: 0,
    action: 'BLOCKED',
    stop_reason: 'guardrail_intervened',
    policies_triggered: sealed(),
    created_at: new Date(),
  })

  // The viewer's API needs no built front end: stub assets.
  const assets = path.join(dir, 'assets')
  await mkdir(assets)
  for (const file of ['index.html', 'viewer.js', 'viewer.css']) await writeFile(path.join(assets, file), '')
  viewer = await startViewer({
    collections: openCollections(db.client.db(db.databaseName)),
    host: '127.0.0.1',
    port: 0,
    token: null,
    metadataFields: ['status'],
    assetsDir: assets,
  })
})

afterAll(async () => {
  await viewer?.close()
  await db?.cleanup()
  await rm(dir, { recursive: true, force: true })
})

describe('expired sessions are absent', () => {
  it.each(['expired-retention', 'expired-field'])(
    '%s: show and export fail exactly as for a missing session',
    async (id) => {
      const missing = await cli(['sessions', 'show', 'never-was', ...dbArgs(db)])
      expect(missing.code).toBe(EXIT.notFound)
      for (const command of [
        ['sessions', 'show', id],
        ['sessions', 'show', id, '--json'],
        ['sessions', 'export', id],
      ]) {
        const result = await cli([...command, ...dbArgs(db)])
        expect(result.code, command.join(' ')).toBe(EXIT.notFound)
        expect(result.stderr).toBe(missing.stderr.replace('never-was', id))
        expect(result.stdout).toBe('')
      }
      const file = path.join(dir, `${id}.jsonl`)
      const toFile = await cli(['sessions', 'export', id, '--out', file, ...dbArgs(db)])
      expect(toFile.code).toBe(EXIT.notFound)
      expect(existsSync(file)).toBe(false)
    },
  )

  it('the list hides them; a session whose expiry is ahead shows everywhere', async () => {
    const list = JSON.parse((await cli(['sessions', 'list', '--json', ...dbArgs(db)])).stdout) as {
      items: { sessionId: string }[]
    }
    const ids = list.items.map((i) => i.sessionId)
    expect(ids).toContain('live-future')
    expect(ids).not.toContain('expired-field')
    expect(ids).not.toContain('expired-retention')
    const show = await cli(['sessions', 'show', 'live-future', ...dbArgs(db)])
    expect(show.code).toBe(EXIT.ok)
    expect(show.stdout).toContain('Session live-future')
    expect((await cli(['sessions', 'export', 'live-future', ...dbArgs(db)])).code).toBe(EXIT.ok)
    expect((await api('/api/sessions/live-future')).status).toBe(200)
  })

  it('the viewer answers 404, as for a missing session, and leaves them out of its list', async () => {
    for (const id of ['expired-retention', 'expired-field']) {
      const response = await api(`/api/sessions/${id}`)
      expect(response.status).toBe(404)
      expect(JSON.parse(response.body)).toEqual({ error: `session '${id}' not found` })
    }
    const list = JSON.parse((await api('/api/sessions')).body) as { items: { sessionId: string }[] }
    expect(list.items.map((i) => i.sessionId)).not.toContain('expired-field')
  })
})

describe('encrypted values show as a placeholder', () => {
  it('sessions show: [encrypted] for message content, metadata leaves, the feedback comment', async () => {
    const result = await cli(['sessions', 'show', 'secret-1', ...dbArgs(db)])
    expect(result.code).toBe(EXIT.ok)
    expectNoCiphertext(result.stdout + result.stderr)
    expect(result.stdout).toMatch(/user\s+\[encrypted\]/)
    expect(result.stdout).toMatch(/assistant\s+\[encrypted\]/)
    // The metadata line is one compact (truncated) JSON text.
    expect(result.stdout).toContain('"inner":"[encrypted]","kept":"visible"')
    expect(result.stdout).toContain('"note":"[encrypted]"')
    expect(result.stdout).toMatch(/down\s+\[encrypted\]/)
  })

  it('sessions show --json: { "$encrypted": true } where each sealed value was', async () => {
    const result = await cli(['sessions', 'show', 'secret-1', '--json', ...dbArgs(db)])
    expect(result.code).toBe(EXIT.ok)
    expectNoCiphertext(result.stdout)
    const view = JSON.parse(result.stdout)
    expect(view.metadata).toEqual({
      status: 'open',
      note: MARKER,
      deep: { inner: MARKER, kept: 'visible' },
      list: [1, MARKER],
    })
    expect(view.messages.length).toBeGreaterThanOrEqual(2)
    for (const m of view.messages) expect(m.message.content).toEqual(MARKER)
    expect(view.feedback[0].comment).toEqual(MARKER)
  })

  it('sessions export: every line readable, sealed values as markers', async () => {
    const result = await cli(['sessions', 'export', 'secret-1', ...dbArgs(db)])
    expect(result.stderr).toBe('')
    expect(result.code).toBe(EXIT.ok)
    expectNoCiphertext(result.stdout)
    const lines = result.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
    expect(lines[0].metadata.deep).toEqual({ inner: MARKER, kept: 'visible' })
    const messages = lines.filter((l) => l.type === 'message')
    expect(messages.length).toBeGreaterThanOrEqual(2)
    for (const m of messages) expect(m.message.content).toEqual(MARKER)
    expect(lines.find((l) => l.type === 'feedback').comment).toEqual(MARKER)
    expect(lines.find((l) => l.type === 'guardrail_event').policiesTriggered).toEqual(MARKER)
  })

  it('sessions list and feedback list, text and JSON', async () => {
    const text = await cli(['sessions', 'list', ...dbArgs(db)])
    expect(text.code).toBe(EXIT.ok)
    expectNoCiphertext(text.stdout)
    expect(text.stdout).toContain('{"deep":{"inner":"[encrypted]"')
    const json = await cli(['sessions', 'list', '--json', ...dbArgs(db)])
    expectNoCiphertext(json.stdout)
    const item = (JSON.parse(json.stdout) as { items: { sessionId: string; metadata: unknown }[] }).items.find(
      (i) => i.sessionId === 'secret-1',
    )
    expect(item?.metadata).toMatchObject({ note: MARKER, deep: { inner: MARKER }, list: [1, MARKER] })

    const feedback = await cli(['feedback', 'list', '--session', 'secret-1', ...dbArgs(db)])
    expect(feedback.code).toBe(EXIT.ok)
    expectNoCiphertext(feedback.stdout)
    expect(feedback.stdout).toMatch(/down\s+support\s+\[encrypted\]/)
    const feedbackJson = await cli(['feedback', 'list', '--session', 'secret-1', '--json', ...dbArgs(db)])
    expectNoCiphertext(feedbackJson.stdout)
    expect(JSON.parse(feedbackJson.stdout).items[0].comment).toEqual(MARKER)
  })

  it('the viewer API: session page and list serve markers, never ciphertext', async () => {
    const page = await api('/api/sessions/secret-1')
    expect(page.status).toBe(200)
    expectNoCiphertext(page.body)
    const view = JSON.parse(page.body)
    expect(view.metadata).toMatchObject({ note: MARKER, deep: { inner: MARKER, kept: 'visible' } })
    expect(view.messages.length).toBeGreaterThanOrEqual(2)
    for (const m of view.messages) expect(m.blocks).toEqual([{ kind: 'encrypted' }])
    expect(view.feedback[0].comment).toEqual(MARKER)
    expect(view.guardrailEvents[0].policiesTriggered).toEqual(MARKER)

    const list = await api('/api/sessions')
    expectNoCiphertext(list.body)
    const item = (JSON.parse(list.body) as { items: { sessionId: string; metadata: unknown }[] }).items.find(
      (i) => i.sessionId === 'secret-1',
    )
    expect(item?.metadata).toMatchObject({ note: MARKER, list: [1, MARKER] })
  })
})
