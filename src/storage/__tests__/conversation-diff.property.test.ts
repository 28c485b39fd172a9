/**
 * Property: the save planner alone, against a store simulated in memory (a map from sequence number
 * to the message as written). For any sequence of edits, each plan applied to the store gives back
 * exactly the conversation it was planned for, writes only what changed, and never writes over a
 * sequence number already used. The same edits against a real database are exercised in
 * test/session/edit-sequences.property.test.ts; this one needs no server and runs many more cases.
 */
import { Message } from '@strands-agents/sdk'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { SeqRange } from '../schema.js'
import {
  countRanges,
  fromRanges,
  persistedAfter,
  persistedFrom,
  planSave,
  toRanges,
  type PersistedMessage,
  type SavePlan,
} from '../conversation-diff.js'

type Role = 'user' | 'assistant'

const newMessage = (role: Role, text: string, trackingId?: string) =>
  Message.fromJSON({ role, content: [{ text }], ...(trackingId !== undefined && { trackingId }) })

/** What the store holds for a message: everything a restore gives back, the tracking id included. */
const stored = (message: Message) => JSON.stringify(message)

type Edit =
  | { kind: 'append'; messages: { role: Role; text: string }[] }
  | { kind: 'trimFront'; count: number }
  | { kind: 'replace'; at: number; text: string; keepTrackingId: boolean }
  | { kind: 'insert'; at: number; text: string }
  | { kind: 'remove'; at: number }
  | { kind: 'redact'; at: number }
  | { kind: 'move'; from: number; to: number }
  | { kind: 'duplicate'; from: number; to: number }
  | { kind: 'reassignContent'; at: number; text: string }
  | { kind: 'reassignMetadata'; at: number; tag: string }
  | { kind: 'save' }
  | { kind: 'reload' }

const text = fc.string({ maxLength: 6 })
const role = fc.constantFrom<Role>('user', 'assistant')

const edit: fc.Arbitrary<Edit> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .array(fc.record({ role, text }), { minLength: 1, maxLength: 4 })
      .map((messages) => ({ kind: 'append' as const, messages })),
  },
  { weight: 2, arbitrary: fc.integer({ min: 1, max: 3 }).map((count) => ({ kind: 'trimFront' as const, count })) },
  {
    weight: 1,
    arbitrary: fc
      .record({ at: fc.nat(), text, keepTrackingId: fc.boolean() })
      .map((r) => ({ kind: 'replace' as const, ...r })),
  },
  { weight: 1, arbitrary: fc.record({ at: fc.nat(), text }).map((r) => ({ kind: 'insert' as const, ...r })) },
  { weight: 1, arbitrary: fc.nat().map((at) => ({ kind: 'remove' as const, at })) },
  { weight: 1, arbitrary: fc.nat().map((at) => ({ kind: 'redact' as const, at })) },
  { weight: 1, arbitrary: fc.record({ from: fc.nat(), to: fc.nat() }).map((r) => ({ kind: 'move' as const, ...r })) },
  {
    weight: 1,
    arbitrary: fc.record({ from: fc.nat(), to: fc.nat() }).map((r) => ({ kind: 'duplicate' as const, ...r })),
  },
  {
    weight: 1,
    arbitrary: fc.record({ at: fc.nat(), text }).map((r) => ({ kind: 'reassignContent' as const, ...r })),
  },
  {
    weight: 1,
    arbitrary: fc.record({ at: fc.nat(), tag: text }).map((r) => ({ kind: 'reassignMetadata' as const, ...r })),
  },
  { weight: 4, arbitrary: fc.constant({ kind: 'save' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'reload' as const }) },
)

/** Applies an edit the way the SDK or an application does: by replacing objects, or (to be safe) by reassigning fields. */
function apply(messages: Message[], e: Edit): void {
  const at = (i: number) => i % messages.length
  switch (e.kind) {
    case 'append':
      for (const m of e.messages) messages.push(newMessage(m.role, m.text))
      return
    case 'trimFront':
      messages.splice(0, e.count)
      return
    case 'insert':
      messages.splice(e.at % (messages.length + 1), 0, newMessage('user', e.text))
      return
    case 'save':
    case 'reload':
      return
  }
  if (messages.length === 0) return
  switch (e.kind) {
    case 'replace': {
      const old = messages[at(e.at)]!
      messages[at(e.at)] = newMessage(old.role, e.text, e.keepTrackingId ? old.trackingId : undefined)
      return
    }
    case 'remove':
      messages.splice(at(e.at), 1)
      return
    case 'redact': {
      const old = messages[at(e.at)]!
      messages[at(e.at)] = newMessage(old.role, '[redacted]', old.trackingId)
      return
    }
    case 'move': {
      const [moved] = messages.splice(at(e.from), 1)
      messages.splice(e.to % (messages.length + 1), 0, moved!)
      return
    }
    case 'duplicate':
      messages.splice(e.to % (messages.length + 1), 0, messages[at(e.from)]!)
      return
    case 'reassignContent':
      ;(messages[at(e.at)] as { content: unknown }).content = newMessage('user', e.text).content
      return
    case 'reassignMetadata':
      messages[at(e.at)]!.metadata = { custom: { tag: e.tag } }
      return
  }
}

/** The store as the agent store uses it: documents by sequence number, the committed ranges and next number. */
class SimulatedStore {
  readonly documents = new Map<number, string>()
  ranges: SeqRange[] = []
  nextSeq = 0

  constructor(private readonly retainTrimmedMessages: boolean) {}

