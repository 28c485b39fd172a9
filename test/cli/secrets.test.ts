/**
 * No secret of the connection string reaches the CLI's output: not the password, not a
 * secret-bearing option (TLS key password, AWS session token, proxy password), whether the server
 * is reachable or not, the string is well formed or not, and with DEBUG logging on.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openTestDatabase, type TestDatabase } from '../support/mongo.js'
import { cli, runCliProcess, type CliResult } from './support.js'

const SECRETS = ['Pw-5ecret-1', 'KeyPw-5ecret-2', 'Pem-5ecret-3', 'T0ken-5ecret-4', 'Pr0xy-5ecret-5']
const [password, keyPassword, pemPassword, token, proxyPassword] = SECRETS as [string, ...string[]]

/** Connection strings to a server that is not there (port 1), each with secrets in a different place. */
const UNREACHABLE: Record<string, string> = {
  'password and TLS key password': `mongodb://app:${password}@127.0.0.1:1/?tls=true&tlsCertificateKeyFilePassword=${keyPassword}`,
  'TLS key password alone': `mongodb://127.0.0.1:1/?tls=true&tlsCertificateKeyFilePassword=${keyPassword}`,
  'legacy sslPEMKeyPassword': `mongodb://127.0.0.1:1/?ssl=true&sslPEMKeyPassword=${pemPassword}`,
  'AWS session token': `mongodb://127.0.0.1:1/?authMechanism=MONGODB-AWS&authMechanismProperties=AWS_SESSION_TOKEN:${token}`,
  'proxy password': `mongodb://127.0.0.1:1/?proxyHost=127.0.0.1&proxyPort=1&proxyUsername=bob&proxyPassword=${proxyPassword}`,
  'unescaped @ in the password': `mongodb://app:x@${password}@127.0.0.1:1/`,
  'unknown option named like a secret': `mongodb://127.0.0.1:1/?vaultToken=${token}`,
}

const COMMANDS: Record<string, string[]> = {
  doctor: ['doctor'],
  'sessions list': ['sessions', 'list'],
  relay: ['relay', '--once', '--channels', 'sqs', '--endpoint-url', 'http://127.0.0.1:1', '--region', 'us-east-1'],
}

function expectNoSecret(result: CliResult): void {
  for (const secret of SECRETS) {
    expect(result.stdout, `stdout leaks ${secret}`).not.toContain(secret)
    expect(result.stderr, `stderr leaks ${secret}`).not.toContain(secret)
  }
}

/** `uri` with one more query option. */
function withOption(uri: string, option: string): string {
  return `${uri}${uri.includes('?') ? '&' : uri.endsWith('/') ? '?' : '/?'}${option}`
}

let db: TestDatabase
let reachable: string

beforeAll(async () => {
  db = await openTestDatabase('msm_cli_secrets')
  // The driver accepts a TLS key password without TLS (it ignores it): a reachable URI with a secret.
  reachable = withOption(db.uri, `tlsCertificateKeyFilePassword=${keyPassword}`)
})

afterAll(async () => {
  await db.cleanup()
})

describe('unreachable server or rejected connection string', () => {
  for (const [command, args] of Object.entries(COMMANDS)) {
    it.each(Object.entries(UNREACHABLE))(`${command}: %s`, async (_, uri) => {
      for (const result of [
        await cli([...args, '--uri', uri, '--timeout', '300']),
        await cli([...args, '--timeout', '300'], { MONGODB_URI: uri }),
      ]) {
        expect(result.code).not.toBe(0)
        expect(result.stderr).toMatch(/^error: /)
        expectNoSecret(result)
      }
    })
  }

  it('still says which server it could not reach', async () => {
    const result = await cli(['doctor', '--uri', UNREACHABLE['password and TLS key password']!, '--timeout', '300'])
    expect(result.stderr).toContain(
      'cannot connect to mongodb://***@127.0.0.1:1/?tls=true&tlsCertificateKeyFilePassword=***',
    )
  })
})

describe('reachable server', () => {
  it('doctor shows the connection string with its secrets masked (text and --json)', async () => {
    const text = await cli(['doctor', '--create-indexes', '--uri', reachable, '--db', db.databaseName])
    expect(text.code).toBe(0)
    expect(text.stdout).toContain('tlsCertificateKeyFilePassword=***')
    expectNoSecret(text)
    const json = await cli(['doctor', '--json', '--uri', reachable, '--db', db.databaseName])
    expect(json.code).toBe(0)
    expect(JSON.parse(json.stdout).uri).toContain('tlsCertificateKeyFilePassword=***')
    expectNoSecret(json)
  })

  it.each(Object.entries(COMMANDS))('%s', async (_, args) => {
    const result = await cli([...args, '--db', db.databaseName], { MONGODB_URI: reachable })
    expect(result.code).toBe(0)
    expectNoSecret(result)
  })
})

describe('as a process, with DEBUG logging', () => {
  const env = (uri: string): NodeJS.ProcessEnv => ({
    MONGODB_URI: uri,
    DEBUG: 'mongodb-session-manager',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
  })

  it('doctor and sessions list log their writes on stderr and no secret', async () => {
    const doctor = await runCliProcess(
      ['doctor', '--create-indexes', '--json', '--db', `${db.databaseName}_debug`],
      env(reachable),
    )
    expect(doctor.code).toBe(0)
    // Debug logging is on: the index creation is logged, on stderr, so stdout stays valid JSON.
    expect(doctor.stderr).toContain('mongodb createIndexes')
    expect(JSON.parse(doctor.stdout).uri).toContain('tlsCertificateKeyFilePassword=***')
    expectNoSecret(doctor)
    const list = await runCliProcess(['sessions', 'list', '--db', db.databaseName], env(reachable))
    expect(list.code).toBe(0)
    expectNoSecret(list)
    await db.client.db(`${db.databaseName}_debug`).dropDatabase()
  })

  it('relay, reachable and unreachable', async () => {
    const ok = await runCliProcess([...COMMANDS.relay!, '--db', db.databaseName], env(reachable))
    expect(ok.code).toBe(0)
    expect(ok.stdout).toContain('relay pass:')
    expectNoSecret(ok)
    const down = await runCliProcess(
      [...COMMANDS.relay!, '--timeout', '300'],
      env(UNREACHABLE['password and TLS key password']!),
    )
    expect(down.code).toBe(1)
    expect(down.stderr).toContain('cannot connect to mongodb://***@127.0.0.1:1/')
    expectNoSecret(down)
  })
})
