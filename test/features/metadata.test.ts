import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ValidationError } from '../../src/errors.js'
import { SessionData } from '../../src/features/session-data.js'
import { configureLogger, type Logger } from '../../src/logging.js'
import { METADATA_LIMITS } from '../../src/validation/metadata.js'
import { openFeaturesDatabase, snapshotSession, type FeaturesTestContext } from './support.js'

let ctx: FeaturesTestContext
let n = 0
const sid = () => `meta-${++n}`

beforeAll(async () => {
  ctx = await openFeaturesDatabase('msm_meta')
})
afterAll(async () => {
  await ctx.db.cleanup()
})

describe('metadata', () => {
  it('merges updates, preserving existing fields, and returns the metadata afterwards', async () => {
    const data = new SessionData({ collections: ctx.collections, sessionId: sid() })
    expect(await data.updateMetadata({ status: 'new', priority: 'low' })).toEqual({ status: 'new', priority: 'low' })
    const after = await data.updateMetadata({ status: 'processing' })
    expect(after).toEqual({ status: 'processing', priority: 'low' })
    expect(await data.getMetadata()).toEqual(after)
  })

  it('dotted keys address nested fields; object values replace the value at their key', async () => {
    const data = new SessionData({ collections: ctx.collections, sessionId: sid() })
    await data.updateMetadata({ customer: { name: 'Ada', tier: 'silver' } })
    await data.updateMetadata({ 'customer.tier': 'gold' })
    expect(await data.getMetadata()).toEqual({ customer: { name: 'Ada', tier: 'gold' } })
    await data.updateMetadata({ customer: { id: 7 } })
    expect(await data.getMetadata()).toEqual({ customer: { id: 7 } })
    expect(await data.getMetadata(['customer.id', 'missing'])).toEqual({ 'customer.id': 7 })
  })

  it('round-trips Dates, nested arrays, NUL in strings and keys with $ and % inside segments', async () => {
    const data = new SessionData({ collections: ctx.collections, sessionId: sid() })
    const when = new Date('2024-01-26T10:30:45.123Z')
    const value = { a$b: 1, '100%': [[1, 2], ['x']], text: 'v\u0000v', when }
    await data.updateMetadata({ price$usd: 5, weird: value })
    const got = await data.getMetadata()
    expect(got).toEqual({ price$usd: 5, weird: value })
    expect((got.weird as Record<string, unknown>).when).toBeInstanceOf(Date)
    // Stored escaped: the raw document has no key starting with '$' and no dotted key.
    const raw = await ctx.collections.sessions.findOne({ _id: data.sessionId })
    expect(Object.keys(raw!.metadata)).toEqual(['price%24usd', 'weird'])
  })

  it('deletes keys (nested and missing ones) and returns the remaining metadata', async () => {
    const data = new SessionData({ collections: ctx.collections, sessionId: sid() })
    await data.updateMetadata({ a: 1, b: { c: 2, d: 3 }, e: 4 })
    expect(await data.deleteMetadata(['a', 'b.c', 'nope'])).toEqual({ b: { d: 3 }, e: 4 })
    expect(await data.deleteMetadata(['b', 'b.d'])).toEqual({ e: 4 })
  })

  it('on a missing session: get returns {}, update and delete create the session with the skeleton', async () => {
    const data = new SessionData({ collections: ctx.collections, sessionId: sid(), applicationName: 'support-bot' })
    expect(await data.getMetadata()).toEqual({})
    expect(await ctx.collections.sessions.countDocuments({ _id: data.sessionId })).toBe(0)
    await data.updateMetadata({ status: 'x' })
    const doc = await ctx.collections.sessions.findOne({ _id: data.sessionId })
    expect(doc).toMatchObject({
      session_id: data.sessionId,
      application_name: 'support-bot',
      metadata: { status: 'x' },
      agents: {},
    })
    expect(doc!.created_at).toBeInstanceOf(Date)
    expect(await data.getApplicationName()).toBe('support-bot')

    const other = new SessionData({ collections: ctx.collections, sessionId: sid() })
    expect(await other.deleteMetadata(['k'])).toEqual({})
    expect(await ctx.collections.sessions.countDocuments({ _id: other.sessionId })).toBe(1)
  })

  it('an empty update or key list writes nothing and returns the current metadata', async () => {
    const data = new SessionData({ collections: ctx.collections, sessionId: sid() })
    expect(await data.updateMetadata({})).toEqual({})
    expect(await data.deleteMetadata([])).toEqual({})
    expect(await ctx.collections.sessions.countDocuments({ _id: data.sessionId })).toBe(0)
  })

  it('application name is immutable: a different value is ignored with a warning', async () => {
    const id = sid()
    await new SessionData({ collections: ctx.collections, sessionId: id, applicationName: 'first' }).updateMetadata({
      a: 1,
    })
    const warnings: string[] = []
    const sink: Logger = { debug() {}, info() {}, warn: (m) => warnings.push(m), error() {} }
    configureLogger({ logger: sink, level: 'warn' })
    try {
      const second = new SessionData({ collections: ctx.collections, sessionId: id, applicationName: 'second' })
      await second.updateMetadata({ b: 2 })
      expect(await second.getApplicationName()).toBe('first')
      expect(warnings.some((w) => w.includes('immutable'))).toBe(true)
    } finally {
      configureLogger({ logger: console, level: 'warn' })
    }
  })

  it('refuses a dotted key below a non-object value, writing nothing', async () => {
    const data = new SessionData({ collections: ctx.collections, sessionId: sid() })
    await data.updateMetadata({ a: 'text' })
    const before = await snapshotSession(ctx.collections, data.sessionId)
    await expect(data.updateMetadata({ 'a.b': 1, c: 2 })).rejects.toBeInstanceOf(ValidationError)
    expect(await snapshotSession(ctx.collections, data.sessionId)).toEqual(before)
  })

  it('enforces the total size limit before writing', async () => {
    const data = new SessionData({ collections: ctx.collections, sessionId: sid() })
    const chunk = 'x'.repeat(60_000)
    const rounds = Math.floor(METADATA_LIMITS.maxTotalBytes / 60_000)
    for (let i = 0; i < rounds; i++) await data.updateMetadata({ [`k${i}`]: chunk })
    const before = await snapshotSession(ctx.collections, data.sessionId)
    await expect(data.updateMetadata({ last: chunk })).rejects.toThrow(/at most .* kept per session/)
    expect(await snapshotSession(ctx.collections, data.sessionId)).toEqual(before)
  })
})

