/**
 * Guardrail audit: parsing Bedrock guardrail traces into a policy summary, and the
 * `guardrail_events` collection.
 *
 * Bedrock Converse's `GuardrailTraceAssessment` keys `inputAssessment` by guardrail id (id →
 * assessment) and `outputAssessments` by guardrail id (id → list of assessments). Traces also come
 * in a flat shape (one assessment, a list of them), so both shapes are accepted; a trace is
 * model-provided data, so parsing never throws.
 */
import type { Document } from 'mongodb'
import type { SessionCollections } from '../storage/collections.js'
import type { GuardrailEventDocument } from '../storage/schema.js'
import { decodeCursor, encodeCursor } from './cursor.js'
import { pageLimit } from './feedback.js'
import { uuidv7 } from '../model/ids.js'
import { ValidationError } from '../errors.js'
import { isSealed, open } from '../storage/crypto/cipher.js'
import type { SessionCrypto } from '../storage/crypto/session-crypto.js'

/** Policy name → triggered entries, e.g. `{ contentPolicy: ['HATE/HIGH'], topicPolicy: ['Investments/BLOCKED'] }`. */
export type PoliciesTriggered = Record<string, string[]>

const POLICY_KEYS = [
  'contentPolicy',
  'topicPolicy',
  'wordPolicy',
  'sensitiveInformationPolicy',
  'contextualGroundingPolicy',
  'automatedReasoningPolicy',
  'invocationMetrics',
] as const

type Json = Record<string, unknown>

function isRecord(value: unknown): value is Json {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}

function isAssessment(value: unknown): value is Json {
  return isRecord(value) && POLICY_KEYS.some((key) => key in value)
}

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : []
}

function field(entry: unknown, name: string): string {
  const value = isRecord(entry) ? entry[name] : undefined
  if (value === undefined || value === null) return 'UNKNOWN'
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return String(value)
  // Anything else in a trace is unexpected; never call an arbitrary object's toString.
  return 'UNKNOWN'
}

/** `detected: false` marks an evaluated-but-not-triggered entry in newer traces: not a trigger. */
function triggered(entry: unknown): boolean {
  return !(isRecord(entry) && entry.detected === false)
}

/** Flattens input/output assessments of both shapes into a list of assessment objects. */
function collectAssessments(guardrail: Json): Json[] {
  const out: Json[] = []
  const input = guardrail.inputAssessment
  if (isAssessment(input)) out.push(input)
  else if (isRecord(input)) for (const value of Object.values(input)) if (isAssessment(value)) out.push(value)
  const output = guardrail.outputAssessments
  const visit = (value: unknown) => {
    if (isAssessment(value)) out.push(value)
    else if (Array.isArray(value)) for (const item of value) if (isAssessment(item)) out.push(item)
  }
  if (Array.isArray(output)) output.forEach(visit)
  else if (isRecord(output)) Object.values(output).forEach(visit)
  return out
}

/** The guardrail part of a model trace: `trace.guardrail` when present, else the trace itself. */
export function guardrailTrace(trace: unknown): Json | null {
  if (!isRecord(trace)) return null
  if (isRecord(trace.guardrail)) return trace.guardrail
  if ('inputAssessment' in trace || 'outputAssessments' in trace) return trace
  return null
}

/**
 * Summarises which policies a guardrail trace reports, one short entry per trigger
 * (`type/confidence`, `name/action`, …). Returns `null` when nothing was found. Never throws.
 */
export function extractPoliciesTriggered(trace: unknown): PoliciesTriggered | null {
  const guardrail = guardrailTrace(trace)
  if (!guardrail) return null
  const result: PoliciesTriggered = {}
  const add = (policy: string, entry: string) => {
    const entries = (result[policy] ??= [])
    if (!entries.includes(entry)) entries.push(entry)
  }
  for (const assessment of collectAssessments(guardrail)) {
    const content = assessment.contentPolicy
    if (isRecord(content)) {
      for (const f of list(content.filters))
        if (triggered(f)) add('contentPolicy', `${field(f, 'type')}/${field(f, 'confidence')}`)
    }
    const topic = assessment.topicPolicy
    if (isRecord(topic)) {
      for (const t of list(topic.topics))
        if (triggered(t)) add('topicPolicy', `${field(t, 'name')}/${field(t, 'action')}`)
    }
    const word = assessment.wordPolicy
    if (isRecord(word)) {
      for (const w of list(word.customWords)) if (triggered(w)) add('wordPolicy', field(w, 'match'))
      for (const w of list(word.managedWordLists))
        if (triggered(w)) add('wordPolicy', `${field(w, 'type')}/${field(w, 'match')}`)
    }
    const sensitive = assessment.sensitiveInformationPolicy
    if (isRecord(sensitive)) {
      for (const p of list(sensitive.piiEntities)) {
        if (triggered(p)) add('sensitiveInformationPolicy', `${field(p, 'type')}/${field(p, 'action')}`)
      }
      for (const r of list(sensitive.regexes)) {
        if (triggered(r)) add('sensitiveInformationPolicy', `${field(r, 'name')}/${field(r, 'action')}`)
      }
    }
    const grounding = assessment.contextualGroundingPolicy
    if (isRecord(grounding)) {
      for (const f of list(grounding.filters)) {
        if (triggered(f)) {
          add('contextualGroundingPolicy', `${field(f, 'type')}/${field(f, 'score')}/${field(f, 'threshold')}`)
        }
      }
    }
  }
  return Object.keys(result).length > 0 ? result : null
}

