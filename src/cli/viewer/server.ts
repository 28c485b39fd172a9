/**
 * The viewer's HTTP server (node:http): prebuilt static assets and a read-only JSON API over the
 * session collections. Every response carries a strict Content-Security-Policy (scripts and styles
 * from the viewer's own files only), so user content that slipped into the markup could not run.
 */
import { readFile } from 'node:fs/promises'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import { MongoSessionError, ValidationError } from '../../errors.js'
import { listSessions } from '../../features/catalogue.js'
import { searchSessions } from '../../features/session-search.js'
import type { SessionCollections } from '../../storage/collections.js'
import { validateIdentifier } from '../../validation/identifiers.js'
import { UsageError } from '../errors.js'
import { parseMetadataFilter } from '../commands/sessions-list.js'
import { withDisplayMetadata } from '../queries/summaries.js'
import { hostHeaderIsLoopback, isLoopbackHost, requestToken, TOKEN_COOKIE, tokenMatches } from './auth.js'
import { loadDashboard, MAX_DASHBOARD_DAYS } from './dashboard.js'
import { loadSessionView } from './session-view.js'

export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ')

const ASSETS: Record<string, string> = {
  '/': 'index.html',
  '/viewer.js': 'viewer.js',
  '/viewer.css': 'viewer.css',
}
const TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
}

export interface ViewerOptions {
  collections: SessionCollections
  host: string
  /** 0 picks a free port. */
  port: number
  /** Required on every request when set; `null` only on a loopback address. */
  token: string | null
  /** Declared metadata fields offered as filters (those with a catalogue index). */
  metadataFields: readonly string[]
  /** Directory of the built front end (default: `dist/viewer-assets`). */
  assetsDir?: string
  /** Called with each unexpected error (the response says only "internal error"). */
  onError?: (error: unknown) => void
}

export interface RunningViewer {
  server: Server
  /** `http://host:port/` */
  url: string
  close(): Promise<void>
}

/** Where the built front end is: next to the compiled CLI (`dist/viewer-assets`), or built from a checkout. */
export async function findAssetsDir(): Promise<string> {
  const candidates = [
    new URL('../../viewer-assets/', import.meta.url),
    new URL('../../../dist/viewer-assets/', import.meta.url),
  ]
  for (const candidate of candidates) {
    const dir = fileURLToPath(candidate)
    if (
      await readFile(`${dir}index.html`).then(
        () => true,
        () => false,
      )
    )
      return dir
  }
  throw new UsageError('the viewer front end is not built: run `npm run build` in the package checkout')
}

async function loadAssets(dir: string): Promise<Map<string, { body: Buffer; type: string }>> {
  const assets = new Map<string, { body: Buffer; type: string }>()
  for (const [route, file] of Object.entries(ASSETS)) {
    const body = await readFile(`${dir.replace(/\/?$/, '/')}${file}`)
    assets.set(route, { body, type: TYPES[file.split('.').pop()!]! })
  }
  return assets
}

function securityHeaders(response: ServerResponse): void {
  response.setHeader('Content-Security-Policy', CONTENT_SECURITY_POLICY)
  response.setHeader('X-Content-Type-Options', 'nosniff')
  response.setHeader('Referrer-Policy', 'no-referrer')
  response.setHeader('X-Frame-Options', 'DENY')
  response.setHeader('Cross-Origin-Resource-Policy', 'same-origin')
}

function send(response: ServerResponse, status: number, type: string, body: string | Buffer): void {
  response.statusCode = status
  response.setHeader('Content-Type', type)
  response.setHeader('Cache-Control', 'no-store')
  response.end(body)
}

function sendJson(response: ServerResponse, status: number, value: unknown): void {
  send(response, status, 'application/json; charset=utf-8', JSON.stringify(value))
}

/** A date parameter: `YYYY-MM-DD` or a full ISO instant. */
function dateParam(params: URLSearchParams, name: string): Date | undefined {
  const raw = params.get(name)
  if (raw === null || raw === '') return undefined
  const date = /^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:\d{2})?)?$/.test(raw) ? new Date(raw) : new Date(Number.NaN)
  if (Number.isNaN(date.getTime())) throw new ValidationError(`${name} must be a date (YYYY-MM-DD)`, { field: name })
  return date
}

function startOfDay(date: Date): Date {
  return new Date(Math.floor(date.getTime() / 86_400_000) * 86_400_000)
}

async function apiSessions(options: ViewerOptions, params: URLSearchParams): Promise<unknown> {
  const rating = params.get('rating') || undefined
  if (rating !== undefined && rating !== 'up' && rating !== 'down' && rating !== 'neutral') {
    throw new ValidationError('rating must be up, down or neutral', { field: 'rating' })
  }
  const limitRaw = params.get('limit')
  const limit = limitRaw ? Number(limitRaw) : 25
  const metadata = parseMetadataFilter(params.getAll('meta').filter((m) => !/^[^=]*=$/.test(m)))
  const after = dateParam(params, 'after')
  // A day given alone is inclusive: "updated before 2026-11-30" keeps that day's sessions.
  const beforeParam = dateParam(params, 'before')
  const before =
    beforeParam && /^\d{4}-\d{2}-\d{2}$/.test(params.get('before') ?? '')
      ? new Date(beforeParam.getTime() + 86_400_000)
      : beforeParam
  const app = params.get('app') || undefined
  const user = params.get('user') || undefined
  const cursor = params.get('cursor') || undefined
  const page = await listSessions(
    options.collections,
    {
      limit,
      ...(app !== undefined && { applicationName: app }),
      ...(user !== undefined && { userId: user }),
      ...(rating !== undefined && { feedbackRating: rating }),
      ...(Object.keys(metadata).length > 0 && { metadata }),
      ...(after && { updatedAfter: after }),
      ...(before && { updatedBefore: before }),
      ...(cursor !== undefined && { cursor }),
    },
    { metadataFields: options.metadataFields },
  )
  return { ...page, items: withDisplayMetadata(page.items) }
}

