import { describe, expect, it } from 'vitest'
import { ConfigurationError } from '../../errors.js'
import { isDisabledTarget, parseQueueUrl, parseTopicArn, parseWebSocketEndpoint } from '../targets.js'

describe('topic ARNs', () => {
  it('parses region, account, name, FIFO', () => {
    expect(parseTopicArn('arn:aws:sns:eu-west-1:123456789:feedback-good', 'topicArnGood')).toMatchObject({
      region: 'eu-west-1',
      accountId: '123456789',
      topicName: 'feedback-good',
      fifo: false,
    })
    expect(parseTopicArn('arn:aws-cn:sns:cn-north-1:000000000000:t.fifo', 'x')).toMatchObject({
      partition: 'aws-cn',
      topicName: 't.fifo',
      fifo: true,
    })
  })

  it.each([
    'feedback-good',
    'arn:aws:sqs:eu-west-1:123456789012:q',
    'arn:aws:sns:eu-west-1:123456789012:',
    'arn:aws:sns::123456789012:t',
    'arn:aws:sns:eu-west-1:acct:t',
    'https://sns.eu-west-1.amazonaws.com/t',
  ])('rejects %s with a ConfigurationError naming the option', (value) => {
    expect(() => parseTopicArn(value, 'topicArnBad')).toThrow(ConfigurationError)
    expect(() => parseTopicArn(value, 'topicArnBad')).toThrow(/topicArnBad: .* is not an SNS topic ARN/)
  })

  it('"none", empty and undefined disable a route', () => {
    expect(isDisabledTarget('none')).toBe(true)
    expect(isDisabledTarget(' NONE ')).toBe(true)
    expect(isDisabledTarget('')).toBe(true)
    expect(isDisabledTarget(undefined)).toBe(true)
    expect(isDisabledTarget(null)).toBe(true)
    expect(isDisabledTarget('arn:aws:sns:eu-west-1:1:t')).toBe(false)
  })
})

describe('queue URLs', () => {
  it('parses AWS and emulator URLs', () => {
    expect(parseQueueUrl('https://sqs.eu-west-1.amazonaws.com/123456789/metadata-updates')).toMatchObject({
      region: 'eu-west-1',
      accountId: '123456789',
      queueName: 'metadata-updates',
      fifo: false,
    })
    expect(parseQueueUrl('https://eu-central-1.queue.amazonaws.com/1/q.fifo')).toMatchObject({
      region: 'eu-central-1',
      fifo: true,
    })
    expect(parseQueueUrl('http://127.0.0.1:4566/000000000000/q')).toMatchObject({ region: undefined })
  })

  it.each([
    ['not a url', /is not a URL/],
    ['ftp://sqs.eu-west-1.amazonaws.com/1/q', /must use https/],
    ['https://sqs.eu-west-1.amazonaws.com/metadata-updates', /no <account-id>\/<queue-name> path/],
    ['https://sqs.eu-west-1.amazonaws.com/abc/q', /no <account-id>\/<queue-name> path/],
    ['https://sqs.eu-west-1.amazonaws.com/1/bad name', /queue name .* is invalid/],
  ])('rejects %s', (value, message) => {
    expect(() => parseQueueUrl(value)).toThrow(ConfigurationError)
    expect(() => parseQueueUrl(value)).toThrow(message)
  })
})

describe('WebSocket endpoints', () => {
  it('parses the management endpoint and its region', () => {
    expect(parseWebSocketEndpoint('https://abc123.execute-api.eu-west-1.amazonaws.com/prod/')).toEqual({
      endpoint: 'https://abc123.execute-api.eu-west-1.amazonaws.com/prod',
      region: 'eu-west-1',
    })
  })

  it('rejects wss:// (the client URL) and non-URLs', () => {
    expect(() => parseWebSocketEndpoint('wss://abc.execute-api.eu-west-1.amazonaws.com/prod')).toThrow(
      /management API needs its https form/,
    )
    expect(() => parseWebSocketEndpoint('abc')).toThrow(ConfigurationError)
  })
})
