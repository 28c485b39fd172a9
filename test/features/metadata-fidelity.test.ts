/**
 * What the library accepts reads back exactly; what it cannot store faithfully is refused with a
 * ValidationError naming the key or field, and nothing is written. Against the real test server.
 */
import { randomBytes } from 'node:crypto'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ValidationError } from '../../src/errors.js'
import { SessionData } from '../../src/features/session-data.js'
import type { Metadata } from '../../src/model/types.js'
import { METADATA_LIMITS } from '../../src/validation/metadata.js'
import { createLocalKeyProvider } from '../../src/storage/crypto/key-provider.js'
import { SessionKey } from '../../src/storage/crypto/session-key.js'
import { openFeaturesDatabase, snapshotSession, type FeaturesTestContext } from './support.js'
import { rejectionOf } from '../support/thrown.js'

let ctx: FeaturesTestContext
let n = 0
const sid = () => `fidelity-${++n}`

beforeAll(async () => {
  ctx = await openFeaturesDatabase('msm_fidelity')
})
afterAll(async () => {
  await ctx.db.cleanup()
})

const keyProvider = createLocalKeyProvider(randomBytes(32))

function newSession(options: { encrypted?: boolean } = {}): SessionData {
  const sessionId = sid()
  return new SessionData({
    collections: ctx.collections,
    sessionId,
    ...(options.encrypted && { sessionKey: new SessionKey(keyProvider, ctx.collections.sessions, sessionId) }),
  })
}

/** The rejection of `attempt`, checked to be a ValidationError naming `field`. */
async function refused(attempt: Promise<unknown>, field: string): Promise<void> {
  expect((await rejectionOf(attempt, ValidationError)).field).toBe(field)
}

/** An object with exactly these own enumerable properties ("__proto__" included, as an own key). */
function ownRecord(entries: [string, unknown][]): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [key, value] of entries) {
    Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true })
  }
  return out
}

describe('metadata: stored exactly or refused', () => {
  it('a NUL in a key is refused, at the top, in a dotted path and inside a value', async () => {
    const data = newSession()
    await data.updateMetadata({ keep: 1 })
    const before = await snapshotSession(ctx.collections, data.sessionId)
    await refused(data.updateMetadata({ 'x\u0000y': 1 }), 'x\u0000y')
    await refused(data.updateMetadata({ 'a.b\u0000': 1 }), 'a.b\u0000')
    await refused(data.updateMetadata({ ok: 1, a: { 'x\u0000y': 1 } }), 'a.x\u0000y')
    await refused(data.updateMetadata({ a: [{ '\u0000': 1 }] }), 'a[0].\u0000')
    await refused(data.deleteMetadata(['x\u0000y']), 'x\u0000y')
    await refused(data.getMetadata(['x\u0000y']), 'x\u0000y')
    expect(await snapshotSession(ctx.collections, data.sessionId)).toEqual(before)
  })

  it('a lone surrogate is refused in keys and in string values, however deep', async () => {
    const data = newSession()
    await data.updateMetadata({ keep: 1 })
    const before = await snapshotSession(ctx.collections, data.sessionId)
    await refused(data.updateMetadata({ 'k\ud800': 1 }), 'k\ud800')
    await refused(data.updateMetadata({ 'a.\udc00': 1 }), 'a.\udc00')
    await refused(data.updateMetadata({ q: { 'k\udc00': 1 } }), 'q.k\udc00')
    await refused(data.updateMetadata({ s: 'a\ud800b' }), 's')
    await refused(data.updateMetadata({ ok: 'fine', s: { t: ['x', 'emoji cut in half \ud83d'] } }), 's.t[1]')
    await refused(data.deleteMetadata(['\ud800']), '\ud800')
    expect(await snapshotSession(ctx.collections, data.sessionId)).toEqual(before)
    // Well-formed pairs are fine and come back exactly.
    expect(await data.updateMetadata({ 'emoji😀': '😀 \ud83d\ude00' })).toMatchObject({ 'emoji😀': '😀 😀' })
  })

  it('-0 is stored as 0 on every engine (JSON, and so every notification, has no negative zero)', async () => {
    const data = newSession()
    const stored = await data.updateMetadata({ z: -0, list: [-0, 1] })
    expect(Object.is(stored.z, 0)).toBe(true)
    expect(Object.is((stored.list as number[])[0], 0)).toBe(true)
  })

  it('a NUL inside a string value is stored as a plain string and reads back exactly', async () => {
    const data = newSession()
    const value = { nv: 'a\u0000b', nested: { list: ['\u0000', 'x\u0000'] } }
    expect(await data.updateMetadata(value)).toEqual(value)
    expect(await data.getMetadata()).toEqual(value)
    const raw = await ctx.collections.sessions.findOne({ _id: data.sessionId })
    expect(raw!.metadata).toEqual(value)
    // Stored as a string, so a query on the field finds it.
    expect(await ctx.collections.sessions.countDocuments({ _id: data.sessionId, 'metadata.nv': 'a\u0000b' })).toBe(1)
  })

  it("keys inside values may not contain '.', checked on the real server: nothing is written", async () => {
    const data = newSession()
    await data.updateMetadata({ keep: 1 })
    const before = await snapshotSession(ctx.collections, data.sessionId)
    await refused(data.updateMetadata({ a: { 'x.y': 1 } }), 'a.x.y')
    await refused(data.updateMetadata({ a: [{ b: { '.': 1 } }] }), 'a[0].b..')
    expect(await snapshotSession(ctx.collections, data.sessionId)).toEqual(before)
  })
})

