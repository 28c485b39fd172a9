/**
 * `relay`: the durable-delivery relay as a worker. Re-sends notifications stored in the outbox of
 * the `sessions` and `feedback` collections that their writer did not deliver (crash, AWS outage).
 * Safe to run next to the application and in several copies (documents are leased).
 */
import { relayPendingNotifications, startOutboxRelay, type RelayResult } from '../../notifications/outbox-relay.js'
import type { NotificationSender } from '../../model/types.js'
import type { SessionCollections } from '../../storage/collections.js'
import { createLocalKeyProvider, type KeyProvider } from '../../storage/crypto/key-provider.js'
import { flag, intOption, stringOption, type Command, type OptionValues } from '../command.js'
import { UsageError, messageOf } from '../errors.js'

type SessionsCollection = SessionCollections['sessions']

interface SenderSettings {
  channels: string[]
  region: string | undefined
  endpointUrl: string | undefined
}

/** Channels whose AWS client package can be loaded. */
async function availableChannels(): Promise<string[]> {
  const aws = await import('../../aws/index.js')
  const [sns, sqs, websocket] = await Promise.all([
    aws.isFeedbackSnsHookAvailable(),
    aws.isMetadataSqsHookAvailable(),
    aws.isMetadataWebSocketHookAvailable(),
  ])
  return [...(sns ? ['sns'] : []), ...(sqs ? ['sqs'] : []), ...(websocket ? ['websocket'] : [])]
}

/** One sender per requested channel; AWS client packages are loaded only for the channels used. */
async function createSenders(settings: SenderSettings, sessions: SessionsCollection): Promise<NotificationSender[]> {
  const aws = await import('../../aws/index.js')
  const clientConfig = {
    ...(settings.region !== undefined && { region: settings.region }),
    ...(settings.endpointUrl !== undefined && { endpoint: settings.endpointUrl }),
  }
  const senders: NotificationSender[] = []
  for (const channel of settings.channels) {
    if (channel === 'sns') {
      if (settings.endpointUrl === undefined) senders.push(aws.createSnsSender(clientConfig))
      else {
        const { SNSClient } = await import('@aws-sdk/client-sns')
        senders.push(aws.createSnsSender({ client: new SNSClient(clientConfig) }))
      }
    } else if (channel === 'sqs') {
      if (settings.endpointUrl === undefined) senders.push(aws.createSqsSender(clientConfig))
      else {
        const { SQSClient } = await import('@aws-sdk/client-sqs')
        senders.push(aws.createSqsSender({ client: new SQSClient(clientConfig) }))
      }
    } else if (channel === 'websocket') {
      // The API Gateway endpoint is stored with each notification; connection ids are on the session.
      senders.push(
        aws.createWebSocketSender({
          connections: aws.createWebSocketConnectionRegistry(sessions),
          ...(settings.region !== undefined && { region: settings.region }),
        }),
      )
    } else {
      throw new UsageError(`unknown channel ${JSON.stringify(channel)} (expected sns, sqs, websocket)`)
    }
  }
  return senders
}

/**
 * The key provider that opens the notifications of encrypted sessions, if one is asked for. The
 * master key is read from an environment variable named on the command line, never from the command
 * line itself (other users of the machine can read a process's arguments).
 */
async function keyProviderOf(values: OptionValues): Promise<KeyProvider | undefined> {
  const variable = stringOption(values, 'master-key-env')
  const kmsKeyId = stringOption(values, 'kms-key-id')
  if (variable !== undefined && kmsKeyId !== undefined) {
    throw new UsageError('give --master-key-env or --kms-key-id, not both')
  }
  if (variable !== undefined) {
    const masterKey = process.env[variable]
    if (masterKey === undefined || masterKey.trim() === '') {
      throw new UsageError(`--master-key-env: the environment variable ${variable} is not set`)
    }
    try {
      return createLocalKeyProvider(masterKey)
    } catch (error) {
      throw new UsageError(`--master-key-env ${variable}: ${messageOf(error)}`)
    }
  }
  if (kmsKeyId !== undefined) {
    const aws = await import('../../aws/index.js')
    return aws.createAwsKmsKeyProvider({ keyId: kmsKeyId })
  }
  return undefined
}

