import { describe, expect, it } from 'vitest'
import { catalogueMatches, mergeTextHits, messageText, snippetAround, textSearchFor } from '../session-search.js'

const at = (minutes: number) => new Date(Date.UTC(2026, 10, 30, 10, minutes))

describe('textSearchFor', () => {
  it('quotes the phrase, so the text index answers a phrase query (all of it, in order)', () => {
    expect(textSearchFor('Zephyr plan')).toBe('"Zephyr plan"')
    // Inside quotes a leading minus is part of the phrase, not a negation.
    expect(textSearchFor('-rf now')).toBe('"-rf now"')
    expect(textSearchFor('café 42')).toBe('"café 42"')
  })

  it('declines what a phrase query cannot express: a quote, or no letter or digit', () => {
    expect(textSearchFor('say "hi"')).toBeNull()
    expect(textSearchFor('?!')).toBeNull()
    expect(textSearchFor('--- ...')).toBeNull()
    expect(textSearchFor('😀')).toBeNull()
  })
})

describe('catalogueMatches', () => {
  it('reports title (set or automatic) and preview, case-insensitively, as substrings', () => {
    const doc = { _id: 's', title: 'Refund for ORDER 7', preview: 'your order shipped' }
    expect(catalogueMatches(doc, 'order')).toEqual(['title', 'preview'])
    expect(catalogueMatches({ _id: 's', auto_title: 'Order help' }, 'order')).toEqual(['title'])
    expect(catalogueMatches(doc, 'shipped')).toEqual(['preview'])
    expect(catalogueMatches(doc, 'nothing')).toEqual([])
    expect(catalogueMatches({ _id: 's', title: 42 as never }, '42')).toEqual([])
  })
})

describe('snippetAround', () => {
  it('starts up to 40 characters before the match and keeps 160 at most', () => {
    const text = `${'a'.repeat(100)} needle ${'b'.repeat(300)}`
    const snippet = snippetAround(text, 'needle')
    expect(snippet.startsWith(`${'a'.repeat(39)} needle`)).toBe(true)
    expect(snippet.length).toBeLessThanOrEqual(160)
  })

  it('starts at the beginning when the needle is not found as written (the server folded case differently)', () => {
    expect(snippetAround('Straße  nach   Hause', 'strasse')).toBe('Straße nach Hause')
  })
})

describe('messageText', () => {
  it('joins the text of text blocks and ignores the others (and sealed content)', () => {
    expect(messageText([{ text: 'one' }, { toolUse: { name: 'x', input: {} } }, { text: 'two' }])).toBe('one two')
    expect(messageText({ sealed: true })).toBe('')
    expect(messageText([null, 3, { text: 5 }])).toBe('')
  })
})

describe('mergeTextHits', () => {
  const session = (id: string, minutes: number, fields: Record<string, string> = {}) => ({
    _id: id,
    updated_at: at(minutes),
    ...fields,
  })

  it('merges catalogue and message matches per session, most recently active first, up to the limit', () => {
    const hits = mergeTextHits(
      [session('a', 5, { title: 'Zephyr plan' }), session('c', 1, { preview: 'the zephyr plan again' })],
      [
        { doc: session('a', 5, { title: 'Zephyr plan' }), text: 'Let us pick the Zephyr plan for the migration' },
        { doc: session('b', 9), text: 'zephyr plan, said Frank' },
      ],
      'zephyr plan',
      10,
    )
    expect(hits.map((h) => [h.session.sessionId, h.matchedIn, h.snippet, h.mode])).toEqual([
      ['b', ['messages'], 'zephyr plan, said Frank', 'text'],
      ['a', ['title', 'messages'], 'Let us pick the Zephyr plan for the migration', 'text'],
      ['c', ['preview'], null, 'text'],
    ])
    expect(mergeTextHits([session('a', 5, { title: 'x y' }), session('b', 9, { title: 'x y' })], [], 'x y', 1)).toEqual(
      [expect.objectContaining({ session: expect.objectContaining({ sessionId: 'b' }) })],
    )
  })

  it('orders equal activity times by session id, descending (the catalogue order)', () => {
    const hits = mergeTextHits([session('a', 1, { title: 'q' }), session('b', 1, { title: 'q' })], [], 'q', 10)
    expect(hits.map((h) => h.session.sessionId)).toEqual(['b', 'a'])
  })

  it('names a field even when the phrase cannot be found in it here (case folding differs)', () => {
    expect(mergeTextHits([session('a', 1, { title: 'STRASSE' })], [], 'straße', 10)[0]!.matchedIn).toEqual(['title'])
    expect(mergeTextHits([session('a', 1, { preview: 'STRASSE' })], [], 'straße', 10)[0]!.matchedIn).toEqual([
      'preview',
    ])
  })

  it('a session found by a message also reports the catalogue fields that contain the phrase', () => {
    const hits = mergeTextHits([], [{ doc: session('a', 1, { preview: 'about q here' }), text: 'q' }], 'q', 10)
    expect(hits[0]!.matchedIn).toEqual(['preview', 'messages'])
  })
})
