/**
 * The agent's latest state in MongoDB: one document per message plus the agent's entry in the
 * session document. Saves write only what changed (see `conversation-diff.ts`) and commit with a
 * compare-and-set on the agent's revision, so concurrent writers never lose or duplicate messages.
 *
 * A save runs in three idempotent steps:
 * 1. upsert the new message documents (by deterministic `_id`, tagged with the save's `op_id`);
 * 2. commit: one conditional update of the session document (revision, ranges, other state);
 * 3. remove superseded versions of rewritten messages (e.g. the text a guardrail redacted).
 * A crash before step 2 leaves only unreferenced documents behind: the save did not happen.
 */
import { randomInt, randomUUID } from 'node:crypto'
import type { Message, Snapshot } from '@strands-agents/sdk'
import { BSON, MongoBulkWriteError, type Document } from 'mongodb'
import { DocumentTooLargeError, SessionConflictError, StorageOperationError } from '../errors.js'
import { log } from '../logging.js'
import type { SessionCollections } from './collections.js'
import {
  countRanges,
  fromRanges,
  persistedAfter,
  persistedFrom,
  planSave,
  toRanges,
  type PersistedMessage,
} from './conversation-diff.js'
import { autoTitle, conversationPreview } from './catalogue-text.js'
import { isSealed, open, seal } from './crypto/cipher.js'
import { assertWritableWithoutKey, DATA_KEY_FIELD, type SessionKey } from './crypto/session-key.js'
import { decodeValue, encodeValue } from './encoding.js'
import { decodeMessage, encodeMessage, messageDocumentId } from './message-codec.js'
import { agentField, type AgentStateDocument, type MessageDocument, type SeqRange } from './schema.js'
import { expiryFields, isExpired, liveClause, NO_EXPIRY, type ExpiryPolicy } from './retention.js'
import { withRetry } from './retry.js'
import { isDuplicateKeyError } from './upsert.js'

/** Past this many ranges, a save rewrites the conversation contiguously (keeps the session document small). */
export const MAX_RANGES = 64

/** Bytes reserved in the session document for everything but this agent's snapshot state. */
const SESSION_DOCUMENT_HEADROOM = 256 * 1024

export interface AgentStoreOptions {
  collections: SessionCollections
  sessionId: string
  /** Resolves the server's maximum document size (detected once per client). */
  maxBsonObjectSize: () => Promise<number>
  /** Ensures the session document exists (upsert); called before an agent's first save. */
  ensureSession: () => Promise<void>
  /**
   * Keep messages that left the conversation (sliding-window trims, summarised prefixes) as
   * history documents. Default `true`: transcripts stay complete. Rewritten versions of a message
   * (redactions, merges) are always removed.
   */
  retainTrimmedMessages?: boolean
  /** Session expiry: reads treat an expired session as absent; commits move its expiry time. */
  expiry?: ExpiryPolicy
  /**
   * Recreates the session document after a commit found the session expired: retires the expired
   * session (every document of it) and creates a fresh one. Without it, such a commit is a conflict.
   */
  revive?: () => Promise<void>
  /** The session's data key when encryption is on: message content and agent state are sealed with it. */
  sessionKey?: SessionKey
}

/** The non-message part of an SDK snapshot, as the manager hands it over for saving. */
export interface AgentStateSnapshot {
  data: Record<string, unknown>
  createdAt: string
  appData: Record<string, unknown>
}

/**
 * What else a save carries, so that a turn is one insert of its messages and one update of the
 * session document, whatever it records besides the conversation.
 */
export interface SaveExtras {
  /**
   * Fields to store on the message with this trackingId (the invocation's final assistant
   * message), e.g. its invocation metrics. Written with the message when it is among this save's
   * inserts; otherwise with one update of that message by `_id`.
   */
  messageFields?: { trackingId: string; fields: Document }
  /** Counters to add on the session document (`$inc` paths), e.g. metric totals. */
  increments?: Record<string, number>
  /**
   * Fields of the agent's entry to set (paths relative to `agents.<id>.`) when `fingerprint`
   * differs from the one stored, e.g. the captured model id and system prompt. Fields named in
   * `sealed` hold user content: with encryption on they are sealed like the agent state.
   */
  agentFields?: { fingerprint: string; fields: Document; sealed?: readonly string[] }
}

