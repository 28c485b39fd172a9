/**
 * Options of the hook factories, as someone porting from the Python version writes them: unknown
 * keys (snake_case spellings above all) are rejected with the camelCase name to use, `null` means
 * "not set" as Python's None did, and an empty field list is refused rather than sending nothing.
 */
import { describe, expect, it } from 'vitest'
import { ConfigurationError } from '../../errors.js'
import { createFeedbackSnsHook } from '../feedback-sns-hook.js'
import { createMetadataSqsHook } from '../metadata-sqs-hook.js'
import { createMetadataWebSocketHook } from '../metadata-websocket-hook.js'
import { thrownBy } from '../../../test/support/thrown.js'

const topicArn = 'arn:aws:sns:eu-west-1:123456789012:feedback-bad'
const queueUrl = 'https://sqs.eu-west-1.amazonaws.com/123456789012/metadata-updates'
const endpoint = 'https://abc123.execute-api.eu-west-1.amazonaws.com/prod'

/** The ConfigurationError `create` throws (fails the test when it throws nothing or something else). */
const configurationError = (create: () => unknown) => thrownBy(create, ConfigurationError)

describe('unknown option keys', () => {
  it.each([
    ['createFeedbackSnsHook', 'topic_arn_bad', 'topicArnBad', { topic_arn_bad: topicArn }],
    [
      'createFeedbackSnsHook',
      'subject_prefix_bad',
      'subjectPrefixBad',
      { topicArnBad: topicArn, subject_prefix_bad: '!' },
    ],
    ['createMetadataSqsHook', 'queue_url', 'queueUrl', { queue_url: queueUrl }],
    ['createMetadataSqsHook', 'metadata_fields', 'metadataFields', { queueUrl, metadata_fields: ['status'] }],
    ['createMetadataWebSocketHook', 'api_gateway_endpoint', 'endpoint', { api_gateway_endpoint: endpoint }],
    ['createMetadataWebSocketHook', 'metadatafields', 'metadataFields', { endpoint, metadatafields: ['status'] }],
  ])('%s: %s is named, with %s suggested', (factory, key, suggestion, options) => {
    const create = { createFeedbackSnsHook, createMetadataSqsHook, createMetadataWebSocketHook }[factory]!
    const error = configurationError(() => create(options as never))
    expect(error.message).toContain(factory)
    expect(error.message).toContain(`'${key}'`)
    expect(error.message).toContain(`did you mean '${suggestion}'?`)
    expect(error.code).toBe('MSM_CONFIGURATION')
  })

  it('a key that resembles nothing is named, with the list of known keys', () => {
    const error = configurationError(() => createMetadataSqsHook({ queueUrl, batchSize: 10 } as never))
    expect(error.message).toContain(`'batchSize'`)
    expect(error.message).not.toContain('did you mean')
    expect(error.message).toContain('queueUrl, metadataFields')
  })

  it('options must be an object', () => {
    configurationError(() => createFeedbackSnsHook(undefined as never))
    configurationError(() => createMetadataSqsHook('https://sqs…' as never))
    configurationError(() => createMetadataWebSocketHook(null as never))
  })

  it('known keys set to undefined are fine (spreading optional settings)', () => {
    expect(() => createFeedbackSnsHook({ topicArnBad: topicArn, region: undefined, client: undefined })).not.toThrow()
  })
})

describe('metadataFields', () => {
  it('null means every field, like undefined (Python None)', () => {
    expect(() => createMetadataSqsHook({ queueUrl, metadataFields: null })).not.toThrow()
    expect(() => createMetadataWebSocketHook({ endpoint, metadataFields: null })).not.toThrow()
  })

  it('an empty list is rejected: it would send nothing (in the Python version it meant every field)', () => {
    for (const create of [
      () => createMetadataSqsHook({ queueUrl, metadataFields: [] }),
      () => createMetadataWebSocketHook({ endpoint, metadataFields: [] }),
    ]) {
      expect(configurationError(create).message).toMatch(/metadataFields is empty/)
    }
  })
})

describe('timestampFormat', () => {
  it('accepts iso-utc, python and python-utc; rejects anything else', () => {
    for (const timestampFormat of ['iso-utc', 'python', 'python-utc'] as const) {
      expect(() => createMetadataSqsHook({ queueUrl, metadataFields: ['s'], timestampFormat })).not.toThrow()
      expect(() => createMetadataWebSocketHook({ endpoint, metadataFields: ['s'], timestampFormat })).not.toThrow()
    }
    const error = configurationError(() =>
      createMetadataSqsHook({ queueUrl, metadataFields: ['s'], timestampFormat: 'isoformat' as never }),
    )
    expect(error.message).toContain(`'iso-utc', 'python' or 'python-utc'`)
  })
})
