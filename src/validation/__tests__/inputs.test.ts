import { describe, expect, it } from 'vitest'
import { ValidationError } from '../../errors.js'
import { MAX_FEEDBACK_COMMENT_LENGTH } from '../../model/types.js'
import {
  MAX_CONFIG_STRING_LENGTH,
  MAX_SYSTEM_PROMPT_BYTES,
  validateModelId,
  validatePromptMetadata,
  validateSystemPrompt,
} from '../agent-config.js'
import { MAX_FEEDBACK_REFERENCE_LENGTH, toFeedbackInput, validateFeedbackInput } from '../feedback.js'
import { MAX_IDENTIFIER_LENGTH, validateIdentifier } from '../identifiers.js'
import { containsLoneSurrogate, hasLoneSurrogate } from '../text.js'
import { thrownBy } from '../../../test/support/thrown.js'

describe('lone surrogates', () => {
  it('finds a high surrogate without its low half and a low one without its high half, anywhere', () => {
    for (const text of ['\ud800', 'a\udbff', '\udc00', 'x\udfffy', '\udc00\ud800', '\ud83d\ude00\ud83d', 'ok \udc00']) {
      expect(hasLoneSurrogate(text), JSON.stringify(text)).toBe(true)
    }
    for (const text of [
      '',
      'plain',
      '\ud83d\ude00',
      'a\ud800\udc00b',
      '\udbff\udfff',
      '\u0000',
      '\ufffd',
      '\ud7ff\ue000',
    ]) {
      expect(hasLoneSurrogate(text), JSON.stringify(text)).toBe(false)
    }
  })

  it('looks into keys and values of arrays and objects', () => {
    expect(containsLoneSurrogate([{ a: ['x', '\ud800'] }])).toBe(true)
    expect(containsLoneSurrogate({ ['k\udc00']: 1 })).toBe(true)
    expect(containsLoneSurrogate({ a: { b: 'fine 😀' }, c: [1, null, true] })).toBe(false)
    expect(containsLoneSurrogate(null)).toBe(false)
    expect(containsLoneSurrogate(42)).toBe(false)
  })
})

describe('validateIdentifier', () => {
  it('accepts the SDK rule up to the length limit', () => {
    expect(validateIdentifier('a-b_c-9', 'agentId')).toBe('a-b_c-9')
    expect(validateIdentifier('x'.repeat(MAX_IDENTIFIER_LENGTH), 'id')).toHaveLength(128)
  })

  it('refuses everything else, naming the argument', () => {
    for (const id of ['', 'x'.repeat(MAX_IDENTIFIER_LENGTH + 1), 'A', 'a.b', 'a b', 'a/b', 'é']) {
      const error = thrownBy(() => validateIdentifier(id, 'sessionId'), ValidationError)
      expect(error.field).toBe('sessionId')
      expect(error.message).toMatch(/use 1–128 lowercase letters, digits, '-' or '_'/)
    }
    expect(thrownBy(() => validateIdentifier(null, 'agentId'), ValidationError).message).toBe(
      'agentId must be a string, got null',
    )
    expect(thrownBy(() => validateIdentifier(7, 'agentId'), ValidationError).message).toBe(
      'agentId must be a string, got number',
    )
    const long = thrownBy(() => validateIdentifier('Y'.repeat(100), 'id'), ValidationError).message
    expect(long).toContain(`"${'Y'.repeat(80)}…"`)
    expect(long).not.toContain('Y'.repeat(81))
    expect(thrownBy(() => validateIdentifier('Y'.repeat(80), 'id'), ValidationError).message).toContain(
      `"${'Y'.repeat(80)}" is invalid`,
    )
  })
})

