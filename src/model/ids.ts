/**
 * Time-ordered ids (UUIDv7, RFC 9562) for feedback, guardrail events, notifications and snapshots.
 * Within one process they strictly increase (the `uuid` package keeps a monotonic counter for ids
 * minted in the same millisecond), which makes `_id` a usable keyset-pagination key.
 */
import { v7 } from 'uuid'

/** Returns a new UUIDv7 string, e.g. `0192f1c4-5b7e-7a3c-9d21-4f0e8b6a1c2d`. */
export function uuidv7(): string {
  return v7()
}
