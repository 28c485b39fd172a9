/**
 * Feedback and agent configuration: accepted text reads back exactly; text MongoDB cannot store
 * as given (lone surrogates) is refused with a ValidationError naming the field, nothing written.
 */
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ValidationError } from '../../src/errors.js'
import { SessionData } from '../../src/features/session-data.js'
import type { Feedback } from '../../src/model/types.js'
import { openFeaturesDatabase, seedAgent, snapshotSession, type FeaturesTestContext } from './support.js'
import { rejectionOf } from '../support/thrown.js'

let ctx: FeaturesTestContext
let n = 0
const sid = () => `text-${++n}`

beforeAll(async () => {
  ctx = await openFeaturesDatabase('msm_text')
})
afterAll(async () => {
  await ctx.db.cleanup()
})

async function refused(attempt: Promise<unknown>, field: string): Promise<void> {
  expect((await rejectionOf(attempt, ValidationError)).field).toBe(field)
}

/** Any UTF-16 code unit: NUL, lone surrogates and halves of pairs included. */
const codeUnit = fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c))
const anyText = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: codeUnit, maxLength: 12 }),
  fc.constantFrom('a\ud800b', '\udc00', 'emoji cut \ud83d', '\ud83d\ude00 ok', 'nul \u0000 inside'),
)

describe('feedback text', () => {
  it('a lone surrogate in comment, messageId or userId is refused and nothing is stored', async () => {
    const data = new SessionData({ collections: ctx.collections, sessionId: sid() })
    await refused(data.addFeedback({ rating: 'up', comment: 'a\ud800b' }), 'comment')
    await refused(data.addFeedback({ rating: 'down', comment: 'fine', messageId: '\udc00' }), 'messageId')
    await refused(data.addFeedback({ rating: null, userId: 'u\ud83d' }), 'userId')
    expect(await snapshotSession(ctx.collections, data.sessionId)).toEqual({ session: null, feedback: 0 })
  })

  it('(property) an accepted comment reads back exactly; a refused one stores nothing', async () => {
    const data = new SessionData({ collections: ctx.collections, sessionId: sid() })
    let stored = 0
    await fc.assert(
      fc.asyncProperty(anyText, async (comment) => {
        const before = await snapshotSession(ctx.collections, data.sessionId)
        const outcome: unknown = await data.addFeedback({ rating: 'up', comment }).then(
          (feedback) => feedback,
          (e: unknown) => e,
        )
        if (outcome instanceof Error) {
          expect(outcome).toBeInstanceOf(ValidationError)
          expect(await snapshotSession(ctx.collections, data.sessionId)).toEqual(before)
        } else {
          stored++
          const id = (outcome as Feedback).id
          const page = await data.getFeedbacks({ limit: 500 })
          expect(page.items.find((f) => f.id === id)?.comment).toBe(comment)
        }
      }),
      { numRuns: 60 },
    )
    expect(stored).toBeGreaterThan(0)
    expect(stored).toBeLessThan(60)
  })
})

describe('agent configuration text', () => {
  it('lone surrogates in prompt metadata, model and system prompt are refused; nothing is written', async () => {
    const sessionId = sid()
    await seedAgent(ctx.collections, sessionId, 'agent')
    const data = new SessionData({ collections: ctx.collections, sessionId })
    const before = await snapshotSession(ctx.collections, sessionId)
    await refused(data.setPromptMetadata('agent', { promptName: 'v\ud800' }), 'promptMetadata.promptName')
    await refused(data.setPromptMetadata('agent', { promptVersion: '\udc00' }), 'promptMetadata.promptVersion')
    await refused(data.setPromptMetadata('agent', { extra: { k: ['\ud83d'] } }), 'k[0]')
    await refused(data.updateAgentConfig('agent', { model: 'model-\ud800' }), 'model')
    await refused(data.updateAgentConfig('agent', { systemPrompt: 'Be brief \ud83d' }), 'systemPrompt')
    await refused(data.updateAgentConfig('agent', { systemPrompt: [{ text: 'x\udfff' }] }), 'systemPrompt')
    await refused(
      data.updateAgentConfig('agent', { systemPrompt: [{ guardContent: { 'k\ud800': 1 } }] }),
      'systemPrompt',
    )
    expect(await snapshotSession(ctx.collections, sessionId)).toEqual(before)
  })

  it('accepted text (emoji, NUL inside a system prompt) reads back exactly', async () => {
    const sessionId = sid()
    await seedAgent(ctx.collections, sessionId, 'agent')
    const data = new SessionData({ collections: ctx.collections, sessionId })
    const systemPrompt = [{ text: 'Be brief 😀 \u0000 end' }, { cachePoint: { type: 'default' } }]
    await data.updateAgentConfig('agent', { systemPrompt, model: 'model-😀' })
    await data.setPromptMetadata('agent', { promptName: 'name 😀', extra: { note: 'n\u0000n' } })
    const config = await data.getAgentConfig('agent')
    expect(config.systemPrompt).toEqual(systemPrompt)
    expect(config.model).toBe('model-😀')
    expect(config.promptMetadata).toEqual({ promptName: 'name 😀', extra: { note: 'n\u0000n' } })
    await data.updateAgentConfig('agent', { systemPrompt: 'plain \u0000 text' })
    expect((await data.getAgentConfig('agent')).systemPrompt).toBe('plain \u0000 text')
  })
})
