import { MongoServerError } from 'mongodb'
import { describe, expect, it } from 'vitest'
import { isTextIndexOver, isTextSearchUnavailable, TEXT_INDEX_FIELDS, textIndexSpecs } from '../text-index.js'

describe('textIndexSpecs', () => {
  it('indexes catalogue text and the text of stored text blocks, language-neutral', () => {
    const specs = textIndexSpecs()
    expect(specs.sessions).toMatchObject({
      key: { title: 'text', auto_title: 'text', preview: 'text' },
      name: 'msm_text',
      default_language: 'none',
    })
    expect(specs.messages).toMatchObject({
      key: { 'content.text': 'text' },
      name: 'msm_text',
      default_language: 'none',
    })
    // Never the documents' own `language` field: an unsupported value there would make inserts fail.
    expect(specs.sessions.language_override).not.toBe('language')
    expect(specs.messages.language_override).not.toBe('language')
  })
})

describe('isTextIndexOver', () => {
  // The shape `listIndexes` reports a text index in.
  const listed = (weights: Record<string, number>, name = 'msm_text') => ({
    v: 2,
    key: { _fts: 'text', _ftsx: 1 },
    name,
    weights,
    default_language: 'none',
    textIndexVersion: 3,
  })

  it('accepts a text index covering every field, whatever its name or extra fields', () => {
    expect(isTextIndexOver(listed({ title: 1, auto_title: 1, preview: 1 }), TEXT_INDEX_FIELDS.sessions)).toBe(true)
    expect(isTextIndexOver(listed({ 'content.text': 1, other: 1 }, 'mine'), TEXT_INDEX_FIELDS.messages)).toBe(true)
  })

  it('refuses a text index missing a field, and any other index', () => {
    expect(isTextIndexOver(listed({ title: 1 }), TEXT_INDEX_FIELDS.sessions)).toBe(false)
    expect(isTextIndexOver({ key: { title: 1 }, name: 'title_1' }, TEXT_INDEX_FIELDS.sessions)).toBe(false)
    expect(isTextIndexOver({ key: { _fts: 'text' }, name: 'x' }, TEXT_INDEX_FIELDS.sessions)).toBe(false)
    expect(isTextIndexOver({ name: 'x' }, TEXT_INDEX_FIELDS.sessions)).toBe(false)
  })
})

describe('isTextSearchUnavailable', () => {
  const serverError = (code: number, errmsg: string) => new MongoServerError({ ok: 0, code, errmsg })

  it('recognises a missing text index and an engine without $text', () => {
    expect(isTextSearchUnavailable(serverError(27, 'text index required for $text query'))).toBe(true)
    expect(isTextSearchUnavailable(serverError(115, 'command not supported'))).toBe(true)
    expect(
      isTextSearchUnavailable(
        serverError(2, 'error processing query: planner returned error: need exactly one text index'),
      ),
    ).toBe(true)
    expect(isTextSearchUnavailable(serverError(9, '$text is not supported'))).toBe(true)
  })

  it('leaves every other failure to be thrown', () => {
    expect(isTextSearchUnavailable(serverError(11000, 'E11000 duplicate key'))).toBe(false)
    expect(isTextSearchUnavailable(serverError(50, 'operation exceeded time limit'))).toBe(false)
    expect(isTextSearchUnavailable(new Error('The operation was aborted'))).toBe(false)
    expect(isTextSearchUnavailable('text index')).toBe(false)
  })
})