/** Search hits for `q` (of `user`, when given): the library's bounded search, no paging. */
async function apiSearch(options: ViewerOptions, params: URLSearchParams): Promise<unknown> {
  const user = params.get('user') || undefined
  const limitRaw = params.get('limit')
  const hits = await searchSessions(options.collections, {
    text: params.get('q') ?? '',
    ...(user !== undefined && { userId: user }),
    ...(limitRaw && { limit: Number(limitRaw) }),
  })
  return { hits: withDisplayMetadata(hits) }
}

async function apiDashboard(options: ViewerOptions, params: URLSearchParams): Promise<unknown> {
  const now = new Date()
  const lastDay = startOfDay(dateParam(params, 'until') ?? now)
  const until = new Date(lastDay.getTime() + 86_400_000)
  const since = startOfDay(dateParam(params, 'since') ?? new Date(until.getTime() - 14 * 86_400_000))
  const days = Math.round((until.getTime() - since.getTime()) / 86_400_000)
  if (days < 1 || days > MAX_DASHBOARD_DAYS) {
    throw new ValidationError(`the dashboard covers 1 to ${MAX_DASHBOARD_DAYS} days (got ${days})`, { field: 'since' })
  }
  const app = params.get('app') || undefined
  return loadDashboard(options.collections, { since, until, ...(app !== undefined && { applicationName: app }) })
}

async function route(options: ViewerOptions, url: URL, response: ServerResponse): Promise<void> {
  const path = url.pathname
  if (path === '/api/config') {
    return sendJson(response, 200, { metadataFields: options.metadataFields, maxDashboardDays: MAX_DASHBOARD_DAYS })
  }
  if (path === '/api/sessions') return sendJson(response, 200, await apiSessions(options, url.searchParams))
  if (path === '/api/search') return sendJson(response, 200, await apiSearch(options, url.searchParams))
  if (path.startsWith('/api/sessions/')) {
    let raw: string
    try {
      raw = decodeURIComponent(path.slice('/api/sessions/'.length))
    } catch {
      throw new ValidationError('malformed session id', { field: 'session id' })
    }
    const id = validateIdentifier(raw, 'session id')
    const view = await loadSessionView(options.collections, id)
    return view ? sendJson(response, 200, view) : sendJson(response, 404, { error: `session '${id}' not found` })
  }
  if (path === '/api/dashboard') return sendJson(response, 200, await apiDashboard(options, url.searchParams))
  return sendJson(response, 404, { error: 'not found' })
}

/** Checks access; answers the request itself (and returns false) when it may not go on. */
function authorize(options: ViewerOptions, request: IncomingMessage, url: URL, response: ServerResponse): boolean {
  if (options.token === null) {
    if (hostHeaderIsLoopback(request)) return true
    sendJson(response, 403, { error: 'this viewer only answers requests addressed to a loopback host' })
    return false
  }
  const queryToken = url.searchParams.get('token')
  if (queryToken !== null && tokenMatches(queryToken, options.token)) {
    // The token leaves the address bar (and history) at once; the cookie carries it from now on.
    url.searchParams.delete('token')
    response.statusCode = 303
    response.setHeader(
      'Set-Cookie',
      `${TOKEN_COOKIE}=${encodeURIComponent(options.token)}; HttpOnly; SameSite=Strict; Path=/`,
    )
    response.setHeader('Location', `${url.pathname}${url.search}`)
    response.end()
    return false
  }
  if (tokenMatches(requestToken(request), options.token)) return true
  sendJson(response, 401, { error: 'access token required (open the URL printed by the viewer)' })
  return false
}

/** Starts the viewer; resolves once it listens. */
export async function startViewer(options: ViewerOptions): Promise<RunningViewer> {
  if (options.token === null && !isLoopbackHost(options.host)) {
    throw new UsageError(
      `an access token is required to serve on ${options.host} (only 127.0.0.1, ::1 and localhost go without)`,
    )
  }
  const assets = await loadAssets(options.assetsDir ?? (await findAssetsDir()))
  const server = createServer((request, response) => {
    securityHeaders(response)
    const url = new URL(request.url ?? '/', 'http://viewer.invalid')
    if (!authorize(options, request, url, response)) return
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.setHeader('Allow', 'GET, HEAD')
      return sendJson(response, 405, { error: 'the viewer is read-only' })
    }
    const asset = assets.get(url.pathname)
    if (asset) return send(response, 200, asset.type, asset.body)
    route(options, url, response).catch((error: unknown) => {
      if (error instanceof ValidationError || error instanceof UsageError) {
        return sendJson(response, 400, { error: error.message })
      }
      options.onError?.(error)
      const status = error instanceof MongoSessionError && error.retryable ? 503 : 500
      sendJson(response, status, { error: status === 503 ? 'database unavailable' : 'internal error' })
    })
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port, options.host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  const address = server.address() as AddressInfo
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address
  return {
    server,
    url: `http://${host}:${address.port}/`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