/** Any UTF-16 code unit: NUL, lone surrogates and halves of pairs included. */
const codeUnit = fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c))
/** Text: full Unicode, arbitrary code units, and the characters that need care as keys. */
const text = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 6 }),
  fc.string({ unit: codeUnit, maxLength: 6 }),
  fc.stringMatching(/^[a-z]{1,4}$/),
  fc.constantFrom(
    'a\ud800',
    '\udc00b',
    '\ud83d\ude00',
    'x\u0000y',
    '$x',
    'a$',
    'a.b',
    '%2E',
    '%uD800',
    '__proto__',
    'constructor',
    'toString',
    ' x',
    '',
  ),
)
const scalar = fc.oneof(
  text,
  fc.integer(),
  fc.constant(-0),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.boolean(),
  fc.constant(null),
  fc.date({ noInvalidDate: true }),
)
const value: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  v: fc.oneof(
    { depthSize: 'small' },
    scalar,
    fc.array(tie('v'), { maxLength: 3 }),
    fc.array(fc.tuple(text, tie('v')), { maxLength: 3 }).map(ownRecord),
  ),
})).v
/** Values nested up to two levels past the depth limit. */
const nested = fc
  .tuple(value, fc.integer({ min: 0, max: METADATA_LIMITS.maxDepth + 2 }), fc.boolean())
  .map(([leaf, depth, asArray]) => {
    let v = leaf
    for (let i = 0; i < depth; i++) v = asArray ? [v] : { n: v }
    return v
  })
const update = fc.array(fc.tuple(text, fc.oneof(value, nested)), { minLength: 1, maxLength: 4 }).map(ownRecord)

describe('metadata (property): accepted input reads back exactly; rejected input writes nothing', () => {
  // Encrypted: every value is sealed under its own path, and must read back the same.
  it.each([
    ['without encryption', false],
    ['with encryption', true],
  ])(
    'any update, %s',
    async (_, encrypted) => {
      let accepted = 0
      await fc.assert(
        fc.asyncProperty(update, async (input) => {
          const data = newSession({ encrypted })
          await data.updateMetadata({ keep: 'kept' })
          const before = await snapshotSession(ctx.collections, data.sessionId)
          const outcome = await data.updateMetadata(input as Metadata).then(
            () => undefined,
            (e: unknown) => e,
          )
          const keys = Object.keys(input)
          if (outcome === undefined) {
            accepted++
            const read = await data.getMetadata(keys)
            for (const key of keys) {
              expect(Object.prototype.hasOwnProperty.call(read, key)).toBe(true)
              expect(read[key]).toEqual(withoutNegativeZero(input[key]))
            }
            expect((await data.getMetadata()).keep).toBe('kept')
          } else {
            expect(outcome).toBeInstanceOf(ValidationError)
            expect(await snapshotSession(ctx.collections, data.sessionId)).toEqual(before)
          }
        }),
        { numRuns: encrypted ? 80 : 150 },
      )
      // The property must exercise both branches.
      expect(accepted).toBeGreaterThan(encrypted ? 8 : 15)
      expect(accepted).toBeLessThan(encrypted ? 72 : 135)
      // Each run is several round trips to a server that, in a full test run, serves other files too.
    },
    240_000,
  )
})

/** The one documented normalisation: -0 is stored as 0 (JSON has no negative zero). */
function withoutNegativeZero(value: unknown): unknown {
  if (Object.is(value, -0)) return 0
  if (Array.isArray(value)) return value.map(withoutNegativeZero)
  if (value !== null && typeof value === 'object' && !(value instanceof Date)) {
    return ownRecord(Object.entries(value).map(([k, v]) => [k, withoutNegativeZero(v)]))
  }
  return value
}