describe('validateFeedbackInput', () => {
  it('resolves every optional field to a value or null, and back to the input shape', () => {
    const full = validateFeedbackInput({ rating: 'up', comment: 'c', messageId: 'm', agentId: 'a-1', userId: 'u' })
    expect(full).toEqual({ rating: 'up', comment: 'c', messageId: 'm', agentId: 'a-1', userId: 'u' })
    expect(toFeedbackInput(full)).toEqual({ rating: 'up', comment: 'c', messageId: 'm', agentId: 'a-1', userId: 'u' })
    const bare = validateFeedbackInput({ rating: null, comment: null, agentId: undefined })
    expect(bare).toEqual({ rating: null, comment: null, messageId: null, agentId: null, userId: null })
    expect(toFeedbackInput(bare)).toStrictEqual({ rating: null })
    expect(validateFeedbackInput({ rating: 'down', comment: '' }).comment).toBe('')
    expect(toFeedbackInput(validateFeedbackInput({ rating: 'down', comment: '' }))).toStrictEqual({
      rating: 'down',
      comment: '',
    })
  })

  it('accepts text up to the limits; one character more is refused', () => {
    const comment = 'x'.repeat(MAX_FEEDBACK_COMMENT_LENGTH)
    expect(validateFeedbackInput({ rating: 'up', comment }).comment).toBe(comment)
    const error = thrownBy(() => validateFeedbackInput({ rating: 'up', comment: `${comment}x` }), ValidationError)
    expect(error.message).toBe('feedback comment is 10001 characters; at most 10000 are accepted')
    expect(error.field).toBe('comment')
    const reference = 'r'.repeat(MAX_FEEDBACK_REFERENCE_LENGTH)
    expect(validateFeedbackInput({ rating: 'up', messageId: reference, userId: reference }).userId).toBe(reference)
    expect(
      thrownBy(() => validateFeedbackInput({ rating: 'up', userId: `${reference}r` }), ValidationError).field,
    ).toBe('userId')
    expect(
      thrownBy(() => validateFeedbackInput({ rating: 'up', messageId: `${reference}r` }), ValidationError).field,
    ).toBe('messageId')
  })

  it('refuses text MongoDB or SNS would change, naming the field', () => {
    expect(thrownBy(() => validateFeedbackInput({ rating: 'up', comment: 'a\u0000b' }), ValidationError).message).toBe(
      'feedback comment contains a NUL character',
    )
    expect(thrownBy(() => validateFeedbackInput({ rating: 'up', userId: 'u\ud800' }), ValidationError).message).toBe(
      'feedback userId contains a lone surrogate (not valid Unicode)',
    )
    expect(thrownBy(() => validateFeedbackInput({ rating: 'up', comment: 7 }), ValidationError).message).toBe(
      'feedback comment must be a string, got number',
    )
    expect(thrownBy(() => validateFeedbackInput({ rating: 'up', agentId: 'Bad Id' }), ValidationError).field).toBe(
      'agentId',
    )
  })

  it('refuses unknown fields, a missing or unknown rating, and non-objects', () => {
    const unknown = thrownBy(() => validateFeedbackInput({ rating: 'up', score: 1 }), ValidationError)
    expect(unknown.field).toBe('score')
    expect(unknown.message).toBe(
      'unknown feedback field "score" (accepted: rating, comment, messageId, agentId, userId)',
    )
    expect(thrownBy(() => validateFeedbackInput({}), ValidationError).message).toBe(
      "feedback rating is required: 'up', 'down' or null (neutral)",
    )
    const shown: [unknown, string][] = [
      ['UP', '"UP"'],
      ['x'.repeat(50), `"${'x'.repeat(40)}"`],
      [undefined, 'undefined'],
      [1, '1'],
      [true, 'true'],
      [[], 'a list'],
      [{}, 'a object'],
    ]
    for (const [rating, text] of shown) {
      const error = thrownBy(() => validateFeedbackInput({ rating }), ValidationError)
      expect(error.message).toBe(`feedback rating must be 'up', 'down' or null, got ${text}`)
      expect(error.field).toBe('rating')
    }
    for (const input of [null, [], 'up']) {
      const error = thrownBy(() => validateFeedbackInput(input), ValidationError)
      expect(error.message).toBe('feedback must be an object')
      expect(error.field).toBe('feedback')
    }
  })
})

