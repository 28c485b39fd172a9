/** The demo's steps (see `main.ts`). Each section checks what it shows and throws when it is wrong. */
import type { Agent } from '@strands-agents/sdk'
import { MongoDBSessionManager, type FeedbackInput, type MetricsTotals } from '../../src/index.js'
import { createFeedbackSnsHook, createMetadataSqsHook } from '../../src/aws/index.js'
import { redactUri } from '../../src/logging.js'
import { renderMessage } from '../../src/cli/render.js'
import { resolveAws, type ExampleAws, type Rating } from '../shared/local-aws.js'
import { resolveMongo, type ExampleMongo } from '../shared/mongo.js'
import { LASTING_SERVER_PORT } from '../../tools/ferretdb/launcher.js'
import { attributesOf, receiveMessages, snsNotificationOf } from '../shared/queues.js'
import { createModel, createSupportAgent } from '../shared/support-agent.js'
import type { Report } from './report.js'

export interface DemoOptions {
  report: Report
  model: 'scripted' | 'bedrock'
  /** Keep the session in the database afterwards. */
  keep?: boolean
  env?: NodeJS.ProcessEnv
}

/** Database the demo writes to; `MSM_DEMO_DB` overrides it (the tests use a throwaway one). */
const DEFAULT_DATABASE = 'msm_demo'
const APPLICATION = 'support-bot'
const METADATA_FIELDS = ['status', 'priority', 'assigned_to']

function printTranscript(report: Report, agent: Agent): void {
  for (const message of agent.messages) {
    for (const line of renderMessage(message.toJSON(), report.s, { indent: '   ' })) report.line(line)
  }
}

function printTotals(report: Report, t: MetricsTotals): void {
  report.field('invocations', `${t.invocations} (${t.cycles} cycles, ${t.modelCalls} model calls)`)
  report.field('tokens', `${t.totalTokens} total (${t.inputTokens} in, ${t.outputTokens} out)`)
  report.field('model latency', `${t.modelLatencyMs} ms reported by the model`)
  report.field(
    'time to 1st byte',
    t.averageTimeToFirstByteMs === null ? '-' : `${t.averageTimeToFirstByteMs.toFixed(1)} ms average (measured)`,
  )
  report.field('tool calls', `${t.toolCalls} (${t.toolErrors} errors, ${Math.round(t.toolTimeMs)} ms)`)
}

