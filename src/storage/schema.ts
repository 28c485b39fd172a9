/**
 * The stored documents: one place that says what every collection holds.
 *
 * Field names are snake_case (as in the notification wire formats). Identifiers that appear in dotted
 * update paths (session ids, agent ids, orchestrator ids) are validated against the SDK's rule
 * `^[a-z0-9_-]+$` before use, so they can never form an operator or a nested path. User-supplied
 * JSON (tool inputs, app state, metadata values…) goes through `encodeValue` (see `encoding.ts`),
 * which escapes keys that MongoDB would read as operators or paths.
 */
import type { Binary, Document } from 'mongodb'

/** Collection names, relative to the configured database (and optional prefix). */
export const COLLECTIONS = {
  /** One small document per session. */
  sessions: 'sessions',
  /** One document per conversation message. */
  messages: 'messages',
  /** Immutable snapshot history and multi-agent (Graph/Swarm) snapshots. */
  snapshots: 'snapshots',
  /** Message chunks of immutable snapshots (so a snapshot is never limited to 16 MiB). */
  snapshotChunks: 'snapshot_chunks',
  /** One document per feedback entry (with its notification outbox). */
  feedback: 'feedback',
  /** Guardrail audit events. */
  guardrailEvents: 'guardrail_events',
  /** Key/value bytes for `MongoStorage` (the SDK's unified Storage). */
  storage: 'storage',
} as const

export type CollectionKey = keyof typeof COLLECTIONS

/** Bumped when a stored shape changes incompatibly; readers refuse documents from the future. */
export const SCHEMA_VERSION = 1

/**
 * A contiguous run of message sequence numbers, inclusive on both ends. An object rather than a
 * pair: FerretDB cannot store nested arrays.
 */
export interface SeqRange {
  first: number
  last: number
}

/** The path of an agent's entry in the session document, or of one of its fields (`agents.<id>.<field>`). */
export function agentField(agentId: string, field?: string): string {
  return field ? `agents.${agentId}.${field}` : `agents.${agentId}`
}

/**
 * Per-agent state inside the session document (`sessions.agents.<agent_id>`).
 * Written by the manager's save path; the features layer owns `config`, `metrics` and `feedback`.
 */
export interface AgentStateDocument {
  /** Incremented by every committed save of this agent; the compare-and-set guard. */
  revision: number
  /** Id of the last committed save (lets a retried save recognise its own earlier success). */
  last_op: string
  /** The active conversation, in order: ranges of `messages.seq`. */
  ranges: SeqRange[]
  /** Number of messages in the active conversation (sum of the ranges). */
  message_count: number
  /** Next unused sequence number for this agent's messages. */
  next_seq: number
  /** The SDK snapshot fields other than messages: state, systemPrompt, modelState, interrupts, stash (encoded). */
  snapshot_data: Document
  /** SDK snapshot `createdAt` of the latest save (ISO string, as the SDK produced it). */
  snapshot_created_at: string
  /** SDK snapshot `appData` of the latest save (encoded). */
  snapshot_app_data: Document
  created_at: Date
  updated_at: Date
  /** Library-owned configuration: never overwritten by saves. */
  config?: {
    model?: string | null
    system_prompt?: unknown
    prompt_metadata?: Document
    captured_at?: Date
  }
  /** Running metric totals for this agent (`$inc`). */
  metrics?: Document
}

