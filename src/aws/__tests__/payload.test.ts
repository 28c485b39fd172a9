import { describe, expect, it } from 'vitest'
import { ConfigurationError, ValidationError } from '../../errors.js'
import type { Notification } from '../../model/types.js'
import {
  attributesWithEventId,
  EVENT_ID_ATTRIBUTE,
  InvalidNotificationError,
  isInvalidNotification,
  payloadAttributes,
  payloadString,
  stringAttributes,
} from '../payload.js'
import { thrownBy } from '../../../test/support/thrown.js'

const notification = (payload: Record<string, unknown>): Notification => ({
  channel: 'sqs',
  target: 'https://sqs.example/queue',
  payload,
  eventId: '0190-event',
  sessionId: 's-1',
  createdAt: new Date(0),
  attempts: 0,
})

const thrown = (run: () => unknown) => thrownBy(run, InvalidNotificationError)

describe('reading notification payloads', () => {
  it('payloadString returns a string, and refuses anything else as a permanent error', () => {
    expect(payloadString(notification({ body: 'text' }), 'body')).toBe('text')
    const error = thrown(() => payloadString(notification({ body: 5 }), 'body')) as InvalidNotificationError
    expect(error).toBeInstanceOf(InvalidNotificationError)
    expect(error.code).toBe('MSM_NOTIFICATION')
    expect(error.name).toBe('InvalidNotificationError')
    expect(error.message).toBe("sqs notification 0190-event: payload 'body' is not a string")
    expect(thrown(() => payloadString(notification({}), 'body'))).toBeInstanceOf(InvalidNotificationError)
  })

  it('payloadAttributes: missing is empty; a string map is copied; anything else is refused', () => {
    expect(payloadAttributes(notification({}), 'attributes')).toEqual({})
    const given = { session_id: 's-1', rating: 'negative' }
    const copy = payloadAttributes(notification({ attributes: given }), 'attributes')
    expect(copy).toEqual(given)
    expect(copy).not.toBe(given)
    for (const bad of [null, 'x', 3, ['a']]) {
      const error = thrown(() => payloadAttributes(notification({ attributes: bad }), 'attributes'))
      expect(error).toBeInstanceOf(InvalidNotificationError)
      expect((error as Error).message).toBe("sqs notification 0190-event: payload 'attributes' is not an object")
    }
    const error = thrown(() => payloadAttributes(notification({ attributes: { a: 'x', n: 1 } }), 'attributes'))
    expect((error as Error).message).toBe("sqs notification 0190-event: attribute 'n' is not a string")
  })

  it('stringAttributes gives AWS String attributes', () => {
    expect(stringAttributes({ a: 'x', b: '' })).toEqual({
      a: { DataType: 'String', StringValue: 'x' },
      b: { DataType: 'String', StringValue: '' },
    })
    expect(stringAttributes({})).toEqual({})
  })

  it('adds the event id attribute only when the payload asks for it', () => {
    const attributes = { session_id: 's-1' }
    expect(attributesWithEventId(notification({ attributes, event_id_attribute: true }))).toEqual({
      session_id: 's-1',
      [EVENT_ID_ATTRIBUTE]: '0190-event',
    })
    expect(attributesWithEventId(notification({ attributes, event_id_attribute: 'yes' }))).toEqual(attributes)
    expect(attributesWithEventId(notification({ attributes }))).toEqual(attributes)
    expect(attributes).toEqual({ session_id: 's-1' })
  })

  it('only bad payloads and configuration errors are permanent', () => {
    expect(isInvalidNotification(new InvalidNotificationError(notification({}), 'x'))).toBe(true)
    expect(isInvalidNotification(new ConfigurationError('missing package'))).toBe(true)
    expect(isInvalidNotification(new ValidationError('x'))).toBe(false)
    expect(isInvalidNotification(new Error('network'))).toBe(false)
    expect(isInvalidNotification('x')).toBe(false)
  })
})