export interface SaveResult {
  /** False when nothing had changed since the last save. */
  written: boolean
  insertedMessages: number
  revision: number
  /** Whether `messageFields` found their message (in this save or already stored). */
  messageFieldsStored: boolean
}

/** Field of the agent entry holding the fingerprint of the last `agentFields` written. */
const AGENT_FIELDS_FINGERPRINT = 'config.captured_fingerprint'

interface AgentPersistState {
  revision: number
  persisted: PersistedMessage[]
  nextSeq: number
  stateJson: string
  /** Fingerprint of the `agentFields` stored, as read or last written (`null`: none or unknown). */
  agentFieldsFingerprint: string | null
}

/** Returned by {@link AgentStore.load}: the snapshot to give the agent, and how it maps to storage. */
export interface LoadedAgent {
  snapshot: Snapshot
  seqs: number[]
  revision: number
  nextSeq: number
  /** Fingerprint of the non-message state, to skip saves that would change nothing. */
  stateJson: string
  agentFieldsFingerprint: string | null
}

/**
 * Where a sealed field of an agent's entry lives (`field` relative to `agents.<id>.`): part of its
 * authenticated data, so every reader and writer of the field must name it the same way.
 */
export function agentPlace(agentId: string, field: string): string {
  return `agents/${agentId}/${field}`
}

export class AgentStore {
  readonly #options: AgentStoreOptions
  readonly #states = new Map<string, AgentPersistState>()
  readonly #queues = new Map<string, Promise<unknown>>()
  /**
   * Whether the session is known to hold an automatic title (read by a load, or written by a
   * save): the title is the first user message, so it is written once, in a commit that is made
   * anyway, and never again by this store.
   */
  #autoTitleStored = false
  /** Without encryption: whether the session last read holds a data key (then saves are refused). */
  #storedEncrypted = false

  constructor(options: AgentStoreOptions) {
    this.#options = options
  }

  /**
   * Reads the latest state of `agentId`, or `null` when it was never saved. Either way, what was
   * read becomes the base of the next save: a writer that found nothing commits only while the
   * agent is still absent, so it can never overwrite a turn another writer committed meanwhile.
   */
  async load(agentId: string): Promise<LoadedAgent | null> {
    const loaded = await this.#load(agentId)
    if (!loaded) {
      this.#states.set(agentId, { revision: 0, persisted: [], nextSeq: 0, stateJson: '', agentFieldsFingerprint: null })
    }
    return loaded
  }

