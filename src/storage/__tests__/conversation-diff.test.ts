import { Message } from '@strands-agents/sdk'
import { describe, expect, it } from 'vitest'
import { fromRanges, persistedFrom, planSave, toRanges } from '../conversation-diff.js'

const text = (t: string, role: 'user' | 'assistant' = 'user') =>
  Message.fromJSON({ role, content: [{ text: t }] } as never)

describe('planSave', () => {
  const base = [text('a'), text('b', 'assistant'), text('c'), text('d', 'assistant')]
  const persisted = persistedFrom(base, [0, 1, 2, 3])

  it('writes only appended messages', () => {
    const plan = planSave(persisted, [...base, text('e'), text('f', 'assistant')], 4)
    expect(plan.inserts.map((i) => i.seq)).toEqual([4, 5])
    expect(plan.ranges).toEqual([{ first: 0, last: 5 }])
    expect(plan.dropped).toEqual([])
  })

  it('turns a front trim into a shorter range with no writes', () => {
    const plan = planSave(persisted, base.slice(2), 4)
    expect(plan.inserts).toEqual([])
    expect(plan.ranges).toEqual([{ first: 2, last: 3 }])
    expect(plan.dropped).toEqual([0, 1])
    expect(plan.superseded).toEqual([])
  })

  it('lets the next save reuse what appends and front trims leave in place', () => {
    expect(planSave(persisted, [...base, text('e')], 4).reuse).toEqual({ offset: 0, count: 4 })
    expect(planSave(persisted, base.slice(1), 4).reuse).toEqual({ offset: 1, count: 3 })
    const trimmedAndAppended = planSave(persisted, [...base.slice(3), text('e')], 4)
    expect(trimmedAndAppended.reuse).toEqual({ offset: 3, count: 1 })
    expect(trimmedAndAppended.inserts.map((i) => i.seq)).toEqual([4])
    expect(trimmedAndAppended.dropped).toEqual([0, 1, 2])
    expect(planSave([], [text('x')], 0).reuse).toEqual({ offset: 0, count: 0 })
    // Any other shape is planned message by message, with nothing to reuse as a block.
    expect(planSave(persisted, [base[1]!, base[0]!], 4).reuse).toBeUndefined()
    expect(planSave(persisted, [text('new'), ...base], 4).reuse).toBeUndefined()
  })

  it('writes a summary that replaces a prefix as one new message', () => {
    const summary = text('summary of a and b')
    const plan = planSave(persisted, [summary, ...base.slice(2)], 4)
    expect(plan.inserts).toEqual([{ seq: 4, message: summary }])
    expect(plan.ranges).toEqual([
      { first: 4, last: 4 },
      { first: 2, last: 3 },
    ])
    expect(plan.seqs).toEqual([4, 2, 3])
  })

  it('rewrites a replaced message and marks the old version superseded', () => {
    const redacted = Message.fromJSON({
      role: 'user',
      content: [{ text: '[redacted]' }],
      trackingId: base[2]!.trackingId,
    } as never)
    const plan = planSave(persisted, [base[0]!, base[1]!, redacted, base[3]!], 4)
    expect(plan.inserts).toEqual([{ seq: 4, message: redacted }])
    expect(plan.ranges).toEqual([
      { first: 0, last: 1 },
      { first: 4, last: 4 },
      { first: 3, last: 3 },
    ])
    expect(plan.superseded).toEqual([2])
  })

  it('notices a reassigned content array or metadata on the same object', () => {
    const own = [text('a'), text('b', 'assistant')]
    const ownPersisted = persistedFrom(own, [0, 1])
    ;(own[1] as { content: unknown }).content = [...own[1]!.content]
    const plan = planSave(ownPersisted, own, 2)
    expect(plan.inserts.map((i) => i.seq)).toEqual([2])
  })

  it('writes a message object that appears twice only once as unchanged', () => {
    const plan = planSave(persisted, [...base, base[3]!], 4)
    expect(plan.inserts.map((i) => i.seq)).toEqual([4])
  })
})

describe('ranges', () => {
  it('compress and expand in order', () => {
    const seqs = [5, 6, 7, 1, 2, 9]
    expect(toRanges(seqs)).toEqual([
      { first: 5, last: 7 },
      { first: 1, last: 2 },
      { first: 9, last: 9 },
    ])
    expect(fromRanges(toRanges(seqs))).toEqual(seqs)
  })
})
