/**
 * UUIDv7 generation (RFC 9562) with node:crypto, so ids sort by creation time.
 *
 * Why not the `uuid` package: it is only a transitive dependency of the SDK, and a library must not
 * rely on what its dependencies happen to install. Within one process the ids are strictly
 * increasing (a 12-bit counter in `rand_a` orders ids minted in the same millisecond), which makes
 * `_id` a usable keyset-pagination key for feedback and guardrail events.
 */
import { randomBytes } from 'node:crypto'

let lastMs = 0
let counter = 0

/** Returns a new UUIDv7 string, e.g. `0192f1c4-5b7e-7a3c-9d21-4f0e8b6a1c2d`. */
export function uuidv7(): string {
  let ms = Date.now()
  if (ms > lastMs) {
    lastMs = ms
    // Random start leaves room for many ids within the same millisecond while staying unpredictable.
    counter = randomBytes(2).readUInt16BE(0) & 0x7ff
  } else {
    ms = lastMs
    counter++
    if (counter > 0xfff) {
      // Counter exhausted: borrow the next millisecond so ordering is preserved.
      lastMs = ++ms
      counter = 0
    }
  }
  const bytes = randomBytes(16)
  bytes.writeUIntBE(ms, 0, 6)
  bytes[6] = 0x70 | ((counter >> 8) & 0x0f)
  bytes[7] = counter & 0xff
  bytes[8] = 0x80 | (bytes[8]! & 0x3f)
  const hex = bytes.toString('hex')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}
