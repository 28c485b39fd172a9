/**
 * The web viewer end to end: sessions seeded through the library, the viewer served in-process, and
 * a headless Chromium (Debian's package, driven by playwright-core) listing, filtering, opening a
 * session and drawing the dashboard; plus escaping of hostile content, the access token off
 * loopback, and a command log proving the viewer only reads.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { ImageBlock, TextBlock } from '@strands-agents/sdk'
import { randomBytes } from 'node:crypto'
import { Binary, type MongoClient } from 'mongodb'
import { chromium, type BrowserContext, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createLocalKeyProvider, MongoDBSessionManager } from '../../src/index.js'
import { openCollections } from '../../src/storage/collections.js'
import { SEALED_SUBTYPE } from '../../src/storage/crypto/cipher.js'
import type { ScriptedTurn } from '../../src/testing/index.js'
import { EXIT } from '../../src/cli/errors.js'
import { runCli } from '../../src/cli/run.js'
import { startViewer, type RunningViewer } from '../../src/cli/viewer/server.js'
import { testAgent } from '../support/agents.js'
import { countCommands, type CommandLog } from '../support/command-counter.js'
import { openTestDatabase, type TestDatabase } from '../support/mongo.js'
import { repoRoot } from '../cli/support.js'

const XSS_TEXT = 'Look: <img src=x onerror="window.__xss=1"> and <script>window.__xss=2</script>'
const XSS_COMMENT = 'bad <img src=x onerror="window.__xss=3">'
const XSS_METADATA = '<script>window.__xss=4</script>'
const XSS_TITLE = '<img src=x onerror="window.__xss=5">quote'
const SHOTS = path.join(repoRoot, '.cache', 'viewer-screenshots')
const CHROMIUM = '/usr/bin/chromium'
const TOKEN = 'viewer-test-token-0123456789'
/** The commands a read-only client may send. */
const READS = new Set(['find', 'aggregate', 'getMore', 'listIndexes', 'killCursors', 'count'])

let db: TestDatabase
let client: MongoClient
let log: CommandLog
let viewer: RunningViewer
let browser: BrowserContext
let profile: string

interface Seed {
  sessionId: string
  applicationName: string
  userId: string
  metadata: Record<string, string>
  invocations: { prompt: string | (TextBlock | ImageBlock)[]; turns: ScriptedTurn[] }[]
  feedback?: { rating: 'up' | 'down' | null; comment: string }[]
}

async function seed(s: Seed): Promise<void> {
  const manager = new MongoDBSessionManager({
    sessionId: s.sessionId,
    client: db.client,
    databaseName: db.databaseName,
    applicationName: s.applicationName,
    userId: s.userId,
    metadataFields: ['status'],
  })
  const turns = s.invocations.flatMap((i) => i.turns)
  const agent = testAgent({ sessionManager: manager, id: 'support', script: turns })
  for (const invocation of s.invocations) await agent.invoke(invocation.prompt)
  await manager.updateMetadata(s.metadata)
  for (const f of s.feedback ?? []) await manager.addFeedback({ ...f, agentId: 'support' })
  await manager.close()
}

const reply = (text: string, latencyMs: number, inputTokens: number, outputTokens: number): ScriptedTurn => ({
  text,
  latencyMs,
  usage: { inputTokens, outputTokens },
})

async function newPage(): Promise<Page> {
  const page = await browser.newPage()
  page.on('pageerror', (error) => {
    throw error
  })
  return page
}

async function open(page: Page, url: string): Promise<void> {
  await page.goto(url)
  await page.waitForSelector('body[data-ready="true"]')
}

/** Navigates inside the app (a hash change) and waits for the page to be drawn. */
async function go(page: Page, hash: string): Promise<void> {
  // Browser code as strings: this file is type-checked without the DOM library.
  await page.evaluate(`document.body.dataset.ready = 'false'; location.hash = ${JSON.stringify(hash)}`)
  await page.waitForSelector('body[data-ready="true"]')
}