/** The strongest action in a trace: `BLOCKED` over `ANONYMIZED`; `null` when the trace names none. */
export function traceAction(trace: unknown): string | null {
  const guardrail = guardrailTrace(trace)
  if (!guardrail) return null
  let found: string | null = null
  const visit = (value: unknown, depth: number): void => {
    if (depth > 8 || found === 'BLOCKED') return
    if (Array.isArray(value)) value.forEach((v) => visit(v, depth + 1))
    else if (isRecord(value)) {
      if (value.action === 'BLOCKED' && triggered(value)) found = 'BLOCKED'
      else if (value.action === 'ANONYMIZED' && triggered(value) && found === null) found = 'ANONYMIZED'
      for (const v of Object.values(value)) visit(v, depth + 1)
    }
  }
  visit(collectAssessments(guardrail), 0)
  return found
}

/** A recorded guardrail event. */
export interface GuardrailEvent {
  id: string
  sessionId: string
  agentId: string
  /** `trackingId` of the message the guardrail acted on (the redacted user message, or the assistant reply). */
  messageTrackingId: string | null
  /** Stored sequence number of that message when it was already saved. */
  messageSeq: number | null
  /** `BLOCKED`, `ANONYMIZED` or `INTERVENED` (guardrail stop without a blocking policy in the trace). */
  action: string
  stopReason: string | null
  policiesTriggered: PoliciesTriggered | null
  createdAt: Date
}

export interface GuardrailEventPage {
  items: GuardrailEvent[]
  nextCursor: string | null
}

/** Where a sealed policy summary lives: part of its authenticated data. */
function policiesPlace(eventId: string): string {
  return `guardrail_events/${eventId}/policies_triggered`
}

/**
 * Inserts one event (the caller catches and logs: recording must never break the redaction). With
 * `seal` (encryption on), the policy summary is sealed: word-policy entries quote the user's words.
 */
export async function insertGuardrailEvent(
  collections: SessionCollections,
  event: Omit<GuardrailEvent, 'id' | 'createdAt'>,
  seal?: { crypto: SessionCrypto; key: Buffer },
): Promise<GuardrailEvent> {
  const id = uuidv7()
  const doc: GuardrailEventDocument & { policies_triggered: PoliciesTriggered | null } = {
    _id: id,
    session_id: event.sessionId,
    agent_id: event.agentId,
    message_tracking_id: event.messageTrackingId,
    message_seq: event.messageSeq,
    action: event.action,
    stop_reason: event.stopReason,
    policies_triggered: event.policiesTriggered,
    created_at: new Date(),
  }
  const policies = doc.policies_triggered
  await collections.guardrailEvents.insertOne(
    seal && policies !== null
      ? { ...doc, policies_triggered: seal.crypto.seal(seal.key, policies, policiesPlace(id)) }
      : doc,
  )
  return fromDoc(doc)
}

function fromDoc(doc: GuardrailEventDocument & { policies_triggered: PoliciesTriggered | null }): GuardrailEvent {
  return {
    id: doc._id,
    sessionId: doc.session_id,
    agentId: doc.agent_id,
    messageTrackingId: doc.message_tracking_id,
    messageSeq: doc.message_seq,
    action: doc.action,
    stopReason: doc.stop_reason,
    policiesTriggered: doc.policies_triggered,
    createdAt: doc.created_at,
  }
}

/**
 * Guardrail events of a session, oldest first, keyset-paged. Sealed policy summaries are opened
 * with `crypto`; `null` (a reader configured without encryption) makes one a `DecryptionError`;
 * without the argument (keyless tools) they are returned as stored.
 */
export async function loadGuardrailEvents(
  collections: SessionCollections,
  sessionId: string,
  options: { limit?: number; cursor?: string | null; agentId?: string } = {},
  crypto?: SessionCrypto | null,
): Promise<GuardrailEventPage> {
  const limit = pageLimit(options.limit)
  const filter: Document = { session_id: sessionId }
  if (options.agentId !== undefined) {
    if (typeof options.agentId !== 'string') throw new ValidationError('agentId must be a string', { field: 'agentId' })
    filter.agent_id = options.agentId
  }
  if (options.cursor) {
    const after = decodeCursor(options.cursor, 'guardrail_events')
    if (typeof after.id !== 'string') throw new ValidationError('invalid cursor', { field: 'cursor' })
    filter._id = { $gt: after.id }
  }
  const docs = await collections.guardrailEvents
    .find(filter)
    .sort({ _id: 1 })
    .limit(limit + 1)
    .toArray()
  const page = docs.slice(0, limit)
  const opened = (key: Buffer | null) =>
    page.map((doc) => {
      const policies = open(key, doc.policies_triggered, { sessionId, place: policiesPlace(doc._id) })
      return fromDoc({ ...doc, policies_triggered: policies as PoliciesTriggered | null })
    })
  const items =
    crypto === undefined || !page.some((doc) => isSealed(doc.policies_triggered))
      ? page.map((doc) => fromDoc(doc as typeof doc & { policies_triggered: PoliciesTriggered | null }))
      : crypto
        ? await crypto.withReadKey(opened)
        : opened(null)
  const last = items.at(-1)
  return {
    items,
    nextCursor: docs.length > limit && last ? encodeCursor('guardrail_events', { id: last.id }) : null,
  }
}