  apply(plan: SavePlan): void {
    for (const { seq, message } of plan.inserts) {
      // A document already at this number would be a collision (another writer's, or history).
      expect(this.documents.has(seq), `seq ${seq} written twice`).toBe(false)
      this.documents.set(seq, stored(message))
    }
    this.ranges = plan.ranges
    this.nextSeq = plan.nextSeq
    const removable = this.retainTrimmedMessages ? plan.superseded : plan.dropped
    for (const seq of removable) this.documents.delete(seq)
  }

  restore(): Message[] {
    return fromRanges(this.ranges).map((seq) => {
      const document = this.documents.get(seq)
      expect(document, `seq ${seq} referenced but not stored`).toBeDefined()
      return Message.fromJSON(JSON.parse(document!))
    })
  }
}

function unchangedEntry(entry: PersistedMessage, message: Message): boolean {
  return entry.message === message && entry.content === message.content && entry.metadata === message.metadata
}

/** The fewest writes possible: messages that no unchanged persisted entry can stand for (each entry used once). */
function fewestInserts(previous: readonly PersistedMessage[], current: readonly Message[]): number {
  const available = new Map<Message, number>()
  for (const entry of previous) {
    if (unchangedEntry(entry, entry.message)) available.set(entry.message, (available.get(entry.message) ?? 0) + 1)
  }
  let inserts = 0
  for (const message of current) {
    const left = available.get(message) ?? 0
    if (left > 0) available.set(message, left - 1)
    else inserts++
  }
  return inserts
}

/** What the planner promises about one plan, checked against the state it was planned from. */
function checkPlan(
  previous: readonly PersistedMessage[],
  current: readonly Message[],
  nextSeq: number,
  plan: SavePlan,
  rearranged: boolean,
) {
  // The conversation after the save: one distinct sequence number per message, in the ranges.
  expect(plan.seqs).toHaveLength(current.length)
  expect(new Set(plan.seqs).size).toBe(plan.seqs.length)
  expect(fromRanges(plan.ranges)).toEqual(plan.seqs)
  expect(toRanges(plan.seqs)).toEqual(plan.ranges)
  expect(countRanges(plan.ranges)).toBe(current.length)

  // New documents take fresh numbers, in order, from `nextSeq`; the next save starts above all of them.
  expect(plan.inserts.map((insert) => insert.seq)).toEqual(plan.inserts.map((_, i) => nextSeq + i))
  expect(plan.nextSeq).toBe(nextSeq + plan.inserts.length)
  for (const seq of plan.seqs) expect(seq).toBeLessThan(plan.nextSeq)
  const inserted = new Map(plan.inserts.map((insert) => [insert.seq, insert.message]))
  plan.seqs.forEach((seq, i) => {
    const message = current[i]!
    if (inserted.has(seq)) {
      expect(inserted.get(seq)).toBe(message)
    } else {
      // A kept number stands for the very same, unchanged message.
      const entry = previous.find((e) => e.seq === seq)
      expect(entry).toBeDefined()
      expect(unchangedEntry(entry!, message)).toBe(true)
    }
  })
  // Fewest writes for the edits the SDK makes (it replaces objects, never reorders or shares them).
  // A reordered or shared object is restored exactly too, but may be written again.
  if (!rearranged) expect(plan.inserts).toHaveLength(fewestInserts(previous, current))

  // Dropped: exactly the persisted numbers the conversation no longer uses. Superseded: those of them
  // whose tracking id lives on in a message this save writes.
  const kept = new Set(plan.seqs)
  const dropped = previous.filter((entry) => !kept.has(entry.seq))
  expect(plan.dropped).toEqual(dropped.map((entry) => entry.seq))
  const rewritten = new Set(plan.inserts.map((insert) => insert.message.trackingId))
  expect(plan.superseded).toEqual(
    dropped.filter((entry) => rewritten.has(entry.message.trackingId)).map((entry) => entry.seq),
  )
}

describe('save planner against a simulated store', () => {
  it('any edit sequence: each plan restores the conversation exactly, writes only changes, never reuses a number', () => {
    fc.assert(
      fc.property(fc.array(edit, { minLength: 1, maxLength: 25 }), fc.boolean(), (edits, retainTrimmedMessages) => {
        const store = new SimulatedStore(retainTrimmedMessages)
        let messages: Message[] = []
        let persisted: PersistedMessage[] = []
        let nextSeq = 0
        // Whether a message was moved since the last save, or an object is held twice.
        let moved = false
        for (const e of [...edits, { kind: 'save' } as const]) {
          if (e.kind === 'reload') {
            // A new process: the conversation as restored from the store, unsaved edits lost.
            messages = store.restore()
            persisted = persistedFrom(messages, fromRanges(store.ranges))
            nextSeq = store.nextSeq
            moved = false
            continue
          }
          apply(messages, e)
          if (e.kind === 'move' || e.kind === 'duplicate') moved = true
          if (e.kind !== 'save') continue
          const rearranged = moved || new Set(messages).size < messages.length
          moved = false

          const plan = planSave(persisted, messages, nextSeq)
          checkPlan(persisted, messages, nextSeq, plan, rearranged)
          store.apply(plan)
          expect(store.restore().map(stored)).toEqual(messages.map(stored))

          const after = persistedAfter(persisted, messages, plan)
          expect(after.map((entry) => entry.seq)).toEqual(plan.seqs)
          after.forEach((entry, i) => expect(unchangedEntry(entry, messages[i]!)).toBe(true))
          persisted = after
          nextSeq = plan.nextSeq

          // Saving again with nothing changed plans nothing.
          const again = planSave(persisted, messages, nextSeq)
          expect(again.inserts).toEqual([])
          expect(again.dropped).toEqual([])
          expect(again.superseded).toEqual([])
          expect(again.seqs).toEqual(plan.seqs)
          expect(again.nextSeq).toBe(nextSeq)
        }
      }),
      { numRuns: 1000 },
    )
  })
})
