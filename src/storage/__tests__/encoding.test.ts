import fc from 'fast-check'
import { BSON } from 'mongodb'
import { describe, expect, it } from 'vitest'
import { hasLoneSurrogate } from '../../validation/text.js'
import { decodeValue, encodeValue, escapeKey, MAX_NATIVE_DEPTH, unescapeKey } from '../encoding.js'

/** Any UTF-16 code unit: NUL, lone surrogates and halves of pairs included. */
const codeUnit = fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c))
/** Full Unicode (astral characters as pairs), plus strings of arbitrary code units (lone surrogates). */
const anyText = fc.oneof(
  fc.string({ unit: 'binary' }),
  fc.string({ unit: codeUnit }),
  fc.constantFrom('a\ud800b', '\udc00', '\ud83d', '\ud83d\ude00\ud83d', 'x\u0000y', '%uD800', '%u', '%00'),
)
const anyKey = fc.oneof(
  anyText,
  fc.constantFrom('$set', 'a.b', '%a', '%s', '%j', '%', '', '%P', '%Pconstructor', '\u0000', '%25'),
  fc.constantFrom(...Object.getOwnPropertyNames(Object.prototype)),
)
const json = fc.letrec((tie) => ({
  v: fc.oneof(
    { depthSize: 'small' },
    anyText,
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }).filter((d) => !Object.is(d, -0)),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('v'), { maxLength: 4 }),
    fc.dictionary(anyKey, tie('v'), { maxKeys: 4 }),
  ),
})).v

function keysOf(value: unknown, out: string[] = []): string[] {
  if (value && typeof value === 'object' && !Array.isArray(value) && !(value instanceof Date)) {
    for (const [k, v] of Object.entries(value)) {
      out.push(k)
      keysOf(v, out)
    }
  } else if (Array.isArray(value)) value.forEach((v) => keysOf(v, out))
  return out
}