describe('validatePromptMetadata', () => {
  it('keeps the given fields only', () => {
    const pm = validatePromptMetadata({
      promptId: 'p',
      promptName: 'n',
      promptVersion: 3,
      deploymentId: 'd',
      deploymentName: 'dn',
      temperature: 0,
      extra: { team: 'a' },
    })
    expect(pm).toEqual({
      promptId: 'p',
      promptName: 'n',
      promptVersion: 3,
      deploymentId: 'd',
      deploymentName: 'dn',
      temperature: 0,
      extra: { team: 'a' },
    })
    expect(validatePromptMetadata({ promptVersion: 'v3', promptId: undefined })).toStrictEqual({ promptVersion: 'v3' })
    expect(validatePromptMetadata({ temperature: 2 })).toEqual({ temperature: 2 })
  })

  it('refuses bad fields, naming each', () => {
    const long = 'x'.repeat(MAX_CONFIG_STRING_LENGTH + 1)
    const cases: [unknown, string, string][] = [
      [null, 'promptMetadata', 'prompt metadata must be an object'],
      [[], 'promptMetadata', 'prompt metadata must be an object'],
      [{}, 'promptMetadata', 'prompt metadata has no fields'],
      [{ promptId: undefined }, 'promptMetadata', 'prompt metadata has no fields'],
      [{ other: 1 }, 'promptMetadata.other', `unknown prompt metadata field "other" (put custom fields under 'extra')`],
      [{ promptId: 1 }, 'promptMetadata.promptId', 'promptMetadata.promptId must be a string'],
      [
        { deploymentName: long },
        'promptMetadata.deploymentName',
        'promptMetadata.deploymentName is longer than 512 characters',
      ],
      [{ promptName: 'a\u0000' }, 'promptMetadata.promptName', 'promptMetadata.promptName contains a NUL character'],
      [
        { deploymentId: '\udc00' },
        'promptMetadata.deploymentId',
        'promptMetadata.deploymentId contains a lone surrogate (not valid Unicode)',
      ],
      [{ promptVersion: Number.NaN }, 'promptMetadata.promptVersion', 'promptMetadata.promptVersion must be finite'],
      [{ promptVersion: true }, 'promptMetadata.promptVersion', 'promptMetadata.promptVersion must be a string'],
      [{ temperature: -0.01 }, 'promptMetadata.temperature', 'promptMetadata.temperature must be a number from 0 to 2'],
      [{ temperature: 2.01 }, 'promptMetadata.temperature', 'promptMetadata.temperature must be a number from 0 to 2'],
      [{ temperature: '1' }, 'promptMetadata.temperature', 'promptMetadata.temperature must be a number from 0 to 2'],
      [
        { temperature: Number.POSITIVE_INFINITY },
        'promptMetadata.temperature',
        'promptMetadata.temperature must be a number from 0 to 2',
      ],
    ]
    for (const [input, field, message] of cases) {
      const error = thrownBy(() => validatePromptMetadata(input), ValidationError)
      expect(error.message).toBe(message)
      expect(error.field).toBe(field)
    }
    expect(validatePromptMetadata({ promptName: 'x'.repeat(MAX_CONFIG_STRING_LENGTH) }).promptName).toHaveLength(512)
    expect(() => validatePromptMetadata({ extra: { $bad: 1 } })).toThrow(ValidationError)
  })
})

describe('validateModelId and validateSystemPrompt', () => {
  it('a model id is a short string without NUL or lone surrogates', () => {
    expect(validateModelId('us.anthropic.claude')).toBe('us.anthropic.claude')
    expect(thrownBy(() => validateModelId(3), ValidationError).message).toBe('model must be a string')
    expect(thrownBy(() => validateModelId('m\ud800'), ValidationError).field).toBe('model')
  })

  it('a system prompt is a string or JSON content blocks, within the size limit', () => {
    expect(validateSystemPrompt('Be brief \u0000')).toBe('Be brief \u0000')
    const blocks = [{ text: 'a' }, { cachePoint: { type: 'default' } }]
    const copy = validateSystemPrompt(blocks)
    expect(copy).toEqual(blocks)
    expect(copy).not.toBe(blocks)
    expect(validateSystemPrompt('x'.repeat(MAX_SYSTEM_PROMPT_BYTES))).toHaveLength(MAX_SYSTEM_PROMPT_BYTES)
    expect(thrownBy(() => validateSystemPrompt('x'.repeat(MAX_SYSTEM_PROMPT_BYTES + 1)), ValidationError).message).toBe(
      'systemPrompt is longer than 262144 characters',
    )
    // [{"text":"…"}] is 13 bytes of JSON around the text.
    expect(validateSystemPrompt([{ text: 'x'.repeat(MAX_SYSTEM_PROMPT_BYTES - 13) }])).toHaveLength(1)
    expect(
      thrownBy(() => validateSystemPrompt([{ text: 'x'.repeat(MAX_SYSTEM_PROMPT_BYTES - 12) }]), ValidationError)
        .message,
    ).toBe('systemPrompt is larger than 262144 bytes')
    expect(thrownBy(() => validateSystemPrompt(5), ValidationError).message).toBe(
      'systemPrompt must be a string or an array of content blocks',
    )
    const cyclic: unknown[] = []
    cyclic.push(cyclic)
    const error = thrownBy(() => validateSystemPrompt(cyclic), ValidationError)
    expect(error.message).toBe('systemPrompt is not JSON-serialisable')
    expect(error.cause).toBeInstanceOf(TypeError)
    expect(thrownBy(() => validateSystemPrompt('x\udfff'), ValidationError).field).toBe('systemPrompt')
    expect(thrownBy(() => validateSystemPrompt([{ text: 'x\udfff' }]), ValidationError).field).toBe('systemPrompt')
  })
})
