import { describe, expect, it } from 'vitest'
import { ValidationError } from '../../errors.js'
import {
  METADATA_LIMITS,
  validateMetadataKey,
  validateMetadataKeys,
  validateMetadataUpdate,
  validateMetadataValue,
} from '../metadata.js'
import { thrownBy } from '../../../test/support/thrown.js'

const nest = (leaf: unknown, levels: number): unknown => (levels === 0 ? leaf : { n: nest(leaf, levels - 1) })

describe('validateMetadataKey', () => {
  it('splits a dotted key into its segments', () => {
    expect(validateMetadataKey('customer.tier')).toEqual({ key: 'customer.tier', segments: ['customer', 'tier'] })
    expect(validateMetadataKey('a$b%c')).toEqual({ key: 'a$b%c', segments: ['a$b%c'] })
  })

  it('names the offending key, and says what is wrong', () => {
    const cases: [string, RegExp][] = [
      ['', /must not be empty/],
      ['a..b', /"a\.\.b" has an empty segment/],
      ['a.$set', /"a\.\$set": a segment may not start with '\$'/],
      ['x\u0000y', /"x\\u0000y" contains a NUL character/],
      ['k\ud800', /contains a lone surrogate/],
      [' a', /may not start or end with whitespace/],
      ['a\u0085', /may not start or end with whitespace/],
      ['a.__proto__', /'__proto__' is not allowed as a key/],
      ['constructor', /'constructor' is not allowed/],
      ['prototype.x', /'prototype' is not allowed/],
      ['x'.repeat(METADATA_LIMITS.maxSegmentLength + 1), /segments are limited to 256 characters/],
    ]
    for (const [key, message] of cases) {
      const error = thrownBy(() => validateMetadataKey(key), ValidationError)
      expect(error.message, JSON.stringify(key)).toMatch(message)
      expect(error.field).toBe(key)
    }
  })

  it('accepts inner whitespace, the longest segment and the deepest path; one more is refused', () => {
    expect(validateMetadataKey('a b').segments).toEqual(['a b'])
    const longest = 'x'.repeat(METADATA_LIMITS.maxSegmentLength)
    expect(validateMetadataKey(longest).segments).toEqual([longest])
    const deepest = Array.from({ length: METADATA_LIMITS.maxDepth }, (_, i) => `s${i}`).join('.')
    expect(validateMetadataKey(deepest).segments).toHaveLength(METADATA_LIMITS.maxDepth)
    expect(thrownBy(() => validateMetadataKey(`${deepest}.more`), ValidationError).message).toMatch(
      /nested deeper than 10 levels/,
    )
  })

  it('shortens very long keys in messages', () => {
    const key = `${'k'.repeat(100)}.$x`
    const error = thrownBy(() => validateMetadataKey(key), ValidationError)
    expect(error.message).toContain(`"${'k'.repeat(80)}…"`)
    expect(error.message).not.toContain('k'.repeat(81))
    expect(error.field).toBe(key)
  })

  it('refuses keys that are not strings, naming their kind', () => {
    expect(thrownBy(() => validateMetadataKey(5), ValidationError).field).toBe('5')
    expect(thrownBy(() => validateMetadataKey(true), ValidationError).field).toBe('true')
    expect(thrownBy(() => validateMetadataKey(undefined), ValidationError).field).toBe('undefined')
    expect(thrownBy(() => validateMetadataKey(null), ValidationError).message).toMatch(/keys must be strings, got null/)
    expect(thrownBy(() => validateMetadataKey(null), ValidationError).field).toBe('object')
    expect(thrownBy(() => validateMetadataKey({}), ValidationError).message).toMatch(/got object/)
  })
})

