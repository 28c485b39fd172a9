/**
 * Ambient declarations for the documentation samples (README.md, docs/*.md): the few values a sample
 * uses without creating them, because how they are made is not the point of that sample. Library and
 * SDK names are never declared here: a sample imports what it uses. Keep this list short; a sample that
 * needs something else should create it.
 */
import type { Agent, Model, Tool } from '@strands-agents/sdk'
import type { Db } from 'mongodb'
import type { MongoDBSessionManager } from 'mongodb-session-manager'
import type { FeedbackSnsHook, MetadataSqsHook } from 'mongodb-session-manager/aws'

declare global {
  /** Any Strands model (Bedrock, OpenAI, the offline `ScriptedModel`...). */
  const model: Model
  /** An agent created earlier in the application. */
  const agent: Agent
  /** The agent's session manager; the guides that are about one feature call it `manager`. */
  const sessionManager: MongoDBSessionManager
  const manager: MongoDBSessionManager
  /** The application's database. */
  const db: Db
  /** The application's session id for the current user. */
  const sessionId: string
  /** Hooks configured elsewhere (see docs/aws-integrations.md). */
  const feedbackHook: FeedbackSnsHook
  const metadataHook: MetadataSqsHook
  /** A tool of the application (e.g. made with the SDK's `tool()`). */
  const lookupOrder: Tool
  /** An Express-style HTTP application. */
  const app: {
    post(
      path: string,
      handler: (
        req: { params: { sessionId: string }; body: { message: string } },
        res: { json(body: unknown): void },
      ) => Promise<void>,
    ): void
  }
}
