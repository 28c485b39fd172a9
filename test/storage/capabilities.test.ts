import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { detectCapabilities } from '../../src/index.js'
import { openTestDatabase, type TestDatabase } from '../support/mongo.js'

let t: TestDatabase
beforeAll(async () => {
  t = await openTestDatabase('msm_caps')
})
afterAll(async () => {
  await t.cleanup()
})

describe('detectCapabilities', () => {
  it('identifies the engine the tests run on and what it can do', async () => {
    const caps = await detectCapabilities(t.client)
    expect(caps.maxBsonObjectSize).toBe(16 * 1024 * 1024)
    if (inject('mongoEngine') === 'ferretdb') {
      // The global setup started FerretDB 1.24 (no MONGODB_URI).
      expect(caps).toMatchObject({
        engine: 'ferretdb',
        transactions: false,
        ttlIndexes: false,
        changeStreams: false,
        textIndexes: false,
      })
      // Our embedded build cannot know its own version; it reports MongoDB 7.0 compatibility.
      expect(typeof caps.version).toBe('string')
      expect(caps.mongodbCompatibility).toMatch(/^\d+\.\d+/)
    } else {
      expect(caps).toMatchObject({ engine: 'mongodb', textIndexes: true })
      expect(Number(caps.version.split('.')[0])).toBeGreaterThanOrEqual(6)
    }
  })
})