describe('encodeValue / decodeValue', () => {
  it('round-trips any JSON value, through BSON too', () => {
    fc.assert(
      fc.property(json, (value) => {
        const encoded = encodeValue(value)
        // toEqual: fast-check may build objects without a prototype; decoded ones are plain objects.
        expect(decodeValue(encoded)).toEqual(value)
        const viaBson = BSON.deserialize(BSON.serialize({ v: encoded })).v
        expect(decodeValue(viaBson)).toEqual(value)
      }),
      { numRuns: 500 },
    )
  })

  it('never produces a key MongoDB reads as an operator or a path, nor nested arrays', () => {
    fc.assert(
      fc.property(json, (value) => {
        const encoded = encodeValue({ root: value })
        for (const key of keysOf(encoded)) {
          expect(key.startsWith('$')).toBe(false)
          expect(key.includes('.')).toBe(false)
          expect(key.includes('\u0000')).toBe(false)
          expect(hasLoneSurrogate(key)).toBe(false)
          expect(key).not.toBe('')
        }
        const noNested = (v: unknown): boolean =>
          Array.isArray(v)
            ? v.every((x) => !Array.isArray(x) && noNested(x))
            : v && typeof v === 'object'
              ? Object.values(v).every(noNested)
              : true
        expect(noNested(encoded)).toBe(true)
      }),
      { numRuns: 500 },
    )
  })

  it('keeps "__proto__" as an own key and never touches prototypes', () => {
    const value = JSON.parse('{"__proto__": {"polluted": true}, "a": 1, "b": {"__proto__": [{}]}, "constructor": [[]]}')
    const decoded = decodeValue(BSON.deserialize(BSON.serialize({ v: encodeValue(value) })).v) as Record<
      string,
      unknown
    >
    expect(Object.keys(decoded)).toEqual(['__proto__', 'a', 'b', 'constructor'])
    expect(JSON.stringify(decoded)).toBe(JSON.stringify(value))
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  })

  it('stores subtrees deeper than the native limit as JSON text and restores them', () => {
    let deep: unknown = 'leaf'
    for (let i = 0; i < MAX_NATIVE_DEPTH + 20; i++) deep = { level: [deep] }
    expect(decodeValue(BSON.deserialize(BSON.serialize({ v: encodeValue(deep) })).v)).toStrictEqual(deep)
  })

  it('switches to JSON text exactly at the native depth limit', () => {
    const nested = (levels: number): unknown => (levels === 0 ? 'leaf' : { n: nested(levels - 1) })
    const storedDepth = (value: unknown): number => {
      let depth = 0
      let current = value as Record<string, unknown>
      while (typeof current === 'object' && current !== null && !('%j' in current)) {
        current = current.n as Record<string, unknown>
        depth++
      }
      return depth
    }
    // The value at depth MAX_NATIVE_DEPTH (counting from 0) is the first one stored as JSON text.
    expect(storedDepth(encodeValue(nested(MAX_NATIVE_DEPTH + 5)))).toBe(MAX_NATIVE_DEPTH)
    expect(JSON.stringify(encodeValue(nested(MAX_NATIVE_DEPTH)))).not.toContain('%j')
    expect(decodeValue(encodeValue(nested(MAX_NATIVE_DEPTH + 5)))).toStrictEqual(nested(MAX_NATIVE_DEPTH + 5))
  })

  it('drops what JSON drops, turns undefined in arrays into null, and refuses other types', () => {
    expect(encodeValue({ a: undefined, f: () => 1, s: Symbol('s'), k: 1 })).toStrictEqual({ k: 1 })
    expect(encodeValue([undefined, 1])).toStrictEqual([null, 1])
    expect(encodeValue(undefined)).toBe(null)
    expect(() => encodeValue(10n)).toThrow(new TypeError('cannot store a value of type bigint'))
    expect(() => encodeValue({ a: [10n] })).toThrow(TypeError)
    expect(() => encodeValue(() => 1)).toThrow('cannot store a value of type function')
  })

  it('keeps bytes as BSON Binary and Dates as dates', () => {
    const bytes = new Uint8Array([0, 1, 2, 255])
    const when = new Date('2026-11-28T10:00:00.000Z')
    const decoded = decodeValue(BSON.deserialize(BSON.serialize({ v: encodeValue({ bytes, when }) })).v) as Record<
      string,
      unknown
    >
    expect(decoded.bytes).toStrictEqual(bytes)
    expect(decoded.when).toStrictEqual(when)
    expect(decodeValue(encodeValue({ bytes }), { binary: 'base64' })).toStrictEqual({ bytes: 'AAEC/w==' })
  })

  it('stores every string as BSON can hold it exactly: lone surrogates never reach UTF-8', () => {
    fc.assert(
      fc.property(json, (value) => {
        const strings: string[] = []
        const collect = (v: unknown): void => {
          if (typeof v === 'string') strings.push(v)
          else if (Array.isArray(v)) v.forEach(collect)
          else if (v && typeof v === 'object') Object.values(v).forEach(collect)
        }
        collect(encodeValue({ root: value }))
        for (const text of strings) expect(hasLoneSurrogate(text)).toBe(false)
      }),
      { numRuns: 300 },
    )
  })

  it('keeps strings with NUL as plain strings; wraps only strings with a lone surrogate', () => {
    expect(encodeValue('a\u0000b')).toBe('a\u0000b')
    expect(encodeValue({ s: ['\u0000'] })).toStrictEqual({ s: ['\u0000'] })
    expect(encodeValue('\ud83d\ude00')).toBe('\ud83d\ude00')
    const wrapped = encodeValue('a\ud800b')
    expect(wrapped).toStrictEqual({ '%j': '"a\\ud800b"' })
    expect(decodeValue(BSON.deserialize(BSON.serialize({ v: wrapped })).v)).toBe('a\ud800b')
    expect(escapeKey('k\udc00\u0000.')).toBe('k%uDC00%00%2E')
    expect(unescapeKey('k%uDC00%00%2E')).toBe('k\udc00\u0000.')
  })

  it('escapes keys reversibly', () => {
    fc.assert(
      fc.property(anyKey, (key) => {
        expect(unescapeKey(escapeKey(key))).toBe(key)
      }),
    )
  })
})
