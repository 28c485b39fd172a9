/** The viewer's pure parts: block conversion, token comparison, percentiles. */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { generateToken, isLoopbackHost, tokenMatches } from '../auth.js'
import { viewBlock } from '../blocks.js'
import { percentile } from '../dashboard.js'

describe('viewBlock', () => {
  it('converts each kind of block, never passing media bytes on', () => {
    expect(viewBlock({ text: '<b>hi</b>' })).toEqual({ kind: 'text', text: '<b>hi</b>' })
    expect(viewBlock({ toolUse: { name: 'lookup', toolUseId: 't1', input: { a: 1 } } })).toEqual({
      kind: 'toolUse',
      name: 'lookup',
      toolUseId: 't1',
      input: '{\n  "a": 1\n}',
    })
    expect(
      viewBlock({ toolResult: { toolUseId: 't1', status: 'error', content: [{ text: 'boom' }, { json: { x: 1 } }] } }),
    ).toEqual({ kind: 'toolResult', toolUseId: 't1', status: 'error', content: 'boom\n{\n  "x": 1\n}' })
    expect(viewBlock({ reasoning: { text: 'thinking' } })).toEqual({
      kind: 'reasoning',
      text: 'thinking',
      redacted: false,
    })
    expect(viewBlock({ reasoning: { redactedContent: 'AAAA' } })).toEqual({
      kind: 'reasoning',
      text: null,
      redacted: true,
    })
    const image = viewBlock({ image: { format: 'png', source: { bytes: Buffer.alloc(2048).toString('base64') } } })
    expect(image).toEqual({ kind: 'media', media: 'image', format: 'png', bytes: 2048 })
    expect(JSON.stringify(image)).not.toContain('AAAA')
    expect(viewBlock({ document: { format: 'pdf', source: { location: 's3://x' } } })).toEqual({
      kind: 'media',
      media: 'document',
      format: 'pdf',
      bytes: null,
    })
    expect(viewBlock({ cachePoint: {} })).toEqual({ kind: 'other', name: 'cachePoint' })
    expect(viewBlock(null)).toEqual({ kind: 'other', name: 'unknown' })
  })

  it('reports the exact size of any base64 payload', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        const block = viewBlock({ image: { format: 'png', source: { bytes: Buffer.from(bytes).toString('base64') } } })
        return block.kind === 'media' && block.bytes === bytes.length
      }),
    )
  })
})

describe('tokens', () => {
  it('matches only the exact token, whatever the lengths', () => {
    const token = generateToken()
    expect(token.length).toBeGreaterThanOrEqual(32)
    expect(tokenMatches(token, token)).toBe(true)
    expect(tokenMatches(undefined, token)).toBe(false)
    expect(tokenMatches('', token)).toBe(false)
    expect(tokenMatches(token.slice(1), token)).toBe(false)
    expect(tokenMatches(`${token}x`, token)).toBe(false)
    fc.assert(fc.property(fc.string(), (other) => tokenMatches(other, token) === (other === token)))
  })

  it('knows only the loopback names served without a token', () => {
    expect(['127.0.0.1', '::1', 'localhost'].map(isLoopbackHost)).toEqual([true, true, true])
    expect(['0.0.0.0', '127.0.0.2', '192.168.1.5', '::'].map(isLoopbackHost)).toEqual([false, false, false, false])
  })
})

describe('percentile', () => {
  it('is the nearest rank', () => {
    expect(percentile([], 50)).toBeNull()
    expect(percentile([7], 95)).toBe(7)
    expect(percentile([50, 50, 50, 60, 100, 200, 300, 400], 50)).toBe(60)
    expect(percentile([50, 50, 50, 60, 100, 200, 300, 400], 95)).toBe(400)
    expect(percentile([1, 2, 3, 4], 100)).toBe(4)
  })
})