function summary(result: RelayResult): string {
  return `${result.delivered} delivered, ${result.failed} failed permanently, ${result.deferred} deferred (${result.documents} documents)`
}

export const relayCommand: Command = {
  path: ['relay'],
  summary: 'Run the durable-delivery relay (re-sends pending notifications)',
  description:
    'Scans the outbox of the sessions and feedback collections and delivers due notifications through\n' +
    'SNS, SQS and API Gateway WebSocket, with the same event ids (consumers can drop duplicates).\n' +
    'Runs until Ctrl-C / SIGTERM (the pass in progress is finished), or once with --once.\n' +
    'AWS credentials and region come from the usual AWS environment.',
  options: {
    once: { type: 'boolean', description: 'run one pass, print the counts and exit' },
    interval: { type: 'string', value: '<ms>', description: 'pause between passes (default 5000)' },
    channels: {
      type: 'string',
      value: '<list>',
      description: 'channels to deliver: sns,sqs,websocket (default: those whose AWS client package is installed)',
    },
    region: {
      type: 'string',
      value: '<region>',
      description: 'AWS region (default: from the topic ARN / environment)',
    },
    'endpoint-url': { type: 'string', value: '<url>', description: 'SNS/SQS endpoint (an emulator such as fauxqs)' },
    'master-key-env': {
      type: 'string',
      value: '<VAR>',
      description: 'deliver notifications of encrypted sessions: the environment variable holding the master key',
    },
    'kms-key-id': {
      type: 'string',
      value: '<key>',
      description: 'deliver notifications of encrypted sessions whose keys AWS KMS wraps (key id, ARN or alias)',
    },
  },
  examples: [
    'mongodb-session-manager relay',
    'mongodb-session-manager relay --once --json',
    'mongodb-session-manager relay --channels sns,sqs --endpoint-url http://127.0.0.1:4566 --region eu-west-1',
    'mongodb-session-manager relay --master-key-env SESSION_MASTER_KEY',
  ],
  async run({ values, out, connect, signal }) {
    const intervalMs = intOption(values, 'interval', 5_000, 100, 3_600_000)
    const channelsOption = stringOption(values, 'channels')
    const channels =
      channelsOption === undefined
        ? await availableChannels()
        : channelsOption
            .split(',')
            .map((c) => c.trim())
            .filter(Boolean)
    if (channels.length === 0) {
      throw new UsageError(
        'no channel to deliver: install @aws-sdk/client-sns and/or @aws-sdk/client-sqs, or pass --channels',
      )
    }
    const endpointUrl = stringOption(values, 'endpoint-url')
    if (endpointUrl !== undefined && !/^https?:\/\//.test(endpointUrl)) {
      throw new UsageError('--endpoint-url must be an http(s) URL')
    }
    const keyProvider = await keyProviderOf(values)
    const { collections } = await connect()
    const senders = await createSenders(
      { channels, region: stringOption(values, 'region'), endpointUrl },
      collections.sessions,
    )
    const relayOptions = {
      collections: { sessions: collections.sessions, feedback: collections.feedback },
      senders,
      ...(keyProvider && { encryption: { keyProvider } }),
    }
    if (flag(values, 'once')) {
      const result = await relayPendingNotifications(relayOptions)
      if (out.json) out.printJson(result)
      else out.line(`relay pass: ${summary(result)}`)
      return
    }
    if (!out.json) out.line(`relay running on channels ${channels.join(', ')} every ${intervalMs} ms (Ctrl-C to stop)`)
    const worker = startOutboxRelay({
      ...relayOptions,
      intervalMs,
      onError: (error) => out.warn(`relay pass failed, will retry: ${messageOf(error)}`),
    })
    await new Promise<void>((resolve) => {
      if (signal.aborted) resolve()
      else signal.addEventListener('abort', () => resolve(), { once: true })
    })
    await worker.stop()
    if (out.json) out.printJson(worker.totals)
    else out.line(`relay stopped: ${summary(worker.totals)}`)
  },
}
