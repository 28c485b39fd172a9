/**
 * An AWS Lambda handler (API Gateway HTTP API, payload v2) that uses the library the Lambda way:
 *
 * - the factory (one connection pool) lives outside the handler, so warm invocations reuse it;
 * - a manager per invocation;
 * - `await factory.flush({ timeoutMs })` before returning: Lambda freezes the process as soon as the
 *   handler resolves, so notifications still queued would otherwise leave only on the next
 *   invocation (or never). The flush is bounded by what the invocation has left (and by how long we
 *   let delivery delay the response): during an AWS outage it returns at the bound and says how
 *   many notifications are still pending. With `delivery: 'durable'` a frozen or killed instance
 *   loses nothing either way: the relay (`mongodb-session-manager relay`) sends what is left.
 *
 * Routes: `POST /sessions/{id}/messages` `{message}`, `POST /sessions/{id}/feedback` `{rating, comment?}`,
 * `PATCH /sessions/{id}/metadata` `{…}`.
 *
 * Configuration (environment): `MONGODB_URI`, `MONGODB_DATABASE`, `SNS_TOPIC_FEEDBACK_GOOD|BAD|NEUTRAL`,
 * `SQS_METADATA_QUEUE_URL`, `METADATA_FIELDS` (comma-separated).
 */
import {
  MongoDBSessionManagerFactory,
  MongoSessionError,
  type FeedbackHook,
  type MetadataHook,
} from '../../src/index.js'
import { createFeedbackSnsHook, createMetadataSqsHook } from '../../src/aws/index.js'
import { createModel, createSupportAgent } from '../shared/support-agent.js'

/** The subset of the API Gateway v2 event the handler reads. */
export interface HttpEvent {
  rawPath: string
  body?: string | null
  isBase64Encoded?: boolean
  requestContext: { http: { method: string } }
}

export interface HttpResult {
  statusCode: number
  headers: Record<string, string>
  body: string
}

/** The subset of the Lambda context the handler reads. */
export interface LambdaContext {
  getRemainingTimeInMillis(): number
}

/** Longest we let notification delivery delay the response. */
const FLUSH_BUDGET_MS = 5_000
/** Time kept for returning the response once the flush is over. */
const RESPONSE_MARGIN_MS = 1_000

/** The flush bound for this invocation; without a context (a direct call) the library default applies. */
function flushTimeoutMs(context: LambdaContext | undefined): number | undefined {
  if (!context) return undefined
  return Math.max(0, Math.min(FLUSH_BUDGET_MS, context.getRemainingTimeInMillis() - RESPONSE_MARGIN_MS))
}

function json(statusCode: number, value: unknown): HttpResult {
  return { statusCode, headers: { 'content-type': 'application/json' }, body: JSON.stringify(value) }
}

function parseBody(event: HttpEvent): Record<string, unknown> {
  const raw = event.isBase64Encoded ? Buffer.from(event.body ?? '', 'base64').toString('utf8') : (event.body ?? '')
  const value: unknown = JSON.parse(raw || '{}')
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new SyntaxError('body must be an object')
  return value as Record<string, unknown>
}

/** A handler bound to `factory` (tests and custom wiring); see {@link handler} for the environment-configured one. */
export function createHandler(
  factory: MongoDBSessionManagerFactory,
): (event: HttpEvent, context?: LambdaContext) => Promise<HttpResult> {
  return async (event, context) => {
    try {
      const match = /^\/sessions\/([^/]+)\/(messages|feedback|metadata)$/.exec(event.rawPath)
      const method = event.requestContext.http.method
      if (!match) return json(404, { error: 'not found' })
      const sessionManager = factory.createSessionManager(decodeURIComponent(match[1]!))
      let body: Record<string, unknown>
      try {
        body = parseBody(event)
      } catch {
        return json(400, { error: 'body must be a JSON object' })
      }
      if (match[2] === 'messages' && method === 'POST') {
        if (typeof body.message !== 'string' || body.message.length === 0) {
          return json(400, { error: '"message" must be a non-empty string' })
        }
        const agent = createSupportAgent({ sessionManager, model: await createModel('scripted') })
        const result = await agent.invoke(body.message)
        return json(200, { reply: result.toString(), messageCount: agent.messages.length })
      }
      if (match[2] === 'feedback' && method === 'POST') {
        return json(201, await sessionManager.addFeedback(body as never))
      }
      if (match[2] === 'metadata' && method === 'PATCH') {
        return json(200, await sessionManager.updateMetadata(body as never))
      }
      return json(405, { error: 'method not allowed' })
    } catch (error) {
      if (error instanceof MongoSessionError && error.code === 'MSM_VALIDATION')
        return json(400, { error: error.message })
      console.error(error)
      return json(500, { error: 'internal error' })
    } finally {
      // The important line: deliver this invocation's notifications before Lambda freezes us,
      // within the time the invocation can spare.
      const { pending } = await factory.flush({ timeoutMs: flushTimeoutMs(context) })
      if (pending > 0) {
        console.warn(
          `${pending} notification(s) still pending after the flush bound: they are retried when this ` +
            'instance next runs (durable delivery: also stored for the relay)',
        )
      }
    }
  }
}

let defaultHandler: ((event: HttpEvent, context?: LambdaContext) => Promise<HttpResult>) | undefined

function factoryFromEnvironment(env: NodeJS.ProcessEnv = process.env): MongoDBSessionManagerFactory {
  const topics = [env.SNS_TOPIC_FEEDBACK_GOOD, env.SNS_TOPIC_FEEDBACK_BAD, env.SNS_TOPIC_FEEDBACK_NEUTRAL]
  const feedbackHook: FeedbackHook | undefined = topics.some(Boolean)
    ? createFeedbackSnsHook({ topicArnGood: topics[0], topicArnBad: topics[1], topicArnNeutral: topics[2] })
    : undefined
  const metadataHook: MetadataHook | undefined = env.SQS_METADATA_QUEUE_URL
    ? createMetadataSqsHook({
        queueUrl: env.SQS_METADATA_QUEUE_URL,
        metadataFields: (env.METADATA_FIELDS ?? 'status,priority').split(',').filter(Boolean),
      })
    : undefined
  return new MongoDBSessionManagerFactory({
    connectionString: env.MONGODB_URI ?? '',
    databaseName: env.MONGODB_DATABASE ?? 'strands_sessions',
    ...(feedbackHook && { feedbackHook }),
    ...(metadataHook && { metadataHook }),
    // Lambda runs one request at a time per instance: a small pool is enough.
    clientOptions: { maxPoolSize: 2 },
  })
}

/** The Lambda entry point (`handler` in the function configuration). */
export const handler = async (event: HttpEvent, context?: LambdaContext): Promise<HttpResult> => {
  // Created on the first (cold) invocation and reused while the instance stays warm.
  defaultHandler ??= createHandler(factoryFromEnvironment())
  return defaultHandler(event, context)
}
