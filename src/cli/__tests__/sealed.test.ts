import { Binary } from 'mongodb'
import { describe, expect, it } from 'vitest'
import { SEALED_SUBTYPE } from '../../storage/crypto/cipher.js'
import { encodeValue } from '../../storage/encoding.js'
import { createStyle } from '../style.js'
import { renderMessage } from '../render.js'
import { viewBlocks } from '../viewer/blocks.js'
import { decodeForDisplay, displayJson, displayText, isEncryptedValue, redactSealed } from '../sealed.js'

const sealed = () => new Binary(Buffer.from('ciphertext-bytes'), SEALED_SUBTYPE)
const plain = () => new Binary(Buffer.from('plain-bytes'))
const MARKER = { $encrypted: true }

describe('redactSealed', () => {
  it('replaces sealed Binaries at any depth, in objects and arrays', () => {
    const when = new Date(0)
    const stored = { a: sealed(), b: { c: [1, sealed(), { d: sealed() }], when }, e: 'text' }
    expect(redactSealed(stored)).toEqual({ a: MARKER, b: { c: [1, MARKER, { d: MARKER }], when }, e: 'text' })
    expect(redactSealed(sealed())).toEqual(MARKER)
    // The input is left as it was.
    expect(stored.a).toBeInstanceOf(Binary)
  })

  it('keeps everything else, and returns a value without sealed parts unchanged', () => {
    const value = { bytes: plain(), list: [1, 'x', null], when: new Date(0) }
    expect(redactSealed(value)).toBe(value)
    expect(redactSealed(null)).toBeNull()
    expect(redactSealed('s')).toBe('s')
  })

  it('keeps a __proto__ key an own property', () => {
    const value = JSON.parse('{"__proto__": {"x": 1}, "y": 1}') as Record<string, unknown>
    value.y = sealed()
    const out = redactSealed(value) as Record<string, unknown>
    expect(Object.getOwnPropertyNames(out)).toEqual(['__proto__', 'y'])
    expect(out.y).toEqual(MARKER)
  })
})

describe('decodeForDisplay', () => {
  it('decodes like the library (escaped keys, nested arrays) with sealed parts as markers', () => {
    const stored = encodeValue({ 'a.b': [[1, 2]], $k: 'v' }) as Record<string, unknown>
    stored.secret = sealed()
    expect(decodeForDisplay(stored)).toEqual({ 'a.b': [[1, 2]], $k: 'v', secret: MARKER })
    expect(decodeForDisplay({ media: plain() }, { binary: 'base64' })).toEqual({
      media: Buffer.from('plain-bytes').toString('base64'),
    })
  })
})

describe('text forms', () => {
  it('displayJson and displayText show [encrypted], never the bytes', () => {
    expect(displayJson({ a: MARKER, b: [MARKER] })).toBe('{"a":"[encrypted]","b":["[encrypted]"]}')
    expect(displayText(sealed())).toBe('[encrypted]')
    expect(displayText(MARKER)).toBe('[encrypted]')
    expect(displayText('hi')).toBe('hi')
    expect(displayText(null)).toBeNull()
    expect(isEncryptedValue({ $encrypted: true, other: 1 })).toBe(false)
  })

  it('a message whose content is encrypted renders as one [encrypted] line and one viewer block', () => {
    const style = createStyle({ write: () => true, isTTY: false }, false)
    expect(renderMessage({ role: 'user', content: MARKER }, style)).toEqual(['  user       [encrypted]'])
    expect(renderMessage({ role: 'user', content: [{ text: 'hi' }, MARKER] }, style)).toEqual([
      '  user       hi',
      '             [encrypted]',
    ])
    expect(viewBlocks(MARKER)).toEqual([{ kind: 'encrypted' }])
    expect(viewBlocks([{ toolUse: { name: 't', toolUseId: 'u', input: { k: MARKER } } }])).toEqual([
      { kind: 'toolUse', name: 't', toolUseId: 'u', input: '{\n  "k": "[encrypted]"\n}' },
    ])
  })
})
