/**
 * A stand-in for the manager's hook composition (src/hooks/compose.ts, owned elsewhere), following the
 * contract in src/hooks/types.ts: hooks run as `hook(original, action, sessionId, args, context)`;
 * `context.notify` collects requests before `original` runs; `original` writes the change and, in
 * durable mode, the outbox entries in the same single-document update; after the write the
 * notifications go to the dispatcher.
 */
import { randomUUID } from 'node:crypto'
import type { Collection, Db, Document } from 'mongodb'
import type { NotificationDispatcher } from '../../../src/notifications/dispatcher.js'
import { createNotification } from '../../../src/notifications/outbox-notification.js'
import { toOutboxEntry, type OutboxEntryDocument } from '../../../src/notifications/outbox.js'
import type {
  Feedback,
  FeedbackInput,
  Metadata,
  Notification,
  NotificationRequest,
  NotificationSender,
} from '../../../src/model/types.js'
import type { FeedbackHook, HookContext, MetadataHook } from '../../../src/hooks/types.js'

export interface HarnessOptions {
  db: Db
  dispatcher: NotificationDispatcher
  durable?: boolean
  /** due_at offset of stored entries. */
  relayDelayMs?: number
  /** Simulate a crash between the storage write and the hand-over to the dispatcher. */
  crashAfterWrite?: boolean
  manager?: unknown
}

interface Registered {
  notification: Notification
  sender: NotificationSender
  entry: OutboxEntryDocument | undefined
}

export class HookHarness {
  readonly sessions: Collection<Document>
  readonly feedback: Collection<Document>
  readonly #options: HarnessOptions

  constructor(options: HarnessOptions) {
    this.#options = options
    this.sessions = options.db.collection('sessions')
    this.feedback = options.db.collection('feedback')
  }

  async createSession(sessionId: string): Promise<void> {
    await this.sessions.updateOne(
      { _id: sessionId as never },
      { $setOnInsert: { session_id: sessionId, metadata: {}, created_at: new Date() } },
      { upsert: true },
    )
  }

  #context(sessionId: string, pending: { request: NotificationRequest; sender: NotificationSender }[]): HookContext {
    return {
      sessionId,
      manager: this.#options.manager,
      notify: (request, sender) => pending.push({ request, sender }),
    }
  }

  #materialise(
    sessionId: string,
    pending: { request: NotificationRequest; sender: NotificationSender }[],
  ): Registered[] {
    return pending.splice(0).map(({ request, sender }) => {
      const notification = createNotification(sessionId, request)
      const entry = this.#options.durable
        ? toOutboxEntry(notification, { relayDelayMs: this.#options.relayDelayMs ?? 60_000 })
        : undefined
      return { notification, sender, entry }
    })
  }

  #handOver(collection: Collection<Document>, documentId: string, registered: Registered[]): void {
    if (this.#options.crashAfterWrite) return
    for (const { notification, sender, entry } of registered) {
      this.#options.dispatcher.enqueue(notification, sender, entry ? { outbox: { collection, documentId, entry } } : {})
    }
  }

  async addFeedback(sessionId: string, hook: FeedbackHook, input: FeedbackInput): Promise<Feedback> {
    const pending: { request: NotificationRequest; sender: NotificationSender }[] = []
    let registered: Registered[] = []
    let id = ''
    const original = async (fb: FeedbackInput): Promise<Feedback> => {
      registered = this.#materialise(sessionId, pending)
      id = randomUUID()
      const feedback: Feedback = {
        id,
        sessionId,
        rating: fb.rating,
        comment: fb.comment ?? null,
        messageId: null,
        agentId: null,
        userId: null,
        createdAt: new Date(),
      }
      const doc: Document = { _id: id, session_id: sessionId, rating: fb.rating, comment: feedback.comment }
      if (this.#options.durable && registered.length > 0) doc.outbox = registered.map((r) => r.entry)
      await this.feedback.insertOne(doc)
      return feedback
    }
    const result = await hook(original, 'add', sessionId, input, this.#context(sessionId, pending))
    this.#handOver(this.feedback, id, registered)
    return result
  }

  async updateMetadata(sessionId: string, hook: MetadataHook, metadata: Metadata): Promise<Metadata> {
    return this.#metadata(sessionId, hook, 'update', { metadata })
  }

  async deleteMetadata(sessionId: string, hook: MetadataHook, keys: string[]): Promise<Metadata> {
    return this.#metadata(sessionId, hook, 'delete', { keys })
  }

  async #metadata(
    sessionId: string,
    hook: MetadataHook,
    action: 'update' | 'delete',
    args: { metadata: Metadata } | { keys: string[] },
  ): Promise<Metadata> {
    const pending: { request: NotificationRequest; sender: NotificationSender }[] = []
    let registered: Registered[] = []
    const original = async (a: { metadata: Metadata } | { keys: string[] }): Promise<Metadata> => {
      registered = this.#materialise(sessionId, pending)
      const update: Document = {}
      if ('metadata' in a)
        update.$set = Object.fromEntries(Object.entries(a.metadata).map(([k, v]) => [`metadata.${k}`, v]))
      else update.$unset = Object.fromEntries(a.keys.map((k) => [`metadata.${k}`, '']))
      if (this.#options.durable && registered.length > 0)
        update.$push = { outbox: { $each: registered.map((r) => r.entry) } }
      const doc = await this.sessions.findOneAndUpdate({ _id: sessionId as never }, update, { returnDocument: 'after' })
      if (!doc) throw new Error(`no session ${sessionId}`)
      return (doc.metadata ?? {}) as Metadata
    }
    const run = hook as unknown as (
      o: typeof original,
      action: string,
      sessionId: string,
      args: unknown,
      context: HookContext,
    ) => Promise<Metadata>
    const result = await run(original, action, sessionId, args, this.#context(sessionId, pending))
    this.#handOver(this.sessions, sessionId, registered)
    return result
  }
}
