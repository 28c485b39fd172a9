/**
 * Opaque pagination cursors: base64url JSON tagged with what they page, so a cursor from one
 * listing is rejected by another instead of silently returning the wrong page.
 */
import { ValidationError } from '../errors.js'

export function encodeCursor(kind: string, position: Record<string, unknown>): string {
  return Buffer.from(JSON.stringify({ k: kind, ...position }), 'utf8').toString('base64url')
}

/** Decodes a cursor made by {@link encodeCursor} for `kind`; anything else is a {@link ValidationError}. */
export function decodeCursor(cursor: unknown, kind: string): Record<string, unknown> {
  if (typeof cursor !== 'string' || cursor.length > 2048)
    throw new ValidationError('invalid cursor', { field: 'cursor' })
  let parsed: unknown
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'))
  } catch {
    throw new ValidationError('invalid cursor', { field: 'cursor' })
  }
  if (parsed === null || typeof parsed !== 'object' || (parsed as { k?: unknown }).k !== kind) {
    throw new ValidationError(`cursor does not belong to this ${kind} listing`, { field: 'cursor' })
  }
  return parsed as Record<string, unknown>
}
