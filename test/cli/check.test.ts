/** `doctor --check`: the engine probes from the CLI, in-process and as a process; table, JSON, exit code. */
import { MongoClient } from 'mongodb'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { EXIT } from '../../src/cli/errors.js'
import { startFerretDB, type RunningFerretDB } from '../../tools/ferretdb/launcher.js'
import { openTestDatabase, uniqueName, type TestDatabase } from '../support/mongo.js'
import { cli, dbArgs, runCliProcess } from './support.js'

let db: TestDatabase

beforeAll(async () => {
  db = await openTestDatabase('msm_cli_check')
})

afterAll(async () => {
  await db.cleanup()
})

async function databaseExists(client: MongoClient, name: string): Promise<boolean> {
  const { databases } = await client.db('admin').admin().listDatabases({ nameOnly: true })
  return databases.some((d) => d.name === name)
}

const localFerret = inject('mongoEngine') === 'ferretdb' && !process.env.MONGODB_URI

describe('doctor --check', () => {
  it('prints the probe table, exits 0, and drops its throwaway database', async () => {
    const checkDb = uniqueName('msm_cli_chk')
    const result = await cli(['doctor', '--check', '--create-indexes', '--check-db', checkDb, ...dbArgs(db)])
    expect(result.stderr).toBe('')
    expect(result.code).toBe(EXIT.ok)
    expect(result.stdout).toContain(`Engine check (throwaway database ${checkDb}, dropped)`)
    expect(result.stdout).toMatch(/^pass {2}per-document atomicity +200 concurrent \$inc \+ \$push/m)
    expect(result.stdout).toMatch(/^pass {2}compare-and-set: one winner +6 rounds/m)
    expect(result.stdout).toMatch(/^pass {2}unique index enforcement /m)
    expect(result.stdout).toMatch(/^pass {2}maximum document size +maxBsonObjectSize 16 MiB/m)
    expect(result.stdout).toContain('every required engine probe passed')
    if (localFerret) {
      expect(result.stdout).toMatch(/^warn {2}TTL indexes +not available: /m)
      expect(result.stdout).toMatch(/^warn {2}multi-document transactions +not supported: /m)
      expect(result.stdout).toMatch(/^info {2}retryable writes +not used: a standalone server/m)
      expect(result.stdout).toContain('multi-document transactions: the library does not use transactions')
    }
    expect(await databaseExists(db.client, checkDb)).toBe(false)
  })

  it('--json carries the probes; the exit code follows the required ones', async () => {
    const result = await cli(['doctor', '--check', '--json', ...dbArgs(db)])
    expect(result.code).toBe(EXIT.ok)
    const report = JSON.parse(result.stdout)
    expect(report.ok).toBe(true)
    expect(report.check.ok).toBe(true)
    expect(report.check.dropped).toBe(true)
    expect(report.check.probes).toHaveLength(15)
    for (const probe of report.check.probes) {
      expect(Object.keys(probe).sort()).toEqual(
        expect.arrayContaining(['detail', 'durationMs', 'id', 'required', 'status', 'title']),
      )
    }
    expect(await databaseExists(db.client, report.check.databaseName)).toBe(false)
  })

  it('refuses a --check-db that already exists (exit 2) and leaves it alone', async () => {
    const result = await cli(['doctor', '--check', '--check-db', db.databaseName, ...dbArgs(db)])
    expect(result.code).toBe(EXIT.usage)
    expect(result.stderr).toContain(`database '${db.databaseName}' already exists`)
    expect(await databaseExists(db.client, db.databaseName)).toBe(true)
  })

  it('runs as a process', async () => {
    const result = await runCliProcess(['doctor', '--check', '--json', '--db', db.databaseName], {
      MONGODB_URI: db.uri,
    })
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    expect(JSON.parse(result.stdout).check.ok).toBe(true)
  })
})

describe.skipIf(Boolean(process.env.MONGODB_URI))('doctor --check on a deployment that fails', () => {
  let server: RunningFerretDB

  beforeAll(async () => {
    server = await startFerretDB()
  })

  afterAll(async () => {
    await server?.stop()
  })

  it('FerretDB 1.24 without its serialising relay: FAIL rows, advice, exit 1', async () => {
    const checkDb = uniqueName('msm_cli_chk_raw')
    const result = await runCliProcess([
      'doctor',
      '--check',
      '--create-indexes',
      '--check-db',
      checkDb,
      '--uri',
      server.unrelayedUri,
      '--db',
      'msm_cli_raw',
    ])
    expect(result.code).toBe(EXIT.failure)
    expect(result.stdout).toMatch(/^FAIL {2}per-document atomicity +200 concurrent .*\(lost \d+ updates\)$/m)
    expect(result.stdout).toMatch(/^FAIL {2}compare-and-set: one winner +6 rounds .*winners/m)
    expect(result.stdout).toMatch(/^ {2}per-document atomicity: the engine does not apply single-document updates/m)
    expect(result.stdout).toContain(
      '✘ the deployment fails 2 required engine probe(s): per-document atomicity, compare-and-set: one winner',
    )
    const raw = await new MongoClient(server.unrelayedUri).connect()
    try {
      expect(await databaseExists(raw, checkDb)).toBe(false)
    } finally {
      await raw.close()
    }
  })
})
