/**
 * Works out what a save must write, from the agent's message objects and the ones last persisted.
 *
 * The SDK treats messages as immutable: appending pushes new objects, and every edit it makes
 * (guardrail redaction, tool-result truncation, continuation merges, summarisation, sliding-window
 * trims) replaces objects rather than mutating them. So a message object that is still in the
 * conversation, with the same `content` array and `metadata` object, is unchanged — an identity
 * check per message, with no serialisation, keeps per-turn CPU flat in history length.
 *
 * Every message that is not an unchanged persisted one is written as a new document with a fresh
 * sequence number; the conversation is then described by ranges of sequence numbers. Appends extend
 * the last range, front trims shorten the first, and any other edit adds a range — so a save writes
 * only the changed part, whatever the edit.
 */
import type { Message } from '@strands-agents/sdk'
import type { SeqRange } from './schema.js'

/** A message as last persisted: the object, the parts compared by identity, and where it is stored. */
export interface PersistedMessage {
  readonly message: Message
  readonly content: unknown
  readonly metadata: unknown
  readonly seq: number
}

export interface SavePlan {
  /** Messages to write, with their new sequence numbers. */
  readonly inserts: { readonly seq: number; readonly message: Message }[]
  /** The conversation after the save. */
  readonly ranges: SeqRange[]
  /** Sequence numbers of the conversation, in order (one per current message). */
  readonly seqs: number[]
  /** Previously active sequence numbers that are no longer in the conversation. */
  readonly dropped: number[]
  /** Dropped messages whose trackingId lives on in a rewritten message: superseded versions. */
  readonly superseded: number[]
  readonly nextSeq: number
  /**
   * Set when the conversation is the persisted one with `offset` messages trimmed from the front
   * and `inserts` appended: the persisted entries from `offset` on can be reused as they are.
   */
  readonly reuse?: { readonly offset: number; readonly count: number }
}

export function persistedFrom(messages: readonly Message[], seqs: readonly number[]): PersistedMessage[] {
  return messages.map((message, i) => ({
    message,
    content: message.content,
    metadata: message.metadata,
    seq: seqs[i]!,
  }))
}

/** The plan for any change; appends and front trims (nearly every save) take a path without maps or sets. */
export function planSave(
  previous: readonly PersistedMessage[],
  current: readonly Message[],
  nextSeq: number,
): SavePlan {
  return planTrimAndAppend(previous, current, nextSeq) ?? planAnyEdit(previous, current, nextSeq)
}

/** Entries the next save can compare against, reusing the unchanged ones when the plan allows it. */
export function persistedAfter(
  previous: readonly PersistedMessage[],
  current: readonly Message[],
  plan: SavePlan,
): PersistedMessage[] {
  if (!plan.reuse) return persistedFrom(current, plan.seqs)
  const { offset, count } = plan.reuse
  const kept = previous.slice(offset, offset + count)
  const added = persistedFrom(
    plan.inserts.map((insert) => insert.message),
    plan.inserts.map((insert) => insert.seq),
  )
  return kept.concat(added)
}

function unchanged(entry: PersistedMessage | undefined, message: Message | undefined): boolean {
  return (
    entry !== undefined &&
    message !== undefined &&
    entry.message === message &&
    entry.content === message.content &&
    entry.metadata === message.metadata
  )
}

/**
 * The common shapes: new messages appended, and/or messages trimmed from the front (sliding
 * window). One pass of identity checks, no allocation per message beyond the sequence list.
 * `undefined` when the change has another shape.
 */
function planTrimAndAppend(
  previous: readonly PersistedMessage[],
  current: readonly Message[],
  nextSeq: number,
): SavePlan | undefined {
  let offset = 0
  if (previous.length > 0 && current.length > 0 && !unchanged(previous[0], current[0])) {
    offset = previous.findIndex((entry) => entry.message === current[0])
    if (offset < 0) return undefined
  }
  const count = previous.length - offset
  if (current.length < count) return undefined
  for (let i = 0; i < count; i++) if (!unchanged(previous[offset + i], current[i])) return undefined

  const seqs = new Array<number>(current.length)
  for (let i = 0; i < count; i++) seqs[i] = previous[offset + i]!.seq
  const inserts: { seq: number; message: Message }[] = []
  let next = nextSeq
  for (let i = count; i < current.length; i++) {
    seqs[i] = next
    inserts.push({ seq: next++, message: current[i]! })
  }
  const droppedEntries = previous.slice(0, offset)
  const rewrittenIds = new Set(inserts.map((insert) => insert.message.trackingId))
  return {
    inserts,
    ranges: toRanges(seqs),
    seqs,
    dropped: droppedEntries.map((entry) => entry.seq),
    superseded: droppedEntries
      .filter((entry) => entry.message.trackingId && rewrittenIds.has(entry.message.trackingId))
      .map((entry) => entry.seq),
    nextSeq: next,
    reuse: { offset, count },
  }
}

/** Any other edit: each message is matched to its persisted entry by identity. */
function planAnyEdit(previous: readonly PersistedMessage[], current: readonly Message[], nextSeq: number): SavePlan {
  const byIdentity = new Map<Message, PersistedMessage>()
  for (const entry of previous) byIdentity.set(entry.message, entry)

  const inserts: { seq: number; message: Message }[] = []
  const seqs: number[] = []
  const kept = new Set<number>()
  let next = nextSeq
  for (const message of current) {
    const entry = byIdentity.get(message)
    if (entry && !kept.has(entry.seq) && unchanged(entry, message)) {
      kept.add(entry.seq)
      seqs.push(entry.seq)
    } else {
      const seq = next++
      inserts.push({ seq, message })
      seqs.push(seq)
    }
  }

  const rewrittenIds = new Set<string>()
  for (const { message } of inserts) if (message.trackingId) rewrittenIds.add(message.trackingId)
  const dropped: number[] = []
  const superseded: number[] = []
  for (const entry of previous) {
    if (kept.has(entry.seq)) continue
    dropped.push(entry.seq)
    if (entry.message.trackingId && rewrittenIds.has(entry.message.trackingId)) superseded.push(entry.seq)
  }

  return { inserts, ranges: toRanges(seqs), seqs, dropped, superseded, nextSeq: next }
}

/** Compresses a list of sequence numbers into runs of consecutive numbers, preserving order. */
export function toRanges(seqs: readonly number[]): SeqRange[] {
  const ranges: SeqRange[] = []
  for (const seq of seqs) {
    const last = ranges[ranges.length - 1]
    if (last && seq === last.last + 1) last.last = seq
    else ranges.push({ first: seq, last: seq })
  }
  return ranges
}

/** Expands ranges back into the ordered list of sequence numbers. */
export function fromRanges(ranges: readonly SeqRange[]): number[] {
  const seqs: number[] = []
  for (const { first, last } of ranges) for (let seq = first; seq <= last; seq++) seqs.push(seq)
  return seqs
}

export function countRanges(ranges: readonly SeqRange[]): number {
  return ranges.reduce((sum, { first, last }) => sum + (last - first + 1), 0)
}