/** Clicks something that changes the address and waits for the new page to be drawn (not the old one). */
async function clickAndWait(page: Page, selector: string): Promise<void> {
  await page.evaluate(`document.body.dataset.ready = 'false'`)
  await page.click(selector)
  await page.waitForSelector('body[data-ready="true"]')
}

/** Waits until the session list shows `n` rows. */
async function rows(page: Page, n: number): Promise<void> {
  // A selector, not a function: the page's CSP forbids the eval that waitForFunction needs.
  await page.waitForSelector(`#session-list tbody tr:nth-child(${n}):last-child`)
}

function rawGet(url: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers }, (res) => {
      let body = ''
      res.on('data', (chunk: Buffer) => (body += chunk.toString()))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
    })
    req.on('error', reject)
    req.end()
  })
}

beforeAll(async () => {
  db = await openTestDatabase('msm_viewer')
  // Model latencies of every model call seeded below: 50, 50, 50, 60, 100, 200, 300, 400 ms.
  await seed({
    sessionId: 'order-123',
    applicationName: 'support-bot',
    userId: 'alice',
    metadata: { status: 'escalated', note: XSS_METADATA },
    invocations: [
      {
        prompt: 'Where is my order?',
        turns: [
          {
            toolUse: { name: 'lookup_order', input: { orderId: 'A-1' } },
            latencyMs: 100,
            usage: { inputTokens: 10, outputTokens: 5 },
          },
          reply('Your order has shipped.', 300, 20, 10),
        ],
      },
      { prompt: XSS_TEXT, turns: [reply(XSS_TEXT, 200, 30, 15)] },
    ],
    feedback: [
      { rating: 'up', comment: XSS_COMMENT },
      { rating: 'down', comment: 'wrong eta' },
    ],
  })
  await seed({
    sessionId: 'photo-7',
    applicationName: 'support-bot',
    userId: 'alice',
    metadata: { status: 'open' },
    invocations: [
      {
        prompt: [
          new TextBlock('Here is the damaged parcel'),
          new ImageBlock({ format: 'png', source: { bytes: new Uint8Array(2048) } }),
        ],
        turns: [reply('Sorry about that, a refund is on its way.', 60, 40, 10)],
      },
    ],
    feedback: [{ rating: 'up', comment: 'quick' }],
  })
  await seed({
    sessionId: 'guarded-1',
    applicationName: 'support-bot',
    userId: 'alice',
    metadata: { status: 'open' },
    invocations: [
      {
        prompt: 'my card number is 4111 1111 1111 1111',
        turns: [
          {
            text: 'I cannot help with that.',
            redactInput: '[input redacted]',
            latencyMs: 400,
            usage: { inputTokens: 5, outputTokens: 5 },
          },
        ],
      },
    ],
  })
  for (const n of [1, 2, 3]) {
    await seed({
      sessionId: `sales-${n}`,
      applicationName: 'sales-bot',
      userId: 'bob',
      metadata: { status: 'open' },
      // The first user message becomes the title: sales-2's is hostile markup.
      invocations: [
        { prompt: n === 2 ? XSS_TITLE : `hi, quote number ${n} please`, turns: [reply('hello', 50, 1, 1)] },
      ],
    })
  }
  // Delivery state as the outbox leaves it: one notification pending, one given up.
  const now = new Date()
  await db.db.collection('sessions').updateOne(
    { _id: 'order-123' as never },
    {
      $set: {
        outbox: [
          {
            event_id: 'evt-pending-1',
            session_id: 'order-123',
            channel: 'sqs',
            target: 'https://sqs.eu-west-1.amazonaws.com/1/metadata',
            payload: {},
            created_at: now,
            due_at: new Date(now.getTime() + 60_000),
          },
        ],
        outbox_failed: [
          {
            event_id: 'evt-failed-1',
            session_id: 'order-123',
            channel: 'sns',
            target: 'arn:aws:sns:eu-west-1:1:feedback',
            payload: {},
            created_at: now,
            due_at: now,
            failed_at: now,
            error: 'AuthorizationError: not allowed',
          },
        ],
      },
    },
  )

  client = await db.newClient({ monitorCommands: true })
  log = countCommands(client)
  viewer = await startViewer({
    collections: openCollections(client.db(db.databaseName)),
    host: '127.0.0.1',
    port: 0,
    token: null,
    metadataFields: ['status'],
  })
  profile = await mkdtemp(path.join(tmpdir(), 'msm-viewer-chromium-'))
  // A fresh profile per run (playwright passes it as --user-data-dir).
  browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1360, height: 900 },
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
    ],
  })
  await mkdir(SHOTS, { recursive: true })
})

