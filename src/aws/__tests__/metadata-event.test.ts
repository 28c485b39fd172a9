import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { Metadata } from '../../model/types.js'
import { ConfigurationError } from '../../errors.js'
import { configureLogger } from '../../logging.js'
import { checkMetadataFields, metadataEventText } from '../metadata-changes.js'
import {
  buildMetadataEvent,
  deletedKeysAsNull,
  filterMetadataFields,
  formatEventTimestamp,
  serializeMetadataEvent,
} from '../metadata-event.js'

const now = new Date('2024-01-26T10:30:45.123Z')

describe('metadata event body', () => {
  // SQS and WebSocket consumers parse this body: its keys, their order and the timestamp form are a contract.
  it('has the exact wire shape, keys in order, timestamp with ms and Z', () => {
    const body = buildMetadataEvent({
      sessionId: 'user-session-123',
      operation: 'update',
      changes: { status: 'processing', agent_state: 'thinking', priority: 'high', internal_field: 'value' },
      fields: ['status', 'agent_state', 'priority'],
      now,
    })
    expect(serializeMetadataEvent(body!)).toBe(
      '{"session_id":"user-session-123","event":"metadata_update","operation":"update",' +
        '"metadata":{"status":"processing","agent_state":"thinking","priority":"high"},' +
        '"timestamp":"2024-01-26T10:30:45.123Z"}',
    )
  })

  it('timestamp formats: ISO UTC (default), or as the Python version wrote it', () => {
    expect(formatEventTimestamp(now, 'iso-utc')).toBe('2024-01-26T10:30:45.123Z')
    expect(formatEventTimestamp(now, 'python')).toBe('2024-01-26T10:30:45.123000')
    expect(formatEventTimestamp(now, 'python-utc')).toBe('2024-01-26T10:30:45.123000+00:00')
    // Python's isoformat() leaves the fraction out when it is zero.
    const whole = new Date('2024-01-26T10:30:45.000Z')
    expect(formatEventTimestamp(whole, 'python')).toBe('2024-01-26T10:30:45')
    expect(formatEventTimestamp(whole, 'python-utc')).toBe('2024-01-26T10:30:45+00:00')
    const body = buildMetadataEvent({
      sessionId: 's',
      operation: 'update',
      changes: { a: 1 },
      fields: undefined,
      now,
      timestampFormat: 'python',
    })
    expect(body!.timestamp).toBe('2024-01-26T10:30:45.123000')
  })

  it('python timestamps denote the same UTC instant, in the shape datetime.isoformat() gives (property)', () => {
    fc.assert(
      fc.property(
        fc.date({
          min: new Date('0001-01-01T00:00:00.000Z'),
          max: new Date('9999-12-31T23:59:59.999Z'),
          noInvalidDate: true,
        }),
        (date) => {
          const naive = formatEventTimestamp(date, 'python')
          expect(naive).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{6})?$/)
          expect(new Date(`${naive}Z`).getTime()).toBe(date.getTime())
          const aware = formatEventTimestamp(date, 'python-utc')
          expect(aware).toBe(`${naive}+00:00`)
          expect(new Date(aware).getTime()).toBe(date.getTime())
        },
      ),
      { numRuns: 500 },
    )
  })

  it('serialises Dates as ISO strings', () => {
    const body = buildMetadataEvent({
      sessionId: 's',
      operation: 'update',
      changes: { due: new Date('2025-02-03T04:05:06.007Z'), nested: { at: new Date(0) } },
      fields: undefined,
      now,
    })
    expect(body!.metadata).toEqual({ due: '2025-02-03T04:05:06.007Z', nested: { at: '1970-01-01T00:00:00.000Z' } })
  })

  it('nothing to send when no listed field changed', () => {
    expect(buildMetadataEvent({ sessionId: 's', operation: 'update', changes: { other: 1 }, fields: ['status'] })).toBe(
      undefined,
    )
    expect(buildMetadataEvent({ sessionId: 's', operation: 'update', changes: {}, fields: undefined })).toBe(undefined)
    expect(filterMetadataFields({ a: 1 }, [])).toBe(undefined)
  })

  // Without them a consumer could not tell which fields went away.
  it('deletes carry the deleted listed keys as null', () => {
    const text = metadataEventText('s', 'delete', { keys: ['status', 'secret'] }, ['status'])
    expect(JSON.parse(text!)).toMatchObject({ operation: 'delete', metadata: { status: null } })
    expect(JSON.parse(text!).metadata).not.toHaveProperty('secret')
    expect(metadataEventText('s', 'delete', { keys: ['secret'] }, ['status'])).toBe(undefined)
    expect(JSON.parse(metadataEventText('s', 'delete', { keys: ['a', 'b'] }, undefined)!).metadata).toEqual({
      a: null,
      b: null,
    })
  })

  it('an own "__proto__" key is announced like any other key, and no prototype changes', () => {
    const changes = JSON.parse('{"__proto__": {"polluted": true}, "status": "x"}') as Metadata
    const update = metadataEventText('s', 'update', { metadata: changes }, undefined)
    expect(JSON.parse(update!).metadata).toEqual(JSON.parse('{"__proto__": {"polluted": true}, "status": "x"}'))
    expect(Object.keys(JSON.parse(update!).metadata)).toEqual(['__proto__', 'status'])
    const listed = filterMetadataFields(changes, ['__proto__'])!
    expect(Object.keys(listed)).toEqual(['__proto__'])
    expect(Object.getPrototypeOf(listed)).toBe(Object.prototype)
    const deleted = metadataEventText('s', 'delete', { keys: ['__proto__', 'a'] }, undefined)
    expect(deleted).toContain('"metadata":{"__proto__":null,"a":null}')
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  })

  it('leaves out keys whose value is undefined, and returns an ordinary object', () => {
    const kept = filterMetadataFields({ a: undefined as never, b: 1 }, undefined)!
    expect(Object.keys(kept)).toEqual(['b'])
    expect(Object.getOwnPropertyDescriptor(kept, 'b')).toEqual({
      value: 1,
      writable: true,
      enumerable: true,
      configurable: true,
    })
    expect(filterMetadataFields({ a: undefined as never }, undefined)).toBe(undefined)
    expect(Object.getOwnPropertyDescriptor(deletedKeysAsNull(['k']), 'k')).toEqual({
      value: null,
      writable: true,
      enumerable: true,
      configurable: true,
    })
  })

  it('metadataFields: a copy of a list of names; unset warns once per hook kind that every field goes out', () => {
    const warnings: string[] = []
    configureLogger({ logger: { debug() {}, info() {}, warn: (m) => warnings.push(m), error() {} }, level: 'warn' })
    try {
      const fields = ['status']
      const checked = checkMetadataFields(fields, 'test hook')
      expect(checked).toEqual(['status'])
      expect(checked).not.toBe(fields)
      expect(checkMetadataFields(undefined, 'unit-test-hook-a')).toBe(undefined)
      expect(checkMetadataFields(undefined, 'unit-test-hook-a')).toBe(undefined)
      expect(checkMetadataFields(undefined, 'unit-test-hook-b')).toBe(undefined)
      expect(warnings).toHaveLength(2)
      expect(warnings[0]).toContain('hook=<unit-test-hook-a>')
      expect(warnings[0]).toContain('every metadata field will be propagated')
      expect(warnings[1]).toContain('hook=<unit-test-hook-b>')
      expect(warnings.join()).not.toContain('test hook')
      for (const bad of [[''], ['ok', 3], 'status']) {
        expect(() => checkMetadataFields(bad as never, 'sqs')).toThrow(
          new ConfigurationError('sqs: metadataFields must be a list of non-empty field names'),
        )
      }
    } finally {
      configureLogger({ logger: console, level: 'warn' })
    }
  })

  it('get announces nothing', () => {
    expect(metadataEventText('s', 'get', {}, undefined)).toBe(undefined)
  })

  const jsonValue: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
    value: fc.oneof(
      { depthSize: 'small' },
      fc.string(),
      fc.double({ noNaN: true, noDefaultInfinity: true }),
      fc.boolean(),
      fc.constant(null),
      fc.date({ noInvalidDate: true }),
      fc.array(tie('value'), { maxLength: 4 }),
      fc.dictionary(fc.string(), tie('value'), { maxKeys: 4 }),
    ),
  })).value

  it('any metadata → valid JSON with only listed fields (property)', () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.string(), jsonValue, { maxKeys: 8 }),
        fc.option(fc.array(fc.string({ minLength: 1 }), { maxLength: 5 })),
        fc.string(),
        (changes, fields, sessionId) => {
          const text = metadataEventText(sessionId, 'update', { metadata: changes as Metadata }, fields ?? undefined)
          const expectedKeys = Object.keys(changes).filter((k) => fields === null || fields.includes(k))
          if (expectedKeys.length === 0) {
            expect(text).toBe(undefined)
            return
          }
          const parsed = JSON.parse(text!) as Record<string, unknown>
          expect(Object.keys(parsed)).toEqual(['session_id', 'event', 'operation', 'metadata', 'timestamp'])
          expect(parsed.session_id).toBe(sessionId)
          expect(parsed.event).toBe('metadata_update')
          expect(Object.keys(parsed.metadata as object).sort()).toEqual([...expectedKeys].sort())
          expect(parsed.timestamp).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/)
        },
      ),
      { numRuns: 300 },
    )
  })
})