/** `sessions` collection. `_id` is the session id. */
export interface SessionDocument {
  _id: string
  session_id: string
  schema_version: number
  application_name: string | null
  created_at: Date
  updated_at: Date
  /** Free-form user metadata (keys validated, values encoded). */
  metadata: Document
  /** Keyed by agent id. */
  agents: Record<string, AgentStateDocument>
  /** Per-rating feedback counts (`up`, `down`, `neutral`), maintained with `$inc`. */
  feedback_counts?: { up?: number; down?: number; neutral?: number }
  /** Running metric totals for the whole session (`$inc`). */
  metrics?: Document
  /** Pending durable notifications announced by changes to this document (see hooks/outbox). */
  outbox?: Document[]
  /** Lease taken by a dispatcher or relay while it delivers this document's outbox. */
  outbox_lease_until?: Date
  /** When the session expires (`retention`): moved by every activity; from then on it reads as absent. */
  expires_at?: Date
  /** Set while `pruneExpiredSessions` (or a reviving writer) deletes the expired session's documents. */
  pruning?: boolean
  /** API Gateway WebSocket connection ids registered for this session. */
  websocket_connections?: string[]
  /** The session's user, recorded when it is created; immutable afterwards. */
  user_id?: string | null
  /** Title set with `setTitle()`; wins over `auto_title`. */
  title?: string
  /** The first user message, shortened; written once by the first save that has one. */
  auto_title?: string
  /** The last message with text, shortened; written by every save. */
  preview?: string
  /** Messages of each agent's latest conversation, keyed by agent id; written by every save. */
  message_counts?: Record<string, number>
}

/** `messages` collection. Unique on (session_id, agent_id, seq). */
export interface MessageDocument {
  _id: string
  session_id: string
  agent_id: string
  seq: number
  role: 'user' | 'assistant'
  /** SDK content blocks, encoded: media bytes as BSON Binary, user JSON keys escaped. */
  content: Document[]
  tracking_id: string | null
  /** SDK message metadata (usage, metrics, custom), encoded. */
  metadata?: Document
  /** Id of the save that wrote this document (idempotent retries, conflict detection). */
  op_id: string
  created_at: Date
  /** Library-owned: per-invocation metrics recorded on the invocation's final assistant message. */
  invocation_metrics?: Document
}

/** `snapshots` collection: immutable agent snapshots and latest multi-agent snapshots. */
export interface SnapshotDocument {
  /** `<session_id>/<scope>/<scope_id>/<snapshot_id>` */
  _id: string
  session_id: string
  scope: 'agent' | 'multiAgent'
  scope_id: string
  /** UUIDv7 for immutable snapshots, `latest` for the multi-agent latest snapshot. */
  snapshot_id: string
  schema_version: string
  created_at_iso: string
  /** Snapshot data without messages (encoded). */
  data: Document
  app_data: Document
  /** Number of messages, stored in `snapshot_chunks` in order. */
  message_count: number
  chunk_count: number
  /** False for snapshots captured without messages (multi-agent state). */
  has_messages: boolean
  created_at: Date
}

/** `snapshot_chunks`: consecutive messages of one snapshot. */
export interface SnapshotChunkDocument {
  _id: string
  snapshot_key: string
  session_id: string
  index: number
  messages: Document[]
}

/** `feedback` collection. `_id` is the feedback id (UUIDv7, so `_id` order is time order). */
export interface FeedbackDocument {
  _id: string
  session_id: string
  rating: 'up' | 'down' | null
  /** Sealed (a Binary) when the session is encrypted. */
  comment: string | Binary | null
  message_id: string | null
  agent_id: string | null
  user_id: string | null
  created_at: Date
  /** Pending durable notifications for this feedback (see hooks/outbox). */
  outbox?: Document[]
  outbox_lease_until?: Date
}

/** `guardrail_events` collection. */
export interface GuardrailEventDocument {
  _id: string
  session_id: string
  agent_id: string
  message_tracking_id: string | null
  message_seq: number | null
  action: string
  stop_reason: string | null
  /** Sealed (a Binary) when the session is encrypted: word-policy entries quote user text. */
  policies_triggered: Record<string, string[]> | Binary | null
  created_at: Date
}

/** `storage` collection (`MongoStorage`). `_id` is the full key. */
export interface StorageDocument {
  _id: string
  data: Binary
  updated_at: Date
}

export type { Binary }
