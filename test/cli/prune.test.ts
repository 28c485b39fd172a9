/** `sessions prune` and the retention line of `doctor`, in-process against the test server. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { EXIT } from '../../src/cli/errors.js'
import { MongoDBSessionManager } from '../../src/index.js'
import { openTestDatabase, type TestDatabase } from '../support/mongo.js'
import { cli, dbArgs, documentsOf, seedSession } from './support.js'

let db: TestDatabase

beforeAll(async () => {
  db = await openTestDatabase('msm_cli_prune')
  await seedSession(db, 'expired-1', { metadata: { a: 1 }, feedback: ['up'] })
  await seedSession(db, 'live-1', { feedback: ['down'] })
  // Expiring now, after every document of it was written (as a manager with `retention` leaves a
  // session idle for `expireAfter`: its expiry time is later than all its documents).
  await new Promise((resolve) => setTimeout(resolve, 5))
  await db.db.collection('sessions').updateOne({ _id: 'expired-1' as never }, { $set: { expires_at: new Date() } })
})

afterAll(async () => {
  await db.cleanup()
})

describe('sessions prune', () => {
  it('--dry-run counts and deletes nothing; then the prune deletes the expired session only, with progress on stderr', async () => {
    const before = await documentsOf(db, 'expired-1')
    expect(before).toEqual({ sessions: 1, messages: 4, feedback: 1 })
    const dry = await cli(['sessions', 'prune', '--dry-run', ...dbArgs(db)])
    expect(dry.code).toBe(EXIT.ok)
    expect(dry.stdout).toContain('1 expired session(s): would delete 1 sessions, 4 messages')
    expect(dry.stderr).toContain('counted 1/1 expired session(s)')
    expect(await documentsOf(db, 'expired-1')).toEqual(before)

    const run = await cli(['sessions', 'prune', '--json', '--batch-size', '2', ...dbArgs(db)])
    expect(run.code).toBe(EXIT.ok)
    const result = JSON.parse(run.stdout)
    expect(result).toMatchObject({ dryRun: false, aborted: false, sessions: 1, skippedPendingNotifications: 0 })
    expect(result.counts).toMatchObject({ sessions: 1, messages: 4, feedback: 1 })
    expect(run.stderr).toContain('pruned 1/1 expired session(s)')
    expect(await documentsOf(db, 'expired-1')).toEqual({ sessions: 0, messages: 0, feedback: 0 })
    expect(await documentsOf(db, 'live-1')).toEqual({ sessions: 1, messages: 4, feedback: 1 })

    const bad = await cli(['sessions', 'prune', '--batch-size', '0', ...dbArgs(db)])
    expect(bad.code).toBe(EXIT.usage)
  })
})

describe('doctor', () => {
  it('says which retention mode is in effect', async () => {
    const off = JSON.parse((await cli(['doctor', '--json', ...dbArgs(db)])).stdout)
    expect(off.retention).toEqual({ mode: 'off', expiredSessions: 0 })
    const manager = new MongoDBSessionManager({
      sessionId: 'with-retention',
      client: db.client,
      databaseName: db.databaseName,
      retention: { expireAfter: '30d' },
    })
    await manager.updateMetadata({ a: 1 })
    const on = JSON.parse((await cli(['doctor', '--json', ...dbArgs(db)])).stdout)
    expect(on.retention.mode).toBe(on.server.ttlIndexes ? 'ttl' : 'prune')
    const text = await cli(['doctor', ...dbArgs(db)])
    expect(text.stdout).toMatch(on.server.ttlIndexes ? /retention\s+TTL index/ : /retention\s+prune \('sessions prune'/)
  })
})
