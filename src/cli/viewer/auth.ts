/**
 * Access control of the viewer. On the default loopback address no token is needed (but the Host
 * header must name a loopback host, so a web page cannot reach the viewer by DNS rebinding); on any
 * other address every request must carry the access token: a header, a cookie, or once as `?token=`
 * (which sets the cookie and redirects to the same address without it).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import type { IncomingMessage } from 'node:http'

/** Hosts the viewer binds without a token. */
const LOOPBACK_HOSTS = new Set(['127.0.0.1', '::1', 'localhost'])

export const TOKEN_COOKIE = 'msm_viewer_token'
export const TOKEN_HEADER = 'x-viewer-token'

export function isLoopbackHost(host: string): boolean {
  return LOOPBACK_HOSTS.has(host)
}

/** A new random access token (URL-safe). */
export function generateToken(): string {
  return randomBytes(24).toString('base64url')
}

/** Constant-time comparison: both sides are hashed first so their lengths never show either. */
export function tokenMatches(given: string | undefined, expected: string): boolean {
  if (given === undefined) return false
  const a = createHash('sha256').update(given).digest()
  const b = createHash('sha256').update(expected).digest()
  return timingSafeEqual(a, b)
}

function cookieValue(request: IncomingMessage, name: string): string | undefined {
  for (const part of (request.headers.cookie ?? '').split(';')) {
    const [key, ...rest] = part.trim().split('=')
    if (key === name) return decodeURIComponent(rest.join('='))
  }
  return undefined
}

/** The token a request carries in its header or cookie. */
export function requestToken(request: IncomingMessage): string | undefined {
  const header = request.headers[TOKEN_HEADER]
  if (typeof header === 'string') return header
  const authorization = request.headers.authorization
  if (authorization?.startsWith('Bearer ')) return authorization.slice('Bearer '.length)
  return cookieValue(request, TOKEN_COOKIE)
}

/** Whether the Host header names a loopback host (any port). */
export function hostHeaderIsLoopback(request: IncomingMessage): boolean {
  const host = request.headers.host ?? ''
  const name = host.startsWith('[') ? host.slice(1, host.indexOf(']')) : host.split(':')[0]!
  return isLoopbackHost(name)
}