describe('metadata validation (property-based): bad input → ValidationError naming the key, nothing written', () => {
  const badSegment = fc.oneof(
    fc.constant(''),
    fc.string({ maxLength: 8 }).map((s) => `$${s}`),
    fc.constantFrom('__proto__', 'constructor', 'prototype'),
    fc.constant('x'.repeat(METADATA_LIMITS.maxSegmentLength + 1)),
    fc
      .tuple(fc.constantFrom(' ', '\t', '\n', '\u00a0', '\u0085', '\u3000'), fc.string({ maxLength: 4 }))
      .map(([w, s]) => `${w}${s}`),
    fc.tuple(fc.string({ maxLength: 4 }), fc.constantFrom(' ', '\t', '\u2028')).map(([s, w]) => `${s}${w}`),
  )
  const goodSegment = fc
    .stringMatching(/^[a-zA-Z0-9_ %-]{1,12}$/)
    .filter((s) => !['__proto__', 'constructor', 'prototype'].includes(s))
  const badKey = fc
    .tuple(fc.array(goodSegment, { maxLength: 2 }), badSegment, fc.array(goodSegment, { maxLength: 2 }))
    .map(([a, bad, b]) => [...a, bad, ...b].join('.'))
  const badValue = fc.oneof(
    fc.constant(undefined),
    fc.constant(Number.NaN),
    fc.constant(Number.POSITIVE_INFINITY),
    fc.constant(() => 1),
    fc.constant(Symbol('s')),
    fc.bigInt(),
    fc.constant(new Map([[1, 2]])),
    fc.constant(new Date(Number.NaN)),
    fc.constant(new (class Custom {})()),
  )

  it('bad keys', async () => {
    const data = new SessionData({ collections: ctx.collections, sessionId: sid() })
    await data.updateMetadata({ keep: 1 })
    const before = await snapshotSession(ctx.collections, data.sessionId)
    await fc.assert(
      fc.asyncProperty(badKey, fc.jsonValue(), async (key, value) => {
        const error = await data.updateMetadata({ fine: 1, [key]: value as never }).catch((e: unknown) => e)
        expect(error).toBeInstanceOf(ValidationError)
        expect((error as ValidationError).field).toBe(key)
        await expect(data.deleteMetadata(['fine', key])).rejects.toBeInstanceOf(ValidationError)
      }),
      { numRuns: 60 },
    )
    expect(await snapshotSession(ctx.collections, data.sessionId)).toEqual(before)
  })

  it('bad values, also nested, and too-deep values', async () => {
    const data = new SessionData({ collections: ctx.collections, sessionId: sid() })
    await data.updateMetadata({ keep: 1 })
    const before = await snapshotSession(ctx.collections, data.sessionId)
    const nest = (v: unknown, depth: number): unknown => (depth === 0 ? v : { n: nest(v, depth - 1) })
    await fc.assert(
      fc.asyncProperty(badValue, fc.integer({ min: 0, max: 3 }), async (value, depth) => {
        const error = await data
          .updateMetadata({ ok: 'yes', field: nest(value, depth) as never })
          .catch((e: unknown) => e)
        expect(error).toBeInstanceOf(ValidationError)
        expect(String((error as ValidationError).field)).toMatch(/^field/)
      }),
      { numRuns: 60 },
    )
    const deep = nest(1, METADATA_LIMITS.maxDepth)
    await expect(data.updateMetadata({ deep: deep as never })).rejects.toThrow(/deeper than/)
    const cyclic: Record<string, unknown> = {}
    cyclic.self = cyclic
    await expect(data.updateMetadata({ cyclic: cyclic as never })).rejects.toThrow(/circular/)
    await expect(data.updateMetadata({ a: 1, 'a.b': 2 })).rejects.toThrow(/overlap/)
    await expect(data.updateMetadata([] as never)).rejects.toBeInstanceOf(ValidationError)
    await expect(data.updateMetadata({ big: 'x'.repeat(METADATA_LIMITS.maxUpdateBytes) })).rejects.toThrow(/per call/)
    expect(await snapshotSession(ctx.collections, data.sessionId)).toEqual(before)
  })

  it('valid arbitrary JSON round-trips exactly', async () => {
    const data = new SessionData({ collections: ctx.collections, sessionId: sid() })
    const key = fc
      .stringMatching(/^[a-zA-Z0-9_ %$-]{1,10}$/)
      .filter((s) => !s.startsWith('$') && s.trim() === s && !['__proto__', 'constructor', 'prototype'].includes(s))
    const value = fc.jsonValue({ maxDepth: 4 }).filter((v) => {
      // JSON keys generated by fast-check may be empty/`$`-prefixed/proto names or contain dots: those are
      // rejected by design (covered above), so only keep values whose keys are all acceptable.
      const ok = (x: unknown): boolean =>
        x === null || typeof x !== 'object'
          ? !(typeof x === 'number' && Object.is(x, -0))
          : Array.isArray(x)
            ? x.every(ok)
            : Object.entries(x).every(
                ([k, v]) =>
                  k !== '' &&
                  k.trim() === k &&
                  !/^\u0085|\u0085$/.test(k) &&
                  !k.startsWith('$') &&
                  !k.includes('.') &&
                  !['__proto__', 'constructor', 'prototype'].includes(k) &&
                  ok(v),
              )
      return ok(v)
    })
    await fc.assert(
      fc.asyncProperty(key, value, async (k, v) => {
        await data.updateMetadata({ [k]: v as never })
        expect((await data.getMetadata([k]))[k]).toEqual(v)
      }),
      { numRuns: 40 },
    )
  })
})