afterAll(async () => {
  await browser?.close()
  await viewer?.close()
  await db?.cleanup()
  if (profile) await rm(profile, { recursive: true, force: true })
})

describe('viewer in Chromium', () => {
  it('lists sessions newest first, pages, and filters by application, metadata and feedback', async () => {
    const page = await newPage()
    await open(page, viewer.url)
    const ids = () => page.$$eval('#session-list tbody tr', (rows) => rows.map((r) => r.getAttribute('data-session')))
    expect(await ids()).toEqual(['sales-3', 'sales-2', 'sales-1', 'guarded-1', 'photo-7', 'order-123'])
    await page.screenshot({ path: path.join(SHOTS, 'sessions.png'), fullPage: true })

    await go(page, '#/sessions?limit=4')
    expect(await ids()).toEqual(['sales-3', 'sales-2', 'sales-1', 'guarded-1'])
    await clickAndWait(page, '#next-page')
    await rows(page, 2)
    expect(await ids()).toEqual(['photo-7', 'order-123'])
    await clickAndWait(page, '#prev-page')
    await rows(page, 4)

    await go(page, '#/sessions')
    await page.fill('input[name="app"]', 'support-bot')
    await clickAndWait(page, '#filters button[type="submit"]')
    await rows(page, 3)
    expect(await ids()).toEqual(['guarded-1', 'photo-7', 'order-123'])

    await page.fill('input[data-meta="status"]', 'escalated')
    await clickAndWait(page, '#filters button[type="submit"]')
    await rows(page, 1)
    expect(await ids()).toEqual(['order-123'])

    await go(page, '#/sessions?rating=up')
    expect(await ids()).toEqual(['photo-7', 'order-123'])
    await go(page, '#/sessions?rating=down')
    expect(await ids()).toEqual(['order-123'])
    // A day alone is inclusive.
    await go(page, `#/sessions?before=${new Date().toISOString().slice(0, 10)}`)
    expect(await ids()).toHaveLength(6)
    await go(page, `#/sessions?before=2000-01-01`)
    expect(await page.textContent('#no-sessions')).toBe('No sessions match.')
    await page.close()
  })

  it('shows titles, previews and users; filters by user; searches message text; hostile titles stay text', async () => {
    const page = await newPage()
    await open(page, viewer.url)
    const ids = () => page.$$eval('#session-list tbody tr', (rows) => rows.map((r) => r.getAttribute('data-session')))
    const cell = (id: string, selector: string) =>
      page.textContent(`#session-list tr[data-session="${id}"] ${selector}`)
    expect(await cell('order-123', '.title')).toBe('Where is my order?')
    expect(await cell('order-123', '.id')).toBe('order-123')
    expect(await cell('order-123', 'td.user')).toBe('alice')
    expect(await cell('sales-1', '.title')).toBe('hi, quote number 1 please')
    expect(await cell('sales-1', '.preview')).toBe('hello')
    expect(await cell('sales-2', 'td.user')).toBe('bob')
    // The hostile title is shown exactly as typed; nothing of it became an element or ran.
    expect(await cell('sales-2', '.title')).toBe(XSS_TITLE)
    expect(await page.$$('#app img, #app script')).toHaveLength(0)

    await page.fill('input[name="user"]', 'bob')
    await clickAndWait(page, '#filters button[type="submit"]')
    await rows(page, 3)
    expect(await ids()).toEqual(['sales-3', 'sales-2', 'sales-1'])
    await go(page, '#/sessions?user=alice')
    expect(await ids()).toEqual(['guarded-1', 'photo-7', 'order-123'])
    await go(page, '#/sessions?user=nobody')
    expect(await page.textContent('#no-sessions')).toBe('No sessions match.')

    // A phrase only in an assistant message (not the title, not the preview).
    await go(page, '#/sessions')
    await page.fill('input[name="q"]', 'ORDER HAS SHIPPED')
    await clickAndWait(page, '#filters button[type="submit"]')
    await page.waitForSelector('#search-note')
    expect(await ids()).toEqual(['order-123'])
    expect(await cell('order-123', '.title')).toBe('Where is my order?')
    expect(await cell('order-123', '.snippet')).toContain('Your order has shipped.')
    expect(await page.$('#next-page')).toBeNull()

    // Search within one user's sessions: titles match too, hostile ones as text.
    await go(page, '#/sessions?q=quote&user=bob')
    expect(await ids()).toEqual(['sales-3', 'sales-2', 'sales-1'])
    expect(await cell('sales-2', '.title')).toBe(XSS_TITLE)
    await go(page, '#/sessions?q=quote&user=alice')
    expect(await page.textContent('#no-sessions')).toBe('No sessions match.')
    expect(await page.$$('#app img, #app script')).toHaveLength(0)
    expect(await page.evaluate(() => (globalThis as { __xss?: unknown }).__xss)).toBeUndefined()
    await page.close()
  })

  it('opens a session: transcript with tool calls and media placeholder, metadata, feedback, delivery state; hostile text stays text', async () => {
    const page = await newPage()
    await open(page, viewer.url)
    await page.click('a[href="#/session/order-123"]')
    await page.waitForSelector('#session-title')
    await page.waitForSelector('body[data-ready="true"]')
    expect(await page.textContent('#session-title')).toBe('order-123')
    const transcript = (await page.textContent('#transcript')) ?? ''
    expect(transcript).toContain('→ tool call lookup_order')
    expect(transcript).toContain('"orderId": "A-1"')
    expect(transcript).toContain('← tool result (success)')
    expect(transcript).toContain('Your order has shipped.')
    expect(transcript).toContain('invocation: 45 tokens (in 30, out 15), 1 model call')
    // The payloads are shown exactly as typed, and nothing of them became an element or ran.
    const texts = await page.$$eval('#transcript .block.text', (blocks) => blocks.map((b) => b.textContent))
    expect(texts.filter((t) => t === XSS_TEXT)).toHaveLength(2)
    expect(await page.$$('#app img, #app script')).toHaveLength(0)
    expect(await page.textContent('#metadata')).toContain(XSS_METADATA)
    const feedback = (await page.textContent('#feedback')) ?? ''
    expect(feedback).toContain('↑ 1 ↓ 1 · 0')
    expect(feedback).toContain(XSS_COMMENT)
    expect(feedback).toContain('wrong eta')
    const notifications = await page.$$eval('#notification-list tbody tr', (rows) =>
      rows.map((r) => [...r.querySelectorAll('td')].map((td) => td.textContent)),
    )
    expect(notifications.map((r) => [r[0], r[1], r[6]])).toEqual([
      ['pending', 'sqs', ''],
      ['failed', 'sns', 'AuthorizationError: not allowed'],
    ])
    expect(await page.evaluate(() => (globalThis as { __xss?: unknown }).__xss)).toBeUndefined()
    await page.screenshot({ path: path.join(SHOTS, 'session.png'), fullPage: true })

    await go(page, '#/session/photo-7')
    expect(await page.textContent('#transcript .block.media')).toBe('[image png, 2.0 KB — not shown]')
    expect(await page.$$('#app img')).toHaveLength(0)

    await go(page, '#/session/guarded-1')
    // The guardrail's redaction: the stored replacement text, flagged with the audit event.
    expect(await page.textContent('#transcript [data-seq="0"] .block.text')).toBe('[input redacted]')
    expect(await page.textContent('#transcript [data-seq="0"] .badge.guardrail')).toBe('guardrail: BLOCKED')
    expect(await page.textContent('#guardrails')).toContain('guardrailIntervened')

    await go(page, '#/session/no-such-session')
    expect(await page.textContent('#error')).toContain("session 'no-such-session' not found")
    expect(await page.evaluate(() => (globalThis as { __xss?: unknown }).__xss)).toBeUndefined()
    await page.close()
  })

  it('draws the dashboard charts from the seeded invocations, latencies and feedback', async () => {
    const page = await newPage()
    await open(page, `${viewer.url}#/dashboard`)
    for (const chart of ['usage', 'latency', 'feedback']) {
      const size = await page.$eval(`#chart-${chart} canvas`, (c) => {
        const canvas = c as unknown as { width: number; height: number }
        return { width: canvas.width, height: canvas.height }
      })
      expect(size.width, chart).toBeGreaterThan(100)
      expect(size.height, chart).toBeGreaterThan(100)
    }
    const card = (key: string) => page.textContent(`[data-total="${key}"] .value`)
    expect(await card('invocations')).toBe('7')
    expect(await card('tokens')).toBe('156')
    expect(await card('model-calls')).toBe('8')
    expect(await card('feedback')).toBe('2 ↑ / 1 ↓ of 3')
    const today = new Date().toISOString().slice(0, 10)
    const row = (table: string) =>
      page.$$eval(
        `#${table} tbody tr`,
        (rows, day) =>
          rows.map((r) => [...r.querySelectorAll('td')].map((td) => td.textContent)).find((cells) => cells[0] === day),
        today,
      )
    expect(await row('usage-table')).toEqual([today, '7', '108', '48', '156'])
    expect(await row('latency-table')).toEqual([today, '8', '60', '400'])
    expect(await row('feedback-table')).toEqual([today, '2', '1', '0', '66.7'])
    // uPlot's legend names the series.
    expect(await page.textContent('#chart-latency')).toContain('p95')
    await page.screenshot({ path: path.join(SHOTS, 'dashboard.png'), fullPage: true })
    await page.close()
  })

  it('only ever reads: every command the viewer sent is a read', () => {
    expect(log.commands.length).toBeGreaterThan(10)
    expect(log.commands.filter((name) => !READS.has(name))).toEqual([])
  })
})

