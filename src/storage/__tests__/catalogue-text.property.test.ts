import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { PREVIEW_LIMIT, shortenText, TITLE_LIMIT } from '../catalogue-text.js'

/** Well-formed UTF-16 (no lone surrogate): it survives a round trip through UTF-8 unchanged. */
function wellFormed(text: string): boolean {
  return Buffer.from(text, 'utf8').toString('utf8') === text
}

// Any UTF-16 code units (lone surrogates included), astral characters, and whitespace.
const text = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 400 }),
  fc.string({ unit: fc.constantFrom('a', ' ', '\n', '😀', '𝒜', 'é', '\uD83D', '\uDE00'), maxLength: 400 }),
)

describe('shortenText', () => {
  it('keeps valid text within the limit and never splits a surrogate pair', () => {
    fc.assert(
      fc.property(
        text,
        fc.constantFrom(1, 2, 3, TITLE_LIMIT, PREVIEW_LIMIT),
        fc.integer({ min: 1, max: 300 }),
        (input, fixed, free) => {
          for (const limit of [fixed, free]) {
            const out = shortenText(input, limit)
            expect(out.length).toBeLessThanOrEqual(limit)
            expect(wellFormed(out)).toBe(true)
            expect(out).toBe(out.trim())
            expect(out).not.toMatch(/\s\s/u)
          }
        },
      ),
      { numRuns: 500 },
    )
  })

  it('returns short text unchanged (whitespace collapsed) and cuts long text with an ellipsis at a prefix', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 300 }), fc.integer({ min: 2, max: 200 }), (input, limit) => {
        const collapsed = input.replace(/\s+/gu, ' ').trim()
        const out = shortenText(input, limit)
        if (collapsed.length <= limit) expect(out).toBe(collapsed)
        else {
          expect(out.endsWith('…')).toBe(true)
          expect(collapsed.startsWith(out.slice(0, -1))).toBe(true)
        }
      }),
      { numRuns: 500 },
    )
  })

  it('drops a lone surrogate at the cut instead of keeping half a pair', () => {
    expect(shortenText('ab😀😀😀', 4)).toBe('ab…')
    expect(shortenText('x\uD83D', 10)).toBe('x')
  })
})