export async function runDemo(options: DemoOptions): Promise<void> {
  const { report } = options
  const env = options.env ?? process.env
  const DATABASE = env.MSM_DEMO_DB || DEFAULT_DATABASE
  const s = report.s
  report.title('mongodb-session-manager demo: a Strands support agent persisted in MongoDB')

  report.section('Infrastructure')
  let mongo: ExampleMongo | undefined
  let aws: ExampleAws | undefined
  const managers: MongoDBSessionManager[] = []
  try {
    mongo = await resolveMongo({ env, log: (line) => report.item(s.dim(line)) })
    report.field('MongoDB', `${mongo.source}: ${redactUri(mongo.uri)}, database ${DATABASE}`)
    aws = await resolveAws(env)
    report.field('SNS / SQS', `${aws.source}${aws.endpoint ? ` at ${aws.endpoint}` : ''} (${aws.region})`)
    for (const rating of ['good', 'bad', 'neutral'] as const) report.field(`topic ${rating}`, aws.topics[rating])
    report.field('metadata queue', aws.metadataQueueUrl)
    const model = await createModel(options.model, env)
    report.field('model', options.model === 'scripted' ? 'ScriptedModel (deterministic, offline)' : 'Amazon Bedrock')

    // The documented hooks: feedback → SNS topic per rating; listed metadata fields → SQS.
    const feedbackHook = createFeedbackSnsHook({
      topicArnGood: aws.topics.good,
      topicArnBad: aws.topics.bad,
      topicArnNeutral: aws.topics.neutral,
      client: aws.sns,
    })
    const metadataHook = createMetadataSqsHook({
      queueUrl: aws.metadataQueueUrl,
      metadataFields: METADATA_FIELDS,
      client: aws.sqs,
    })
    const sessionId = `demo-${Date.now().toString(36)}`
    const openManager = () => {
      const manager = new MongoDBSessionManager({
        sessionId,
        connectionString: mongo!.uri,
        databaseName: DATABASE,
        applicationName: APPLICATION,
        feedbackHook,
        metadataHook,
        metadataFields: METADATA_FIELDS,
      })
      managers.push(manager)
      return manager
    }

    report.section('Conversation (a support agent with a tool)')
    const first = openManager()
    const agent = createSupportAgent({ sessionManager: first, model })
    report.field('session', sessionId)
    for (const prompt of [
      'Hi, my order A-1001 has not arrived yet. Where is it?',
      'Thanks! Please escalate it anyway.',
    ]) {
      const before = agent.messages.length
      await agent.invoke(prompt)
      for (const message of agent.messages.slice(before)) {
        for (const line of renderMessage(message.toJSON(), s, { indent: '   ' })) report.line(line)
      }
    }
    const used = agent.messages.some((m) => m.content.some((b) => b.type === 'toolUseBlock'))
    if (!used) throw new Error('the agent did not call the lookup_order tool')
    report.ok(`${agent.messages.length} messages stored, one document each`)
    await first.close()

    report.section('Restore: a new manager reopens the session')
    const second = openManager()
    const restored = createSupportAgent({ sessionManager: second, model: await createModel(options.model, env) })
    await restored.initialize()
    printTranscript(report, restored)
    const same =
      JSON.stringify(restored.messages.map((m) => m.toJSON())) === JSON.stringify(agent.messages.map((m) => m.toJSON()))
    if (!same) throw new Error('the restored conversation differs from the one saved')
    report.ok(`restored ${restored.messages.length} messages, identical to what was saved`)

    report.section('Feedback → SNS (read back from the queues subscribed to each topic)')
    const feedbacks: [Rating, FeedbackInput][] = [
      ['good', { rating: 'up', comment: 'Quick and clear, thanks!' }],
      ['bad', { rating: 'down', comment: 'The response was incomplete' }],
      ['neutral', { rating: null, comment: 'Just saving for later' }],
    ]
    for (const [, input] of feedbacks) {
      const stored = await second.addFeedback(input)
      report.item(`addFeedback(${JSON.stringify(input)}) → stored ${s.dim(stored.id)}`)
    }
    await second.flush()
    const stats = second.notificationStats
    if (aws.feedbackQueues) {
      for (const [rating] of feedbacks) {
        const [message] = await receiveMessages(aws.sqs, aws.feedbackQueues[rating], 1)
        if (!message) throw new Error(`no SNS notification arrived on the ${rating} topic's queue within 10 s`)
        const n = snsNotificationOf(message)
        report.line(`   ${s.magenta(`[${rating}]`.padEnd(9))} Subject: ${n.subject}`)
        for (const line of n.message.split('\n')) report.line(`             ${s.dim('│')} ${line}`)
        report.line(`             attributes: ${JSON.stringify(pick(n.attributes, ['session_id', 'rating']))}`)
      }
      report.ok('3 notifications, one per topic')
    } else {
      report.item(
        `sent ${stats.sent} SNS notification(s) to the configured topics (subscribers receive them; not read back)`,
      )
    }

    report.section('Metadata → SQS events')
    const update = {
      status: 'escalated',
      priority: 'high',
      assigned_to: 'supervisor-jane',
      internal_note: 'VIP customer',
    }
    await second.updateMetadata(update)
    report.item(`updateMetadata(${JSON.stringify(update)})`)
    await second.deleteMetadata(['assigned_to'])
    report.item(`deleteMetadata(["assigned_to"])`)
    report.item(`getMetadata() → ${JSON.stringify(await second.getMetadata())}`)
    await second.flush()
    if (aws.source === 'local fauxqs') {
      const events = await receiveMessages(aws.sqs, aws.metadataQueueUrl, 2)
      if (events.length < 2) throw new Error(`expected 2 SQS metadata events, received ${events.length} within 10 s`)
      for (const event of events) {
        const body = JSON.parse(event.Body ?? '{}') as Record<string, unknown>
        report.line(`   ${s.magenta(`[${String(body.operation)}]`.padEnd(9))} ${JSON.stringify(body)}`)
        report.line(`             attributes: ${JSON.stringify(pick(attributesOf(event), ['session_id', 'event']))}`)
      }
      report.ok('internal_note is not in metadataFields, so it never left MongoDB')
    } else {
      report.item('events sent to SQS_METADATA_QUEUE_URL (not consumed here, so your consumers still get them)')
    }
    const delivery = second.notificationStats
    report.field('notifications', `${delivery.sent} sent, ${delivery.failed} failed, ${delivery.pending} pending`)
    if (delivery.failed > 0) throw new Error(`${delivery.failed} notification(s) failed (see the log above)`)

    report.section('Metrics summary')
    const summary = await second.getMetricsSummary()
    printTotals(report, summary.session)
    for (const [agentId, totals] of Object.entries(summary.agents)) {
      const tools = Object.entries(totals.tools)
        .map(([name, t]) => `${name} ×${t.calls}`)
        .join(', ')
      report.field(
        `agent ${agentId}`,
        `${totals.invocations} invocations, ${totals.totalTokens} tokens, tools: ${tools || '-'}`,
      )
    }
    if (summary.session.invocations !== 2) throw new Error(`expected 2 invocations, got ${summary.session.invocations}`)

    report.line()
    if (options.keep) {
      const show = `npx tsx src/cli/main.ts sessions show ${sessionId} --db ${DATABASE}`
      if (mongo.source === 'local FerretDB') {
        // This server and its data go away when the demo exits: point at one that lasts instead.
        const lasting = `mongodb://127.0.0.1:${LASTING_SERVER_PORT}/`
        report.line('Session kept, but in a temporary FerretDB that stops with the demo. For one that lasts:')
        report.line(`   npm run ferretdb   ${s.dim('(in another terminal: a local server that keeps its data)')}`)
        report.line(`   MONGODB_URI=${lasting} npm run demo -- --keep`)
      } else {
        report.line('Session kept. Inspect it with the CLI:')
        // A connection string with credentials is not printed: the user has it in MONGODB_URI already.
        const printable = redactUri(mongo.uri) === mongo.uri
        report.line(
          printable
            ? `   MONGODB_URI=${shellQuote(mongo.uri)} ${show}`
            : `   ${show}   ${s.dim('(with MONGODB_URI set)')}`,
        )
      }
    } else {
      const counts = await second.deleteSessionData()
      report.line(
        s.dim(`Cleaned up: deleted the demo session (${counts.messages} messages, ${counts.feedback} feedback).`),
      )
    }
    report.line(s.green(s.bold('Demo finished.')))
  } finally {
    for (const manager of managers) await manager.close().catch(() => undefined)
    await aws?.stop().catch(() => undefined)
    await mongo?.stop().catch(() => undefined)
  }
}

function pick(record: Record<string, string>, keys: string[]): Record<string, string> {
  return Object.fromEntries(keys.filter((k) => k in record).map((k) => [k, record[k] as string]))
}

/** `text` as one shell word. */
function shellQuote(text: string): string {
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replaceAll("'", "'\\''")}'`
}
