/**
 * SNS and SQS for the examples: the real AWS account when the documented environment variables are
 * set, otherwise fauxqs (an SNS/SQS emulator) in-process on 127.0.0.1 with everything created:
 * three feedback topics, an SQS queue subscribed to each (so notifications can be read back), and
 * the metadata queue.
 *
 * Environment (as in the AWS integration guide): `SNS_TOPIC_FEEDBACK_GOOD`, `SNS_TOPIC_FEEDBACK_BAD`,
 * `SNS_TOPIC_FEEDBACK_NEUTRAL` (a topic may be `none`), `SQS_METADATA_QUEUE_URL`, plus the usual
 * AWS credentials and `AWS_REGION`.
 */
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns'
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs'

export type Rating = 'good' | 'bad' | 'neutral'

/** Where the examples send notifications, and (locally) where they can be read back. */
export interface ExampleAws {
  source: 'AWS environment' | 'local fauxqs'
  region: string
  sns: SNSClient
  sqs: SQSClient
  /** Topic ARNs (or `none`). */
  topics: Record<Rating, string>
  metadataQueueUrl: string
  /** Local only: a queue subscribed to each topic (SNS JSON envelopes). */
  feedbackQueues?: Record<Rating, string>
  /** Local only: `http://127.0.0.1:<port>`. */
  endpoint?: string
  stop(): Promise<void>
}

/** The documented environment variables, when all are set. */
export function awsFromEnvironment(env: NodeJS.ProcessEnv = process.env): ExampleAws | undefined {
  const good = env.SNS_TOPIC_FEEDBACK_GOOD
  const bad = env.SNS_TOPIC_FEEDBACK_BAD
  const neutral = env.SNS_TOPIC_FEEDBACK_NEUTRAL
  const queue = env.SQS_METADATA_QUEUE_URL
  if (!good || !bad || !neutral || !queue) return undefined
  const region = env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? regionOf(good) ?? 'eu-west-1'
  const sns = new SNSClient({ region })
  const sqs = new SQSClient({ region })
  return {
    source: 'AWS environment',
    region,
    sns,
    sqs,
    topics: { good, bad, neutral },
    metadataQueueUrl: queue,
    async stop() {
      sns.destroy()
      sqs.destroy()
    },
  }
}

function regionOf(arn: string): string | undefined {
  return /^arn:aws[\w-]*:sns:([a-z0-9-]+):/.exec(arn)?.[1]
}

let silenced = false

/** fauxqs loads `node:sqlite`, which prints an ExperimentalWarning on Node 22; drop only that one. */
function silenceSqliteExperimentalWarning(): void {
  if (silenced) return
  silenced = true
  const emit = process.emitWarning.bind(process) as (...args: unknown[]) => void
  process.emitWarning = ((warning: unknown, ...rest: unknown[]) => {
    const text = warning instanceof Error ? warning.message : String(warning)
    if (/SQLite is an experimental feature/.test(text)) return
    emit(warning, ...rest)
  }) as typeof process.emitWarning
}

/** Starts fauxqs on a free loopback port and creates the topics, subscriptions and queue. */
export async function startLocalAws(options: { region?: string; port?: number } = {}): Promise<ExampleAws> {
  const region = options.region ?? 'eu-west-1'
  // Loaded lazily: fauxqs needs Node ≥ 22.5 (node:sqlite), and only the local mode uses it.
  silenceSqliteExperimentalWarning()
  const { buildApp } = await import('fauxqs')
  const app = buildApp({ logger: false, defaultRegion: region })
  await app.listen({ port: options.port ?? 0, host: '127.0.0.1' })
  const address = app.server.address()
  if (!address || typeof address === 'string') throw new Error('fauxqs did not report a TCP address')
  const endpoint = `http://127.0.0.1:${address.port}`
  // fauxqs accepts any credentials; explicit ones keep the SDK from searching the machine for real ones.
  const config = { endpoint, region, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }
  const sns = new SNSClient(config)
  const sqs = new SQSClient(config)
  const createQueue = async (name: string) =>
    (await sqs.send(new CreateQueueCommand({ QueueName: name }))).QueueUrl as string
  const topics = {} as Record<Rating, string>
  const feedbackQueues = {} as Record<Rating, string>
  for (const rating of ['good', 'bad', 'neutral'] as const) {
    const topicArn = (await sns.send(new CreateTopicCommand({ Name: `feedback-${rating}` }))).TopicArn as string
    const queueUrl = await createQueue(`feedback-${rating}-inbox`)
    const attributes = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }),
    )
    await sns.send(
      new SubscribeCommand({
        TopicArn: topicArn,
        Protocol: 'sqs',
        Endpoint: attributes.Attributes?.QueueArn as string,
      }),
    )
    topics[rating] = topicArn
    feedbackQueues[rating] = queueUrl
  }
  const metadataQueueUrl = await createQueue('metadata-updates')
  return {
    source: 'local fauxqs',
    region,
    sns,
    sqs,
    topics,
    metadataQueueUrl,
    feedbackQueues,
    endpoint,
    async stop() {
      sns.destroy()
      sqs.destroy()
      await app.close()
    },
  }
}

/** The AWS environment when configured, else local fauxqs. */
export async function resolveAws(env: NodeJS.ProcessEnv = process.env): Promise<ExampleAws> {
  return awsFromEnvironment(env) ?? (await startLocalAws())
}