describe('validateMetadataValue', () => {
  it('keeps JSON values and Dates, as a detached copy', () => {
    const when = new Date('2024-01-26T10:30:45.123Z')
    const input = { s: 'text \u0000 nul', n: 1.5, b: false, z: null, list: [1, [2, 'x']], when, o: { k: 'v' } }
    const copy = validateMetadataValue(input, 'key') as typeof input
    expect(copy).toEqual(input)
    expect(copy).not.toBe(input)
    expect(copy.list).not.toBe(input.list)
    expect(copy.o).not.toBe(input.o)
    expect(copy.when).not.toBe(when)
    expect(copy.when).toEqual(when)
    const nullProto = Object.assign(Object.create(null) as object, { a: 1 })
    expect(validateMetadataValue(nullProto, 'k')).toEqual({ a: 1 })
  })

  it('stores -0 as 0, and keeps every other number', () => {
    expect(Object.is(validateMetadataValue(-0, 'k'), 0)).toBe(true)
    expect(validateMetadataValue([-0, -1, 0.5], 'k')).toEqual([0, -1, 0.5])
    expect(Object.is((validateMetadataValue([-0], 'k') as number[])[0], 0)).toBe(true)
  })

  it('refuses what JSON cannot carry, naming the key path', () => {
    const cases: [unknown, string, RegExp][] = [
      [Number.NaN, 'k', /NaN is not a JSON number/],
      [Number.NEGATIVE_INFINITY, 'k', /-Infinity is not a JSON number/],
      [undefined, 'k', /undefined is not allowed \(use null, or deleteMetadata/],
      [() => 1, 'k', /a function is not JSON-serialisable/],
      [10n, 'k', /a bigint is not JSON-serialisable/],
      [Symbol('s'), 'k', /a symbol is not JSON-serialisable/],
      [new Date(Number.NaN), 'k', /invalid Date/],
      [new Map(), 'k', /a Map is not JSON-serialisable/],
      [{ a: [1, undefined] }, 'k.a[1]', /undefined is not allowed/],
      [[1, , 3], 'k[1]', /undefined is not allowed/],
      [{ a: 'x\udc00' }, 'k.a', /"k\.a": the string contains a lone surrogate/],
      [{ 'x.y': 1 }, 'k.x.y', /keys inside values may not contain '\.'/],
      [{ $x: 1 }, 'k.$x', /may not start with '\$'/],
      [{ '': 1 }, 'k.', /empty segment/],
      [{ 'a\u0000': 1 }, 'k.a\u0000', /NUL/],
      [JSON.parse('{"__proto__": 1}'), 'k.__proto__', /'__proto__' is not allowed/],
    ]
    for (const [value, field, message] of cases) {
      const error = thrownBy(() => validateMetadataValue(value, 'k'), ValidationError)
      expect(error.message, field).toMatch(message)
      expect(error.field).toBe(field)
    }
    const unnamed = Object.create({}) as object
    Object.defineProperty(unnamed, 'constructor', { value: undefined })
    expect(thrownBy(() => validateMetadataValue(unnamed, 'k'), ValidationError).message).toMatch(
      /"k": a object is not JSON-serialisable/,
    )
  })

  it('accepts nesting up to the depth limit, counting the key path; one level more is refused', () => {
    // A one-segment key leaves maxDepth - 1 levels of objects or arrays for its value.
    expect(validateMetadataValue(nest(1, METADATA_LIMITS.maxDepth - 1), 'k')).toEqual(
      nest(1, METADATA_LIMITS.maxDepth - 1),
    )
    expect(
      thrownBy(() => validateMetadataValue(nest(1, METADATA_LIMITS.maxDepth), 'k'), ValidationError).message,
    ).toMatch(/nested deeper than 10 levels/)
    expect(validateMetadataValue(nest(1, 5), 'k', 5)).toEqual(nest(1, 5))
    expect(() => validateMetadataValue(nest(1, 6), 'k', 5)).toThrow(/deeper/)
    expect(() => validateMetadataValue([[[1]]], 'k', 8)).toThrow(/deeper/)
  })

  it('refuses cycles but accepts the same object twice side by side', () => {
    const shared = { x: 1 }
    expect(validateMetadataValue({ a: shared, b: shared }, 'k')).toEqual({ a: { x: 1 }, b: { x: 1 } })
    const cyclic: Record<string, unknown> = {}
    cyclic.self = cyclic
    expect(thrownBy(() => validateMetadataValue(cyclic, 'k'), ValidationError).message).toMatch(
      /"k\.self": circular reference/,
    )
    const list: unknown[] = []
    list.push(list)
    expect(thrownBy(() => validateMetadataValue(list, 'k'), ValidationError).field).toBe('k[0]')
  })
})

describe('validateMetadataUpdate', () => {
  it('returns the entries in order, the detached copy and its JSON size', () => {
    const result = validateMetadataUpdate({ b: 1, 'a.c': 'x' })
    expect(result.metadata).toEqual({ b: 1, 'a.c': 'x' })
    expect(Object.keys(result.metadata)).toEqual(['b', 'a.c'])
    expect(result.entries).toEqual([
      { path: { key: 'b', segments: ['b'] }, value: 1 },
      { path: { key: 'a.c', segments: ['a', 'c'] }, value: 'x' },
    ])
    expect(result.bytes).toBe(Buffer.byteLength(JSON.stringify({ b: 1, 'a.c': 'x' })))
    expect(validateMetadataUpdate({}).entries).toEqual([])
  })

  it('counts a dotted key towards the depth of its value', () => {
    expect(() => validateMetadataUpdate({ 'a.b': nest(1, METADATA_LIMITS.maxDepth - 2) })).not.toThrow()
    expect(() => validateMetadataUpdate({ 'a.b': nest(1, METADATA_LIMITS.maxDepth - 1) })).toThrow(/deeper/)
  })

  it('refuses anything but a plain object', () => {
    for (const input of [null, [], 'x', 1, new Map()]) {
      const error = thrownBy(() => validateMetadataUpdate(input), ValidationError)
      expect(error.message).toBe('metadata must be a plain object')
      expect(error.field).toBe('metadata')
    }
  })

  it('refuses overlapping keys, whichever comes first', () => {
    expect(thrownBy(() => validateMetadataUpdate({ a: 1, 'a.b': 2 }), ValidationError).message).toBe(
      'metadata keys "a" and "a.b" overlap',
    )
    expect(thrownBy(() => validateMetadataUpdate({ 'a.b.c': 2, 'a.b': 1 }), ValidationError).field).toBe('a.b.c')
    expect(validateMetadataUpdate({ a: 1, ab: 2, 'b.a': 3 }).entries).toHaveLength(3)
  })

  it('limits keys per call and bytes per update, at the exact limits', () => {
    const keys = (count: number) => Object.fromEntries(Array.from({ length: count }, (_, i) => [`k${i}`, 1]))
    expect(validateMetadataUpdate(keys(METADATA_LIMITS.maxKeysPerCall)).entries).toHaveLength(200)
    expect(
      thrownBy(() => validateMetadataUpdate(keys(METADATA_LIMITS.maxKeysPerCall + 1)), ValidationError).message,
    ).toBe('an update may set at most 200 metadata keys, got 201')
    // {"k":"…"} is 8 bytes of JSON around the text.
    const fits = { k: 'x'.repeat(METADATA_LIMITS.maxUpdateBytes - 8) }
    expect(validateMetadataUpdate(fits).bytes).toBe(METADATA_LIMITS.maxUpdateBytes)
    const error = thrownBy(
      () => validateMetadataUpdate({ k: 'x'.repeat(METADATA_LIMITS.maxUpdateBytes - 7) }),
      ValidationError,
    )
    expect(error.message).toBe('metadata update is 65537 bytes as JSON; at most 65536 are accepted per call')
    expect(error.field).toBe('metadata')
  })
})

describe('validateMetadataKeys', () => {
  it('removes duplicates, keeping the first occurrence order', () => {
    expect(validateMetadataKeys(['b', 'a', 'b', 'c.d']).map((p) => p.key)).toEqual(['b', 'a', 'c.d'])
    expect(validateMetadataKeys([])).toEqual([])
  })

  it('refuses non-arrays and too many keys, naming the argument', () => {
    const error = thrownBy(() => validateMetadataKeys('a', 'keys'), ValidationError)
    expect(error.message).toBe('keys must be an array of strings')
    expect(error.field).toBe('keys')
    expect(thrownBy(() => validateMetadataKeys({}, 'fields'), ValidationError).field).toBe('fields')
    const many = Array.from({ length: METADATA_LIMITS.maxKeysPerCall + 1 }, (_, i) => `k${i}`)
    expect(validateMetadataKeys(many.slice(1))).toHaveLength(200)
    expect(thrownBy(() => validateMetadataKeys(many), ValidationError).message).toBe(
      'at most 200 metadata keys per call, got 201',
    )
    expect(thrownBy(() => validateMetadataKeys(['ok', '$bad']), ValidationError).field).toBe('$bad')
  })
})
