/**
 * A chat HTTP API on Fastify with the factory pattern: one `MongoDBSessionManagerFactory` (one
 * connection pool, one notification dispatcher) for the process, one lightweight session manager
 * per request — creating it costs no I/O.
 *
 *   POST   /sessions/:sessionId/messages   { "message": "…" }            → the agent's reply
 *   GET    /sessions/:sessionId/messages                                 → the stored conversation
 *   POST   /sessions/:sessionId/feedback   { "rating": "up"|"down"|null, "comment"? } → 201
 *   GET    /sessions/:sessionId/feedback                                 → feedback, oldest first
 *   GET    /sessions/:sessionId/metadata                                 → metadata
 *   PATCH  /sessions/:sessionId/metadata   { "status": "…", … }          → metadata after the merge
 *   DELETE /sessions/:sessionId/metadata?keys=a,b                        → metadata after the delete
 *   GET    /health                                                       → connection stats (no secrets)
 *
 * Bad input gets a 400 with the library's message (`ValidationError`: nothing was written).
 */
import type { Model } from '@strands-agents/sdk'
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify'
import {
  MongoSessionError,
  type FeedbackInput,
  type Metadata,
  type MongoDBSessionManagerFactory,
} from '../../src/index.js'
import { createSupportAgent } from '../shared/support-agent.js'

export interface ChatAppOptions {
  factory: MongoDBSessionManagerFactory
  /** A model per request (models keep per-conversation state; do not share one across requests). */
  createModel: () => Model | Promise<Model>
  logger?: boolean
}

type SessionParams = { Params: { sessionId: string } }

const STATUS_BY_CODE: Record<string, number> = {
  MSM_VALIDATION: 400,
  MSM_NOT_FOUND: 404,
  MSM_CONFLICT: 409,
  MSM_DOCUMENT_TOO_LARGE: 413,
}

function textOf(content: readonly { type: string }[]): string {
  return content.map((block) => (block.type === 'textBlock' && 'text' in block ? String(block.text) : '')).join('')
}

export function buildChatApp(options: ChatAppOptions): FastifyInstance {
  const { factory } = options
  const app = Fastify({ logger: options.logger ?? false, bodyLimit: 256 * 1024 })

  app.setErrorHandler((error: FastifyError | Error, _request, reply) => {
    if (error instanceof MongoSessionError) {
      const status = STATUS_BY_CODE[error.code] ?? 500
      const field = (error as { field?: string }).field
      return reply.status(status).send({ error: error.message, code: error.code, ...(field && { field }) })
    }
    const status = (error as FastifyError).statusCode ?? 500
    if (status >= 500) app.log.error(error)
    return reply.status(status).send({ error: status >= 500 ? 'internal error' : error.message })
  })

  app.get('/health', async () => factory.getConnectionStats())

  app.post<SessionParams & { Body: { message: string } }>(
    '/sessions/:sessionId/messages',
    {
      schema: {
        body: {
          type: 'object',
          required: ['message'],
          additionalProperties: false,
          properties: { message: { type: 'string', minLength: 1, maxLength: 8_000 } },
        },
      },
    },
    async (request) => {
      const sessionManager = factory.createSessionManager(request.params.sessionId)
      const agent = createSupportAgent({ sessionManager, model: await options.createModel() })
      const result = await agent.invoke(request.body.message)
      return {
        sessionId: sessionManager.sessionId,
        reply: textOf(result.lastMessage.content),
        messageCount: agent.messages.length,
      }
    },
  )

  app.get<SessionParams>('/sessions/:sessionId/messages', async (request) => {
    const sessionManager = factory.createSessionManager(request.params.sessionId)
    const agent = createSupportAgent({ sessionManager, model: await options.createModel() })
    await agent.initialize()
    return {
      messages: agent.messages.map((m) => ({ role: m.role, text: textOf(m.content), content: m.toJSON().content })),
    }
  })

  app.post<SessionParams & { Body: FeedbackInput }>(
    '/sessions/:sessionId/feedback',
    {
      schema: {
        body: {
          type: 'object',
          required: ['rating'],
          properties: { rating: { enum: ['up', 'down', null] }, comment: { type: 'string' } },
        },
      },
    },
    async (request, reply) => {
      const feedback = await factory.createSessionManager(request.params.sessionId).addFeedback(request.body)
      return reply.status(201).send(feedback)
    },
  )

  app.get<SessionParams & { Querystring: { limit?: string; cursor?: string } }>(
    '/sessions/:sessionId/feedback',
    async (request) => {
      const { limit, cursor } = request.query
      return factory.createSessionManager(request.params.sessionId).getFeedbacks({
        ...(limit !== undefined && { limit: Number(limit) }),
        ...(cursor !== undefined && { cursor }),
      })
    },
  )

  app.get<SessionParams>('/sessions/:sessionId/metadata', async (request) =>
    factory.createSessionManager(request.params.sessionId).getMetadata(),
  )

  app.patch<SessionParams & { Body: Metadata }>(
    '/sessions/:sessionId/metadata',
    { schema: { body: { type: 'object' } } },
    async (request) => factory.createSessionManager(request.params.sessionId).updateMetadata(request.body),
  )

  app.delete<SessionParams & { Querystring: { keys?: string } }>('/sessions/:sessionId/metadata', async (request) => {
    const keys = (request.query.keys ?? '').split(',').filter(Boolean)
    return factory.createSessionManager(request.params.sessionId).deleteMetadata(keys)
  })

  return app
}
