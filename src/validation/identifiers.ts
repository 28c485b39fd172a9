/**
 * Identifier rules. Session, agent and orchestrator ids follow the Strands SDK's rule
 * (`^[a-z0-9_-]+$`) — which also guarantees they can be used as a path segment in a MongoDB
 * update (`agents.<agent_id>.revision`) without ever forming an operator or a nested path.
 */
import { ValidationError } from '../errors.js'

export const IDENTIFIER_PATTERN = /^[a-z0-9_-]+$/
/** Longer ids are rejected: they end up in index keys and every document of the session. */
export const MAX_IDENTIFIER_LENGTH = 128

/** Returns `id` when valid; otherwise throws a {@link ValidationError} naming `what`. */
export function validateIdentifier(id: unknown, what: string): string {
  if (typeof id !== 'string') {
    throw new ValidationError(`${what} must be a string, got ${id === null ? 'null' : typeof id}`, { field: what })
  }
  if (id.length === 0 || id.length > MAX_IDENTIFIER_LENGTH || !IDENTIFIER_PATTERN.test(id)) {
    const shown = id.length > 80 ? `${id.slice(0, 80)}…` : id
    throw new ValidationError(
      `${what} ${JSON.stringify(shown)} is invalid: use 1–${MAX_IDENTIFIER_LENGTH} lowercase letters, digits, '-' or '_'`,
      { field: what },
    )
  }
  return id
}
