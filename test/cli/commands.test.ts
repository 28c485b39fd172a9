/** The CLI in-process against the test server: every command, its --json form, and bad input. */
import { readFile, readdir, rm, mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { COMMANDS } from '../../src/cli/commands/index.js'
import { EXIT } from '../../src/cli/errors.js'
import { openTestDatabase, type TestDatabase } from '../support/mongo.js'
import { cli, dbArgs, documentsOf, seedSession } from './support.js'

let db: TestDatabase
let dir: string

beforeAll(async () => {
  db = await openTestDatabase('msm_cli')
  dir = await mkdtemp(path.join(tmpdir(), 'msm-cli-'))
  await seedSession(db, 'alpha-1', {
    applicationName: 'support-bot',
    metadata: { status: 'open', priority: 1 },
    metadataFields: ['status', 'priority'],
    feedback: ['up', 'down', null],
  })
  await seedSession(db, 'alpha-2', {
    applicationName: 'support-bot',
    metadata: { status: 'closed' },
    metadataFields: ['status', 'priority'],
    feedback: ['up'],
  })
  await seedSession(db, 'beta-1', { applicationName: 'sales-bot', prompt: 'hello there', userId: 'user-b' })
})

afterAll(async () => {
  await db.cleanup()
  await rm(dir, { recursive: true, force: true })
})

describe('help and usage', () => {
  it('prints the command list, and --help for every command', async () => {
    const top = await cli(['--help'])
    expect(top.code).toBe(EXIT.ok)
    for (const command of COMMANDS) {
      expect(top.stdout).toContain(command.path.join(' '))
      const help = await cli([...command.path, '--help'])
      expect(help.code, command.path.join(' ')).toBe(EXIT.ok)
      expect(help.stdout).toMatch(/^Usage: mongodb-session-manager /)
      expect(help.stdout).toContain('--json')
    }
  })

  it.each([
    [['frobnicate'], /unknown command 'frobnicate'/],
    [['sessions'], /needs a subcommand: list, show, export, delete/],
    [['sessions', 'list', '--bogus'], /Unknown option '--bogus'/],
    [['sessions', 'list', '--limit', 'ten'], /--limit must be an integer from 1 to 500/],
    [['sessions', 'list', '--limit', '0'], /--limit must be an integer/],
    [['sessions', 'list', '--updated-after', 'yesterday'], /--updated-after must be an ISO date/],
    [['sessions', 'list', '--metadata', 'novalue'], /--metadata expects key=value/],
    [['sessions', 'show'], /expected exactly one session id/],
    [['sessions', 'show', 'Not$Valid'], /session id/],
    [['feedback', 'list', '--rating', 'great'], /--rating must be up, down or neutral/],
    [['sessions', 'list', '--db', 'bad/name'], /not a valid MongoDB database name/],
  ])('%j → exit 2 with a clear message', async (args, message) => {
    const result = await cli([...args, '--uri', db.uri])
    expect(result.code).toBe(EXIT.usage)
    expect(result.stderr).toMatch(message)
    expect(result.stdout).toBe('')
  })

  it('needs a connection string', async () => {
    const result = await cli(['sessions', 'list'], { MONGODB_URI: '' })
    expect(result.code).toBe(EXIT.usage)
    expect(result.stderr).toContain('pass --uri or set MONGODB_URI')
  })

  it('never echoes the password of an unreachable server', async () => {
    const result = await cli(['doctor', '--uri', 'mongodb://admin:s3cr3t-pw@127.0.0.1:9/', '--timeout', '300'])
    expect(result.code).toBe(EXIT.failure)
    expect(result.stderr).toContain('cannot connect to mongodb://***@127.0.0.1:9/')
    expect(result.stderr + result.stdout).not.toContain('s3cr3t')
  })
})

describe('sessions list', () => {
  it('lists, filters by application and declared metadata, and pages', async () => {
    const all = JSON.parse((await cli(['sessions', 'list', '--json', ...dbArgs(db)])).stdout)
    expect(all.items.map((i: { sessionId: string }) => i.sessionId).sort()).toEqual(['alpha-1', 'alpha-2', 'beta-1'])

    const app = JSON.parse((await cli(['sessions', 'list', '--app', 'sales-bot', '--json', ...dbArgs(db)])).stdout)
    expect(app.items.map((i: { sessionId: string }) => i.sessionId)).toEqual(['beta-1'])

    const open = await cli(['sessions', 'list', '--metadata', 'status=open', '--json', ...dbArgs(db)])
    expect(open.code).toBe(0)
    expect(JSON.parse(open.stdout).items.map((i: { sessionId: string }) => i.sessionId)).toEqual(['alpha-1'])
    const numeric = await cli(['sessions', 'list', '--metadata', 'priority:=1', '--json', ...dbArgs(db)])
    expect(JSON.parse(numeric.stdout).items.map((i: { sessionId: string }) => i.sessionId)).toEqual(['alpha-1'])

    const page1 = JSON.parse((await cli(['sessions', 'list', '--limit', '2', '--json', ...dbArgs(db)])).stdout)
    expect(page1.items).toHaveLength(2)
    expect(page1.nextCursor).toEqual(expect.any(String))
    const page2 = JSON.parse(
      (await cli(['sessions', 'list', '--limit', '2', '--cursor', page1.nextCursor, '--json', ...dbArgs(db)])).stdout,
    )
    expect(page2.items).toHaveLength(1)
    expect(page2.nextCursor).toBeNull()

    const text = await cli(['sessions', 'list', ...dbArgs(db)])
    expect(text.stdout).toMatch(/SESSION\s+APPLICATION\s+UPDATED\s+USER\s+TITLE\s+PREVIEW\s+MSGS/)
    expect(text.stdout).toContain('support-bot')
    expect(text.stdout).toMatch(/beta-1\s.*user-b\s+hello there\s+.*echo: hello there/)
  })

  it("--user lists one user's sessions, with title and preview", async () => {
    const mine = JSON.parse((await cli(['sessions', 'list', '--user', 'user-b', '--json', ...dbArgs(db)])).stdout)
    expect(mine.items).toEqual([
      expect.objectContaining({
        sessionId: 'beta-1',
        userId: 'user-b',
        title: 'hello there',
        preview: expect.any(String),
      }),
    ])
    const none = JSON.parse((await cli(['sessions', 'list', '--user', 'nobody', '--json', ...dbArgs(db)])).stdout)
    expect(none.items).toEqual([])
  })

  it('refuses filters on undeclared metadata fields and bad cursors (exit 2)', async () => {
    const undeclared = await cli(['sessions', 'list', '--metadata', 'colour=red', ...dbArgs(db)])
    expect(undeclared.code).toBe(EXIT.usage)
    expect(undeclared.stderr).toContain('not declared in metadataFields')
    const cursor = await cli(['sessions', 'list', '--cursor', 'garbage', ...dbArgs(db)])
    expect(cursor.code).toBe(EXIT.usage)
  })
})

describe('sessions show', () => {
  it('shows transcript, metadata, feedback and metrics', async () => {
    const result = await cli(['sessions', 'show', 'alpha-1', ...dbArgs(db)])
    expect(result.code).toBe(0)
    expect(result.stdout).toContain('Session alpha-1')
    expect(result.stdout).toContain('Where is my order?')
    expect(result.stdout).toContain('→ tool lookup_order({"orderId":"A-1"})')
    expect(result.stdout).toContain('Your order has shipped.')
    expect(result.stdout).toContain('"status":"open"')
    expect(result.stdout).toMatch(/Feedback \(↑ 1 {2}↓ 1 {2}· 1\)/)
    expect(result.stdout).toMatch(/invocations\s+1/)

    const json = JSON.parse((await cli(['sessions', 'show', 'alpha-1', '--json', ...dbArgs(db)])).stdout)
    expect(json.messages).toHaveLength(4)
    expect(json.feedback).toHaveLength(3)
    expect(json.metrics.session.invocations).toBe(1)
    expect(json.agents[0].agentId).toBe('support')
  })

  it('exits 3 for an unknown session', async () => {
    const result = await cli(['sessions', 'show', 'nope', ...dbArgs(db)])
    expect(result.code).toBe(EXIT.notFound)
    expect(result.stderr).toContain("session 'nope' not found")
  })
})

describe('sessions export', () => {
  it('writes JSON Lines to a file that appears only when complete', async () => {
    const file = path.join(dir, 'alpha-1.jsonl')
    const result = await cli(['sessions', 'export', 'alpha-1', '--out', file, ...dbArgs(db)])
    expect(result.code).toBe(0)
    const lines = (await readFile(file, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
    expect(lines[0]).toMatchObject({
      type: 'session',
      session_id: 'alpha-1',
      metadata: { status: 'open', priority: 1 },
    })
    expect(lines.filter((l) => l.type === 'message')).toHaveLength(4)
    expect(lines.filter((l) => l.type === 'feedback')).toHaveLength(3)
    expect(lines.find((l) => l.type === 'message' && l.seq === 1).message.content[0].toUse).toBeUndefined()
    expect((await readdir(dir)).filter((f) => f.includes('partial'))).toEqual([])
  })

  it('writes to stdout', async () => {
    const result = await cli(['sessions', 'export', 'beta-1', ...dbArgs(db)])
    expect(result.code).toBe(0)
    const types = result.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).type)
    expect(types).toEqual(['session', 'message', 'message'])
  })

  it('leaves no file behind for an unknown session (exit 3)', async () => {
    const file = path.join(dir, 'missing.jsonl')
    const result = await cli(['sessions', 'export', 'missing', '--out', file, ...dbArgs(db)])
    expect(result.code).toBe(EXIT.notFound)
    expect((await readdir(dir)).filter((f) => f.includes('missing'))).toEqual([])
  })
})

describe('feedback', () => {
  it('lists newest first with filters', async () => {
    const all = JSON.parse((await cli(['feedback', 'list', '--json', ...dbArgs(db)])).stdout)
    expect(all.items).toHaveLength(4)
    const down = JSON.parse((await cli(['feedback', 'list', '--rating', 'down', '--json', ...dbArgs(db)])).stdout)
    expect(down.items.map((f: { sessionId: string }) => f.sessionId)).toEqual(['alpha-1'])
    const neutral = JSON.parse((await cli(['feedback', 'list', '--rating', 'neutral', '--json', ...dbArgs(db)])).stdout)
    expect(neutral.items).toHaveLength(1)
    const paged = JSON.parse((await cli(['feedback', 'list', '--limit', '3', '--json', ...dbArgs(db)])).stdout)
    const rest = JSON.parse(
      (await cli(['feedback', 'list', '--limit', '3', '--cursor', paged.nextCursor, '--json', ...dbArgs(db)])).stdout,
    )
    expect([...paged.items, ...rest.items].map((f: { id: string }) => f.id)).toEqual(
      all.items.map((f: { id: string }) => f.id),
    )
  })

  it('reports counts by rating, agent and day', async () => {
    const report = JSON.parse((await cli(['feedback', 'report', '--since', '1d', '--json', ...dbArgs(db)])).stdout)
    expect(report.byRating).toEqual({ up: 2, down: 1, neutral: 1, total: 4 })
    expect(report.byAgent.support).toEqual({ up: 2, down: 1, neutral: 1, total: 4 })
    const today = new Date().toISOString().slice(0, 10)
    expect(report.byDay[today]).toEqual({ up: 2, down: 1, neutral: 1, total: 4 })
    const text = await cli(['feedback', 'report', ...dbArgs(db)])
    expect(text.code).toBe(0)
    expect(text.stdout).toMatch(/By agent[\s\S]*support/)
    const bad = await cli(['feedback', 'report', '--since', '2020-01-01', ...dbArgs(db)])
    expect(bad.code).toBe(EXIT.usage)
    expect(bad.stderr).toContain('at most 366 days')
  })
})

describe('metrics', () => {
  it('totals across sessions and per session', async () => {
    const totals = JSON.parse((await cli(['metrics', '--json', ...dbArgs(db)])).stdout)
    expect(totals.sessions).toBe(3)
    expect(totals.invocations).toBe(3)
    expect(totals.toolCalls).toBe(2) // beta-1 said hello: no tool call
    expect(totals.totalTokens).toBeGreaterThan(0)
    const app = JSON.parse((await cli(['metrics', '--app', 'support-bot', '--json', ...dbArgs(db)])).stdout)
    expect(app.sessions).toBe(2)
    const one = JSON.parse((await cli(['metrics', '--session', 'alpha-1', '--json', ...dbArgs(db)])).stdout)
    expect(one.agents.support.tools.lookup_order.calls).toBe(1)
    expect((await cli(['metrics', '--session', 'ghost', ...dbArgs(db)])).code).toBe(EXIT.notFound)
  })
})

describe('doctor', () => {
  it('reports engine, capabilities and indexes', async () => {
    const result = await cli(['doctor', '--json', ...dbArgs(db)])
    expect(result.code).toBe(0)
    const report = JSON.parse(result.stdout)
    expect(['mongodb', 'ferretdb']).toContain(report.server.engine)
    expect(report.ok).toBe(true)
    const sessions = report.collections.find((c: { collection: string }) => c.collection === 'sessions')
    expect(sessions.missing).toEqual([])
    expect(sessions.extra).toEqual(expect.arrayContaining(['msm_meta_status']))
    const text = await cli(['doctor', ...dbArgs(db)])
    expect(text.stdout).toContain('everything the library needs is in place')
  })

  it('fails on a database without indexes, and --create-indexes fixes it', async () => {
    const args = ['--uri', db.uri, '--db', db.databaseName, '--prefix', 'fresh_']
    const before = await cli(['doctor', ...args])
    expect(before.code).toBe(EXIT.failure)
    expect(before.stdout).toContain('indexes are missing')
    const fixed = await cli(['doctor', '--create-indexes', '--json', ...args])
    expect(fixed.code).toBe(0)
    expect(JSON.parse(fixed.stdout).ok).toBe(true)
  })
})

describe('sessions delete (in-process)', () => {
  it('validates every id before deleting anything', async () => {
    await seedSession(db, 'gamma-1')
    const invalid = await cli(['sessions', 'delete', 'gamma-1', 'BAD ID', '--yes', ...dbArgs(db)])
    expect(invalid.code).toBe(EXIT.usage)
    expect(await documentsOf(db, 'gamma-1')).toEqual({ sessions: 1, messages: 4, feedback: 0 })
    const unknown = await cli(['sessions', 'delete', 'gamma-1', 'no-such-session', '--yes', ...dbArgs(db)])
    expect(unknown.code).toBe(EXIT.notFound)
    expect(unknown.stderr).toContain('no-such-session')
    expect(await documentsOf(db, 'gamma-1')).toEqual({ sessions: 1, messages: 4, feedback: 0 })
    const noYes = await cli(['sessions', 'delete', 'gamma-1', ...dbArgs(db)])
    expect(noYes.code).toBe(EXIT.usage)
    expect(noYes.stderr).toContain('--yes')

    const done = await cli([
      'sessions',
      'delete',
      'gamma-1',
      'no-such-session',
      '--missing-ok',
      '--yes',
      '--json',
      ...dbArgs(db),
    ])
    expect(done.code).toBe(0)
    expect(JSON.parse(done.stdout)).toMatchObject({ skipped: ['no-such-session'], remaining: [], interrupted: false })
    expect(await documentsOf(db, 'gamma-1')).toEqual({ sessions: 0, messages: 0, feedback: 0 })
  })
})