  get #expiry(): ExpiryPolicy {
    return this.#options.expiry ?? NO_EXPIRY
  }

  async #load(agentId: string): Promise<LoadedAgent | null> {
    const { sessions } = this.#options.collections
    for (let attempt = 1; ; attempt++) {
      const doc = await withRetry('load agent', () =>
        sessions.findOne(
          { _id: this.#options.sessionId },
          { projection: { [agentField(agentId)]: 1, expires_at: 1, auto_title: 1, [DATA_KEY_FIELD]: 1 } },
        ),
      )
      // The data key comes with the session document: decrypting needs no read of its own.
      const key =
        (await this.#options.sessionKey?.fromDocument(isExpired(doc, this.#expiry.now()) ? null : doc)) ?? null
      // An expired session reads as absent, from the moment it expires (before anything is deleted).
      if (isExpired(doc, this.#expiry.now())) return null
      if (!this.#options.sessionKey) this.#storedEncrypted = (doc as Document | null)?.[DATA_KEY_FIELD] !== undefined
      if (typeof doc?.auto_title === 'string') this.#autoTitleStored = true
      const entry = doc?.agents?.[agentId]
      if (!entry || typeof entry.revision !== 'number') return null
      const seqs = fromRanges(entry.ranges)
      const messages = await this.#readMessages(agentId, entry.ranges, key)
      if (messages.length === seqs.length) {
        const data = decodeValue(this.#open(key, entry.snapshot_data, agentId, 'snapshot_data')) as Record<
          string,
          unknown
        >
        const appData = decodeValue(this.#open(key, entry.snapshot_app_data, agentId, 'snapshot_app_data')) as Record<
          string,
          unknown
        >
        const snapshot = {
          scope: 'agent',
          schemaVersion: '1.0',
          createdAt: entry.snapshot_created_at,
          data: { ...data, messages },
          appData,
        } as Snapshot
        return {
          snapshot,
          seqs,
          revision: entry.revision,
          nextSeq: entry.next_seq,
          stateJson: stateFingerprint(data, appData),
          agentFieldsFingerprint: storedFingerprint(entry),
        }
      }
      // A concurrent save may have removed a superseded version between our two reads: read again.
      if (attempt >= 3) {
        throw new StorageOperationError(
          `session '${this.#options.sessionId}', agent '${agentId}': ${seqs.length} messages referenced but ` +
            `${messages.length} found`,
        )
      }
    }
  }

  /** Records what the agent now holds after `loadSnapshot(load(...).snapshot)`. */
  bind(agentId: string, messages: readonly Message[], loaded: LoadedAgent): void {
    this.#states.set(agentId, {
      revision: loaded.revision,
      persisted: persistedFrom(messages, loaded.seqs),
      nextSeq: loaded.nextSeq,
      stateJson: loaded.stateJson,
      agentFieldsFingerprint: loaded.agentFieldsFingerprint,
    })
  }

  /**
   * The agent was given a conversation that does not match its stored latest state message by
   * message (an immutable snapshot was restored): its next save rewrites the conversation, on top
   * of the revision stored now, so a writer that commits in between is still detected.
   */
  async rebase(agentId: string): Promise<void> {
    this.#states.set(agentId, await this.#stateFromStorage(agentId))
  }

  /** Forgets what was persisted for `agentId` (or for every agent): the next save starts from the stored state. */
  forget(agentId?: string): void {
    if (agentId === undefined) this.#states.clear()
    else this.#states.delete(agentId)
  }

  /**
   * Saves the agent's conversation and state, with `extras` in the same writes. Saves of one agent
   * run one at a time, in call order.
   */
  save(
    agentId: string,
    messages: readonly Message[],
    state: AgentStateSnapshot,
    extras: SaveExtras = {},
  ): Promise<SaveResult> {
    const current = messages.slice()
    const previous = this.#queues.get(agentId) ?? Promise.resolve()
    const run = previous.catch(() => undefined).then(() => this.#save(agentId, current, state, extras))
    this.#queues.set(agentId, run)
    void run
      .finally(() => {
        if (this.#queues.get(agentId) === run) this.#queues.delete(agentId)
      })
      .catch(() => undefined)
    return run
  }

  async #save(
    agentId: string,
    messages: Message[],
    snapshot: AgentStateSnapshot,
    extras: SaveExtras,
    revived = false,
  ): Promise<SaveResult> {
    const { sessionId, collections } = this.#options
    const state = this.#states.get(agentId) ?? (await this.#stateFromStorage(agentId))
    let plan = planSave(state.persisted, messages, state.nextSeq)
    if (plan.ranges.length > MAX_RANGES) {
      // Too fragmented: rewrite the whole conversation contiguously, once.
      plan = planSave([], messages, state.nextSeq)
      plan = { ...plan, dropped: state.persisted.map((p) => p.seq), superseded: state.persisted.map((p) => p.seq) }
    }
    const stateJson = stateFingerprint(snapshot.data, snapshot.appData)
    const agentFields =
      extras.agentFields && extras.agentFields.fingerprint !== state.agentFieldsFingerprint
        ? extras.agentFields
        : undefined
    const increments = extras.increments && Object.keys(extras.increments).length > 0 ? extras.increments : undefined
    const unchanged =
      state.revision > 0 &&
      plan.inserts.length === 0 &&
      plan.dropped.length === 0 &&
      stateJson === state.stateJson &&
      !agentFields &&
      !increments &&
      !extras.messageFields
    if (unchanged) return { written: false, insertedMessages: 0, revision: state.revision, messageFieldsStored: false }
    let target = extras.messageFields ? messageSeqOf(messages, plan.seqs, extras.messageFields.trackingId) : null

    const opId = randomUUID()
    const now = this.#expiry.now()
    const limit = await this.#options.maxBsonObjectSize()
    const plainState = encodeValue(snapshot.data) as Document
    const plainAppData = encodeValue(snapshot.appData) as Document
    const stateSize = BSON.calculateObjectSize(plainState) + BSON.calculateObjectSize(plainAppData)
    if (stateSize > limit - SESSION_DOCUMENT_HEADROOM) {
      throw new DocumentTooLargeError(
        `agent '${agentId}' state (app state, system prompt, model state)`,
        stateSize,
        limit - SESSION_DOCUMENT_HEADROOM,
      )
    }
    if (state.revision === 0) await this.#options.ensureSession()
    if (this.#storedEncrypted) assertWritableWithoutKey(sessionId, { [DATA_KEY_FIELD]: true })
    const key = (await this.#options.sessionKey?.forWrite()) ?? null
    const encodedState = this.#seal(key, plainState, agentId, 'snapshot_data')
    const encodedAppData = this.#seal(key, plainAppData, agentId, 'snapshot_app_data')

    let inserts = plan.inserts
    const withFields = (docs: MessageDocument[]) => {
      const doc = target === null ? undefined : docs.find((d) => d.seq === target)
      if (doc && extras.messageFields) Object.assign(doc, extras.messageFields.fields)
      return docs
    }
    let docs = withFields(this.#encode(agentId, inserts, opId, now, limit, key))
    let placed = await this.#insertMessages(docs, opId)
    if (placed === 'collision') {
      // Uncommitted documents (a crashed or in-flight writer) sit at our sequence numbers. Never
      // overwrite them: if the agent's revision moved, this is a conflict; otherwise move our new
      // messages to a random free block above and let the commit decide.
      await this.#assertRevision(agentId, state.revision, 'messages were written at the same positions')
      const base = state.nextSeq + 1_024 + randomInt(1 << 20)
      const moved = new Map(inserts.map((insert, i) => [insert.seq, base + i]))
      inserts = inserts.map((insert, i) => ({ seq: base + i, message: insert.message }))
      const seqs = plan.seqs.map((seq) => moved.get(seq) ?? seq)
      plan = { ...plan, inserts, seqs, ranges: toRanges(seqs), nextSeq: base + inserts.length }
      if (target !== null) target = moved.get(target) ?? target
      docs = withFields(this.#encode(agentId, inserts, opId, now, limit, key))
      placed = await this.#insertMessages(docs, opId)
      if (placed === 'collision') {
        throw new SessionConflictError(sessionId, agentId, 'message positions are taken by another writer')
      }
    }

    const revision = state.revision + 1
    const set: Document = {
      [agentField(agentId, 'revision')]: revision,
      [agentField(agentId, 'last_op')]: opId,
      [agentField(agentId, 'ranges')]: plan.ranges,
      [agentField(agentId, 'message_count')]: countRanges(plan.ranges),
      [agentField(agentId, 'next_seq')]: plan.nextSeq,
      [agentField(agentId, 'snapshot_data')]: encodedState,
      [agentField(agentId, 'snapshot_created_at')]: snapshot.createdAt,
      [agentField(agentId, 'snapshot_app_data')]: encodedAppData,
      [agentField(agentId, 'updated_at')]: now,
      updated_at: now,
      ...expiryFields(this.#expiry, now),
    }
    if (state.revision === 0) set[agentField(agentId, 'created_at')] = now
    // Catalogue fields, kept current by the commit every save makes anyway.
    set[`message_counts.${agentId}`] = countRanges(plan.ranges)
    // With encryption on, the preview and the automatic title would be clear copies of encrypted
    // message text: they are not stored (listings show no title unless `setTitle()` gives one).
    const preview = key ? null : conversationPreview(messages)
    if (preview !== null) set.preview = preview
    const title = key || this.#autoTitleStored ? null : autoTitle(messages)
    if (title !== null) set.auto_title = title
    if (agentFields) {
      for (const [field, value] of Object.entries(agentFields.fields)) {
        set[agentField(agentId, field)] = agentFields.sealed?.includes(field)
          ? this.#seal(key, value, agentId, field)
          : value
      }
      set[agentField(agentId, AGENT_FIELDS_FINGERPRINT)] = agentFields.fingerprint
    }
    const update: Document = increments ? { $set: set, $inc: increments } : { $set: set }
    const filter: Document = {
      _id: sessionId,
      [agentField(agentId, 'revision')]: state.revision === 0 ? { $exists: false } : state.revision,
      // An expired session is never written to: it is retired and revived fresh (below).
      ...liveClause(now),
      // Sealed content commits only into the session whose key sealed it.
      ...(key && this.#options.sessionKey?.heldKeyClause()),
    }
    // Safe to retry, `$inc` included: the revision in the filter lets the update apply once, and a
    // lost reply is recognised below by the operation id the commit leaves behind.
    const result = await withRetry('commit agent state', () => collections.sessions.updateOne(filter, update))
    if (result.matchedCount === 0) {
      const stored = await collections.sessions.findOne(
        { _id: sessionId },
        {
          projection: { [agentField(agentId, 'last_op')]: 1, [agentField(agentId, 'revision')]: 1, expires_at: 1 },
        },
      )
      const storedAgent = stored?.agents?.[agentId]
      if (storedAgent?.last_op !== opId) {
        // Ours lost: remove what this save inserted, so nothing of it remains.
        await collections.messages
          .deleteMany({ _id: { $in: docs.map((d) => d._id) }, op_id: opId })
          .catch(() => undefined)
        if (!revived && this.#options.revive && isExpired(stored, now)) {
          // The session expired: it starts over, with what the agent holds as a new conversation.
          await this.#options.revive()
          this.#autoTitleStored = false
          this.#states.set(agentId, {
            revision: 0,
            persisted: [],
            nextSeq: 0,
            stateJson: '',
            agentFieldsFingerprint: null,
          })
          return this.#save(agentId, messages, snapshot, extras, true)
        }
        // A key held since before the session was created again is read afresh by the next save.
        if (key) this.#options.sessionKey?.forget()
        throw new SessionConflictError(
          sessionId,
          agentId,
          stored
            ? `expected revision ${state.revision}, found ${storedAgent?.revision ?? 'none'}` +
                (key ? ' (or the session was deleted and created again, under another data key)' : '')
            : 'the session was deleted',
        )
      }
      // The commit had been applied by an earlier attempt whose reply was lost.
    }

    const retain = this.#options.retainTrimmedMessages ?? true
    const removable = retain ? plan.superseded : plan.dropped
    if (removable.length > 0) {
      // One bulk command of deletes by _id (an equality every engine serves from the _id index).
      const deletes = removable.map((seq) => ({
        deleteOne: { filter: { _id: messageDocumentId({ sessionId, agentId, seq }) } },
      }))
      await withRetry('remove superseded messages', () => collections.messages.bulkWrite(deletes, { ordered: false }))
    }

    let messageFieldsStored = false
    if (target !== null && extras.messageFields) {
      if (docs.some((d) => d.seq === target)) {
        messageFieldsStored = true
      } else {
        // Stored by an earlier save (e.g. `saveLatestOn: 'message'`): one update by `_id`.
        const _id = messageDocumentId({ sessionId, agentId, seq: target! })
        const updated = await withRetry('store message fields', () =>
          collections.messages.updateOne({ _id }, { $set: extras.messageFields!.fields }),
        )
        messageFieldsStored = updated.matchedCount > 0
      }
    }

    if (title !== null) this.#autoTitleStored = true
    this.#states.set(agentId, {
      revision,
      persisted: persistedAfter(state.persisted, messages, plan),
      nextSeq: plan.nextSeq,
      stateJson,
      agentFieldsFingerprint: agentFields?.fingerprint ?? state.agentFieldsFingerprint,
    })
    log.debug(
      { session_id: sessionId, agent_id: agentId, revision, inserted: docs.length, removed: removable.length },
      'agent state committed',
    )
    return { written: true, insertedMessages: docs.length, revision, messageFieldsStored }
  }

  #seal(key: Buffer | null, value: unknown, agentId: string, field: string): unknown {
    return key ? seal(key, value, { sessionId: this.#options.sessionId, place: agentPlace(agentId, field) }) : value
  }

  #open(key: Buffer | null, value: unknown, agentId: string, field: string): unknown {
    return open(key, value, { sessionId: this.#options.sessionId, place: agentPlace(agentId, field) })
  }

  /** The sequence number of the stored message with `trackingId` (the latest one), if this manager knows it. */
  seqOf(agentId: string, trackingId: string): number | null {
    const persisted = this.#states.get(agentId)?.persisted ?? []
    for (let i = persisted.length - 1; i >= 0; i--) {
      if (persisted[i]!.message.trackingId === trackingId) return persisted[i]!.seq
    }
    return null
  }

  #encode(
    agentId: string,
    inserts: readonly { seq: number; message: Message }[],
    opId: string,
    now: Date,
    limit: number,
    key: Buffer | null,
  ): MessageDocument[] {
    const sessionId = this.#options.sessionId
    return inserts.map(({ seq, message }) => {
      const doc = encodeMessage(message, { sessionId, agentId, seq }, opId, now)
      if (key) {
        // Content and message metadata sealed together: one IV and tag per message.
        const sealed = doc.metadata === undefined ? { c: doc.content } : { c: doc.content, m: doc.metadata }
        doc.content = seal(key, sealed, { sessionId, place: messagePlace(agentId, seq) }) as never
        delete doc.metadata
      }
      const size = BSON.calculateObjectSize(doc)
      // Leave room for the fields the library adds later (invocation metrics).
      if (size > limit - 64 * 1024) {
        throw new DocumentTooLargeError(
          `message ${message.trackingId ?? `#${seq}`} of agent '${agentId}' (${message.role})`,
          size,
          limit - 64 * 1024,
        )
      }
      return doc
    })
  }

  /**
   * Inserts the documents; 'collision' when a document of another save already holds one of the ids.
   * (An insert, not an upsert with `$setOnInsert`: FerretDB 1.24 drops top-level empty arrays there.)
   */
  async #insertMessages(docs: MessageDocument[], opId: string): Promise<'ok' | 'collision'> {
    if (docs.length === 0) return 'ok'
    const { messages } = this.#options.collections
    const duplicates = await withRetry('insert messages', async () => {
      try {
        await messages.insertMany(docs, { ordered: false })
        return []
      } catch (error) {
        if (!(error instanceof MongoBulkWriteError)) throw error
        const writeErrors = Array.isArray(error.writeErrors) ? error.writeErrors : [error.writeErrors]
        if (writeErrors.length === 0 || writeErrors.some((w) => !isDuplicateKeyError(w))) throw error
        return writeErrors.map((w) => docs[w.index]!._id)
      }
    })
    if (duplicates.length === 0) return 'ok'
    // A duplicate is ours when an earlier attempt of this save wrote it before its reply was lost.
    const foreign = await messages.countDocuments({ _id: { $in: duplicates }, op_id: { $ne: opId } })
    if (foreign === 0) return 'ok'
    await messages.deleteMany({ _id: { $in: docs.map((d) => d._id) }, op_id: opId })
    return 'collision'
  }

  async #assertRevision(agentId: string, expected: number, detail: string): Promise<void> {
    const doc = await this.#options.collections.sessions.findOne(
      { _id: this.#options.sessionId },
      { projection: { [agentField(agentId, 'revision')]: 1 } },
    )
    const revision = doc?.agents?.[agentId]?.revision ?? 0
    if (revision !== expected) {
      throw new SessionConflictError(this.#options.sessionId, agentId, `${detail}; revision ${expected} → ${revision}`)
    }
  }

  /** The agent was never loaded by this manager: continue from what storage holds, rewriting the conversation. */
  async #stateFromStorage(agentId: string): Promise<AgentPersistState> {
    const doc = await this.#options.collections.sessions.findOne(
      { _id: this.#options.sessionId },
      { projection: { [agentField(agentId, 'revision')]: 1, [agentField(agentId, 'next_seq')]: 1 } },
    )
    const entry: Partial<AgentStateDocument> | undefined = doc?.agents?.[agentId]
    return {
      revision: typeof entry?.revision === 'number' ? entry.revision : 0,
      persisted: [],
      nextSeq: typeof entry?.next_seq === 'number' ? entry.next_seq : 0,
      stateJson: '',
      agentFieldsFingerprint: entry ? storedFingerprint(entry) : null,
    }
  }

  /**
   * The messages of `ranges`, in conversation order, in one query: equality on the session and
   * agent, a range (or one range per fragment) on `seq` — the suffix of the unique index — in the
   * index's order. `limit` and `batchSize` are the number of messages expected, so the server
   * answers in one reply and closes the cursor (unless the reply would exceed its 16 MiB limit).
   * Fragments need not be in `seq` order (an inserted message gets a new, higher number), so the
   * documents are put in the ranges' order once read.
   */
  async #readMessages(agentId: string, ranges: readonly SeqRange[], key: Buffer | null): Promise<unknown[]> {
    const expected = countRanges(ranges)
    if (expected === 0) return []
    const seq = ranges.map(({ first, last }) => ({ seq: { $gte: first, $lte: last } }))
    const filter = {
      session_id: this.#options.sessionId,
      agent_id: agentId,
      ...(seq.length === 1 ? seq[0] : { $or: seq }),
    }
    const cursor = this.#options.collections.messages
      .find(filter, { projection: { role: 1, content: 1, tracking_id: 1, metadata: 1, seq: 1 } })
      .sort({ seq: 1 })
      .limit(expected)
      .batchSize(expected)
    const sessionId = this.#options.sessionId
    const docs = (await cursor.toArray()).map((doc) => {
      if (!isSealed(doc.content)) return doc
      const { c, m } = open(key, doc.content, { sessionId, place: messagePlace(agentId, doc.seq) }) as SealedMessage
      return { ...doc, content: c, ...(m !== undefined && { metadata: m }) }
    })
    if (ranges.length === 1) return docs.map((doc) => decodeMessage(doc))
    const bySeq = new Map(docs.map((doc) => [doc.seq, doc]))
    const out: unknown[] = []
    for (const n of fromRanges(ranges)) {
      const doc = bySeq.get(n)
      if (doc) out.push(decodeMessage(doc))
    }
    return out
  }
}

/** The authenticated place of a message's sealed content: a ciphertext moved to another message fails. */
function messagePlace(agentId: string, seq: number): string {
  return `messages/${agentId}/${seq}`
}

/** What a message's sealed `content` holds: its content blocks and its metadata (if any). */
interface SealedMessage {
  c: Document[]
  m?: Document
}

function stateFingerprint(data: Record<string, unknown>, appData: Record<string, unknown>): string {
  return JSON.stringify([data, appData])
}

function storedFingerprint(entry: Partial<AgentStateDocument>): string | null {
  const value = (entry as { config?: { captured_fingerprint?: unknown } }).config?.captured_fingerprint
  return typeof value === 'string' ? value : null
}

/** Index of the last message with `trackingId`, counted from the end (0 = last), or -1. */
function lastIndexOf(messages: readonly Message[], trackingId: string): number {
  for (let i = messages.length - 1; i >= 0; i--)
    if (messages[i]!.trackingId === trackingId) return messages.length - 1 - i
  return -1
}

/** The sequence number the save gives the last message with `trackingId`, or `null` if none has it. */
function messageSeqOf(messages: readonly Message[], seqs: readonly number[], trackingId: string): number | null {
  const fromEnd = lastIndexOf(messages, trackingId)
  return fromEnd < 0 ? null : seqs[messages.length - 1 - fromEnd]!
}