describe('access control', () => {
  it('refuses to serve off loopback without a token', async () => {
    await expect(
      startViewer({
        collections: openCollections(client.db(db.databaseName)),
        host: '127.0.0.2',
        port: 0,
        token: null,
        metadataFields: [],
      }),
    ).rejects.toThrow(/access token is required/)
  })

  it('off loopback, every request needs the token: header, or ?token= once then the cookie', async () => {
    const remote = await startViewer({
      collections: openCollections(client.db(db.databaseName)),
      host: '127.0.0.2',
      port: 0,
      token: TOKEN,
      metadataFields: [],
    })
    try {
      expect((await fetch(`${remote.url}api/sessions`)).status).toBe(401)
      expect((await fetch(remote.url)).status).toBe(401)
      expect((await fetch(`${remote.url}api/sessions`, { headers: { 'x-viewer-token': 'wrong' } })).status).toBe(401)
      expect((await fetch(`${remote.url}?token=wrong`)).status).toBe(401)
      const ok = await fetch(`${remote.url}api/sessions`, { headers: { 'x-viewer-token': TOKEN } })
      expect(ok.status).toBe(200)
      const redirect = await fetch(`${remote.url}?token=${TOKEN}`, { redirect: 'manual' })
      expect(redirect.status).toBe(303)
      expect(redirect.headers.get('location')).toBe('/')
      expect(redirect.headers.get('set-cookie')).toMatch(/^msm_viewer_token=.+; HttpOnly; SameSite=Strict; Path=\//)

      // In the browser: the one-time link lands on the list, the token gone from the address bar.
      const page = await newPage()
      await open(page, `${remote.url}?token=${TOKEN}`)
      expect(page.url()).toBe(remote.url)
      expect(await page.$$eval('#session-list tbody tr', (rows) => rows.length)).toBe(6)
      await page.close()
    } finally {
      await remote.close()
    }
  })

  it('on loopback, answers only requests addressed to a loopback host, with a strict CSP', async () => {
    const page = await rawGet(viewer.url, {})
    expect(page.status).toBe(200)
    const response = await fetch(viewer.url)
    const csp = response.headers.get('content-security-policy') ?? ''
    expect(csp).toContain("script-src 'self'")
    expect(csp).toContain("default-src 'none'")
    expect(csp).not.toContain('unsafe-inline')
    expect((await rawGet(`${viewer.url}api/sessions`, { Host: 'attacker.example:80' })).status).toBe(403)
    expect((await fetch(`${viewer.url}api/sessions`, { method: 'POST' })).status).toBe(405)
    expect((await fetch(`${viewer.url}api/sessions/%E0%A4%A`)).status).toBe(400)
    expect((await fetch(`${viewer.url}api/sessions/Not$Valid`)).status).toBe(400)
    expect((await fetch(`${viewer.url}api/sessions?rating=great`)).status).toBe(400)
    expect((await fetch(`${viewer.url}api/search?q=`)).status).toBe(400)
    expect((await fetch(`${viewer.url}api/search?q=order&limit=51`)).status).toBe(400)
    const search = await fetch(`${viewer.url}api/search?q=shipped&user=alice`)
    expect(
      ((await search.json()) as { hits: { session: { sessionId: string } }[] }).hits.map((h) => h.session.sessionId),
    ).toEqual(['order-123'])
    expect((await fetch(`${viewer.url}api/dashboard?since=2026-01-01&until=2026-12-31`)).status).toBe(400)
  })
})

describe('the viewer command', () => {
  /** Runs `viewer` in-process until the returned stop() aborts it; resolves once it printed its URL. */
  async function runViewer(args: string[]): Promise<{ url: string; stop(): Promise<number> }> {
    const controller = new AbortController()
    let stdout = ''
    let printed: (url: string) => void = () => undefined
    const url = new Promise<string>((resolve) => (printed = resolve))
    const done = runCli(['viewer', '--uri', db.uri, '--db', db.databaseName, '--port', '0', ...args], {
      stdout: {
        write: (chunk: string) => {
          stdout += chunk
          const match = /^open (http:\/\/\S+)/m.exec(stdout)
          if (match) printed(match[1]!)
        },
        isTTY: false,
      },
      stderr: { write: () => undefined, isTTY: false },
      env: { NO_COLOR: '1' },
      signal: controller.signal,
    })
    const first = await Promise.race([url, done.then((code) => `exited ${code}`)])
    expect(first).toMatch(/^http:/)
    return {
      url: first,
      stop: () => {
        controller.abort()
        return done
      },
    }
  }

  it('serves on 127.0.0.1 without a token, and stops on the signal', async () => {
    const running = await runViewer([])
    expect(running.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/)
    const page = await fetch(`${running.url}api/sessions?app=sales-bot`)
    expect(page.status).toBe(200)
    expect(((await page.json()) as { items: unknown[] }).items).toHaveLength(3)
    expect(await running.stop()).toBe(0)
  })

  it('off loopback, generates a token and prints it in the URL to open', async () => {
    const running = await runViewer(['--host', '127.0.0.2'])
    const printed = new URL(running.url)
    const token = printed.searchParams.get('token') ?? ''
    expect(token.length).toBeGreaterThanOrEqual(32)
    expect((await fetch(`${printed.origin}/api/sessions`)).status).toBe(401)
    expect((await fetch(`${printed.origin}/api/sessions`, { headers: { 'x-viewer-token': token } })).status).toBe(200)
    expect((await fetch(running.url, { redirect: 'manual' })).status).toBe(303)
    expect(await running.stop()).toBe(0)
  })

  it('refuses a short token', async () => {
    let stderr = ''
    const code = await runCli(['viewer', '--uri', db.uri, '--db', db.databaseName, '--token', 'short'], {
      stdout: { write: () => undefined, isTTY: false },
      stderr: { write: (chunk: string) => (stderr += chunk), isTTY: false },
      env: { NO_COLOR: '1' },
    })
    expect(code).toBe(EXIT.usage)
    expect(stderr).toContain('--token must be at least 16 characters')
  })
})

describe('encrypted and expired sessions', () => {
  let other: TestDatabase
  let otherViewer: RunningViewer
  const CIPHERTEXT = Buffer.from('PLANTED-CIPHERTEXT-viewer')

  beforeAll(async () => {
    other = await openTestDatabase('msm_viewer_sealed')
    const manager = new MongoDBSessionManager({
      sessionId: 'secret-1',
      client: other.client,
      databaseName: other.databaseName,
      encryption: { keyProvider: createLocalKeyProvider(randomBytes(32)) },
    })
    await testAgent({ sessionManager: manager, id: 'support', script: [reply('secret reply', 50, 1, 1)] }).invoke(
      'secret question',
    )
    await manager.updateMetadata({ status: 'open', note: 'to be sealed' })
    await manager.addFeedback({ rating: 'down', comment: 'to be sealed', agentId: 'support' })
    await manager.close()
    const sealed = new Binary(CIPHERTEXT, SEALED_SUBTYPE)
    await other.db.collection('sessions').updateOne({ _id: 'secret-1' as never }, { $set: { 'metadata.note': sealed } })
    await other.db.collection('feedback').updateOne({ session_id: 'secret-1' }, { $set: { comment: sealed } })
    await seedInto(other, 'expired-1')
    await other.db
      .collection('sessions')
      .updateOne({ _id: 'expired-1' as never }, { $set: { expires_at: new Date(Date.now() - 60_000) } })
    otherViewer = await startViewer({
      collections: openCollections(other.client.db(other.databaseName)),
      host: '127.0.0.1',
      port: 0,
      token: null,
      metadataFields: [],
    })
  })

  afterAll(async () => {
    await otherViewer?.close()
    await other?.cleanup()
  })

  it('shows [encrypted] for encrypted messages, metadata and comments; an expired session is not found', async () => {
    const page = await newPage()
    await open(page, otherViewer.url)
    await rows(page, 1)
    const list = (await page.textContent('#session-list')) ?? ''
    expect(list).toContain('secret-1')
    expect(list).toContain('"note":"[encrypted]"')
    expect(list).not.toContain('expired-1')
    await go(page, '#/session/secret-1')
    const blocks = await page.$$eval('#transcript .block', (all) => all.map((b) => b.textContent))
    expect(blocks).toEqual(['[encrypted]', '[encrypted]'])
    expect(await page.textContent('#metadata')).toContain('"note": "[encrypted]"')
    expect(await page.textContent('#feedback .comment')).toBe('[encrypted]')
    const body = (await page.textContent('body')) ?? ''
    for (const secret of ['secret question', 'secret reply', 'PLANTED-CIPHERTEXT', CIPHERTEXT.toString('base64')]) {
      expect(body).not.toContain(secret)
    }
    await go(page, '#/session/expired-1')
    expect(await page.textContent('#error')).toContain("session 'expired-1' not found")
    await page.close()
  })
})

describe('with 10,000 sessions', () => {
  let big: TestDatabase
  let bigClient: MongoClient
  let bigLog: CommandLog
  let bigViewer: RunningViewer
  const SESSIONS = 10_000

  beforeAll(async () => {
    big = await openTestDatabase('msm_viewer_big')
    // One real session through the library (indexes, an invocation), then plain session documents
    // of the same shape: what the catalogue reads of a session.
    await seedInto(big, 'real-1')
    const start = Date.UTC(2026, 0, 1)
    const docs = Array.from({ length: SESSIONS - 1 }, (_, i) => ({
      _id: `bulk-${String(i).padStart(5, '0')}`,
      session_id: `bulk-${String(i).padStart(5, '0')}`,
      schema_version: 1,
      application_name: i % 2 ? 'odd-bot' : 'even-bot',
      created_at: new Date(start + i * 60_000),
      updated_at: new Date(start + i * 60_000),
      metadata: {},
      agents: {},
      feedback_counts: { up: i % 10 === 0 ? 1 : 0, down: 0, neutral: 0 },
    }))
    for (let i = 0; i < docs.length; i += 2_000) {
      await big.db.collection('sessions').insertMany(docs.slice(i, i + 2_000) as never[])
    }
    bigClient = await big.newClient({ monitorCommands: true })
    bigLog = countCommands(bigClient)
    bigViewer = await startViewer({
      collections: openCollections(bigClient.db(big.databaseName)),
      host: '127.0.0.1',
      port: 0,
      token: null,
      metadataFields: [],
    })
  })

  afterAll(async () => {
    await bigViewer?.close()
    await big?.cleanup()
  })

  it('a list page, filtered or not, is one bounded find', async () => {
    const page = await newPage()
    await open(page, bigViewer.url)
    for (const hash of [
      '#/sessions',
      '#/sessions?app=odd-bot',
      '#/sessions?rating=up',
      '#/sessions?before=2026-01-03',
    ]) {
      await go(page, hash)
      bigLog.reset()
      await clickAndWait(page, '#next-page')
      await rows(page, 25)
      const finds = bigLog.events.filter((e) => e.commandName === 'find')
      expect(bigLog.commands, hash).toEqual(['find'])
      expect(finds[0]!.command.limit, hash).toBe(26)
    }
    expect(await page.$$eval('#session-list tbody tr', (r) => r.length)).toBe(25)
    await page.close()
  })

  it('the dashboard reads only the sessions of its range', async () => {
    const page = await newPage()
    bigLog.reset()
    await open(page, `${bigViewer.url}#/dashboard`)
    await page.waitForSelector('#chart-usage canvas')
    expect(await page.textContent('[data-total="invocations"] .value')).toBe('1')
    // The bulk sessions were last updated in January: none is in the default range (the last 14 days).
    expect(await page.textContent('[data-total="sessions"] .value')).toBe('1')
    const sessionFinds = bigLog.events.filter((e) => e.commandName === 'find' && e.command.find === 'sessions')
    for (const find of sessionFinds) expect(JSON.stringify(find.command.filter)).toContain('updated_at')
    expect(bigLog.commands.filter((name) => name === 'getMore')).toEqual([])
    expect(bigLog.commands.filter((name) => !READS.has(name))).toEqual([])
    await page.close()
  })
})

/** A session with one invocation, through the library, in another database. */
async function seedInto(target: TestDatabase, sessionId: string): Promise<void> {
  const manager = new MongoDBSessionManager({ sessionId, client: target.client, databaseName: target.databaseName })
  const agent = testAgent({ sessionManager: manager, id: 'support', script: [reply('hello', 50, 1, 1)] })
  await agent.invoke('hi')
  await manager.close()
}
