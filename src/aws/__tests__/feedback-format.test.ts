import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { ValidationError } from '../../errors.js'
import {
  buildFeedbackMessage,
  buildFeedbackSubject,
  classifyRating,
  sanitizeSnsSubject,
  SNS_MESSAGE_MAX_BYTES,
  SNS_SUBJECT_MAX_LENGTH,
  truncateUtf8,
} from '../feedback-format.js'
import { renderTemplate } from '../template.js'

const vars = { session_id: 'user-session-123', rating: 'negative', timestamp: '2024-01-26T10:30:45.123Z' }

describe('classifyRating', () => {
  it('routes up → good/positive, down → bad/negative, null → neutral', () => {
    expect(classifyRating('up')).toEqual({ route: 'good', label: 'positive' })
    expect(classifyRating('down')).toEqual({ route: 'bad', label: 'negative' })
    expect(classifyRating(null)).toEqual({ route: 'neutral', label: 'neutral' })
    expect(classifyRating(undefined)).toEqual({ route: 'neutral', label: 'neutral' })
  })

  it('rejects unknown ratings instead of routing them to neutral', () => {
    expect(() => classifyRating('UP' as never)).toThrow(ValidationError)
    expect(() => classifyRating('thumbs' as never)).toThrow(/rating must be 'up', 'down' or null/)
    let error: ValidationError | undefined
    try {
      classifyRating(1 as never)
    } catch (e) {
      error = e as ValidationError
    }
    expect(error?.message).toBe("feedback rating must be 'up', 'down' or null, got 1")
    expect(error?.field).toBe('rating')
  })
})

describe('renderTemplate', () => {
  it('replaces the three placeholders', () => {
    expect(renderTemplate('[{rating}] {session_id} at {timestamp}: ', vars)).toBe(
      '[negative] user-session-123 at 2024-01-26T10:30:45.123Z: ',
    )
  })

  it('leaves unknown placeholders, literal and doubled braces alone', () => {
    expect(renderTemplate('{user} {{session_id}} { } {rating:>10} {', vars)).toBe(
      '{user} {user-session-123} { } {rating:>10} {',
    )
  })

  it('renders undefined/null/empty as empty', () => {
    expect(renderTemplate(undefined, vars)).toBe('')
    expect(renderTemplate(null, vars)).toBe('')
    expect(renderTemplate('', vars)).toBe('')
  })

  it('never throws and never leaves a known placeholder unreplaced (property)', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (template, sessionId) => {
        const out = renderTemplate(template, { ...vars, session_id: sessionId.replace(/[{}]/g, '') })
        expect(out).not.toMatch(/\{(session_id|rating|timestamp)\}/)
      }),
    )
  })
})

describe('SNS subject', () => {
  // Subscribers filter and route on this exact text, so it must not drift.
  it('is exactly "Virtual Agents Feedback <rating> on session <id>" without a prefix', () => {
    expect(buildFeedbackSubject(undefined, vars)).toBe('Virtual Agents Feedback negative on session user-session-123')
  })

  it('puts a rendered prefix first', () => {
    expect(buildFeedbackSubject('[PROD] {rating}: ', { ...vars, rating: 'positive' })).toBe(
      '[PROD] positive: Virtual Agents Feedback positive on session user-session-123',
    )
  })

  it('strips emoji and line breaks, folds accents, truncates with "..."', () => {
    expect(sanitizeSnsSubject('🚨 [URGENT]\r\nÉté\tok')).toBe('[URGENT] Ete ok')
    expect(sanitizeSnsSubject('a  b   c\u2028\u2029d')).toBe('a b c d')
    // Truncation never leaves a space before the mark.
    const spaced = sanitizeSnsSubject(`${'x'.repeat(SNS_SUBJECT_MAX_LENGTH - 4)} ${'y'.repeat(10)}`)
    expect(spaced).toBe(`${'x'.repeat(SNS_SUBJECT_MAX_LENGTH - 4)}...`)
    expect(sanitizeSnsSubject('z'.repeat(SNS_SUBJECT_MAX_LENGTH))).toBe('z'.repeat(SNS_SUBJECT_MAX_LENGTH))
    const long = buildFeedbackSubject('x'.repeat(200), vars)
    expect(long).toHaveLength(SNS_SUBJECT_MAX_LENGTH)
    expect(long.endsWith('...')).toBe(true)
  })

  it('any session id and prefix → ≤ 99 printable ASCII characters, no line breaks (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.option(fc.string({ unit: 'binary' })), (sessionId, prefix) => {
        const subject = buildFeedbackSubject(prefix ?? undefined, { ...vars, session_id: sessionId })
        expect(subject.length).toBeGreaterThan(0)
        expect(subject.length).toBeLessThanOrEqual(SNS_SUBJECT_MAX_LENGTH)
        expect(subject).toMatch(/^[\x20-\x7E]+$/)
        expect(subject).not.toMatch(/[\r\n]/)
        expect(subject).toBe(subject.trim())
      }),
      { numRuns: 500 },
    )
  })
})

describe('SNS message', () => {
  it('is "Session: <id>", a blank line, then the comment', () => {
    expect(buildFeedbackMessage(undefined, vars, 'The response was incomplete and unclear')).toBe(
      'Session: user-session-123\n\nThe response was incomplete and unclear',
    )
  })

  it('puts the body prefix first and renders it', () => {
    expect(buildFeedbackMessage('ALERT {rating} at {timestamp}\n', vars, 'bad')).toBe(
      'ALERT negative at 2024-01-26T10:30:45.123Z\nSession: user-session-123\n\nbad',
    )
  })

  it('a missing comment is empty, never "undefined"/"null"', () => {
    expect(buildFeedbackMessage(undefined, vars, undefined)).toBe('Session: user-session-123\n\n')
    expect(buildFeedbackMessage(undefined, vars, null)).toBe('Session: user-session-123\n\n')
  })

  it('is cut to fit the SNS size limit without splitting characters', () => {
    const huge = buildFeedbackMessage('é'.repeat(200_000), vars, 'x')
    expect(Buffer.byteLength(huge, 'utf8')).toBeLessThanOrEqual(SNS_MESSAGE_MAX_BYTES)
    expect(huge.endsWith('\n...')).toBe(true)
    expect(truncateUtf8('😀😀😀', 9)).toBe('😀\n...')
    expect(truncateUtf8('😀😀😀', 7)).toBe('\n...')
    expect(truncateUtf8('abc', 3)).toBe('abc')
  })

  it('uses the whole byte budget: the cut text and its mark fill the limit exactly', () => {
    // 10 bytes: 6 of text, then "\n..." (4 bytes).
    expect(truncateUtf8('abcdefghijk', 10)).toBe('abcdef\n...')
    expect(Buffer.byteLength(truncateUtf8('é'.repeat(20), 12), 'utf8')).toBe(12)
    expect(truncateUtf8('éééééé', 12)).toBe('éééééé')
  })
})
